/**
 * Progress lines of a SYNTHIA run (besides ProgressPrinter's common lines): the stratified examples on the
 * loaded line, every refinement iteration with its scores and verdict, and the final choice.
 */
import type { EngineProgress } from "../../graph/engine.ts";
import type { IterationRecord } from "../../state/schemas.ts";
import { formatTokens } from "../../cli/progress.ts";

const f2 = (x: number | null): string => (x !== null && Number.isFinite(x) ? x.toFixed(2) : "n/a");
const pct = (a: number, b: number): string => (b > 0 ? `${Math.round((100 * a) / b)}%` : "n/a");

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
