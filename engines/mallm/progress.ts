/**
 * Progress lines of a MALLM-GAN run (besides ProgressPrinter's common lines): the schedule on the loaded line,
 * each batch of the loop (valid share, discriminator accuracy, stored or not), each optimizer step, and the
 * final theta choice.
 */
import type { MallmFinalChoice, StepRecord } from "./state.ts";
import type { MallmSchedule } from "./score.ts";
import type { EngineProgress } from "../../graph/engine.ts";
import { formatTokens } from "../../cli/progress.ts";

const last = (u: Record<string, unknown>): StepRecord | undefined => {
  const t = u.trajectory as StepRecord[] | undefined;
  return t?.[t.length - 1];
};

const node: EngineProgress["node"] = (e) => {
  const u = e.update;
  switch (e.node) {
    case "score": {
      const r = last(u);
      if (!r) return null;
      const acc = r.score === null ? "not scored" : `discriminator accuracy ${r.score.toFixed(3)}`;
      return `epoch ${r.epoch + 1}${r.frozen ? " (frozen)" : ""} batch ${r.batch + 1}: ${r.valid}/${r.requested} valid; ${acc}; ${r.stored ? "stored" : "not stored"}`;
    }
    case "optimize": {
      const r = last(u);
      if (!r?.optimizer) return null;
      return r.optimizer.accepted
        ? `  optimizer: new theta; ${formatTokens(e)}`
        : `  optimizer: answer unusable, theta kept (${r.optimizer.reasons[r.optimizer.reasons.length - 1] ?? ""}); ${formatTokens(e)}`;
    }
    case "choose": {
      const c = u.finalChoice as MallmFinalChoice | undefined;
      if (!c) return null;
      const from =
        c.reason === "initial"
          ? "the initial theta (nothing stored)"
          : `the theta of step ${c.step} (score ${c.score?.toFixed(3)})`;
      return `generating ${e.rowsRequested} rows with ${from}`;
    }
    default:
      return null;
  }
};

export const mallmProgress: EngineProgress = {
  loaded: (u) => {
    const s = u.schedule as MallmSchedule | undefined;
    return s
      ? `${s.epochs} epoch${s.epochs === 1 ? "" : "s"} (${s.frozenEpochs} frozen) of ${s.batchesPerEpoch} batch${s.batchesPerEpoch === 1 ? "" : "es"} of ${s.batchSize} real rows${s.maxSteps === undefined ? "" : `, stopping after ${s.maxSteps} batch${s.maxSteps === 1 ? "" : "es"}`}`
      : null;
  },
  node,
};
