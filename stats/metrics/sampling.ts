/**
 * Evaluation at scale: which metrics of evaluateTables run on seeded subsamples, and the 95% confidence
 * intervals reported for them.
 *
 * Column shapes, pair trends and correlation matrices always use every row (columnar passes, O(n log n) at
 * most). When any input table has more than `scale_threshold` rows (default SCALE_THRESHOLD):
 * - row-level metrics (neighbour searches, O(n·m)) use at most `row_level_sample` rows per table (default
 *   ROW_LEVEL_SAMPLE; rowLevelMetrics draws them, see its `_notes`);
 * - detection and TSTR/TRTR fit models on at most `model_sample` rows per table (default MODEL_SAMPLE).
 * Each sample is drawn without replacement and kept in row order: subsampleRows with createRng(seed).fork(s),
 * s from SAMPLING_STREAMS (rowLevelMetrics uses streams 0–4 of the same seed). At or below the threshold
 * nothing new is sampled and results are those of the unsampled evaluation exactly. Detection with
 * user-given folds (which index the full tables) is never sampled.
 * The intervals (stats/primitives/confidence.ts) describe sampling variability only, treating the sample as
 * drawn from an infinite population: proportions by Wilson, means by the normal approximation, medians by
 * order statistics, the mean fold AUC by Hanley–McNeil on the pooled sample sizes.
 */
import type { Table } from "../../data/types.ts";
import {
  aucInterval,
  type Interval,
  meanInterval,
  medianInterval,
  wilsonInterval,
} from "../primitives/confidence.ts";
import { createRng } from "../primitives/rng.ts";
import type { RowLevel } from "./rows/rowlevel.ts";
import { subsampleRows } from "./rows/rowlevel.ts";
import type { Detection } from "./table/detection.ts";
import type { Utility } from "./table/utility.ts";

export const SCALE_THRESHOLD = 50_000;
export const ROW_LEVEL_SAMPLE = 10_000;
export const MODEL_SAMPLE = 20_000;
/** Rows per table the random-forest detection fits on, whatever the threshold (./table/forest-detection.ts). */
export const FOREST_DETECTION_SAMPLE = 5_000;

/** RNG streams of createRng(seed) for the model samples. */
export const SAMPLING_STREAMS = {
  detectionReal: 100,
  detectionSynthetic: 101,
  utilityReal: 102,
  utilitySynthetic: 103,
  utilityHoldout: 104,
  alphaBetaReal: 105,
  alphaBetaSynthetic: 106,
  synllmReal: 107,
  synllmSynthetic: 108,
  synllmHoldout: 109,
  forestReal: 110,
  forestSynthetic: 111,
} as const;

export interface ScaleParams {
  threshold: number;
  rowLevelSample: number;
  modelSample: number;
  seed: number;
}

/** Whether any table is above the threshold (then the samples below apply). */
export function needsSampling(p: ScaleParams, ...tables: Array<Table | undefined>): boolean {
  return tables.some((t) => t !== undefined && t.nRows > p.threshold);
}

/** The table, or its seeded sample of `modelSample` rows in row order (a note says so). */
export function modelSample(t: Table, p: ScaleParams, stream: number, label: string, notes: string[]): Table {
  return subsampleRows(t, p.modelSample, createRng(p.seed).fork(stream), label, notes);
}

/** `sampling.row_level` of the result: sample sizes and 95% intervals of the sampled row-level metrics. */
export interface RowLevelSampling {
  sample_real: number;
  sample_synthetic: number;
  sample_holdout: number | null;
  ci95: {
    dcr_raw_median: Interval;
    dcr_minmax_median: Interval;
    dcr_minmax_mean: Interval;
    exact_copy_rate: Interval;
    exact_match_rate: Interval;
    nndr_classic_mean: Interval;
    dcr_share?: Interval;
  };
}

export interface DetectionSampling {
  sample_real: number;
  sample_synthetic: number;
  ci95: { auc_mean: Interval; logistic_detection: Interval; accuracy_pooled: Interval; c2st_gap: Interval };
}

export interface UtilitySampling {
  sample_real: number;
  sample_synthetic: number;
  sample_holdout: number;
  ci95: { tstr_accuracy: Interval; trtr_accuracy: Interval };
}

/** The `sampling` key of an evaluation that sampled; absent at or below the threshold. */
export interface SamplingReport {
  threshold: number;
  row_level_sample: number;
  model_sample: number;
  seed: number;
  row_level: RowLevelSampling;
  detection?: DetectionSampling;
  utility?: UtilitySampling;
}

/** Rows drawn by rowLevelMetrics per table (its rule: all rows up to the cap). */
export function rowLevelSampling(
  r: RowLevel,
  nReal: number,
  nSynthetic: number,
  nHoldout: number | undefined,
  cap: number,
): RowLevelSampling {
  const nS = Math.min(nSynthetic, cap);
  const share = r.dcr_share_tabsyn;
  return {
    sample_real: Math.min(nReal, cap),
    sample_synthetic: nS,
    sample_holdout: nHoldout === undefined ? null : Math.min(nHoldout, cap),
    ci95: {
      dcr_raw_median: medianInterval(r.dcr.raw.per_row),
      dcr_minmax_median: medianInterval(r.dcr.minmax_real.per_row),
      dcr_minmax_mean: meanInterval(r.dcr.minmax_real.per_row),
      exact_copy_rate: wilsonInterval(Math.round(r.dcr.minmax_real.frac_zero * nS), nS),
      exact_match_rate: wilsonInterval(Math.round(r.identifiability.exact_match_rate * nS), nS),
      nndr_classic_mean: meanInterval(r.nndr.classic_per_row),
      ...(share === undefined ? {} : { dcr_share: wilsonInterval(Math.round(share.share * nS), nS) }),
    },
  };
}

/** Intervals of the detection scores from the sample sizes (each sampled row is tested once). */
export function detectionSampling(d: Detection, nReal: number, nSynthetic: number): DetectionSampling {
  const n = nReal + nSynthetic;
  const auc = d.auc_per_fold.reduce((s, a) => s + a, 0) / d.auc_per_fold.length;
  const [aLo, aHi] = aucInterval(auc, nReal, nSynthetic);
  // logistic_detection = 1 − (max(0.5, A)·2 − 1) decreases in A: the interval's ends swap.
  const ld = (a: number): number => 1 - (Math.max(0.5, a) * 2 - 1);
  const acc = wilsonInterval(Math.round(d.accuracy_pooled * n), n);
  return {
    sample_real: nReal,
    sample_synthetic: nSynthetic,
    ci95: {
      auc_mean: [aLo, aHi],
      logistic_detection: [ld(aHi), ld(aLo)],
      accuracy_pooled: acc,
      c2st_gap: gapInterval(acc),
    },
  };
}

/** |p − 0.5| over an interval of p. */
function gapInterval([lo, hi]: Interval): Interval {
  const a = Math.abs(lo - 0.5);
  const b = Math.abs(hi - 0.5);
  return lo <= 0.5 && hi >= 0.5 ? [0, Math.max(a, b)] : [Math.min(a, b), Math.max(a, b)];
}

/** Wilson intervals of the TSTR/TRTR accuracies over the holdout sample. */
export function utilitySampling(
  u: Utility,
  nReal: number,
  nSynthetic: number,
  nHoldout: number,
): UtilitySampling {
  return {
    sample_real: nReal,
    sample_synthetic: nSynthetic,
    sample_holdout: nHoldout,
    ci95: {
      tstr_accuracy: wilsonInterval(Math.round(u.tstr.accuracy * nHoldout), nHoldout),
      trtr_accuracy: wilsonInterval(Math.round(u.trtr.accuracy * nHoldout), nHoldout),
    },
  };
}
