/**
 * Live progress of a generation run on stderr, one line per event: the loaded data, every refinement
 * iteration (valid share of the probe, key scores, verdict, tokens), and the final rounds (rows accepted so
 * far, valid share, exact copies removed, tokens).
 */
import type { RunEvent } from "../graph/run.ts";
import type { IterationRecord } from "../state/schemas.ts";

export interface ProgressSink {
  write(text: string): unknown;
}

/** Lines for the nodes of another engine (null: nothing to print for this event). */
export type EngineProgress = (e: RunEvent) => string | null;

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

/** Turns run events into lines; keeps the counters the events do not carry. */
export class ProgressPrinter {
  private readonly out: ProgressSink;
  private readonly maxIterations: number;
  private invalid = 0;
  private copies = 0;
  private accepted = 0;
  private readonly engine: EngineProgress | undefined;
  constructor(out: ProgressSink, maxIterations: number, engine?: EngineProgress) {
    this.out = out;
    this.maxIterations = maxIterations;
    this.engine = engine;
  }

  private line(s: string): void {
    this.out.write(`${s}\n`);
  }

  handle(e: RunEvent): void {
    const u = e.update;
    switch (e.node) {
      case "init": {
        const d = u.dataset as { rows: number; columns: string[] } | undefined;
        const k = Array.isArray(u.xSub) ? u.xSub.length : 0;
        if (d)
          this.line(
            `loaded ${d.rows} real rows × ${d.columns.length} columns; ${k} stratified examples in the prompt`,
          );
        break;
      }
      case "discriminate": {
        const history = u.history as IterationRecord[] | undefined;
        const r = history?.[history.length - 1];
        if (r) this.line(`${formatIteration(r, this.maxIterations)}\n  ${formatTokens(e)}`);
        if (u.phase === "finalize") {
          const c = u.finalChoice as { reason: string; iteration: number } | undefined;
          if (c) {
            this.line(
              c.reason === "converged"
                ? `converged at iteration ${c.iteration}: generating ${e.rowsRequested} rows`
                : `no "Real" verdict within ${this.maxIterations} iterations: generating ${e.rowsRequested} rows with the prompt of iteration ${c.iteration} (best similarity − divergence)`,
            );
          }
        }
        break;
      }
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
        const line = this.engine?.(e);
        if (line) this.line(line);
        break;
      }
    }
  }
}
