/**
 * Utility protocols beyond stats/metrics/table/utility.ts (docs/metrics-protocol.md):
 *   TSTR  train on synthetic, test on holdout;  TRTR  train on real, test on holdout;
 *   TRTS  train on real, test on synthetic (SynLLM: does a model of the real data hold on the synthetic rows?);
 * for binary classifiers: L2 logistic regression as in utility.ts, the seeded random forest (grown fully, or to
 * `forestMaxDepth`), the depth-5 CART tree SynLLM uses, and the two other models of MALLM-GAN's evaluation code:
 * a C-SVM (stats/classifiers/svm.ts, sklearn SVC: rbf kernel, gamma "scale", C = 1) and gradient-boosted trees
 * (stats/classifiers/boosting.ts, xgboost: 100 rounds, learning rate 0.1, depth 3). The best-of-classifiers MLE
 * score of MALLM-GAN is, per setting, the highest score over the classifiers. Binary task "target =
 * positiveLabel"; rows with a missing target are dropped. Encoding as utility.ts: ENC-SDM fitted on the
 * training table; z-scaling for the logistic model only, unless `logisticScaling` is "none" (sklearn's
 * LogisticRegression on the raw one-hot matrix, as MALLM-GAN's code fits it). The SVM, like sklearn's SVC in
 * that code, sees the unscaled matrix.
 */
import { getColumn } from "../../../data/build.ts";
import { labelled as labelledRows } from "./utility.ts";
import { SynthgraphError } from "../../../data/errors.ts";
import type { Table } from "../../../data/types.ts";
import { accuracy, f1Macro, rocAuc } from "../../classifiers/classify.ts";
import { fitTreeClassifier, treePredictProba } from "../../classifiers/tree.ts";
import { fitSdmEncoder, transformSdm } from "../../classifiers/encode-sdm.ts";
import { fitForest, forestProba } from "../../classifiers/forest.ts";
import { decisionFunction, fitLogistic } from "../../classifiers/logistic.ts";
import { boosterPredict, fitBooster } from "../../classifiers/boosting.ts";
import { fitSvm, type SvmKernel, svmDecision } from "../../classifiers/svm.ts";
import type { Dense } from "../../primitives/matrix.ts";
import { applyScaling, fitStandardScaler } from "../../classifiers/scale.ts";

export type ClassifierName = "logistic" | "random_forest" | "tree" | "svm" | "xgboost";
/** The default pool of evaluate's utility_protocols (the SVM and boosting are opt-in: protocol files name them). */
export const MLE_CLASSIFIERS: readonly ClassifierName[] = ["logistic", "random_forest", "tree"];

export interface BinaryScores {
  readonly accuracy: number;
  /** F1 of the positive class (sklearn f1_score, average="binary"). */
  readonly f1: number;
  readonly f1_macro: number;
  /**
   * Support-weighted F1 over both classes (sklearn average="weighted"): (n₁·F1₁ + n₀·F1₀)/n with n_c the true
   * count of class c. MALLM-GAN's MLE code scores classifiers with it.
   */
  readonly f1_weighted: number;
  readonly roc_auc: number;
}

export interface UtilityTriple {
  readonly tstr: BinaryScores;
  readonly trtr: BinaryScores;
  /** Trained on real, tested on synthetic. */
  readonly trts: BinaryScores;
}

export interface UtilityOptions {
  readonly seed?: number;
  /** Depth of the CART tree. Default 5 (SynLLM). */
  readonly treeDepth?: number;
  /** Trees of the random forest. Default 100. */
  readonly forestTrees?: number;
  /** Depth limit of the random forest's trees (sklearn max_depth). Default: grown until pure. */
  readonly forestMaxDepth?: number;
  /** "standard" (default): z-score the features for the logistic model; "none": the raw encoded matrix. */
  readonly logisticScaling?: "standard" | "none";
  /** SVM kernel (default "rbf", gamma "scale") and box constraint C (default 1). */
  readonly svmKernel?: SvmKernel;
  readonly svmC?: number;
  /** Gradient boosting: rounds (100), learning rate (0.1), tree depth (3). */
  readonly boostRounds?: number;
  readonly boostLearningRate?: number;
  readonly boostMaxDepth?: number;
}

/** The boosting settings of `o` with the protocol's defaults (MALLM-GAN's xgboost settings). */
export function boostSettings(o: {
  boostRounds?: number;
  boostLearningRate?: number;
  boostMaxDepth?: number;
}): { rounds: number; learningRate: number; maxDepth: number } {
  return {
    rounds: o.boostRounds ?? 100,
    learningRate: o.boostLearningRate ?? 0.1,
    maxDepth: o.boostMaxDepth ?? 3,
  };
}

type Scorer = (train: Dense, y: Uint8Array, test: Dense) => Float64Array;

function scorer(model: ClassifierName, o: UtilityOptions): Scorer {
  switch (model) {
    case "logistic":
      return (train, y, test) => {
        if (o.logisticScaling === "none") return expit(decisionFunction(fitLogistic(train, y), test));
        const scaler = fitStandardScaler(train);
        return expit(
          decisionFunction(fitLogistic(applyScaling(train, scaler), y), applyScaling(test, scaler)),
        );
      };
    case "random_forest":
      return (train, y, test) =>
        forestProba(
          fitForest(train, y, {
            nTrees: o.forestTrees ?? 100,
            seed: o.seed ?? 0,
            ...(o.forestMaxDepth !== undefined ? { maxDepth: o.forestMaxDepth } : {}),
          }),
          test,
        );
    case "svm":
      // σ(f) is a score with f > 0 ⇔ σ(f) > 0.5, so the shared threshold gives SVC's predictions.
      return (train, y, test) =>
        expit(svmDecision(fitSvm(train, y, { kernel: o.svmKernel ?? "rbf", C: o.svmC ?? 1 }), test));
    case "xgboost":
      return (train, y, test) =>
        boosterPredict(fitBooster(train, y, { objective: "binary:logistic", ...boostSettings(o) }), test);
    case "tree":
      return (train, y, test) => {
        const p = treePredictProba(fitTreeClassifier(train, y, { maxDepth: o.treeDepth ?? 5 }, 2), test);
        const out = new Float64Array(test.nRows);
        for (let i = 0; i < out.length; i++) out[i] = p[2 * i + 1];
        return out;
      };
  }
}

function expit(z: Float64Array): Float64Array {
  return z.map((v) => 1 / (1 + Math.exp(-v)));
}

// F1 of class 1 = 2TP/(2TP + FP + FN); NaN when there is no positive in truth or prediction (sklearn warns, 0).
export function f1Binary(pred: Uint8Array, truth: Uint8Array): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < truth.length; i++) {
    if (pred[i] === 1 && truth[i] === 1) tp++;
    else if (pred[i] === 1) fp++;
    else if (truth[i] === 1) fn++;
  }
  return tp + fp + fn === 0 ? Number.NaN : (2 * tp) / (2 * tp + fp + fn);
}

// Weighted F1 = Σ_c (n_c/n)·F1_c, F1_1 = 2TP/(2TP+FP+FN), F1_0 = 2TN/(2TN+FN+FP); a class that is absent from
// truth has weight 0, so sklearn's zero_division choice cannot change the result.
export function f1Weighted(pred: Uint8Array, truth: Uint8Array): number {
  let tp = 0;
  let tn = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] === 1) {
      if (pred[i] === 1) tp++;
      else fn++;
    } else if (pred[i] === 1) fp++;
    else tn++;
  }
  const n = truth.length;
  if (n === 0) return Number.NaN;
  const f1Pos = tp + fn === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  const f1Neg = tn + fp === 0 ? 0 : (2 * tn) / (2 * tn + fn + fp);
  return ((tp + fn) * f1Pos + (tn + fp) * f1Neg) / n;
}

const NAN_SCORES: BinaryScores = {
  accuracy: Number.NaN,
  f1: Number.NaN,
  f1_macro: Number.NaN,
  f1_weighted: Number.NaN,
  roc_auc: Number.NaN,
};

/** Fits on `train`, scores `test`. Predicted label = P(positive) > 0.5 (sklearn: a tie goes to class 0). */
export function trainTestBinary(
  train: Table,
  test: Table,
  target: string,
  positiveLabel: string,
  model: ClassifierName,
  options: UtilityOptions = {},
): BinaryScores {
  const tr = labelled(train, target, positiveLabel);
  const te = labelled(test, target, positiveLabel);
  let nPos = 0;
  for (let i = 0; i < tr.y.length; i++) nPos += tr.y[i];
  if (nPos === 0 || nPos === tr.y.length || te.y.length === 0) return NAN_SCORES;
  const enc = fitSdmEncoder(tr.table, [target]);
  const prob = scorer(model, options)(transformSdm(enc, tr.table), tr.y, transformSdm(enc, te.table));
  const pred = new Uint8Array(prob.length);
  for (let i = 0; i < prob.length; i++) pred[i] = prob[i] > 0.5 ? 1 : 0;
  return {
    accuracy: accuracy(pred, te.y),
    f1: f1Binary(pred, te.y),
    f1_macro: f1Macro(pred, te.y),
    f1_weighted: f1Weighted(pred, te.y),
    roc_auc: rocAuc(prob, te.y),
  };
}

/** TSTR, TRTR and TRTS of one classifier. */
export function utilityTriple(
  real: Table,
  synthetic: Table,
  holdout: Table,
  target: string,
  positiveLabel: string,
  model: ClassifierName,
  options: UtilityOptions = {},
): UtilityTriple {
  return {
    tstr: trainTestBinary(synthetic, holdout, target, positiveLabel, model, options),
    trtr: trainTestBinary(real, holdout, target, positiveLabel, model, options),
    trts: trainTestBinary(real, synthetic, target, positiveLabel, model, options),
  };
}

export interface BestOf {
  readonly score: number;
  readonly model: ClassifierName | null;
}

export interface MleBestOf {
  readonly metric: keyof BinaryScores;
  readonly classifiers: readonly ClassifierName[];
  /** Best over classifiers of the TSTR score: MALLM-GAN's MLE of a synthetic table. */
  readonly tstr: BestOf;
  /** The same for TRTR: the "real data" reference row. */
  readonly trtr: BestOf;
  readonly per_classifier: Record<string, UtilityTriple>;
}

/** max over NaN-free scores; the first classifier wins a tie. */
function best(entries: Array<[ClassifierName, number]>): BestOf {
  let out: BestOf = { score: Number.NaN, model: null };
  for (const [model, score] of entries)
    if (Number.isFinite(score) && !(score <= out.score)) out = { score, model };
  return out;
}

/**
 * MALLM-GAN's MLE for classification: for each classifier, TSTR (and TRTR) scored by `metric` (default binary
 * F1), then the best over classifiers. MALLM-GAN's pool is logistic, random forest (depth 3), SVM and xgboost
 * (`classifiers` names them; the default pool is logistic, random forest and tree). Their mean over repeated
 * seeds is the protocol's job.
 */
export function mleBestOf(
  real: Table,
  synthetic: Table,
  holdout: Table,
  target: string,
  positiveLabel: string,
  options: UtilityOptions & { metric?: keyof BinaryScores; classifiers?: readonly ClassifierName[] } = {},
): MleBestOf {
  const metric = options.metric ?? "f1";
  const classifiers = options.classifiers ?? MLE_CLASSIFIERS;
  const per: Record<string, UtilityTriple> = {};
  for (const c of classifiers)
    per[c] = utilityTriple(real, synthetic, holdout, target, positiveLabel, c, options);
  return {
    metric,
    classifiers,
    tstr: best(classifiers.map((c) => [c, per[c].tstr[metric]])),
    trtr: best(classifiers.map((c) => [c, per[c].trtr[metric]])),
    per_classifier: per,
  };
}

/** utility.ts `labelled`, with a message naming the flag when the target column is absent. */
function labelled(table: Table, target: string, positiveLabel: string): { table: Table; y: Uint8Array } {
  try {
    getColumn(table, target);
  } catch {
    throw new SynthgraphError(`the target column "${target}" is not in the table`, {
      hint: "pass --target with one of the table's column names",
    });
  }
  return labelledRows(table, target, positiveLabel);
}
