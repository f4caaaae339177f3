/**
 * Progress lines of an LLMSynthor run (besides ProgressPrinter's common lines): the iterations planned on the
 * loaded line, the joint groups, each iteration's pool discrepancy (mean TVD over the marginals and joint
 * groups) and proposals, the rows added to the pool, and the fill after the loop.
 */
import type { LsIteration } from "./state.ts";
import type { EngineProgress } from "../../graph/engine.ts";
import { formatTokens } from "../../cli/progress.ts";

const last = (u: Record<string, unknown>): LsIteration | undefined => {
  const h = u.history as LsIteration[] | undefined;
  return h?.[h.length - 1];
};

const node: EngineProgress["node"] = (e) => {
  const u = e.update;
  switch (e.node) {
    case "copula": {
      const g = u.groups as string[][] | undefined;
      return g
        ? `joint groups: ${g.length === 0 ? "none (marginals only)" : g.map((x) => `[${x.join(", ")}]`).join(" ")}`
        : null;
    }
    case "measure": {
      const r = last(u);
      if (r) {
        return `iteration ${r.iteration}: pool ${r.pool_rows} rows, mean TVD ${r.discrepancy.total.toFixed(3)}; proposing ${r.requested} rows`;
      }
      const d = u.finalDiscrepancy as { total: number } | undefined;
      return d
        ? `stopped (${String(u.stoppedBecause)}): pool mean TVD ${d.total.toFixed(3)}${u.phase === "fill" ? `; filling to ${e.rowsRequested} rows from the proposals` : ""}`
        : null;
    }
    case "propose":
      return `  proposals received; ${formatTokens(e)}`;
    case "sample": {
      const r = last(u);
      return r
        ? `  pool ${e.rowsDone}/${e.rowsRequested} rows (+${r.accepted}, exact copies removed ${r.exact_copies})`
        : null;
    }
    case "fill":
      return `fill: pool ${e.rowsDone}/${e.rowsRequested} rows (exact copies removed ${String(u.exactCopiesRemoved ?? 0)})`;
    default:
      return null;
  }
};

export const llmsynthorProgress: EngineProgress = {
  loaded: (u) => `${String(u.iterations)} iterations planned`,
  node,
};
