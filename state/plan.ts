/**
 * Pure decisions of the SYNTHIA loop, kept out of graph/ (which only wires nodes): seeds, the convergence
 * rule, the best-prompt score, and the plan of the final rounds and batches.
 */
import type { IterationRecord } from "./schemas.ts";

/** A seed derived from (seed, stream, index) by two rounds of 32-bit multiply-xorshift (MurmurHash3 fmix32). */
export function deriveSeed(seed: number, stream: number, index: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) | 0;
  for (let r = 0; r < 2; r++) {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  // Non-negative 31-bit: Ollama and OpenAI both accept it as a seed.
  return h & 0x7fffffff;
}

/** Seed streams: probes, discriminator calls, final batches. */
export const STREAM = { probe: 1, discriminator: 2, final: 3, metadata: 4 } as const;

/** Seed of final batch b of round r (1-based round). */
export function batchSeed(seed: number, round: number, batch: number): number {
  return deriveSeed(deriveSeed(seed, STREAM.final, round), STREAM.final, batch);
}

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

/** Number of batches for `rows` rows at `batchRows` per batch. */
export function batchCount(rows: number, batchRows: number): number {
  return Math.ceil(rows / batchRows);
}

/** Rows requested by batch b (0-based) of a round that plans `roundRows` rows: full batches, then the rest. */
export function batchSize(roundRows: number, batchRows: number, b: number): number {
  return Math.min(batchRows, roundRows - b * batchRows);
}

/**
 * Batches dispatched per fan-out wave: a constant multiple of the concurrency, so the pending Sends in a
 * checkpoint stay bounded however many rows are requested.
 */
export function waveSize(concurrency: number): number {
  return Math.max(1, concurrency) * 4;
}
