/**
 * Progress lines of a copula run (besides ProgressPrinter's common lines): the plan on the loaded line, the
 * families the fit chose, and the rows kept after each chunk.
 */
import type { EngineProgress } from "../../graph/engine.ts";
import type { CopulaEngineOptions } from "./config.ts";
import { type CopulaFitSummary, familyCounts } from "./fit-summary.ts";

export function copulaProgress(o: CopulaEngineOptions): EngineProgress {
  return {
    loaded: () =>
      `fitting a Gaussian copula (marginals: ${o.distribution}), then sampling in chunks of ${o.chunkRows} rows; no model needed`,
    node: (e) => {
      const u = e.update;
      switch (e.node) {
        case "fit": {
          const f = u.fitSummary as CopulaFitSummary | undefined;
          if (!f) return null;
          const top = f.strongest_correlations[0];
          return `fitted: ${f.marginals.length} numeric marginals${f.marginals.length > 0 ? ` (${familyCounts(f)})` : ""}, ${f.categorical.length} categorical columns${top ? `; strongest correlation ${top.a} ~ ${top.b} ${top.r.toFixed(2)}` : ""}`;
        }
        case "sample":
          return `rows ${e.rowsDone}/${e.rowsRequested} (+${String(u.accepted ?? 0)}, exact copies removed ${String(u.exactCopiesRemoved ?? 0)})`;
        default:
          return null;
      }
    },
  };
}
