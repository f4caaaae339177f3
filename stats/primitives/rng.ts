/**
 * Seeded random numbers. Every random choice in synthgraph takes one of these.
 * Mersenne Twister from pure-rand; parallel streams fork by deriving a new seed from (seed, stream).
 */
import { mersenne } from "pure-rand/generator/mersenne";

export interface Rng {
  /** Uniform double in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** An independent stream derived from this one (for parallel batches). */
  fork(stream: number): Rng;
}

/** Creates a seeded RNG; the same seed always gives the same sequence. */
export function createRng(seed: number): Rng {
  return wrap(mersenne(seed | 0), seed);
}

function wrap(gen: ReturnType<typeof mersenne>, seed: number): Rng {
  const next = (): number => {
    // 53 random bits from two 32-bit draws: (a·2^21 + b) / 2^53.
    const a = (gen.next() >>> 0) >>> 6;
    const b = (gen.next() >>> 0) >>> 5;
    return (a * 134217728 + b) / 9007199254740992;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    fork: (stream) =>
      createRng((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(stream + 1, 0xc2b2ae35)) | 0),
  };
}

/** Fisher–Yates shuffle of indices 0..n-1 (Knuth, TAOCP vol. 2, Algorithm P). */
export function permutation(n: number, rng: Rng): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}
