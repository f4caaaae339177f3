/**
 * Progress lines of a Bayesian-network run (besides ProgressPrinter's common lines): the plan on the loaded
 * line, the learned DAG's size, and the rows kept after each chunk.
 */
import type { EngineProgress } from "../../graph/engine.ts";
import type { BayesnetEngineOptions } from "./config.ts";
import type { BayesnetFitSummary } from "./fit-summary.ts";

export function bayesnetProgress(o: BayesnetEngineOptions): EngineProgress {
  return {
    loaded: () =>
      `fitting a Bayesian network (${o.bins} bins, at most ${o.maxParents} parents, prior ${o.pseudoCount}), then sampling in chunks of ${o.chunkRows} rows; no model needed`,
    node: (e) => {
      const u = e.update;
      switch (e.node) {
        case "fit": {
          const f = u.fitSummary as BayesnetFitSummary | undefined;
          if (!f) return null;
          const shown = f.edges.slice(0, 6).map(([a, b]) => `${a} → ${b}`);
          return `fitted: ${f.nodes.length} nodes, ${f.edges.length} edges, ${f.parameters} CPT parameters${shown.length > 0 ? `; ${shown.join(", ")}${f.edges.length > shown.length ? ", …" : ""}` : ""}`;
        }
        case "sample":
          return `rows ${e.rowsDone}/${e.rowsRequested} (+${String(u.accepted ?? 0)}, exact copies removed ${String(u.exactCopiesRemoved ?? 0)})`;
        default:
          return null;
      }
    },
  };
}
