/**
 * SynLLM's machine-learning utility (docs/papers.md, SynLLM "Evaluation"): a decision tree of maximum depth 5
 * and a random forest of 50 trees, trained on synthetic and tested on real (TSTR) and trained on real and
 * tested on synthetic (TRTS), each reporting accuracy, macro-F1 and AUC-ROC (P(positive) as the score).
 * With a holdout (real rows the generator never saw), TSTR is tested on the holdout instead of the training
 * rows, and TRTR (trained on real, tested on the holdout) is the real-data baseline TSTR is compared with;
 * without one TSTR is tested on the real table, as the paper's code does, and there is no TRTR.
 * Binary targets only (the paper's Diabetes and Stroke targets); positive = the larger of the two real target
 * values (numbers) or the later in code-point order (labels). Features: ENC-SDM fitted on the training table
 * (classifiers/encode-sdm.ts). XGBoost is not implemented. The forest is seeded (classifiers/forest.ts).
 */
import { isNumeric } from "../../../data/build.ts";
import type { Table } from "../../../data/types.ts";
import { accuracy, f1Macro, rocAuc } from "../../classifiers/classify.ts";
import { fitSdmEncoder, transformSdm } from "../../classifiers/encode-sdm.ts";
import { fitForest, forestProba } from "../../classifiers/forest.ts";
import { fitTreeClassifier, treePredictProba } from "../../classifiers/tree.ts";
import { matchColumn } from "../rows/encode.ts";

export interface Scores {
  accuracy: number;
  f1_macro: number;
  auc: number;
}
export interface UtilityScores {
  target: string;
  /** What TSTR was tested on: the holdout when one is given, else the real (training) table. */
  tstr_test: "holdout" | "real";
  tstr: { tree: Scores; forest: Scores };
  trts: { tree: Scores; forest: Scores };
  /** Trained on real, tested on the holdout; null without a holdout. */
  trtr: { tree: Scores; forest: Scores } | null;
}

/** Labels 0/1 of the target (positive as in the header); null when the real target is not binary. */
export function binaryLabels(real: Table, t: Table, target: string): Uint8Array | null {
  const rc = real.columns.find((c) => c.name === target);
  if (rc === undefined) return null;
  const c = matchColumn(t, rc);
  if (isNumeric(rc) && isNumeric(c)) {
    const values = [...new Set(Array.from(rc.values).filter((v) => !Number.isNaN(v)))].sort((a, b) => a - b);
    if (values.length !== 2) return null;
    return Uint8Array.from(c.values, (v) => (v === values[1] ? 1 : 0));
  }
  if (isNumeric(rc) || isNumeric(c)) return null;
  const used = [
    ...new Set(
      Array.from(rc.codes)
        .filter((k) => k >= 0)
        .map((k) => rc.levels[k]),
    ),
  ].sort();
  if (used.length !== 2) return null;
  return Uint8Array.from(c.codes, (k) => (k >= 0 && c.levels[k] === used[1] ? 1 : 0));
}

function scores(p: Float64Array, truth: Uint8Array): Scores {
  const pred = Uint8Array.from(p, (x) => (x > 0.5 ? 1 : 0));
  return { accuracy: accuracy(pred, truth), f1_macro: f1Macro(pred, truth), auc: rocAuc(p, truth) };
}

function trainTest(
  train: Table,
  yTrain: Uint8Array,
  test: Table,
  yTest: Uint8Array,
  target: string,
  seed: number,
) {
  const enc = fitSdmEncoder(train, [target]);
  const X = transformSdm(enc, train);
  const Xt = transformSdm(enc, test);
  const tree = fitTreeClassifier(X, yTrain, { maxDepth: 5 }, 2);
  const pt = treePredictProba(tree, Xt);
  const pTree = new Float64Array(test.nRows);
  for (let i = 0; i < pTree.length; i++) pTree[i] = pt[i * 2 + 1];
  const forest = fitForest(X, yTrain, { nTrees: 50, seed });
  return { tree: scores(pTree, yTest), forest: scores(forestProba(forest, Xt), yTest) };
}

export function synllmUtility(
  real: Table,
  synthetic: Table,
  target: string,
  seed: number,
  holdout?: Table,
): UtilityScores | null {
  const yr = binaryLabels(real, real, target);
  const ys = binaryLabels(real, synthetic, target);
  const yh = holdout === undefined ? undefined : binaryLabels(real, holdout, target);
  if (yr === null || ys === null || yh === null) return null;
  const test = holdout !== undefined && yh !== undefined ? { table: holdout, y: yh } : undefined;
  return {
    target,
    tstr_test: test === undefined ? "real" : "holdout",
    tstr: trainTest(synthetic, ys, test?.table ?? real, test?.y ?? yr, target, seed),
    trts: trainTest(real, yr, synthetic, ys, target, seed),
    trtr: test === undefined ? null : trainTest(real, yr, test.table, test.y, target, seed),
  };
}
