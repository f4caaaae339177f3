/**
 * The SYNTHIA graph's conditional edges (graph.ts wires them; the final generation's own routers are in
 * graph/finalize.ts). Each returns one of the node names listed in its return type.
 */
import type { SynthiaStateT } from "./state.ts";

/** After the pause point that follows discriminate: the loop ended (converged, max iterations or stopped) → plan_round, otherwise → refine. */
export function afterDiscriminate(s: Pick<SynthiaStateT, "phase">): "plan_round" | "refine" {
  return s.phase === "finalize" ? "plan_round" : "refine";
}
