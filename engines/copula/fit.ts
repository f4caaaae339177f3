/**
 * Fits a Gaussian copula to a table the way SDV's GaussianCopulaSynthesizer does: per column a marginal
 * (numeric, datetimes as epoch ms) or a uniform-interval encoding (categorical, boolean), the normal scores
 * z = Φ⁻¹(F(x)), and their correlation matrix (see correlation.ts). Min/max, decimals and the missing share of
 * each numeric column are kept so sampling can enforce them (SDV enforce_min_max_values,
 * enforce_rounding, RDT missing_value_generation "random"). id columns are regenerated, not modelled.
 */
import { z } from "zod";
import { isNumeric } from "../../data/build.ts";
import { DataError } from "../../data/errors.ts";
import type { ColumnMeta, Metadata, NumericColumn, Table } from "../../data/types.ts";
import { createRng } from "../../stats/primitives/rng.ts";
import { pairwiseCorrelation, positiveDefinite } from "./correlation.ts";
import { familyChoiceSchema, fitMarginalWithCdf } from "./marginals.ts";
import type { CodedColumnModel, ColumnModel, CopulaModel, NumericColumnModel } from "./model.ts";
import { codedNormalScores, numericNormalScores } from "./normal-scores.ts";

export const copulaOptionsSchema = z.strictObject({
  /** Family of every numeric column (SDV default_distribution); "auto" = smallest KS statistic. Default "auto". */
  distribution: familyChoiceSchema.default("auto"),
  /** Per-column family (SDV numerical_distributions). */
  numericalDistributions: z.record(z.string(), familyChoiceSchema).default({}),
  /** Seed of the uniform draws inside category intervals. Default 0. */
  seed: z.number().int().default(0),
});
export type CopulaOptions = z.input<typeof copulaOptionsSchema>;

const DAY_MS = 86_400_000;

/** Rounding step of a datetime column: a day for dates, a second when every value is whole seconds, else 1 ms. */
function datetimeStep(col: NumericColumn, meta: ColumnMeta | undefined): number {
  if (meta?.datetimeFormat === "date") return DAY_MS;
  for (const v of col.values) if (v === v && v % 1000 !== 0) return 1;
  return 1000;
}

function finiteValues(values: Float64Array): Float64Array {
  let n = 0;
  for (const v of values) if (v === v) n++;
  const out = new Float64Array(n);
  let k = 0;
  for (const v of values) if (v === v) out[k++] = v;
  return out;
}

/** Fits the copula; `metadata` supplies min/max/decimals (the table's own range when it lacks them). */
export function fitCopula(table: Table, metadata: Metadata, optsIn: CopulaOptions = {}): CopulaModel {
  const opts = copulaOptionsSchema.parse(optsIn);
  if (table.nRows === 0) throw new DataError("cannot fit a copula to a table with no rows");
  const metaOf = new Map(metadata.columns.map((c) => [c.name, c] as const));
  for (const name of Object.keys(opts.numericalDistributions)) {
    if (!table.columns.some((c) => c.name === name && isNumeric(c))) {
      throw new DataError(
        `numericalDistributions names "${name}", which is not a numeric column of the table`,
        {
          column: name,
        },
      );
    }
  }
  const rng = createRng(opts.seed);
  const columns: ColumnModel[] = [];
  const scores: Float64Array[] = [];
  for (const col of table.columns) {
    const meta = metaOf.get(col.name);
    if (isNumeric(col)) {
      const finite = finiteValues(col.values);
      if (finite.length === 0) {
        throw new DataError("the column has no values; drop it or give it at least one value", {
          column: col.name,
        });
      }
      const choice = opts.numericalDistributions[col.name] ?? opts.distribution;
      const { marginal, cdf } = fitMarginalWithCdf(choice, finite);
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const v of finite) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const decimals = col.kind === "numerical" ? (meta?.integer ? 0 : (meta?.decimals ?? null)) : null;
      const step =
        col.kind === "datetime" ? datetimeStep(col, meta) : decimals === null ? 0 : 10 ** -decimals;
      const model: NumericColumnModel = {
        kind: col.kind,
        name: col.name,
        marginal,
        missingRate: (col.values.length - finite.length) / col.values.length,
        min: meta?.min ?? lo,
        max: meta?.max ?? hi,
        step,
        decimals,
      };
      columns.push(model);
      scores.push(numericNormalScores(col.values, marginal, cdf));
    } else if (col.kind === "id") {
      columns.push({ kind: "id", name: col.name });
    } else {
      const counts = new Float64Array(col.levels.length + 1); // last slot = missing
      for (const c of col.codes) counts[c < 0 ? col.levels.length : c]++;
      const order: number[] = [];
      for (let k = 0; k <= col.levels.length; k++) if (counts[k] > 0) order.push(k);
      order.sort((a, b) => counts[b] - counts[a] || a - b);
      const model: CodedColumnModel = {
        kind: col.kind,
        name: col.name,
        levels: [...col.levels],
        categories: order.map((k) => ({
          level: k === col.levels.length ? -1 : k,
          freq: counts[k] / table.nRows,
        })),
      };
      columns.push(model);
      scores.push(codedNormalScores(col.codes, model, rng));
    }
  }
  const d = scores.length;
  const { corr } = positiveDefinite(pairwiseCorrelation(scores), d);
  return { format: "synthgraph.copula/1", nRows: table.nRows, columns, correlation: Array.from(corr) };
}
