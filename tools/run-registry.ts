/**
 * Runs started by start_run in this process: each runs in the background through graph/run.ts (the durable
 * runner: run.json, SqliteSaver checkpoints, artifacts), and this registry keeps what run.json does not:
 * the last node, the latest diagnostics and the last iteration record, plus a way to wait for the next
 * change. A run not in the registry (started by another process) is read from its run.json alone.
 */
import { startRun } from "../graph/run.ts";
import type { RealData } from "../graph/runtime.ts";
import type { Env } from "../models/factory.ts";
import type { RunConfig } from "../state/config.ts";
import type { Redactor } from "./redact.ts";

export type LiveStatus = "running" | "done" | "failed";

export interface LiveRun {
  readonly id: string;
  readonly dir: string;
  readonly engine: string;
  status: LiveStatus;
  lastNode: string | null;
  iterations: number;
  rowsDone: number;
  readonly rowsRequested: number;
  /** SYNTHIA's overall analyzer scores of the latest probe. */
  diagnostics: Record<string, number | null> | null;
  /** The engine's latest iteration record (the last entry of its state's history). */
  lastIteration: unknown;
  error: string | null;
  readonly finished: Promise<void>;
}

const OVERALL = ["similarity", "coverage", "divergence", "correlation_similarity", "rows"] as const;

export class RunRegistry {
  private readonly runs = new Map<string, LiveRun>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly controllers = new Map<string, AbortController>();

  get(id: string): LiveRun | undefined {
    return this.runs.get(id);
  }

  /** Starts `config` in `dir` in the background; the table must already be loaded (and so checked) by `real`. */
  start(
    id: string,
    dir: string,
    config: RunConfig,
    a: { real: () => Promise<RealData>; env: Env; redact: Redactor },
  ): LiveRun {
    const controller = new AbortController();
    let settle: () => void = () => undefined;
    const finished = new Promise<void>((r) => (settle = r));
    const run: LiveRun = {
      id,
      dir,
      engine: config.engine,
      status: "running",
      lastNode: null,
      iterations: 0,
      rowsDone: 0,
      rowsRequested: config.rows,
      diagnostics: null,
      lastIteration: null,
      error: null,
      finished,
    };
    this.runs.set(id, run);
    this.controllers.set(id, controller);
    startRun(dir, config, {
      real: a.real,
      env: a.env,
      signal: controller.signal,
      onEvent: (e) => {
        run.lastNode = e.node;
        run.rowsDone = e.rowsDone;
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
        run.status = "done";
        run.iterations = r.state.iteration;
        run.rowsDone = r.state.output?.rows ?? run.rowsDone;
      })
      .catch((err: unknown) => {
        run.status = "failed";
        run.error = a.redact(err instanceof Error ? err.message : String(err));
      })
      .finally(() => {
        this.controllers.delete(id);
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
    for (const c of this.controllers.values()) c.abort();
    await Promise.all([...this.runs.values()].map((r) => r.finished));
  }

  private notify(id: string): void {
    for (const f of [...(this.waiters.get(id) ?? [])]) f();
  }
}
