/**
 * The full evaluation of a synthetic table against its real (training) table and an optional holdout: the tree
 * of the metric fixtures (`column_shapes`, `column_pairs`, `correlation_matrix`, `quality_report`, `row_level`,
 * `detection`, `tstr_logistic`, ...) plus a short `summary`. Pure composition of the stats kernels; no I/O.
 */
import { isNumeric } from "../../data/build.ts";
import { parseBoolean } from "../../data/cells.ts";
import type { Column, Table } from "../../data/types.ts";
import { type CorrelationMatrices, correlationMatrices } from "./pairs/correlation.ts";
import { type Detection, detectionMetrics, duplicateAwareFolds } from "./table/detection.ts";
import { type ForestDetection, forestDetection } from "./table/forest-detection.ts";
import { type FigureVerdict, summaryVerdicts } from "./verdicts.ts";
import { columnPairs, type PairResult } from "./pairs/pairs.ts";
import { type QualityReport, qualityReport } from "./table/quality.ts";
import { type RowLevel, rowLevelMetrics } from "./rows/rowlevel.ts";
import {
  type CategoricalShapes,
  categoricalShapes,
  type NumericalShapes,
  numericalShapes,
} from "./column/shapes.ts";
import { tstrLogistic, tstrRandomForest, type Utility } from "./table/utility.ts";
import { type CappedColumn, capLevels, MAX_LEVELS } from "./top-levels.ts";
import { type AlphaBetaResult, alphaBetaTables } from "./rows/alpha-beta.ts";
import { type SynllmSuite, synllmSuite } from "./synllm/index.ts";
import { MLE_REGRESSORS, type RegressionUtility, regressionUtility } from "./table/regression-utility.ts";
import {
  type ClassifierName,
  MLE_CLASSIFIERS,
  type MleBestOf,
  mleBestOf,
} from "./table/utility-protocols.ts";
import {
  detectionSampling,
  FOREST_DETECTION_SAMPLE,
  MODEL_SAMPLE,
  modelSample,
  needsSampling,
  ROW_LEVEL_SAMPLE,
  rowLevelSampling,
  SAMPLING_STREAMS,
  SCALE_THRESHOLD,
  type SamplingReport,
  type ScaleParams,
  utilitySampling,
} from "./sampling.ts";

export interface EvaluateParams {
  /** Equal-width bins for KL/JS/Hellinger and contingency tables (docs/metrics.md §1.5). */
  bins: number;
  kl_pseudo_count: number;
  ks_round_decimals: number;
  alpha_beta_steps: number;
  /** Test indices into [real rows; synthetic rows]; when absent, 3 stratified folds seeded by `seed`. */
  detection_folds?: number[][];
  target?: string;
  positive_label?: string;
  /** Seed of every random choice (folds, subsampling, random forest). */
  seed: number;
  /** Skip the (slowest) random-forest utility metric. */
  skip_random_forest?: boolean;
  /** Depth limit of the decision tree in `utility_protocols` (docs/metrics-protocol.md). Default 5 (SynLLM). */
  tree_depth?: number;
  /** Above this many rows in any table, row-level and model-based metrics are sampled (./sampling.ts). */
  scale_threshold: number;
  /** Rows per table for row-level metrics above the threshold. */
  row_level_sample: number;
  /** Rows per table for detection and TSTR/TRTR above the threshold. */
  model_sample: number;
  /** Add the SynLLM paper's scores under `synllm` (`evaluate --suite synllm`; stats/metrics/synllm/). */
  synllm_suite?: boolean;
  /**
   * Levels a categorical column keeps in every metric but column shapes: above it, its most frequent real
   * levels plus "other" (./top-levels.ts).
   */
  max_levels: number;
}

export const DEFAULT_EVALUATE_PARAMS: EvaluateParams = {
  bins: 10,
  kl_pseudo_count: 1e-6,
  ks_round_decimals: 14,
  alpha_beta_steps: 30,
  seed: 0,
  scale_threshold: SCALE_THRESHOLD,
  row_level_sample: ROW_LEVEL_SAMPLE,
  model_sample: MODEL_SAMPLE,
  max_levels: MAX_LEVELS,
};

export interface EvaluateSummary {
  rows: { real: number; synthetic: number; holdout: number | null };
  columns: number;
  quality_overall: number;
  column_shapes: number;
  column_pair_trends: number;
  logistic_detection: number | null;
  /** Random-forest detection (1 = the forest cannot tell them apart). */
  forest_detection: number | null;
  /** The worse of logistic_detection and forest_detection: what the detection verdict reads. */
  detection: number | null;
  c2st_gap: number | null;
  forest_c2st_gap: number | null;
  dcr_minmax_median: number | null;
  exact_copies: number | null;
  dcr_share: number | null;
  tstr_accuracy: number | null;
  trtr_accuracy: number | null;
  worst_columns: Array<{ column: string; score: number }>;
  /** Each headline figure with its range, direction, thresholds and a plain-words verdict (./verdicts.ts). */
  verdicts: FigureVerdict[];
  notes: string[];
}

export interface EvaluateResult {
  column_shapes: Record<string, NumericalShapes | CategoricalShapes>;
  column_pairs: Record<string, PairResult>;
  correlation_matrix: CorrelationMatrices;
  quality_report: QualityReport;
  row_level: RowLevel;
  detection: Detection | { error: string };
  /** Detection by a seeded random forest (./table/forest-detection.ts): sees dependence between columns. */
  detection_forest: ForestDetection | { error: string };
  /** Our converged optimum; the fixtures' loose sklearn-default check is met by it (see README, metrics §3.6). */
  detection_sklearn_default_lbfgs?: Detection | { error: string };
  tstr_logistic?: Utility;
  tstr_logistic_sklearn_default_lbfgs?: Utility;
  tstr_random_forest?: Utility & { _informational: string };
  /**
   * Classification target (docs/metrics-protocol.md): TSTR, TRTR and TRTS of each classifier (logistic, random
   * forest unless skipped, depth-limited tree) and MALLM-GAN's best-of-classifiers MLE (F1 of the positive class).
   */
  utility_protocols?: MleBestOf & { positive_label: string; tree_depth: number };
  /** Numerical target (more than two distinct values): OLS and random-forest regression, R² and RMSE. */
  regression_utility?: RegressionUtility & { regressors: readonly string[] };
  /** α-precision / β-recall / authenticity for any table sizes (stats/metrics/rows/alpha-beta.ts). */
  alpha_beta?: AlphaBetaResult | { error: string };
  /** Present only when a table is above `scale_threshold`: sample sizes and 95% intervals (./sampling.ts). */
  sampling?: SamplingReport;
  /** The SynLLM paper's scores (`synllm_suite`): quality, privacy, harmonic, NNDR, TSTR/TRTS, clinical. */
  synllm?: SynllmSuite | { error: string };
  /** Present only when a categorical column has more than `max_levels` levels: which, and what "other" holds. */
  high_cardinality?: { max_levels: number; columns: CappedColumn[] };
  summary: EvaluateSummary;
}

/** Columns that enter statistics: everything but id columns, in the real table's order. */
export function statColumns(real: Table): string[] {
  return real.columns.filter((c) => c.kind !== "id").map((c) => c.name);
}

/** The same columns, in the same order, from another table; throws naming the missing column. */
export function alignTable(t: Table, names: readonly string[], label: string): Table {
  const byName = new Map(t.columns.map((c) => [c.name, c] as const));
  const columns: Column[] = names.map((n) => {
    const c = byName.get(n);
    if (!c)
      throw new Error(`the ${label} table has no column "${n}" (it has: ${[...byName.keys()].join(", ")})`);
    return c;
  });
  return { nRows: t.nRows, columns };
}

function shapeScore(s: NumericalShapes | CategoricalShapes): number {
  return "ks_complement" in s ? s.ks_complement : s.tv_complement;
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : "n/a");

function finiteOrNull(x: number | undefined): number | null {
  return x === undefined || !Number.isFinite(x) ? null : x;
}

/** Evaluates `synthetic` against `real` (and `holdout` when given). */
export function evaluateTables(
  realIn: Table,
  syntheticIn: Table,
  holdoutIn: Table | undefined,
  paramsIn: Partial<EvaluateParams> = {},
): EvaluateResult {
  const p: EvaluateParams = { ...DEFAULT_EVALUATE_PARAMS, ...paramsIn };
  const notes: string[] = [];
  const names = statColumns(realIn);
  const fullReal = alignTable(realIn, names, "real");
  const fullSynthetic = alignTable(syntheticIn, names, "synthetic");
  const fullHoldout = holdoutIn ? alignTable(holdoutIn, names, "holdout") : undefined;
  // Column shapes see every level; every other metric sees a very high-cardinality column as its top levels
  // plus "other" (./top-levels.ts), so time and memory stay bounded.
  const cap = capLevels(fullReal, fullHoldout ? [fullSynthetic, fullHoldout] : [fullSynthetic], p.max_levels);
  const real = cap.real;
  const synthetic = cap.others[0];
  const holdout = fullHoldout ? cap.others[1] : undefined;
  for (const c of cap.capped) {
    notes.push(
      `column "${c.column}" has ${c.levels} levels: pair trends, correlations, detection, utility and row-level metrics use its ${c.kept} most frequent real levels plus "${c.other}" (${pct(c.other_share_real)} of real and ${pct(c.other_share_synthetic)} of synthetic rows); column shapes use every level`,
    );
  }
  const skipped = realIn.columns.filter((c) => c.kind === "id").map((c) => c.name);
  if (skipped.length > 0) notes.push(`id columns excluded from statistics: ${skipped.join(", ")}`);

  const shapeParams = {
    bins: p.bins,
    klPseudoCount: p.kl_pseudo_count,
    ksRoundDecimals: p.ks_round_decimals,
  };
  const column_shapes: Record<string, NumericalShapes | CategoricalShapes> = {};
  fullReal.columns.forEach((rc, j) => {
    const sc = fullSynthetic.columns[j];
    if (isNumeric(rc) && isNumeric(sc))
      column_shapes[rc.name] = numericalShapes(rc.values, sc.values, shapeParams);
    else if (!isNumeric(rc) && !isNumeric(sc))
      column_shapes[rc.name] = categoricalShapes(rc, sc, shapeParams);
    else throw new Error(`column "${rc.name}" is ${rc.kind} in real but ${sc.kind} in synthetic`);
  });

  const column_pairs = columnPairs(real, synthetic, { bins: p.bins });
  const correlation_matrix = correlationMatrices(real, synthetic);
  const quality_report = qualityReport(
    Object.values(column_shapes).map(shapeScore),
    Object.values(column_pairs).map((x) => x.report_score),
  );
  const scale: ScaleParams = {
    threshold: p.scale_threshold,
    rowLevelSample: p.row_level_sample,
    modelSample: p.model_sample,
    seed: p.seed,
  };
  const sampled = needsSampling(scale, real, synthetic, holdout);
  const row_level = rowLevelMetrics(real, synthetic, holdout, {
    alphaBetaSteps: p.alpha_beta_steps,
    seed: p.seed,
    ...(sampled ? { maxRows: p.row_level_sample } : {}),
  });
  const sampling: SamplingReport | undefined = sampled
    ? {
        threshold: p.scale_threshold,
        row_level_sample: p.row_level_sample,
        model_sample: p.model_sample,
        seed: p.seed,
        row_level: rowLevelSampling(
          row_level,
          real.nRows,
          synthetic.nRows,
          holdout?.nRows,
          p.row_level_sample,
        ),
      }
    : undefined;

  let detection: Detection | { error: string };
  try {
    // User folds index the full tables: they are never sampled.
    const sampleDetection = sampled && p.detection_folds === undefined;
    const dReal = sampleDetection
      ? modelSample(real, scale, SAMPLING_STREAMS.detectionReal, "real (detection)", notes)
      : real;
    const dSynthetic = sampleDetection
      ? modelSample(synthetic, scale, SAMPLING_STREAMS.detectionSynthetic, "synthetic (detection)", notes)
      : synthetic;
    // A row and its exact copy in the other table share a test fold (./table/detection.ts duplicateAwareFolds).
    const folds = p.detection_folds ?? duplicateAwareFolds(dReal, dSynthetic, 3, p.seed);
    detection = detectionMetrics(dReal, dSynthetic, folds);
    if (sampling && sampleDetection)
      sampling.detection = detectionSampling(detection, dReal.nRows, dSynthetic.nRows);
  } catch (err) {
    detection = { error: err instanceof Error ? err.message : String(err) };
  }

  let detection_forest: ForestDetection | { error: string };
  try {
    // Trees on at most FOREST_DETECTION_SAMPLE seeded rows per table: a few seconds whatever the table size.
    const forestScale: ScaleParams = { ...scale, modelSample: FOREST_DETECTION_SAMPLE };
    const fReal = modelSample(
      real,
      forestScale,
      SAMPLING_STREAMS.forestReal,
      "real (forest detection)",
      notes,
    );
    const fSynthetic = modelSample(
      synthetic,
      forestScale,
      SAMPLING_STREAMS.forestSynthetic,
      "synthetic (forest detection)",
      notes,
    );
    detection_forest = forestDetection(fReal, fSynthetic, duplicateAwareFolds(fReal, fSynthetic, 3, p.seed), {
      seed: p.seed,
    });
  } catch (err) {
    detection_forest = { error: err instanceof Error ? err.message : String(err) };
  }

  const result: EvaluateResult = {
    column_shapes,
    column_pairs,
    correlation_matrix,
    quality_report,
    row_level,
    detection,
    // We do not emulate lbfgs' early stop; the converged optimum is reported under the loose key as well.
    detection_sklearn_default_lbfgs: detection,
    detection_forest,
    summary: undefined as unknown as EvaluateSummary,
  };
  if (cap.capped.length > 0) result.high_cardinality = { max_levels: p.max_levels, columns: cap.capped };

  const target = p.target;
  // Above the scale threshold every model-based metric (utility, the protocols' utility) sees the same sample.
  const uReal =
    sampled && target && holdout
      ? modelSample(real, scale, SAMPLING_STREAMS.utilityReal, "real (utility)", notes)
      : real;
  const uSynthetic =
    sampled && target && holdout
      ? modelSample(synthetic, scale, SAMPLING_STREAMS.utilitySynthetic, "synthetic (utility)", notes)
      : synthetic;
  const uHoldout =
    sampled && target && holdout
      ? modelSample(holdout, scale, SAMPLING_STREAMS.utilityHoldout, "holdout (utility)", notes)
      : holdout;
  if (target && uHoldout) {
    const positive = targetLabel(real, target, p.positive_label ?? defaultPositiveLabel(real, target));
    result.tstr_logistic = tstrLogistic(uReal, uSynthetic, uHoldout, target, positive);
    result.tstr_logistic_sklearn_default_lbfgs = result.tstr_logistic;
    if (sampling)
      sampling.utility = utilitySampling(result.tstr_logistic, uReal.nRows, uSynthetic.nRows, uHoldout.nRows);
    if (!p.skip_random_forest) {
      result.tstr_random_forest = {
        ...tstrRandomForest(uReal, uSynthetic, uHoldout, target, positive, p.seed),
        _informational:
          "stats/classifiers/forest.ts (100 trees, seeded, sklearn defaults); sklearn's RNG cannot be reproduced",
      };
    }
  }
  if (target && uHoldout) addProtocolUtility(result, uReal, uSynthetic, uHoldout, target, p);
  try {
    // α/β cost O(n_real · n_synthetic): above the threshold they run on row-level-sized samples.
    const rowSized: ScaleParams = { ...scale, modelSample: p.row_level_sample };
    const abReal = sampled
      ? modelSample(real, rowSized, SAMPLING_STREAMS.alphaBetaReal, "real (alpha/beta)", notes)
      : real;
    const abSynthetic = sampled
      ? modelSample(synthetic, rowSized, SAMPLING_STREAMS.alphaBetaSynthetic, "synthetic (alpha/beta)", notes)
      : synthetic;
    result.alpha_beta = alphaBetaTables(abReal, abSynthetic, p.alpha_beta_steps);
  } catch (err) {
    result.alpha_beta = { error: err instanceof Error ? err.message : String(err) };
  }
  if (p.synllm_suite) result.synllm = synllmScores(real, synthetic, holdout, p, sampled, notes);
  if (!holdout)
    notes.push("DCR share and utility (TSTR/TRTR) need a holdout table: skipped (pass --holdout)");
  else if (!target) notes.push("utility (TSTR/TRTR) needs a target column: skipped (pass --target)");

  if (sampling) {
    result.sampling = sampling;
    notes.push(
      `more than ${p.scale_threshold} rows: row-level metrics on ≤ ${p.row_level_sample} and model-based metrics on ≤ ${p.model_sample} seeded rows per table; sample sizes and 95% intervals under "sampling"`,
    );
  }
  result.summary = summarise(result, real, synthetic, holdout, notes);
  return result;
}

/**
 * The SynLLM suite (stats/metrics/synllm/index.ts) on the aligned tables. Its neighbour searches are O(n·m) and it
 * fits 2–3 × 51 models: above the scale threshold every table is a seeded sample of `row_level_sample` rows.
 */
function synllmScores(
  real: Table,
  synthetic: Table,
  holdout: Table | undefined,
  p: EvaluateParams,
  sampled: boolean,
  notes: string[],
): SynllmSuite | { error: string } {
  const rowSized: ScaleParams = {
    threshold: p.scale_threshold,
    rowLevelSample: p.row_level_sample,
    modelSample: p.row_level_sample,
    seed: p.seed,
  };
  const sample = (t: Table, stream: number, label: string): Table =>
    sampled ? modelSample(t, rowSized, stream, `${label} (SynLLM scores)`, notes) : t;
  try {
    const suite = synllmSuite(
      sample(real, SAMPLING_STREAMS.synllmReal, "real"),
      sample(synthetic, SAMPLING_STREAMS.synllmSynthetic, "synthetic"),
      {
        ...(p.target === undefined ? {} : { target: p.target }),
        seed: p.seed,
        ...(holdout === undefined
          ? {}
          : { holdout: sample(holdout, SAMPLING_STREAMS.synllmHoldout, "holdout") }),
      },
    );
    if (p.target === undefined) notes.push("SynLLM utility (TSTR/TRTS) needs a target column: skipped");
    else if (suite.utility === null)
      notes.push(`SynLLM utility (TSTR/TRTS) needs a binary target; "${p.target}" is not: skipped`);
    if (suite.clinical_consistency.score === null)
      notes.push(
        "SynLLM clinical consistency: no relation of the paper has its columns here (docs/synllm.md)",
      );
    return suite;
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** More than two distinct values: a numerical target is a regression task; 0/1 (or two values) a binary one. */
export function isRegressionTarget(real: Table, target: string): boolean {
  const col = real.columns.find((c) => c.name === target);
  if (!col || !isNumeric(col)) return false;
  const seen = new Set<number>();
  for (let i = 0; i < col.values.length && seen.size <= 2; i++)
    if (!Number.isNaN(col.values[i])) seen.add(col.values[i]);
  return seen.size > 2;
}

/** The protocol keys (utility_protocols or regression_utility); additive to the tstr_* keys above. */
function addProtocolUtility(
  result: EvaluateResult,
  real: Table,
  synthetic: Table,
  holdout: Table,
  target: string,
  p: EvaluateParams,
): void {
  if (isRegressionTarget(real, target)) {
    const regressors = p.skip_random_forest
      ? MLE_REGRESSORS.filter((m) => m !== "random_forest")
      : MLE_REGRESSORS;
    result.regression_utility = {
      ...regressionUtility(real, synthetic, holdout, target, { seed: p.seed, regressors }),
      regressors,
    };
    return;
  }
  const positive = targetLabel(real, target, p.positive_label ?? defaultPositiveLabel(real, target));
  const classifiers: readonly ClassifierName[] = p.skip_random_forest
    ? MLE_CLASSIFIERS.filter((c) => c !== "random_forest")
    : MLE_CLASSIFIERS;
  const treeDepth = p.tree_depth ?? 5;
  result.utility_protocols = {
    ...mleBestOf(real, synthetic, holdout, target, positive, { seed: p.seed, treeDepth, classifiers }),
    positive_label: positive,
    tree_depth: treeDepth,
  };
}

/**
 * A boolean target is coded "false"/"true" whatever the file spelled ("yes"/"no", "Y"/"N", ...): the positive
 * label the user names in the file's spelling is mapped onto that coding.
 */
function targetLabel(real: Table, target: string, label: string): string {
  const col = real.columns.find((c) => c.name === target);
  if (col?.kind !== "boolean") return label;
  const b = parseBoolean(label, true);
  return b === undefined ? label : String(b);
}

const POSITIVE_NAMES = ["yes", "true", "1", "positive", "pos", "y"];

/**
 * The positive class when none is given: a level named like "yes"/"true"/"1", else the less frequent level (the
 * usual "event" class). Accuracy, macro-F1 and ROC AUC of a binary task do not depend on this choice.
 */
function defaultPositiveLabel(real: Table, target: string): string {
  const col = real.columns.find((c) => c.name === target);
  if (!col) throw new Error(`target column "${target}" is not in the real table`);
  if (isNumeric(col)) return "1";
  const named = col.levels.find((l) => POSITIVE_NAMES.includes(l.trim().toLowerCase()));
  if (named !== undefined) return named;
  const counts = new Float64Array(col.levels.length);
  for (let i = 0; i < col.codes.length; i++) if (col.codes[i] >= 0) counts[col.codes[i]]++;
  let best = 0;
  for (let k = 1; k < counts.length; k++)
    if (counts[k] > 0 && (counts[k] < counts[best] || counts[best] === 0)) best = k;
  return col.levels[best];
}

function summarise(
  r: EvaluateResult,
  real: Table,
  synthetic: Table,
  holdout: Table | undefined,
  notes: string[],
): EvaluateSummary {
  const det = "error" in r.detection ? undefined : r.detection;
  const forest = "error" in r.detection_forest ? undefined : r.detection_forest;
  const dcr = r.row_level.dcr.minmax_real;
  const worst = Object.entries(r.column_shapes)
    .map(([column, s]) => ({ column, score: shapeScore(s) }))
    .filter((x) => Number.isFinite(x.score))
    .sort((a, b) => a.score - b.score)
    .slice(0, 3);
  const share = r.row_level.dcr_share_tabsyn;
  const logistic = finiteOrNull(det?.logistic_detection);
  const forestScore = finiteOrNull(forest?.forest_detection);
  const figures = {
    rows: { real: real.nRows, synthetic: synthetic.nRows, holdout: holdout ? holdout.nRows : null },
    columns: real.columns.length,
    quality_overall: r.quality_report.overall,
    column_shapes: r.quality_report.column_shapes,
    column_pair_trends: r.quality_report.column_pair_trends,
    logistic_detection: logistic,
    forest_detection: forestScore,
    detection:
      logistic === null ? forestScore : forestScore === null ? logistic : Math.min(logistic, forestScore),
    c2st_gap: finiteOrNull(det?.c2st_gap),
    forest_c2st_gap: finiteOrNull(forest?.c2st_gap),
    dcr_minmax_median: finiteOrNull(dcr.median),
    exact_copies: Math.round(dcr.frac_zero * synthetic.nRows),
    dcr_share: share ? finiteOrNull(share.share) : null,
    tstr_accuracy: finiteOrNull(r.tstr_logistic?.tstr.accuracy),
    trtr_accuracy: finiteOrNull(r.tstr_logistic?.trtr.accuracy),
    worst_columns: worst,
  };
  return { ...figures, verdicts: summaryVerdicts(figures), notes: [...notes, ...(r.row_level._notes ?? [])] };
}

/** JSON with NaN/±Infinity as null and typed arrays as plain arrays (the fixtures' convention). */
export function toJson(value: unknown, space = 2): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === "number" && !Number.isFinite(v)) return null;
      if (ArrayBuffer.isView(v) && !(v instanceof DataView))
        return Array.from(v as unknown as ArrayLike<number>);
      return v;
    },
    space,
  );
}
