/**
 * MALLM-GAN's conditional edges (graph.ts wires them); the final generation's own routers are in
 * graph/finalize.ts.
 */
import { type MallmStateT, scheduleOf, totalSteps } from "./state.ts";

/** After optimize: the next batch while steps are left in the schedule, else the final theta's choice. */
export function afterOptimize(s: Pick<MallmStateT, "iteration" | "schedule">): "generate" | "choose" {
  return s.iteration < totalSteps(scheduleOf(s)) ? "generate" : "choose";
}
