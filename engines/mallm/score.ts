/**
 * MALLM-GAN's scoring bookkeeping (official code, model_glm.py `_run`): a batch is scored by the
 * discriminator's accuracy on a 20% held-out split of (real sample, synthetic batch) after a partial_fit on
 * the other 80%; its theta is stored only when enough requested rows were valid; after every stored batch
 * all stored (theta, held-out sample) pairs are re-scored by the latest discriminator; the optimizer sees the
 * lowest-scoring few. Pure: theta is an opaque id; the discriminator is passed in.
 */
import { takeTableRows } from "../../data/build.ts";
import type { Table } from "../../data/types.ts";
import { createRng, permutation } from "../../stats/primitives/rng.ts";
import type { IncrementalDiscriminator } from "../../stats/classifiers/sgd.ts";

export interface MallmSchedule {
  /** Adversarial epochs with the discriminator learning. */
  readonly epochs: number;
  /** Extra epochs with the discriminator frozen (the final theta is chosen from the last one). */
  readonly frozenEpochs: number;
  /** Real rows per batch. */
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  /** Real examples shown per generator call ("batches in a batch"). */
  readonly examplesPerCall: number;
  /** Rows requested per generator call. */
  readonly rowsPerCall: number;
  /** (theta, score) pairs shown to the optimizer. */
  readonly topK: number;
  /** Share of requested rows that must be valid for a batch's theta to be stored. */
  readonly storeThreshold: number;
  /** Held-out share of each (real, synthetic) batch. */
  readonly testFraction: number;
  /** The loop's cap in batches (`--mallm-max-batches`); absent: every batch of every epoch. */
  readonly maxSteps?: number;
}

// epochs = clamp(round(5 − log2(N/100)), 2, 5): the official 5/4/3/2 at N = 100/200/400/800, 5 below, 2 above.
export function mallmSchedule(nRows: number): MallmSchedule {
  const n = Math.max(1, nRows);
  const epochs = Math.min(5, Math.max(2, Math.round(5 - Math.log2(n / 100))));
  const batchSize = 50;
  return {
    epochs,
    frozenEpochs: 1,
    batchSize,
    batchesPerEpoch: Math.ceil(n / batchSize),
    examplesPerCall: 5,
    rowsPerCall: 5,
    topK: 3,
    storeThreshold: 0.8,
    testFraction: 0.2,
  };
}

/** Store rule: valid ≥ threshold·requested (official: `len(df_temp) >= 0.8 * batch_size`). */
export function shouldStore(valid: number, requested: number, threshold = 0.8): boolean {
  return valid >= threshold * requested;
}

/** Real and synthetic rows of one batch (labels implied: real = 1, synthetic = 0). */
export interface LabelledRows {
  readonly real: Table;
  readonly synthetic: Table;
}

// sklearn train_test_split(test_size=0.2) on [real; synthetic]: n_test = ceil(f·n), test = the first n_test of a seeded permutation.
export function splitBatch(
  real: Table,
  synthetic: Table,
  seed: number,
  testFraction = 0.2,
): { train: LabelledRows; test: LabelledRows } {
  const nr = real.nRows;
  const n = nr + synthetic.nRows;
  const nTest = Math.ceil(testFraction * n);
  const perm = permutation(n, createRng(seed));
  const part = (from: number, to: number): LabelledRows => {
    const r: number[] = [];
    const s: number[] = [];
    for (let k = from; k < to; k++) {
      const i = perm[k];
      if (i < nr) r.push(i);
      else s.push(i - nr);
    }
    // Keep file order inside each part so a part does not depend on the permutation's order.
    r.sort((a, b) => a - b);
    s.sort((a, b) => a - b);
    return { real: takeTableRows(real, r), synthetic: takeTableRows(synthetic, s) };
  };
  return { test: part(0, nTest), train: part(nTest, n) };
}

export interface BatchScore {
  /** Accuracy of the updated discriminator on the held-out rows. */
  readonly accuracy: number;
  /** The held-out rows, kept with the theta for later re-scoring. */
  readonly heldOut: LabelledRows;
}

/** Splits the batch, partial-fits the discriminator on the training part, scores it on the held-out part. */
export function scoreBatch(
  disc: IncrementalDiscriminator<unknown>,
  real: Table,
  synthetic: Table,
  seed: number,
  testFraction = 0.2,
): BatchScore {
  const { train, test } = splitBatch(real, synthetic, seed, testFraction);
  disc.partialFit(train.real, train.synthetic, seed);
  return { accuracy: disc.accuracy(test.real, test.synthetic), heldOut: test };
}

/** Frozen-discriminator epoch: accuracy on the whole batch, no update (official run_with_fixed_discriminator). */
export function scoreFrozen(
  disc: IncrementalDiscriminator<unknown>,
  real: Table,
  synthetic: Table,
): BatchScore {
  return { accuracy: disc.accuracy(real, synthetic), heldOut: { real, synthetic } };
}

/** A stored theta (by id) with its held-out sample and scores. */
export interface ScoredCandidate {
  readonly id: string;
  readonly epoch: number;
  readonly heldOut: LabelledRows;
  /** Score when the batch was stored. */
  readonly initialScore: number;
  /** Latest score (re-scored by the latest discriminator). */
  readonly score: number;
}

/** Every candidate re-scored by the current discriminator, in the same order (official: loop over prompt_score_dict). */
export function rescoreAll(
  disc: IncrementalDiscriminator<unknown>,
  candidates: readonly ScoredCandidate[],
): ScoredCandidate[] {
  return candidates.map((c) => ({ ...c, score: disc.accuracy(c.heldOut.real, c.heldOut.synthetic) }));
}

/**
 * Records one scored batch: when `shouldStore(valid, requested)` the candidate is appended and, unless the
 * discriminator is frozen, all stored candidates are re-scored; otherwise the store is returned unchanged.
 */
export function recordBatch(
  store: readonly ScoredCandidate[],
  candidate: { id: string; epoch: number; score: BatchScore },
  disc: IncrementalDiscriminator<unknown>,
  valid: number,
  requested: number,
  opts: { threshold?: number; frozen?: boolean } = {},
): ScoredCandidate[] {
  if (!shouldStore(valid, requested, opts.threshold ?? 0.8)) return [...store];
  const next: ScoredCandidate = {
    id: candidate.id,
    epoch: candidate.epoch,
    heldOut: candidate.score.heldOut,
    initialScore: candidate.score.accuracy,
    score: candidate.score.accuracy,
  };
  const all = [...store, next];
  return opts.frozen ? all : rescoreAll(disc, all);
}

// The k lowest scores, sorted from worst to best (best last, as the paper's meta-prompt); ties keep storage order before reversal.
export function lowestK<C extends { readonly score: number }>(candidates: readonly C[], k = 3): C[] {
  const ranked = candidates
    .map((c, i) => ({ c, i }))
    .sort((a, b) => a.c.score - b.c.score || a.i - b.i)
    .slice(0, k);
  return ranked.reverse().map((x) => x.c);
}

// Final theta = argmin score among candidates of `epoch`, first stored on ties (official: min over last_epoch_prompt_score).
export function finalChoice<C extends { readonly score: number; readonly epoch: number }>(
  candidates: readonly C[],
  epoch: number,
): C | undefined {
  let best: C | undefined;
  for (const c of candidates) if (c.epoch === epoch && (best === undefined || c.score < best.score)) best = c;
  return best;
}
