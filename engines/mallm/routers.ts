/**
 * MALLM-GAN's conditional edges (graph.ts wires them); the final generation's own routers are in
 * graph/finalize.ts.
 */
import { type MallmStateT, scheduleOf, totalSteps } from "./state.ts";

/**
 * After the pause point that follows optimize: the next batch while steps are left in the schedule and no
 * steering "stop" came, else the final theta's choice.
 */
export function afterOptimize(
  s: Pick<MallmStateT, "iteration" | "schedule"> & Partial<Pick<MallmStateT, "stopRequested">>,
): "generate" | "choose" {
  return s.stopRequested !== true && s.iteration < totalSteps(scheduleOf(s)) ? "generate" : "choose";
}
