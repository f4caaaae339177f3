/**
 * Regression utility (docs/metrics-protocol.md; MALLM-GAN's Insurance task): TSTR (train synthetic, test
 * holdout), TRTR (train real, test holdout) and TRTS (train real, test synthetic) with ordinary least squares
 * (stats/classifiers/linear.ts) and a random-forest regressor (stats/classifiers/forest-regressor.ts), scored by
 * R² = 1 − Σ(y − ŷ)²/Σ(y − ȳ)² and RMSE = √(Σ(y − ŷ)²/n) on the test rows. Features: ENC-SDM fitted on the
 * training table (numeric as they are, missing → training mean; one-hot of each categorical column). Rows whose
 * target is missing are dropped. The best-of-regressors score (MALLM-GAN's MLE) is the higher R². On request
 * (`regressors` including "tree") a depth-limited CART regression tree (stats/classifiers/tree.ts, depth 3 by
 * default as in MALLM-GAN's evaluation code) joins them, and "xgboost" adds gradient-boosted trees with squared
 * error (stats/classifiers/boosting.ts; 100 rounds, learning rate 0.1, depth 3 as MALLM-GAN's XGBRegressor);
 * the default list stays linear + random forest.
 */
import { getColumn, isNumeric, takeTableRows } from "../../../data/build.ts";
import { SynthgraphError } from "../../../data/errors.ts";
import type { Table } from "../../../data/types.ts";
import { fitForestRegressor, forestRegressorPredict } from "../../classifiers/forest-regressor.ts";
import { fitLinear, predictLinear, r2Score, rmse } from "../../classifiers/linear.ts";
import { fitTreeRegressor, treePredict } from "../../classifiers/tree.ts";
import { boosterPredict, fitBooster } from "../../classifiers/boosting.ts";
import { fitSdmEncoder, transformSdm } from "../../classifiers/encode-sdm.ts";
import { boostSettings } from "./utility-protocols.ts";

export type RegressorName = "linear" | "random_forest" | "tree" | "xgboost";
export const MLE_REGRESSORS: readonly RegressorName[] = ["linear", "random_forest"];

export interface RegressionScores {
  readonly r2: number;
  readonly rmse: number;
}

export interface RegressionTriple {
  readonly tstr: RegressionScores;
  readonly trtr: RegressionScores;
  readonly trts: RegressionScores;
}

export interface RegressionUtility {
  readonly target: string;
  readonly per_regressor: Record<string, RegressionTriple>;
  /** Highest R² over the regressors per setting (MALLM-GAN's MLE for regression tasks). */
  readonly best_r2: { tstr: number; trtr: number; trts: number };
}

export interface RegressionOptions {
  readonly seed?: number;
  readonly forestTrees?: number;
  readonly regressors?: readonly RegressorName[];
  /** Depth limit of the "tree" regressor. Default 3. */
  readonly treeDepth?: number;
  /** Gradient boosting: rounds (100), learning rate (0.1), tree depth (3). */
  readonly boostRounds?: number;
  readonly boostLearningRate?: number;
  readonly boostMaxDepth?: number;
}

function withTarget(table: Table, target: string, label: string): { table: Table; y: Float64Array } {
  const col = table.columns.find((c) => c.name === target);
  if (!col)
    throw new SynthgraphError(`the ${label} table has no target column "${target}"`, {
      hint: "name a numerical column of the real table with --target",
    });
  if (!isNumeric(col))
    throw new SynthgraphError(
      `target column "${target}" is ${col.kind} in the ${label} table; regression needs a numerical target`,
      {
        hint: "use a classification target for TSTR/TRTR, or declare the column numerical in the metadata",
      },
    );
  const keep: number[] = [];
  for (let i = 0; i < col.values.length; i++) if (!Number.isNaN(col.values[i])) keep.push(i);
  const sub = keep.length === table.nRows ? table : takeTableRows(table, keep);
  const y = (getColumn(sub, target) as typeof col).values;
  return { table: sub, y: Float64Array.from(y) };
}

/** Fits `model` on train and scores test. NaN scores when train has fewer than 2 rows or test none. */
export function trainTestRegression(
  train: Table,
  test: Table,
  target: string,
  model: RegressorName,
  options: RegressionOptions = {},
  labels: [string, string] = ["training", "test"],
): RegressionScores {
  const tr = withTarget(train, target, labels[0]);
  const te = withTarget(test, target, labels[1]);
  if (tr.y.length < 2 || te.y.length === 0) return { r2: Number.NaN, rmse: Number.NaN };
  const enc = fitSdmEncoder(tr.table, [target]);
  const Xtr = transformSdm(enc, tr.table);
  const Xte = transformSdm(enc, te.table);
  const pred =
    model === "linear"
      ? predictLinear(fitLinear(Xtr, tr.y), Xte)
      : model === "tree"
        ? treePredict(fitTreeRegressor(Xtr, tr.y, { maxDepth: options.treeDepth ?? 3 }), Xte)
        : model === "xgboost"
          ? boosterPredict(
              fitBooster(Xtr, tr.y, { objective: "reg:squarederror", ...boostSettings(options) }),
              Xte,
            )
          : forestRegressorPredict(
              fitForestRegressor(Xtr, tr.y, { nTrees: options.forestTrees ?? 100, seed: options.seed ?? 0 }),
              Xte,
            );
  return { r2: r2Score(te.y, pred), rmse: rmse(te.y, pred) };
}

export function regressionUtility(
  real: Table,
  synthetic: Table,
  holdout: Table,
  target: string,
  options: RegressionOptions = {},
): RegressionUtility {
  const per: Record<string, RegressionTriple> = {};
  for (const m of options.regressors ?? MLE_REGRESSORS) {
    per[m] = {
      tstr: trainTestRegression(synthetic, holdout, target, m, options, ["synthetic", "holdout"]),
      trtr: trainTestRegression(real, holdout, target, m, options, ["real", "holdout"]),
      trts: trainTestRegression(real, synthetic, target, m, options, ["real", "synthetic"]),
    };
  }
  const bestOf = (k: keyof RegressionTriple): number => {
    let b = Number.NaN;
    for (const t of Object.values(per)) if (Number.isFinite(t[k].r2) && !(t[k].r2 <= b)) b = t[k].r2;
    return b;
  };
  return {
    target,
    per_regressor: per,
    best_r2: { tstr: bestOf("tstr"), trtr: bestOf("trtr"), trts: bestOf("trts") },
  };
}
