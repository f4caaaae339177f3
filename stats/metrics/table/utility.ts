/**
 * Machine-learning utility (docs/metrics.md §3.8): train on synthetic (TSTR) or on real (TRTR), test on holdout.
 * Binary task "target = positiveLabel" vs the rest; rows with a missing target are dropped everywhere.
 */
import { getColumn, isNumeric, takeTableRows } from "../../../data/build.ts";
import type { Table } from "../../../data/types.ts";
import { accuracy, f1Macro, rocAuc } from "../../classifiers/classify.ts";
import { fitSdmEncoder, transformSdm } from "../../classifiers/encode-sdm.ts";
import { fitForest, forestProba } from "../../classifiers/forest.ts";
import { decisionFunction, fitLogistic } from "../../classifiers/logistic.ts";
import type { Dense } from "../../primitives/matrix.ts";
import { applyScaling, fitStandardScaler } from "../../classifiers/scale.ts";

export interface ClassifierScores {
  readonly accuracy: number;
  readonly f1_macro: number;
  readonly roc_auc: number;
}

export interface Utility {
  /** Trained on synthetic, tested on holdout. */
  readonly tstr: ClassifierScores;
  /** Trained on real, tested on holdout. */
  readonly trtr: ClassifierScores;
}

/** Fits on (train, y) and returns, per test row, P(positive) and the predicted label (0/1). */
type Scorer = (train: Dense, y: Uint8Array, test: Dense) => { prob: Float64Array; pred: Uint8Array };

/**
 * TSTR/TRTR with ENC-SDM fitted on the training table, z-standardisation (training mean/std, ddof 0) and the
 * converged L2 logistic regression (C = 1). Scores are NaN when the training rows hold only one class.
 */
export function tstrLogistic(
  real: Table,
  synthetic: Table,
  holdout: Table,
  target: string,
  positiveLabel: string,
): Utility {
  const scorer: Scorer = (train, y, test) => {
    const scaler = fitStandardScaler(train);
    const model = fitLogistic(applyScaling(train, scaler), y);
    const z = decisionFunction(model, applyScaling(test, scaler));
    const prob = new Float64Array(z.length);
    const pred = new Uint8Array(z.length);
    for (let i = 0; i < z.length; i++) {
      prob[i] = 1 / (1 + Math.exp(-z[i]));
      pred[i] = z[i] > 0 ? 1 : 0; // sklearn predict thresholds the decision function, not the rounded probability
    }
    return { prob, pred };
  };
  return {
    tstr: trainTest(synthetic, holdout, target, positiveLabel, scorer),
    trtr: trainTest(real, holdout, target, positiveLabel, scorer),
  };
}

/**
 * TSTR/TRTR with our random forest (stats/classifiers/forest.ts: 100 trees, seeded, sklearn's defaults: bootstrap, ⌊√d⌋
 * features per split, Gini, fully grown). P(positive) = mean of the trees' leaf shares, as sklearn predict_proba.
 * Informational: sklearn's RNG cannot be reproduced (fixture atol 0.15).
 */
export function tstrRandomForest(
  real: Table,
  synthetic: Table,
  holdout: Table,
  target: string,
  positiveLabel: string,
  seed = 0,
): Utility {
  const scorer: Scorer = (train, y, test) => {
    const prob = forestProba(fitForest(train, y, { nTrees: 100, seed }), test);
    const pred = new Uint8Array(test.nRows);
    for (let i = 0; i < test.nRows; i++) pred[i] = prob[i] > 0.5 ? 1 : 0; // sklearn argmax: a tie goes to class 0
    return { prob, pred };
  };
  return {
    tstr: trainTest(synthetic, holdout, target, positiveLabel, scorer),
    trtr: trainTest(real, holdout, target, positiveLabel, scorer),
  };
}

/** Fits on `train`, scores `test`: accuracy and macro-F1 of the predicted labels, ROC AUC of P(positive). */
function trainTest(
  train: Table,
  test: Table,
  target: string,
  positiveLabel: string,
  scorer: Scorer,
): ClassifierScores {
  const tr = labelled(train, target, positiveLabel);
  const te = labelled(test, target, positiveLabel);
  let nPos = 0;
  for (let i = 0; i < tr.y.length; i++) nPos += tr.y[i];
  if (nPos === 0 || nPos === tr.y.length || te.y.length === 0) {
    return { accuracy: Number.NaN, f1_macro: Number.NaN, roc_auc: Number.NaN };
  }
  const enc = fitSdmEncoder(tr.table, [target]);
  const { prob, pred } = scorer(transformSdm(enc, tr.table), tr.y, transformSdm(enc, te.table));
  return { accuracy: accuracy(pred, te.y), f1_macro: f1Macro(pred, te.y), roc_auc: rocAuc(prob, te.y) };
}

/**
 * Rows whose target is present, with y = 1 where it equals positiveLabel: coded targets compare the level
 * string; numeric targets compare numerically when positiveLabel parses as a number, else as String(value).
 */
export function labelled(
  table: Table,
  target: string,
  positiveLabel: string,
): { table: Table; y: Uint8Array } {
  const col = getColumn(table, target);
  const keep: number[] = [];
  const flags: number[] = [];
  if (isNumeric(col)) {
    const asNumber = positiveLabel.trim() === "" ? Number.NaN : Number(positiveLabel);
    for (let i = 0; i < col.values.length; i++) {
      const v = col.values[i];
      if (Number.isNaN(v)) continue;
      keep.push(i);
      flags.push(Number.isFinite(asNumber) ? (v === asNumber ? 1 : 0) : String(v) === positiveLabel ? 1 : 0);
    }
  } else {
    for (let i = 0; i < col.codes.length; i++) {
      const c = col.codes[i];
      if (c < 0) continue;
      keep.push(i);
      flags.push(col.levels[c] === positiveLabel ? 1 : 0);
    }
  }
  const sub = keep.length === table.nRows ? table : takeTableRows(table, keep);
  return { table: sub, y: Uint8Array.from(flags) };
}
