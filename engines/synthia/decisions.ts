/**
 * Pure decisions of the SYNTHIA loop (kept out of the nodes so they are tested as tables): the convergence
 * rule with the statistical guard, and the score that picks the best prompt when the loop does not converge.
 */
import type { IterationRecord } from "../../state/schemas.ts";

export type Decision =
  | { next: "finalize"; reason: "converged" | "max_iterations"; overruled: boolean }
  | { next: "refine"; overruled: boolean };

/**
 * The convergence edge. "Real" ends the loop only when the statistical guard has no objection; a "Real" the
 * guard objects to is overruled (recorded) and refined with the guard's reasons as feedback. Any non-converged
 * iteration at or past maxIterations finalizes with the best prompt so far.
 */
export function decide(
  verdict: "Real" | "Synthetic",
  guardReasons: readonly string[],
  iteration: number,
  maxIterations: number,
): Decision {
  const overruled = verdict === "Real" && guardReasons.length > 0;
  if (verdict === "Real" && !overruled) return { next: "finalize", reason: "converged", overruled: false };
  if (iteration >= maxIterations) return { next: "finalize", reason: "max_iterations", overruled };
  return { next: "refine", overruled };
}

/**
 * Score of a probe for "best prompt so far": similarity − divergence (both in [0, 1]; the analyzer's mean
 * KS/CS-or-TV similarity minus its mean JS distance). A probe without valid rows scores −Infinity.
 */
export function probeScore(r: Pick<IterationRecord, "valid" | "scores">): number {
  const { similarity, divergence } = r.scores;
  if (r.valid === 0 || similarity === null || divergence === null) return Number.NEGATIVE_INFINITY;
  const s = similarity - divergence;
  return Number.isFinite(s) ? s : Number.NEGATIVE_INFINITY;
}

/** The iteration with the highest score (earliest on ties), or undefined for an empty history. */
export function bestIteration(history: readonly IterationRecord[]): IterationRecord | undefined {
  let best: IterationRecord | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const r of history) {
    const s = probeScore(r);
    if (best === undefined || s > bestScore) {
      best = r;
      bestScore = s;
    }
  }
  return best;
}
