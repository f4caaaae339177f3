/**
 * The Bayesian network sampled under a condition (data/predicate/): narrowMetadata gives what every satisfying
 * row must have per column (allowed levels, a numeric range, missing forbidden or required), which becomes
 * evidence for sample.ts's exact conditioning; whatever the evidence cannot say (an `or` across columns,
 * open bounds, excluded values, a required missing number) is enforced by rejection on the compiled predicate
 * (graph/code-sampling.ts rejectionSample). The evidence is a superset of the condition, so filtering exact
 * draws under the evidence by the predicate gives exact draws under the predicate; when the evidence says
 * everything (e.g. `sex == "Female" and age >= 60`) every row is accepted and no draw is wasted.
 */
import { narrowMetadata, type ColumnNarrowing, type Predicate } from "../../data/predicate/index.ts";
import type { Metadata, Table } from "../../data/types.ts";
import { rejectionSample } from "../../graph/code-sampling.ts";
import { SEED_STREAMS } from "../../state/seeds.ts";
import type { BayesNetModel } from "./model.ts";
import { type Evidence, sampleBayesNet } from "./sample.ts";

/** Evidence implied by the per-column narrowings: always a superset of the rows that satisfy them. */
export function evidenceOf(
  model: BayesNetModel,
  columns: readonly ColumnNarrowing[],
): Record<string, Evidence> {
  const byName = new Map(model.columns.map((c) => [c.name, c] as const));
  const out: Record<string, Evidence> = {};
  for (const n of columns) {
    const col = byName.get(n.column);
    if (col === undefined || col.kind === "id") continue;
    if ("levels" in col) {
      const values: Array<string | null> =
        n.missing === "required" ? [] : (n.levels ?? col.levels).filter((l) => col.levels.includes(l));
      if (n.missing !== "forbidden") values.push(null);
      out[n.column] = { values };
    } else if (n.missing === "forbidden") {
      // A range (or {} = any value): the missing state gets weight 0. Exclusive ends are kept closed here
      // and enforced by the predicate.
      out[n.column] = {
        ...(n.min === undefined ? {} : { min: n.min }),
        ...(n.max === undefined ? {} : { max: n.max }),
      };
    }
  }
  return out;
}

/**
 * n rows of the network, each satisfying `pred` (all rows when pred is null), seeded; `onDrawn` hears, per
 * rejection attempt, the rows drawn under the evidence and examined until n were kept.
 */
export function sampleUnder(
  model: BayesNetModel,
  n: number,
  seed: number,
  pred: Predicate | null,
  metadata: Metadata,
  opts: { maxDrawsPerRow?: number; onDrawn?: (rows: number) => void } = {},
): Table {
  if (pred === null) return sampleBayesNet(model, n, seed);
  const evidence = evidenceOf(model, narrowMetadata(pred, metadata).columns);
  return rejectionSample({
    draw: (m, s) => sampleBayesNet(model, m, s, { evidence }),
    pred,
    n,
    seed,
    stream: SEED_STREAMS.bayesnet.rejection,
    metadata,
    ...(opts.maxDrawsPerRow === undefined ? {} : { maxDrawsPerRow: opts.maxDrawsPerRow }),
    ...(opts.onDrawn === undefined ? {} : { onDrawn: opts.onDrawn }),
  });
}
