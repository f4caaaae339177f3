/**
 * Steering a run from code, the calls every interface shares (CLI `steer`/`pause`, the chat, an embedding
 * product): `steerRun` validates actions against the run, records them (steering.json: pending + history), and
 * resumes a paused run so its pause node applies them; `streamRun` runs or resumes with typed events;
 * `readRunState` reads the run's last snapshot (status, the pause point, the state) without running anything.
 */
import { SynthgraphError } from "../data/errors.ts";
import type { RunConfig } from "../state/config.ts";
import { readRunFile, type RunFile, runPaths, updateRunFile } from "../state/run-dir.ts";
import { ownerAlive } from "../state/owner.ts";
import {
  type AppliedSteering,
  clearPauseRequest,
  newSteeringRecord,
  queueActions,
  readSteeringFile,
  requestPause,
  type SteeringAction,
  type SteeringRecord,
  validateAction,
  writeSteeringFile,
} from "../state/steering.ts";
import { checkSteeredConditions, steerConditions } from "./conditions.ts";
import type { EngineStateBase } from "./engine.ts";
import { engineFor } from "./registry.ts";
import { actionEffects, type PausePoint } from "./pause.ts";
import { openRunBackend, storeUrlFor } from "./run-store.ts";
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

/**
 * The run's last snapshot, read from its checkpoints (nothing runs, no model is called). A Postgres-backed run
 * reads them from its store (`opts.storeUrl`, else the environment's SYNTHGRAPH_DATABASE_URL).
 */
export async function readRunState(
  dir: string,
  opts: Pick<RunOptions, "storeUrl" | "env"> = {},
): Promise<RunSnapshot> {
  const paths = runPaths(dir);
  const run = await readRunFile(paths.dir);
  const engine = engineFor(run.config.engine);
  const env = opts.env ?? process.env;
  const backend = await openRunBackend(paths, run, storeUrlFor(opts), env, true);
  try {
    const app = engine.compile(
      {
        config: run.config,
        store: backend.store,
        real: realLoader(run.config),
        env,
        concurrency: concurrencyOf(run.config),
      },
      backend.saver,
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
    await backend.close();
  }
}

export interface SteerOptions extends RunOptions {
  /**
   * Continue the run after recording the actions (default true): a paused or crashed run resumes here, a run
   * running in another process is waited for (it pauses at its next pause point) and then resumes here.
   * false: the actions are recorded (and a running run is asked to pause); they apply when it next resumes.
   */
  resume?: boolean;
  source?: SteeringRecord["source"];
  /** How often the wait for another process's pause polls run.json (ms, default 200). */
  pollMs?: number;
  /** Called once when the run is running in another process and this call starts waiting for its pause. */
  onWait?: () => void;
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
  /** Ids of recorded actions the run did not apply (it ended without reaching a pause point): empty normally. */
  unapplied?: string[];
}

/**
 * Validates actions against the run (LLMSynthor: rows not below its pool; a condition parsed in the predicate
 * language against the run's table and checked for feasibility, returned in canonical form).
 */
export async function validateForRun(
  dir: string,
  actions: readonly SteeringAction[],
  opts: Pick<RunOptions, "storeUrl" | "env"> = {},
): Promise<SteeringAction[]> {
  const snap = await readRunState(dir, opts);
  const engine = snap.run.config.engine;
  const real = await realLoader(snap.run.config)();
  const minRows = engine === "llmsynthor" ? (snap.state?.accepted ?? 0) : 0;
  const valid = actions.map((a) =>
    validateAction(a, { metadata: real.metadata, table: real.table, minRows }),
  );
  const change = actionEffects(valid);
  if (change.condition !== null && engine === "llmsynthor") {
    // Its pools are grown per group from the first iteration on: a new condition would leave them unmet.
    throw new SynthgraphError("an LLMSynthor run's conditions are fixed when it starts", {
      hint: "steer it with feedback, rows or stop, or start a new run with --where",
      exitCode: 2,
    });
  }
  // The state's config when there is one (it holds earlier steering), else run.json's.
  const config = (snap.state as { config?: RunConfig } | null)?.config ?? snap.run.config;
  if (change.rows !== null && engine === "llmsynthor" && config.conditions !== undefined) {
    // Its pools only grow, per group: rescaled groups could leave one above its new size and another short.
    throw new SynthgraphError("an LLMSynthor run's condition groups keep the sizes they started with", {
      hint: "steer it with feedback or stop, or start a new run with other group sizes",
      exitCode: 2,
    });
  }
  const groups = config.conditions?.length ?? (change.condition === null ? 0 : 1);
  if (change.rows !== null && change.rows < groups) {
    throw new SynthgraphError(`rows ${change.rows} is fewer than the run's ${groups} condition groups`, {
      hint: `ask for at least ${groups} rows (the groups are rescaled in their proportions)`,
      exitCode: 2,
    });
  }
  checkSteeredConditions(steerConditions(config, change), real);
  return valid;
}

/**
 * Applies steering actions to the run in `dir`: validated and recorded with their time (steering.json), then,
 * unless `resume: false`, applied by the run's pause node and the run continues here until its next pause point
 * or its end:
 *   - paused at a pause point: it resumes at once with the actions;
 *   - running in another process (owner.json names a live pid): a pause is requested, this call waits until
 *     that process has paused the run (and exited or moved on), then resumes it here;
 *   - crashed (status running with a dead owner) or failed: it resumes here, pauses at its next pause point to
 *     take the actions, and goes on.
 * `cancel` ends the run at once (a live owner is asked to pause first, so nothing writes after the cancel).
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
    opts,
  );
  const records = actions.map((a) => newSteeringRecord(a, opts.source ?? "library"));
  const live = run.status === "running" && (await ownerAlive(paths.dir));
  if (actions.some((a) => a.type === "cancel")) {
    if (live) {
      await requestPause(paths.dir);
      await waitForPause(paths.dir, opts);
    }
    const f = await readSteeringFile(paths.dir);
    await writeSteeringFile(paths.dir, { ...f, pending: [], history: [...f.history, ...records] });
    await clearPauseRequest(paths.dir);
    await updateRunFile(paths.dir, { status: "cancelled" });
    return { records, status: "cancelled" };
  }
  await queueActions(paths.dir, records);
  const change = actionEffects(actions);
  // The runtime's config comes from run.json: a new N or condition holds from the next process on as well (the
  // batch nodes read the groups from it), by the same rule the pause node applies to the state. A live owner
  // rewrites run.json's progress, so when waiting for it the change is written after it has paused.
  const writeConfig = async (): Promise<void> => {
    const now = await readRunFile(paths.dir);
    const config = steerConditions(now.config, change);
    if (config === now.config) return;
    await updateRunFile(paths.dir, {
      config: config satisfies RunConfig,
      progress: { ...now.progress, rows_requested: config.rows },
    });
  };
  if (live) await requestPause(paths.dir);
  if (opts.resume === false) {
    await writeConfig();
    return { records, status: "queued" };
  }
  if (live) {
    const status = await waitForPause(paths.dir, opts);
    if (status === "done" || status === "cancelled") {
      // It ended without another pause point: nothing takes the actions any more.
      return { records, status: "queued", unapplied: records.map((r) => r.id) };
    }
  }

  const ids = new Set(records.map((r) => r.id));
  const appliedIds = (r: RunResult<EngineStateBase>): Set<string> =>
    new Set(
      ((r.state as { steering?: AppliedSteering[] }).steering ?? [])
        .map((a) => a.id)
        .filter((id) => ids.has(id)),
    );
  let result: RunResult<EngineStateBase> | undefined;
  if ((await readRunState(paths.dir, opts)).pause === undefined) {
    // Not at a pause point (crashed or failed mid-step): run to the next one, where the actions are taken. A run
    // that ends on the way (no pause point is left, or its engine has none) takes none of them, and its run.json
    // keeps the config it ran with.
    await requestPause(paths.dir);
    result = await resumeRun<EngineStateBase>(paths.dir, opts);
  }
  if (
    result === undefined ||
    (result.status === "paused" && result.pause !== null && appliedIds(result).size < ids.size)
  ) {
    // At a pause point: the pause node applies the actions to the state as this resume starts.
    await writeConfig();
    result = await resumeRun<EngineStateBase>(paths.dir, opts);
  }
  const applied = appliedIds(result);
  const unapplied = records.map((r) => r.id).filter((id) => !applied.has(id));
  return { records, status: "resumed", result, unapplied };
}

/**
 * Waits until a run running in another process is no longer running there: paused (at the requested pause
 * point), done, failed, or its owner died (kill -9). Returns the status it ended in.
 */
export async function waitForPause(
  dir: string,
  opts: Pick<SteerOptions, "pollMs" | "onWait"> = {},
): Promise<RunFile["status"]> {
  opts.onWait?.();
  const poll = opts.pollMs ?? 200;
  // The owner writes the new status, then releases owner.json: wait for both (a bounded wait for the release,
  // since an owner on another host cannot be checked).
  while ((await readRunFile(dir)).status === "running" && (await ownerAlive(dir))) await sleep(poll);
  for (let i = 0; i < 50 && (await ownerAlive(dir)); i++) await sleep(poll);
  return (await readRunFile(dir)).status;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
