/**
 * Steering a run from code, the calls every interface shares (CLI `steer`/`pause`, the chat, an embedding
 * product): `steerRun` validates actions against the run, records them (steering.json: pending + history), and
 * resumes a paused run so its pause node applies them; `streamRun` runs or resumes with typed events;
 * `readRunState` reads the run's last snapshot (status, the pause point, the state) without running anything.
 */
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { SynthgraphError } from "../data/errors.ts";
import { ArtifactStore } from "../state/artifacts.ts";
import type { RunConfig } from "../state/config.ts";
import { readRunFile, type RunFile, runPaths, updateRunFile } from "../state/run-dir.ts";
import {
  newSteeringRecord,
  queueActions,
  readSteeringFile,
  requestPause,
  type SteeringAction,
  type SteeringRecord,
  validateAction,
  writeSteeringFile,
} from "../state/steering.ts";
import type { EngineStateBase } from "./engine.ts";
import { engineFor } from "./registry.ts";
import type { PausePoint } from "./pause.ts";
import {
  concurrencyOf,
  pendingPause,
  realLoader,
  resumeRun,
  type RunOptions,
  type RunResult,
  type RunStreamEvent,
  startRun,
} from "./run.ts";

export interface RunSnapshot {
  run: RunFile;
  /** The state of the last checkpoint (null before the first one). */
  state: (EngineStateBase & Record<string, unknown>) | null;
  /** Nodes that run next (empty when done). */
  next: readonly string[];
  /** The pause point the run waits at (undefined: not at one). */
  pause: PausePoint | null | undefined;
}

/** The run's last snapshot, read from its checkpoints (nothing runs, no model is called). */
export async function readRunState(dir: string): Promise<RunSnapshot> {
  const paths = runPaths(dir);
  const run = await readRunFile(paths.dir);
  const engine = engineFor(run.config.engine);
  const saver = SqliteSaver.fromConnString(paths.checkpoints);
  try {
    const app = engine.compile(
      {
        config: run.config,
        store: new ArtifactStore(paths.artifacts),
        real: realLoader(run.config),
        env: process.env,
        concurrency: concurrencyOf(run.config),
      },
      saver,
    ) as unknown as {
      getState(c: unknown): Promise<{
        values: unknown;
        createdAt?: string;
        next: readonly string[];
        tasks: ReadonlyArray<{ interrupts: ReadonlyArray<{ value?: unknown }> }>;
      }>;
    };
    const snap = await app.getState({ configurable: { thread_id: run.id } });
    return {
      run,
      state: snap.createdAt === undefined ? null : (snap.values as EngineStateBase & Record<string, unknown>),
      next: snap.next,
      pause: pendingPause(snap),
    };
  } finally {
    saver.db.close();
  }
}

export interface SteerOptions extends RunOptions {
  /** Resume a paused run after recording the actions (default true). */
  resume?: boolean;
  source?: SteeringRecord["source"];
}

export interface SteerOutcome {
  /** The actions as recorded (validated). */
  records: SteeringRecord[];
  /**
   * cancelled: the run ended; queued: recorded, applied when the run resumes from its next pause point (a pause
   * was requested if it is running); resumed: the run resumed, `result` says whether it paused again or finished.
   */
  status: "cancelled" | "queued" | "resumed";
  result?: RunResult<EngineStateBase>;
}

/** Validates actions against the run (known columns; LLMSynthor: rows not below its pool). */
export async function validateForRun(
  dir: string,
  actions: readonly SteeringAction[],
): Promise<SteeringAction[]> {
  const snap = await readRunState(dir);
  const real = await realLoader(snap.run.config)();
  const minRows = snap.run.config.engine === "llmsynthor" ? (snap.state?.accepted ?? 0) : 0;
  return actions.map((a) => validateAction(a, { columns: real.dataset.columns, minRows }));
}

/**
 * Applies steering actions to the run in `dir`: validated, recorded with their time, then (unless
 * `resume: false`) the paused run resumes until its next pause point or its end. `cancel` ends the run at once.
 */
export async function steerRun(
  dir: string,
  action: SteeringAction | readonly SteeringAction[],
  opts: SteerOptions = {},
): Promise<SteerOutcome> {
  const paths = runPaths(dir);
  const run = await readRunFile(paths.dir);
  if (run.status === "done" || run.status === "cancelled") {
    throw new SynthgraphError(`run ${run.id} is ${run.status}: there is nothing to steer`, {
      hint: "start a new run with `synthgraph generate`",
      exitCode: 2,
    });
  }
  const actions = await validateForRun(
    paths.dir,
    Array.isArray(action) ? action : [action as SteeringAction],
  );
  const records = actions.map((a) => newSteeringRecord(a, opts.source ?? "library"));
  if (actions.some((a) => a.type === "cancel")) {
    const f = await readSteeringFile(paths.dir);
    await writeSteeringFile(paths.dir, { ...f, pending: [], history: [...f.history, ...records] });
    await updateRunFile(paths.dir, { status: "cancelled" });
    return { records, status: "cancelled" };
  }
  await queueActions(paths.dir, records);
  const rows = actions.reduce<number | null>((r, a) => (a.type === "rows" ? a.rows : r), null);
  if (rows !== null) {
    // The runtime's config comes from run.json: the new N holds from the next process on as well.
    await updateRunFile(paths.dir, {
      config: { ...run.config, rows } satisfies RunConfig,
      progress: { ...run.progress, rows_requested: rows },
    });
  }
  if (run.status !== "paused" || opts.resume === false) {
    if (run.status === "running") await requestPause(paths.dir);
    return { records, status: "queued" };
  }
  const result = await resumeRun<EngineStateBase>(paths.dir, opts);
  return { records, status: "resumed", result };
}

/** What streamRun runs: a new run (dir + config) or the run in dir. */
export type StreamTarget = { dir: string; config: RunConfig } | { dir: string };

/**
 * Starts or resumes a run and yields its typed events (stream modes "updates" and "custom"); the generator's
 * return value is the RunResult (done or paused).
 */
export async function* streamRun(
  target: StreamTarget,
  opts: Omit<RunOptions, "onStream"> = {},
): AsyncGenerator<RunStreamEvent, RunResult<EngineStateBase>> {
  const queue: RunStreamEvent[] = [];
  let wake: (() => void) | undefined;
  let settled = false;
  const onStream = (e: RunStreamEvent): void => {
    queue.push(e);
    wake?.();
  };
  const running = (
    "config" in target
      ? startRun<EngineStateBase>(target.dir, target.config, { ...opts, onStream })
      : resumeRun<EngineStateBase>(target.dir, { ...opts, onStream })
  ).finally(() => {
    settled = true;
    wake?.();
  });
  // Keeps an early failure from being reported as unhandled while events are still being consumed.
  running.catch(() => undefined);
  while (true) {
    while (queue.length > 0) yield queue.shift() as RunStreamEvent;
    if (settled) break;
    await new Promise<void>((r) => {
      wake = r;
    });
    wake = undefined;
  }
  while (queue.length > 0) yield queue.shift() as RunStreamEvent;
  return running;
}
