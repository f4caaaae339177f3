/**
 * Real-vs-synthetic detection: SDMetrics LogisticDetection (docs/metrics.md §3.6) and the LLMSynthor C2ST accuracy
 * gap (§3.7), sharing one pipeline: ENC-SDM fitted on real → per fold RobustScaler → converged L2 logistic.
 */
import type { Table } from "../../../data/types.ts";
import { accuracy, rocAuc, stratifiedKFold } from "../../classifiers/classify.ts";
import { fitSdmEncoder, transformSdm } from "../../classifiers/encode-sdm.ts";
import { decisionFunction, fitLogistic } from "../../classifiers/logistic.ts";
import { type Dense, takeRows } from "../../primitives/matrix.ts";
import { applyScaling, fitRobustScaler } from "../../classifiers/scale.ts";

export interface Detection {
  /** Per-fold ROC AUC of P(real) on the test fold. */
  readonly auc_per_fold: number[];
  /** 1 − mean over folds of (max(0.5, AUC)·2 − 1); 1 = indistinguishable. */
  readonly logistic_detection: number;
  /** Per-fold accuracy of "real iff w·x + b > 0". */
  readonly accuracy_per_fold: number[];
  /** Out-of-fold accuracy over all rows (each row predicted once). */
  readonly accuracy_pooled: number;
  /** |accuracy_pooled − 0.5|. */
  readonly c2st_gap: number;
  /** Mean over folds of |accuracy_f − 0.5|. */
  readonly c2st_gap_mean_of_folds: number;
}

/**
 * Seeded folds for detectionMetrics: stratified by origin (real = class 1, synthetic = class 0) over the stacked
 * index space [0, nReal) real, [nReal, nReal + nSynthetic) synthetic. See stratifiedKFold for the deal.
 */
export function stratifiedFolds(nReal: number, nSynthetic: number, k: number, seed: number): number[][] {
  return stratifiedKFold(originLabels(nReal, nSynthetic), k, seed);
}

/**
 * stratifiedFolds, with the rows of every value that both tables hold (a synthetic row equal in every column to
 * a real row, and the real rows equal to it) moved into the fold of its first real row. A row in a test fold
 * whose twin of the other class is in the training folds is
 * predicted as the twin's class, below chance: on a table compared with itself the C2ST gap of plain stratified
 * folds is 0.07–0.13, not 0 (issue 11). With the twins in one test fold each pair gets one score, so a table
 * compared with itself scores exactly chance. Tables without such twins get stratifiedFolds unchanged.
 * Both tables must have the same columns in the same order (alignTable).
 */
export function duplicateAwareFolds(real: Table, synthetic: Table, k: number, seed: number): number[][] {
  const folds = stratifiedFolds(real.nRows, synthetic.nRows, k, seed);
  const owner = new Int32Array(real.nRows + synthetic.nRows);
  folds.forEach((f, j) => {
    for (const i of f) owner[i] = j;
  });
  const firstReal = new Map<string, number>();
  const realKeys = rowKeys(real);
  for (let i = 0; i < real.nRows; i++) if (!firstReal.has(realKeys[i])) firstReal.set(realKeys[i], i);
  const synthKeys = rowKeys(synthetic);
  const shared = new Set(synthKeys.filter((key) => firstReal.has(key)));
  let moved = false;
  const move = (i: number, key: string): void => {
    const fold = owner[firstReal.get(key) as number];
    if (owner[i] !== fold) {
      owner[i] = fold;
      moved = true;
    }
  };
  for (let i = 0; i < real.nRows; i++) if (shared.has(realKeys[i])) move(i, realKeys[i]);
  for (let s = 0; s < synthetic.nRows; s++) if (shared.has(synthKeys[s])) move(real.nRows + s, synthKeys[s]);
  if (!moved) return folds;
  const out: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < owner.length; i++) out[owner[i]].push(i);
  // Tiny tables: a fold emptied by the moves would not fit; the plain folds are kept then.
  return out.some((f) => f.length === 0) ? folds : out;
}

/** Each row's values as one string (level texts, numbers; missing as null), comparable across tables. */
function rowKeys(t: Table): string[] {
  const keys = new Array<string>(t.nRows);
  for (let i = 0; i < t.nRows; i++) {
    keys[i] = JSON.stringify(
      t.columns.map((c) => {
        if ("values" in c) return Number.isNaN(c.values[i]) ? null : c.values[i];
        return c.codes[i] < 0 ? null : c.levels[c.codes[i]];
      }),
    );
  }
  return keys;
}

/**
 * LogisticDetection and C2ST gap over the given folds (test indices into [real rows; synthetic rows], which
 * must partition them). Synthetic must have every real column (matched by name; extra columns are ignored).
 */
export function detectionMetrics(real: Table, synthetic: Table, folds: number[][]): Detection {
  const n = real.nRows + synthetic.nRows;
  const testMask = checkFolds(folds, n);
  const enc = fitSdmEncoder(real);
  const X = stack(transformSdm(enc, real), transformSdm(enc, synthetic));
  const y = originLabels(real.nRows, synthetic.nRows);

  const aucs: number[] = [];
  const accs: number[] = [];
  let hits = 0;
  for (let f = 0; f < folds.length; f++) {
    const test = folds[f];
    const train: number[] = [];
    for (let i = 0; i < n; i++) if (testMask[i] !== f) train.push(i);
    const Xtrain = takeRows(X, train);
    const scaler = fitRobustScaler(Xtrain);
    const model = fitLogistic(applyScaling(Xtrain, scaler), pick(y, train));
    const z = decisionFunction(model, applyScaling(takeRows(X, test), scaler));
    const yTest = pick(y, test);
    const pred = new Uint8Array(z.length);
    const prob = new Float64Array(z.length);
    for (let i = 0; i < z.length; i++) {
      pred[i] = z[i] > 0 ? 1 : 0;
      prob[i] = 1 / (1 + Math.exp(-z[i])); // AUC on expit(z), as sklearn predict_proba, so saturation ties match
    }
    aucs.push(rocAuc(prob, yTest));
    accs.push(accuracy(pred, yTest));
    for (let i = 0; i < pred.length; i++) if (pred[i] === yTest[i]) hits++;
  }
  const mean = (xs: number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;
  const pooled = hits / n;
  return {
    auc_per_fold: aucs,
    logistic_detection: 1 - mean(aucs.map((a) => Math.max(0.5, a) * 2 - 1)),
    accuracy_per_fold: accs,
    accuracy_pooled: pooled,
    c2st_gap: Math.abs(pooled - 0.5),
    c2st_gap_mean_of_folds: mean(accs.map((a) => Math.abs(a - 0.5))),
  };
}

/** 1 for the first nReal rows, 0 for the next nSynthetic. */
function originLabels(nReal: number, nSynthetic: number): Uint8Array {
  const y = new Uint8Array(nReal + nSynthetic);
  y.fill(1, 0, nReal);
  return y;
}

/** For each row, the fold whose test set holds it; throws unless the folds partition 0..n−1. */
function checkFolds(folds: number[][], n: number): Int32Array {
  if (folds.length < 2) throw new Error(`detection needs at least 2 folds, got ${folds.length}`);
  const owner = new Int32Array(n).fill(-1);
  folds.forEach((fold, f) => {
    if (fold.length === 0) throw new Error(`detection fold ${f} is empty`);
    for (const i of fold) {
      if (!Number.isInteger(i) || i < 0 || i >= n)
        throw new Error(`detection fold ${f}: index ${i} outside 0..${n - 1}`);
      if (owner[i] !== -1) throw new Error(`detection folds: row ${i} is in folds ${owner[i]} and ${f}`);
      owner[i] = f;
    }
  });
  const missing = owner.indexOf(-1);
  if (missing !== -1)
    throw new Error(`detection folds: row ${missing} is in no fold (folds must cover all ${n} rows)`);
  return owner;
}

function stack(a: Dense, b: Dense): Dense {
  const data = new Float64Array(a.data.length + b.data.length);
  data.set(a.data);
  data.set(b.data, a.data.length);
  return { nRows: a.nRows + b.nRows, nCols: a.nCols, data };
}

function pick(y: Uint8Array, rows: readonly number[]): Uint8Array {
  const out = new Uint8Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = y[rows[k]];
  return out;
}
