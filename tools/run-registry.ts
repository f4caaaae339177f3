/**
 * Runs started or resumed by the tools in this process: each runs in the background through graph/run.ts (the
 * durable runner: run.json, SqliteSaver checkpoints, artifacts), and this registry keeps what run.json does not:
 * the last node, the latest diagnostics, the last iteration record and the pause point, plus a way to wait for
 * the next change. A run not in the registry (started by another process) is read from its run directory alone.
 *
 * A run steered while it runs here is asked to pause (state/steering.ts pause.request) and marked to go on: when
 * it reaches its pause point it is resumed at once, and the pause node applies the queued actions
 * (`resumeAfterPause`). Cancelling a run that runs here aborts it first (the last finished step is kept).
 */
import type { EngineStateBase } from "../graph/engine.ts";
import type { PausePoint } from "../graph/pause.ts";
import { resumeRun, type RunOptions, type RunResult, startRun } from "../graph/run.ts";
import type { RealData } from "../graph/runtime.ts";
import type { Env } from "../models/factory.ts";
import type { RunConfig } from "../state/config.ts";
import type { RunProgress } from "../state/run-dir.ts";
import type { Redactor } from "./redact.ts";

export type LiveStatus = "running" | "paused" | "done" | "failed";

export interface LiveRun {
  readonly id: string;
  readonly dir: string;
  readonly engine: string;
  status: LiveStatus;
  lastNode: string | null;
  iterations: number;
  rowsDone: number;
  rowsRequested: number;
  /** SYNTHIA's overall analyzer scores of the latest probe. */
  diagnostics: Record<string, number | null> | null;
  /** The engine's latest iteration record (the last entry of its state's history). */
  lastIteration: unknown;
  /** Where the run paused (its diagnostics); null when not paused at a pause point. */
  pause: PausePoint | null;
  error: string | null;
  readonly finished: Promise<void>;
}

const OVERALL = ["similarity", "coverage", "divergence", "correlation_similarity", "rows"] as const;

interface Launch {
  env: Env;
  redact: Redactor;
}

export class RunRegistry {
  private readonly runs = new Map<string, LiveRun>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly controllers = new Map<string, AbortController>();
  /** Runs to resume as soon as they pause (steered while running here), with what resuming needs. */
  private readonly resumeOnPause = new Map<string, Launch>();

  get(id: string): LiveRun | undefined {
    return this.runs.get(id);
  }

  /** Whether the run is executing in this process now. */
  isRunning(id: string): boolean {
    return this.runs.get(id)?.status === "running";
  }

  /** Starts `config` in `dir` in the background; the table must already be loaded (and so checked) by `real`. */
  start(
    id: string,
    dir: string,
    config: RunConfig,
    a: Launch & { real: () => Promise<RealData>; pauseEvery?: boolean },
  ): LiveRun {
    return this.launch(
      id,
      dir,
      { engine: config.engine, iterations: 0, rows_done: 0, rows_requested: config.rows },
      (o) =>
        startRun<EngineStateBase>(dir, config, { ...o, real: a.real, pauseEvery: a.pauseEvery === true }),
      a,
    );
  }

  /** Resumes the run in `dir` in the background from its last checkpoint (paused, failed or crashed). */
  resume(id: string, dir: string, a: Launch & { engine: string; progress: RunProgress }): LiveRun {
    return this.launch(id, dir, { engine: a.engine, ...a.progress }, (o) => resumeRun(dir, o), a);
  }

  /** The next time the run pauses, resume it at once (it is running here; its queued actions apply there). */
  resumeAfterPause(id: string, a: Launch): void {
    this.resumeOnPause.set(id, a);
  }

  /** Stops the run if it runs here and waits until it has stopped (its checkpoints stay; status paused). */
  async abort(id: string): Promise<void> {
    this.resumeOnPause.delete(id);
    this.controllers.get(id)?.abort();
    await this.runs.get(id)?.finished;
  }

  private launch(
    id: string,
    dir: string,
    from: { engine: string } & RunProgress,
    exec: (o: RunOptions) => Promise<RunResult<EngineStateBase>>,
    a: Launch,
  ): LiveRun {
    const controller = new AbortController();
    let settle: () => void = () => undefined;
    const finished = new Promise<void>((r) => (settle = r));
    const run: LiveRun = {
      id,
      dir,
      engine: from.engine,
      status: "running",
      lastNode: null,
      iterations: from.iterations,
      rowsDone: from.rows_done,
      rowsRequested: from.rows_requested,
      diagnostics: null,
      lastIteration: null,
      pause: null,
      error: null,
      finished,
    };
    const previous = this.runs.get(id);
    if (previous) {
      run.diagnostics = previous.diagnostics;
      run.lastIteration = previous.lastIteration;
    }
    this.runs.set(id, run);
    this.controllers.set(id, controller);
    exec({
      env: a.env,
      signal: controller.signal,
      onEvent: (e) => {
        run.lastNode = e.node;
        run.rowsDone = e.rowsDone;
        run.rowsRequested = e.rowsRequested;
        if (typeof e.update.iteration === "number") run.iterations = e.update.iteration;
        const d = e.update.diagnostics;
        if (d && typeof d === "object") {
          const rec = d as Record<string, unknown>;
          run.diagnostics = Object.fromEntries(
            OVERALL.map((k) => [k, typeof rec[k] === "number" ? (rec[k] as number) : null]),
          );
        }
        const h = e.update.history;
        if (Array.isArray(h) && h.length > 0) run.lastIteration = h[h.length - 1];
        this.notify(id);
      },
    })
      .then((r) => {
        run.iterations = r.state.iteration;
        if (r.status === "paused") {
          run.status = "paused";
          run.pause = r.pause;
          run.rowsRequested = r.run.progress.rows_requested;
          return;
        }
        run.status = "done";
        run.rowsDone = r.state.output?.rows ?? run.rowsDone;
        run.rowsRequested = run.rowsDone;
      })
      .catch((err: unknown) => {
        // Aborted: the runner recorded the run as paused (resumable); anything else failed it.
        run.status = controller.signal.aborted ? "paused" : "failed";
        if (!controller.signal.aborted) {
          run.error = a.redact(err instanceof Error ? err.message : String(err));
        }
      })
      .finally(() => {
        this.controllers.delete(id);
        const again = run.status === "paused" ? this.resumeOnPause.get(id) : undefined;
        this.resumeOnPause.delete(id);
        // Steered while running: go on from the pause point, where the queued actions are applied.
        if (again) {
          this.resume(id, dir, {
            ...again,
            engine: run.engine,
            progress: {
              iterations: run.iterations,
              rows_done: run.rowsDone,
              rows_requested: run.rowsRequested,
            },
          });
        }
        this.notify(id);
        settle();
      });
    return run;
  }

  /** Resolves at the run's next event or end, or after `ms`, whichever comes first. */
  async nextChange(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    const run = this.runs.get(id);
    if (!run || run.status !== "running") return;
    await new Promise<void>((resolve) => {
      const set = this.waiters.get(id) ?? new Set<() => void>();
      this.waiters.set(id, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      set.add(done);
    });
  }

  /** Stops every run still going (their checkpoints stay: `synthgraph resume DIR` continues them). */
  async stopAll(): Promise<void> {
    this.resumeOnPause.clear();
    for (const c of this.controllers.values()) c.abort();
    // A run resumed after a pause replaces its entry: wait until no entry is running.
    while ([...this.runs.values()].some((r) => r.status === "running")) {
      await Promise.all([...this.runs.values()].map((r) => r.finished));
      for (const c of this.controllers.values()) c.abort();
    }
  }

  private notify(id: string): void {
    for (const f of [...(this.waiters.get(id) ?? [])]) f();
  }
}
