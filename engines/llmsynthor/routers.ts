/**
 * The conditional edges of the LLMSynthor graph: pure functions of the state, each returning one of the targets
 * its type lists. `measure` decides the phase (state.ts keeps the decision's numbers); these only follow it.
 */
import type { LlmsynthorStateT } from "./state.ts";

/** After measure: the loop's next iteration, a fill round (rows missing at the stop), or the output. */
export function afterMeasure(s: Pick<LlmsynthorStateT, "phase">): "propose" | "fill" | "write" {
  return s.phase === "write" ? "write" : s.phase === "fill" ? "fill" : "propose";
}

/**
 * After sample: with reinferGroups, new joint groups before the next iteration while iterations and rows are
 * left; otherwise (and after the last iteration) measure the pool.
 */
export function afterSample(
  s: Pick<LlmsynthorStateT, "config" | "iteration" | "iterations" | "accepted">,
): "copula" | "measure" {
  return s.config.llmsynthor.reinferGroups && s.iteration < s.iterations && s.accepted < s.config.rows
    ? "copula"
    : "measure";
}

/** After a fill round: another one while rows are missing (fill throws after maxRounds), else the output. */
export function afterFill(s: Pick<LlmsynthorStateT, "config" | "accepted">): "write" | "fill" {
  return s.accepted >= s.config.rows ? "write" : "fill";
}
