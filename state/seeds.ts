/**
 * Seeds. Every random choice and every model call of a run takes a seed derived from the run's seed, a stream
 * (what the seed is for) and an index (iteration, step, round or batch), so a re-run with the same seed and the
 * same model replies gives the same table byte for byte, and a resumed run re-derives the seed of any step.
 *
 * The one table of streams: numbers are part of the run's reproducibility contract (changing one changes every
 * table generated with it), so a new engine adds a new block of numbers and never reuses one.
 */

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

/** Every seed stream of every engine. */
export const SEED_STREAMS = {
  /** Shared final generation (graph/finalize.ts): batch b of round r. */
  final: 3,
  synthia: { probe: 1, discriminator: 2, metadata: 4, finalExamples: 5 },
  mallm: { shuffle: 11, generator: 12, split: 13, optimizer: 14 },
  llmsynthor: { copula: 21, proposer: 22, sampler: 23, fill: 24 },
  /** engines/synllm: the real example rows a SEEDEx prompt shows. */
  synllm: { examples: 51 },
  /** engines/copula: the category-interval draws of the fit, each sampled chunk, rejection attempts. */
  copula: { fit: 31, sample: 32, rejection: 33 },
  /** engines/bayesnet: the structure search's restarts, each sampled chunk, rejection attempts. */
  bayesnet: { fit: 41, sample: 42, rejection: 43 },
} as const;

/** Seed of final batch b of round r (1-based round). */
export function batchSeed(seed: number, round: number, batch: number): number {
  return deriveSeed(deriveSeed(seed, SEED_STREAMS.final, round), SEED_STREAMS.final, batch);
}
