/** The Bayesian-network graph's conditional edges: the sampling rounds' (graph/code-sampling.ts). */
import { afterPlanRound, afterSampleChunk } from "../../graph/code-sampling.ts";
import type { BayesnetStateT } from "./state.ts";

/** After plan_round: draw the round's chunks, or write once N rows passed the privacy guard. */
export function afterPlan(s: Pick<BayesnetStateT, "phase">): "sample" | "write" {
  return afterPlanRound(s);
}

/** After sample: the round's next chunk, or plan the next round (top-up or write). */
export function afterSample(
  s: Pick<BayesnetStateT, "config" | "roundRows" | "nextChunk">,
): "sample" | "plan_round" {
  return afterSampleChunk(s, s.config.bayesnet.chunkRows);
}
