/**
 * The copula sampled under a condition (data/predicate/): a Gaussian copula has no closed-form conditional
 * for an arbitrary region of mixed columns, so rows are drawn unconditionally and kept when they satisfy the
 * predicate (rejection, graph/code-sampling.ts rejectionSample). Accepted rows are exact draws from the copula
 * conditioned on the predicate; the cost is 1 / P(predicate) draws per row, and a condition the model almost
 * never produces fails with a clear error instead of running on.
 */
import type { Predicate } from "../../data/predicate/index.ts";
import type { Metadata, Table } from "../../data/types.ts";
import { rejectionSample } from "../../graph/code-sampling.ts";
import { SEED_STREAMS } from "../../state/seeds.ts";
import type { CopulaModel } from "./model.ts";
import { sampleCopula } from "./sample.ts";

/**
 * n rows of the copula, each satisfying `pred` (all rows when pred is null), seeded; `onDrawn` hears, per
 * rejection attempt, the rows examined until n were kept.
 */
export function sampleUnder(
  model: CopulaModel,
  n: number,
  seed: number,
  pred: Predicate | null,
  metadata: Metadata,
  opts: { maxDrawsPerRow?: number; onDrawn?: (rows: number) => void } = {},
): Table {
  if (pred === null) return sampleCopula(model, n, seed, metadata);
  return rejectionSample({
    draw: (m, s) => sampleCopula(model, m, s, metadata),
    pred,
    n,
    seed,
    stream: SEED_STREAMS.copula.rejection,
    metadata,
    ...(opts.maxDrawsPerRow === undefined ? {} : { maxDrawsPerRow: opts.maxDrawsPerRow }),
    ...(opts.onDrawn === undefined ? {} : { onDrawn: opts.onDrawn }),
  });
}
