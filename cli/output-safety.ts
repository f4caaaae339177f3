/**
 * Output safety, checked before any work (and so before any model call): no output path (--out, --json,
 * --report, the run directory's files) may name an input (compared after resolving symlinks), two outputs may
 * not name one file, every output folder must exist and be writable, and an existing file is replaced only
 * when synthgraph wrote it (an output recorded in a run's run.json, or a report of ours) or with --force.
 * Writes then go through writeFileAtomic, so a reader sees the old file or the new one, never a mix.
 */
import { constants, existsSync, realpathSync, statSync } from "node:fs";
import { access, type FileHandle, open, readFile } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import { SynthgraphError } from "../data/errors.ts";
import { GENERATOR_META } from "../report/html.ts";
import { ARTIFACT_DIR, CHECKPOINT_FILE, listRuns, RUN_FILE } from "../state/run-dir.ts";

export interface NamedPath {
  /** The flag that named the path, for messages ("--out", "--real", "the input table"). */
  flag: string;
  path: string;
}

/** How an existing output file may be recognised as synthgraph's own (replaceable without --force). */
export type Ownership = (realPath: string) => Promise<boolean>;

export interface OutputCheck {
  inputs: readonly NamedPath[];
  outputs: readonly (NamedPath & { owned?: Ownership })[];
  /** The run directory a run will create or continue (its files are outputs too). */
  runDir?: string;
  force?: boolean;
}

/** The tables an evaluation reads (evaluate and report take the same flags): inputs no output may replace. */
export function evaluationInputs(o: {
  real: string;
  synthetic: string;
  holdout?: string | undefined;
  metadata?: string | undefined;
  params?: string | undefined;
}): NamedPath[] {
  const optional: [string, string | undefined][] = [
    ["--holdout", o.holdout],
    ["--metadata", o.metadata],
    ["--params", o.params],
  ];
  return [
    { flag: "--real", path: o.real },
    { flag: "--synthetic", path: o.synthetic },
    ...optional.flatMap(([flag, path]) => (path ? [{ flag, path }] : [])),
  ];
}

const usage = (message: string, hint: string): SynthgraphError =>
  new SynthgraphError(message, { hint, exitCode: 2 });

/**
 * The canonical path of a file that may not exist yet: the real path of its deepest existing ancestor with the
 * rest appended (so `out/../in.csv` and a symlink to in.csv both resolve to in.csv).
 */
export function canonicalPath(path: string): string {
  const abs = resolve(path);
  const rest: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      return join(realpathSync(cur), ...rest);
    } catch {
      const parent = dirname(cur);
      if (parent === cur) return abs;
      rest.unshift(basename(cur));
      cur = parent;
    }
  }
}

const inside = (child: string, folder: string): boolean => child === folder || child.startsWith(folder + sep);

/** Throws (exit 2) on a missing input or the first unsafe output. */
export async function checkOutputs(c: OutputCheck): Promise<void> {
  for (const i of c.inputs) {
    if (!existsSync(i.path)) {
      throw usage(`cannot read ${i.flag} ${i.path}: it does not exist`, `check the path given to ${i.flag}`);
    }
  }
  const inputs = c.inputs.map((i) => ({ ...i, real: canonicalPath(i.path) }));
  const outputs = c.outputs.map((o) => ({ ...o, real: canonicalPath(o.path) }));
  const runDir = c.runDir === undefined ? undefined : canonicalPath(c.runDir);
  const runFiles =
    runDir === undefined
      ? []
      : [RUN_FILE, CHECKPOINT_FILE].map((f) => join(runDir, f)).concat(join(runDir, ARTIFACT_DIR));

  for (const o of outputs) {
    for (const i of inputs) {
      if (o.real === i.real) {
        throw usage(
          `${o.flag} ${o.path} is the same file as ${i.flag} ${i.path}: writing it would destroy your data`,
          `choose another file for ${o.flag}`,
        );
      }
    }
    if (runDir !== undefined && (inside(o.real, runDir) || o.real === runDir)) {
      if (runFiles.some((f) => inside(o.real, f)) || o.real === runDir) {
        throw usage(
          `${o.flag} ${o.path} is inside the run directory's own files (${runDir})`,
          `choose a file for ${o.flag} outside ${runDir}, or another --run-dir`,
        );
      }
    }
  }
  for (let a = 0; a < outputs.length; a++) {
    for (let b = a + 1; b < outputs.length; b++) {
      if (outputs[a].real === outputs[b].real) {
        throw usage(
          `${outputs[a].flag} and ${outputs[b].flag} name the same file (${outputs[a].path})`,
          `give ${outputs[b].flag} a file of its own`,
        );
      }
    }
  }
  if (runDir !== undefined) {
    for (const i of inputs) {
      if (i.real === runDir || runFiles.some((f) => inside(i.real, f))) {
        throw usage(
          `the run directory ${c.runDir} would overwrite ${i.flag} ${i.path}`,
          "pass another --run-dir (a new folder; the default is ./runs/<id>)",
        );
      }
    }
    await checkFolder(dirname(runDir), "--run-dir", c.runDir ?? runDir, true);
  }
  for (const o of outputs) {
    await checkFolder(dirname(o.real), o.flag, o.path, false);
    if (existsSync(o.real)) {
      if (statSync(o.real).isDirectory()) {
        throw usage(
          `${o.flag} ${o.path} is a folder, not a file`,
          `name a file for ${o.flag}, e.g. ${join(o.path, "out.csv")}`,
        );
      }
      if (!c.force && !(o.owned && (await o.owned(o.real)))) {
        throw usage(
          `${o.flag} ${o.path} already exists and was not written by synthgraph`,
          `choose a new file for ${o.flag}, or pass --force to replace it`,
        );
      }
      try {
        await access(o.real, constants.W_OK);
      } catch {
        throw usage(
          `${o.flag} ${o.path} exists and cannot be replaced (no write permission)`,
          `choose another file for ${o.flag}`,
        );
      }
    }
  }
}

/**
 * The folder an output goes to exists and is writable. `creatable`: the run directory's parent may be missing
 * (the run directory is made with its parents), so the deepest existing ancestor must be writable instead.
 */
async function checkFolder(folder: string, flag: string, given: string, creatable: boolean): Promise<void> {
  let dir = folder;
  if (creatable) {
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  } else if (!existsSync(dir)) {
    throw usage(
      `the folder ${dir} of ${flag} ${given} does not exist`,
      `create it first (mkdir -p ${dir}) or choose another path for ${flag}`,
    );
  }
  if (!statSync(dir).isDirectory()) {
    throw usage(
      `${dir} (the folder of ${flag} ${given}) is a file, not a folder`,
      `choose another path for ${flag}`,
    );
  }
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw usage(
      `the folder ${dir} of ${flag} ${given} is not writable`,
      `choose a folder you can write to for ${flag}`,
    );
  }
}

/** An output recorded (as `out` or `summary`) in the run.json of a run under one of `roots`. */
export function recordedInRuns(roots: readonly string[]): Ownership {
  return async (realPath) => {
    for (const root of new Set(roots.map((r) => resolve(r)))) {
      for (const { run } of await listRuns(root)) {
        const recorded = [run.config.out, run.config.summary].filter((p): p is string => p !== undefined);
        if (recorded.some((p) => canonicalPath(p) === realPath)) return true;
      }
    }
    return false;
  };
}

/** A JSON file whose top level has every one of `keys` (a report or summary synthgraph wrote). */
export function jsonWithKeys(keys: readonly string[]): Ownership {
  return async (realPath) => {
    try {
      const v: unknown = JSON.parse(await readFile(realPath, "utf8"));
      return typeof v === "object" && v !== null && keys.every((k) => k in v);
    } catch {
      return false;
    }
  };
}

/** An HTML report synthgraph wrote (its head carries report/html.ts GENERATOR_META). */
export function htmlReportOfOurs(): Ownership {
  return async (realPath) => {
    let file: FileHandle | undefined;
    try {
      // The marker is in the page's head: the first KB is enough, whatever the report's size.
      file = await open(realPath, "r");
      const buf = Buffer.alloc(2048);
      const { bytesRead } = await file.read(buf, 0, buf.length, 0);
      const head = buf.subarray(0, bytesRead).toString("utf8");
      return head.startsWith("<!DOCTYPE html>") && head.includes(GENERATOR_META);
    } catch {
      return false;
    } finally {
      await file?.close();
    }
  };
}

/** Either rule. */
export const anyOf =
  (...rules: Ownership[]): Ownership =>
  async (p) => {
    for (const r of rules) if (await r(p)) return true;
    return false;
  };
