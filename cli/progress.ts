/**
 * Live progress of a generation run on stderr, one line per event. Common to every engine: the loaded data
 * (with the engine's detail), the final rounds (rows accepted so far, valid share, exact copies removed,
 * tokens) and the output; the engine's own nodes print through its EngineProgress (SYNTHIA's below,
 * cli/progress-mallm.ts, cli/progress-llmsynthor.ts).
 */
import type { RunEvent } from "../graph/run.ts";
import type { IterationRecord } from "../state/schemas.ts";

export interface ProgressSink {
  write(text: string): unknown;
}

/** An engine's part of the progress (null: nothing to print). */
export interface EngineProgress {
  /** What follows "loaded N real rows × C columns; " in the update that loads the data. */
  loaded(update: Record<string, unknown>): string | null;
  /** A line for one of the engine's own nodes. */
  node(e: RunEvent): string | null;
}

const f2 = (x: number | null): string => (x !== null && Number.isFinite(x) ? x.toFixed(2) : "n/a");
const pct = (a: number, b: number): string => (b > 0 ? `${Math.round((100 * a) / b)}%` : "n/a");

export function formatTokens(e: Pick<RunEvent, "usage">): string {
  const u = e.usage;
  return `${u.calls} calls, ${u.prompt_tokens + u.completion_tokens}${u.estimated ? "~" : ""} tokens`;
}

export function formatIteration(r: IterationRecord, maxIterations: number): string {
  const verdict = r.overruled ? "Real, overruled by the statistical guard" : r.verdict;
  const head = `iteration ${r.iteration}/${maxIterations}: probe ${r.valid}/${r.requested} valid (${pct(r.valid, r.requested)})`;
  const scores = `similarity ${f2(r.scores.similarity)}, coverage ${f2(r.scores.coverage)}, divergence ${f2(r.scores.divergence)}`;
  const fb = r.feedback ? `\n  feedback: ${r.feedback}` : "";
  return `${head}; ${scores}; verdict ${verdict}${fb}`;
}

/** SYNTHIA: the stratified examples, and every refinement iteration with its verdict and the final choice. */
export function synthiaProgress(maxIterations: number): EngineProgress {
  return {
    loaded: (u) => `${Array.isArray(u.xSub) ? u.xSub.length : 0} stratified examples in the prompt`,
    node: (e) => {
      if (e.node !== "discriminate") return null;
      const u = e.update;
      const lines: string[] = [];
      const history = u.history as IterationRecord[] | undefined;
      const r = history?.[history.length - 1];
      if (r) lines.push(`${formatIteration(r, maxIterations)}\n  ${formatTokens(e)}`);
      const c =
        u.phase === "finalize"
          ? (u.finalChoice as { reason: string; iteration: number } | undefined)
          : undefined;
      if (c) {
        lines.push(
          c.reason === "converged"
            ? `converged at iteration ${c.iteration}: generating ${e.rowsRequested} rows`
            : `no "Real" verdict within ${maxIterations} iterations: generating ${e.rowsRequested} rows with the prompt of iteration ${c.iteration} (best similarity − divergence)`,
        );
      }
      return lines.length > 0 ? lines.join("\n") : null;
    },
  };
}

/** Turns run events into lines; keeps the counters the events do not carry. */
export class ProgressPrinter {
  private readonly out: ProgressSink;
  private readonly engine: EngineProgress;
  private invalid = 0;
  private copies = 0;
  private accepted = 0;
  constructor(out: ProgressSink, engine: EngineProgress) {
    this.out = out;
    this.engine = engine;
  }

  private line(s: string): void {
    this.out.write(`${s}\n`);
  }

  handle(e: RunEvent): void {
    const u = e.update;
    const d = u.dataset as { rows: number; columns: string[] } | undefined;
    if (d) {
      const detail = this.engine.loaded(u);
      this.line(`loaded ${d.rows} real rows × ${d.columns.length} columns${detail ? `; ${detail}` : ""}`);
      return;
    }
    switch (e.node) {
      case "batch": {
        this.accepted += typeof u.accepted === "number" ? u.accepted : 0;
        this.invalid += typeof u.invalidRows === "number" ? u.invalidRows : 0;
        this.copies += typeof u.exactCopiesRemoved === "number" ? u.exactCopiesRemoved : 0;
        break;
      }
      case "collect": {
        const generated = this.accepted + this.invalid + this.copies;
        this.line(
          `rows ${e.rowsDone}/${e.rowsRequested}; valid ${pct(this.accepted + this.copies, generated)} of this session's rows; exact copies removed ${this.copies}; ${formatTokens(e)}`,
        );
        break;
      }
      case "write": {
        const o = u.output as { path: string; rows: number } | undefined;
        if (o) this.line(`wrote ${o.rows} rows to ${o.path}`);
        break;
      }
      default: {
        const line = this.engine.node(e);
        if (line) this.line(line);
        break;
      }
    }
  }
}
