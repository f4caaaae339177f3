/**
 * Live progress of a generation run on stderr, one line per event. Common to every engine: the loaded data
 * (with the engine's detail), the final rounds (rows accepted so far, valid share, exact copies removed,
 * tokens) and the output; the engine's own nodes print through its EngineProgress (engines/<name>/progress.ts,
 * reached through the registry's `progress(config)`).
 */
import type { EngineProgress } from "../graph/engine.ts";
import type { RunEvent } from "../graph/run.ts";

export type { EngineProgress } from "../graph/engine.ts";

export interface ProgressSink {
  write(text: string): unknown;
}

const pct = (a: number, b: number): string => (b > 0 ? `${Math.round((100 * a) / b)}%` : "n/a");

export function formatTokens(e: Pick<RunEvent, "usage">): string {
  const u = e.usage;
  return `${u.calls} calls, ${u.prompt_tokens + u.completion_tokens}${u.estimated ? "~" : ""} tokens`;
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
        // A round's plan that found duplicate rows among the stored ones (graph/finalize.ts planRound): the
        // rows count drops below the last "rows N/N" line, so say why before the next round starts.
        const removed = typeof u.duplicatesRemoved === "number" ? u.duplicatesRemoved : 0;
        if (removed > 0) {
          this.line(
            `removed ${removed} duplicate row${removed === 1 ? "" : "s"} (--keep-duplicates keeps them): rows ${e.rowsDone}/${e.rowsRequested}, generating the rest`,
          );
        }
        const line = this.engine.node(e);
        if (line) this.line(line);
        break;
      }
    }
  }
}
