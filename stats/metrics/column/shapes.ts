/**
 * Column-shape metrics (docs/metrics.md §1.1–§1.10, §1.12, §1.13): one column, real vs synthetic. The tree builders
 * return exactly the fixture sub-tree `column_shapes.<col>` (snake_case keys, NaN where undefined, `error` where
 * the reference raises); the kernels they use are re-exported for the engines and the benchmark.
 */
import type { CodedColumn } from "../../../data/types.ts";
import { type AndersonKSampResult, andersonKSamp2Sorted } from "./anderson.ts";
import { dropNaN, sortedCopy } from "../../primitives/binning.ts";
import { cdfDistancesSorted } from "./distances1d.ts";
import {
  alignCategories,
  binnedCounts,
  categoryCoverageCounts,
  csTestCounts,
  hellingerCounts,
  jensenShannonCounts,
  klDivergenceCounts,
  type RangeCoverage,
  rangeCoverage,
  tvComplementCounts,
} from "./divergences.ts";
import { ksComplementSorted, ksTwoSampleSorted } from "./ks.ts";

export { type AndersonKSampResult, andersonKSamp2Sorted } from "./anderson.ts";
export { cdfDistancesSorted, energyDistance, wasserstein1 } from "./distances1d.ts";
export * from "./divergences.ts";
export { kstwoCdf, kstwoSf, smirnov } from "../../primitives/kolmogorov.ts";
export {
  ksAsymptoticPvalue,
  ksComplementSorted,
  ksExactPvalue,
  ksStatisticSorted,
  ksTwoSample,
  ksTwoSampleSorted,
} from "./ks.ts";
export { chi2Sf, gammainc, gammaincc } from "../../primitives/special.ts";

export interface ShapeParams {
  /** Equal-width bins on the real values for the binned KL/JS/Hellinger (fixtures: 10). */
  bins: number;
  /** Pseudo-count ε added to every count for KL (fixtures: 1e-6). */
  klPseudoCount: number;
  /** Decimals both samples are rounded to before KSComplement (fixtures: 14). */
  ksRoundDecimals: number;
}

export const DEFAULT_SHAPE_PARAMS: ShapeParams = { bins: 10, klPseudoCount: 1e-6, ksRoundDecimals: 14 };

export interface JsTree {
  distance_base2: number;
  distance_e: number;
  divergence_base2: number;
}

export type AndersonTree =
  { statistic: number; pvalue: number; pvalue_clipped: boolean; A2akN: number } | { error: string };

export interface NumericalShapes {
  ks: { statistic: number; pvalue: number; pvalue_asymp: number; method_auto: "exact" | "asymp" };
  ks_complement: number;
  wasserstein: { raw: number; minmax_real: number };
  energy: { raw: number; minmax_real: number };
  anderson_ksamp: AndersonTree;
  kl_binned: number;
  js_binned: JsTree;
  hellinger_binned: number;
  /** null when the real column is constant (or a side is empty): the reference leaf is undefined there. */
  range_coverage: RangeCoverage | null;
  /** Debugging: numpy.histogram_bin_edges of the real values (outer edges used as ±∞). */
  _bin_edges_real: number[];
  _bin_counts_real: number[];
  _bin_counts_synthetic: number[];
}

export interface CategoricalShapes {
  tv_complement: number;
  cs_test: { pvalue: number; statistic: number };
  kl_categorical: number;
  js_categorical: JsTree;
  hellinger_categorical: number;
  category_coverage: number;
}

function jsTree(real: Float64Array, synthetic: Float64Array): JsTree {
  const js = jensenShannonCounts(real, synthetic);
  return { distance_base2: js.distanceBase2, distance_e: js.distanceE, divergence_base2: js.divergenceBase2 };
}

function andersonTree(r: AndersonKSampResult): AndersonTree {
  if ("error" in r) return { error: r.error };
  return { statistic: r.statistic, pvalue: r.pvalue, pvalue_clipped: r.pvalueClipped, A2akN: r.a2akN };
}

/**
 * All numerical column-shape metrics of docs/metrics.md §1 for one column. NaN in the inputs is missing and is dropped
 * from each sample separately (§0). An empty side gives NaN leaves.
 */
export function numericalShapes(
  real: Float64Array,
  synthetic: Float64Array,
  p: ShapeParams,
): NumericalShapes {
  const r = sortedCopy(dropNaN(real));
  const s = sortedCopy(dropNaN(synthetic));
  const n = r.length;
  const m = s.length;
  const empty = n === 0 || m === 0;

  const ks = ksTwoSampleSorted(r, s, "auto");
  const dist = cdfDistancesSorted(r, s);
  // Min-max by the real range (1 if constant, as sklearn MinMaxScaler): an affine map scales every pooled gap.
  const span = n > 0 ? r[n - 1] - r[0] : Number.NaN;
  const scale = span > 0 ? span : 1;

  let binned: ReturnType<typeof binnedCounts> | undefined;
  if (!empty) binned = binnedCounts(r, s, p.bins);
  const nanJs = { distance_base2: Number.NaN, distance_e: Number.NaN, divergence_base2: Number.NaN };

  return {
    ks: { statistic: ks.statistic, pvalue: ks.pvalue, pvalue_asymp: ks.pvalueAsymp, method_auto: ks.method },
    ks_complement: ksComplementSorted(r, s, p.ksRoundDecimals),
    wasserstein: { raw: dist.wasserstein, minmax_real: dist.wasserstein / scale },
    energy: { raw: dist.energy, minmax_real: dist.energy / Math.sqrt(scale) },
    anderson_ksamp: andersonTree(andersonKSamp2Sorted(r, s)),
    kl_binned: binned ? klDivergenceCounts(binned.real, binned.synthetic, p.klPseudoCount) : Number.NaN,
    js_binned: binned ? jsTree(binned.real, binned.synthetic) : nanJs,
    hellinger_binned: binned ? hellingerCounts(binned.real, binned.synthetic) : Number.NaN,
    range_coverage: empty ? null : rangeCoverage(r[0], r[n - 1], s[0], s[m - 1]),
    _bin_edges_real: binned ? Array.from(binned.edges) : [],
    _bin_counts_real: binned ? Array.from(binned.real) : [],
    _bin_counts_synthetic: binned ? Array.from(binned.synthetic) : [],
  };
}

/**
 * All categorical column-shape metrics of docs/metrics.md §1 for one column. The two columns have their own level
 * lists and are compared by string value; missing values (code −1) are dropped.
 */
export function categoricalShapes(
  real: CodedColumn,
  synthetic: CodedColumn,
  p: ShapeParams,
): CategoricalShapes {
  const al = alignCategories(real, synthetic);
  const cs = csTestCounts(al.real, al.synthetic);
  return {
    tv_complement: tvComplementCounts(al.real, al.synthetic),
    cs_test: { pvalue: cs.pvalue, statistic: cs.statistic },
    kl_categorical: klDivergenceCounts(al.real, al.synthetic, p.klPseudoCount),
    js_categorical: jsTree(al.real, al.synthetic),
    hellinger_categorical: hellingerCounts(al.real, al.synthetic),
    category_coverage: categoryCoverageCounts(al.real, al.synthetic),
  };
}
