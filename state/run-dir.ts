/**
 * The run directory: everything a run needs to continue after a crash lives here.
 *
 *   <run-dir>/run.json            config + status ("running" | "done" | "failed" | "paused" | "cancelled")
 *                                 + progress counters
 *   <run-dir>/steering.json       steering: pause_every, pending actions, history (state/steering.ts)
 *   <run-dir>/checkpoints.sqlite  LangGraph SqliteSaver, thread_id = run id
 *   <run-dir>/artifacts/          row batches and other large values (state/artifacts.ts)
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { type RunConfig, RunConfigSchema } from "./config.ts";

export const RUN_FILE = "run.json";
export const CHECKPOINT_FILE = "checkpoints.sqlite";
export const ARTIFACT_DIR = "artifacts";
export const DEFAULT_RUNS_ROOT = "runs";

/** paused: stopped at a pause point (or by the user) and resumable; cancelled: ended by steering, not resumable. */
export const RunStatusSchema = z.enum(["running", "done", "failed", "paused", "cancelled"]);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const RunProgressSchema = z.object({
  iterations: z.number().int().min(0),
  rows_done: z.number().int().min(0),
  rows_requested: z.number().int().min(0),
});
export type RunProgress = z.infer<typeof RunProgressSchema>;

export const RunFileSchema = z.object({
  version: z.literal(1),
  id: z.string().min(1),
  engine: z.string(),
  created: z.string(),
  updated: z.string(),
  status: RunStatusSchema,
  config: RunConfigSchema,
  progress: RunProgressSchema,
  error: z.object({ message: z.string(), hint: z.string().optional() }).optional(),
});
export type RunFile = z.infer<typeof RunFileSchema>;

export interface RunPaths {
  dir: string;
  runFile: string;
  checkpoints: string;
  artifacts: string;
}

export function runPaths(dir: string): RunPaths {
  const d = resolve(dir);
  return {
    dir: d,
    runFile: join(d, RUN_FILE),
    checkpoints: join(d, CHECKPOINT_FILE),
    artifacts: join(d, ARTIFACT_DIR),
  };
}

/** `<yyyymmdd-hhmmss>-<6 hex>` (UTC), e.g. 20261122-153012-a1b2c3: sorts by start time. */
export function newRunId(now: Date = new Date()): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  const ts = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${ts}-${randomBytes(3).toString("hex")}`;
}

/** Creates a fresh run directory (refuses one that already holds a run) and writes run.json. */
export async function createRun(dir: string, config: RunConfig): Promise<RunFile> {
  const paths = runPaths(dir);
  const existing = await readRunFileIfAny(paths.dir);
  if (existing) {
    throw new SynthgraphError(`${paths.dir} already holds run ${existing.id} (${existing.status})`, {
      hint: `continue it with \`synthgraph resume ${dir}\`, or pass another --run-dir`,
      exitCode: 2,
    });
  }
  await mkdir(paths.artifacts, { recursive: true });
  const now = new Date().toISOString();
  const run: RunFile = {
    version: 1,
    id: basename(paths.dir),
    engine: config.engine,
    created: now,
    updated: now,
    status: "running",
    config,
    progress: { iterations: 0, rows_done: 0, rows_requested: config.rows },
  };
  await writeRunFile(paths.dir, run);
  return run;
}

export async function writeRunFile(dir: string, run: RunFile): Promise<void> {
  await writeFileAtomic(runPaths(dir).runFile, `${JSON.stringify(run, null, 2)}\n`);
  await runFileMirrors.get(runPaths(dir).dir)?.(run);
}

/** Where run.json is copied on every write, per run directory (a Postgres-backed run's runs table). */
const runFileMirrors = new Map<string, (run: RunFile) => Promise<void>>();

/** Copies every later write of `dir`'s run.json through `mirror`; returns the function that stops it. */
export function mirrorRunFile(dir: string, mirror: (run: RunFile) => Promise<void>): () => void {
  const key = runPaths(dir).dir;
  runFileMirrors.set(key, mirror);
  return () => {
    if (runFileMirrors.get(key) === mirror) runFileMirrors.delete(key);
  };
}

async function readRunFileIfAny(dir: string): Promise<RunFile | undefined> {
  let text: string;
  try {
    text = await readFile(runPaths(dir).runFile, "utf8");
  } catch {
    return undefined;
  }
  return parseRunFile(text, dir);
}

function parseRunFile(text: string, dir: string): RunFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SynthgraphError(`${join(dir, RUN_FILE)} is not valid JSON: ${(e as Error).message}`, {
      exitCode: 2,
    });
  }
  const r = RunFileSchema.safeParse(raw);
  if (!r.success) {
    throw new SynthgraphError(
      `${join(dir, RUN_FILE)} is not a synthgraph run file: ${z.prettifyError(r.error)}`,
      {
        exitCode: 2,
      },
    );
  }
  return r.data;
}

/** Reads run.json; a clear error when the directory is not a run. */
export async function readRunFile(dir: string): Promise<RunFile> {
  const run = await readRunFileIfAny(dir);
  if (!run) {
    throw new SynthgraphError(`${resolve(dir)} is not a run directory (no ${RUN_FILE})`, {
      hint: "pass the directory a `synthgraph generate` run printed (default ./runs/<id>); `synthgraph runs` lists them",
      exitCode: 2,
    });
  }
  return run;
}

/** Merges a change into run.json and stamps `updated`. */
export async function updateRunFile(
  dir: string,
  change: Partial<Pick<RunFile, "status" | "progress" | "error" | "config">>,
): Promise<RunFile> {
  const run = await readRunFile(dir);
  const next: RunFile = { ...run, ...change, updated: new Date().toISOString() };
  if (change.status !== undefined && change.status !== "failed" && change.error === undefined)
    delete next.error;
  await writeRunFile(dir, next);
  return next;
}

export interface RunListing {
  dir: string;
  run: RunFile;
}

/** Runs directly under `root`, newest first; directories without a readable run.json are skipped. */
export async function listRuns(root: string): Promise<RunListing[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  const out: RunListing[] = [];
  for (const name of names) {
    const dir = join(root, name);
    try {
      if (!(await stat(dir)).isDirectory()) continue;
      const run = await readRunFileIfAny(dir);
      if (run) out.push({ dir, run });
    } catch {
      // Not a run (or unreadable): listing continues.
    }
  }
  return out.sort((a, b) => (a.run.created < b.run.created ? 1 : a.run.created > b.run.created ? -1 : 0));
}
