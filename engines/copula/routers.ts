/** The copula graph's conditional edges: the sampling rounds' (graph/code-sampling.ts), with its chunk size. */
import { afterPlanRound, afterSampleChunk } from "../../graph/code-sampling.ts";
import type { CopulaStateT } from "./state.ts";

/** After plan_round: draw the round's chunks, or write once N rows passed the privacy guard. */
export function afterPlan(s: Pick<CopulaStateT, "phase">): "sample" | "write" {
  return afterPlanRound(s);
}

/** After sample: the round's next chunk, or plan the next round (top-up or write). */
export function afterSample(
  s: Pick<CopulaStateT, "config" | "roundRows" | "nextChunk">,
): "sample" | "plan_round" {
  return afterSampleChunk(s, s.config.copula.chunkRows);
}
