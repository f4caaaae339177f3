/**
 * Random-forest regressor with sklearn RandomForestRegressor's defaults: 100 trees, each fitted on a bootstrap
 * sample (n draws with replacement) with every feature considered at each split (max_features = 1.0), squared
 * error, grown until leaves are pure or hold one distinct row; prediction = mean of the trees' leaf means.
 * Trees are stats/classifiers/tree.ts grown without a depth limit. Seeded (stats/primitives/rng.ts); sklearn's RNG stream
 * cannot be reproduced, so values match sklearn only in distribution (informational).
 */
import type { Dense } from "../primitives/matrix.ts";
import { createRng } from "../primitives/rng.ts";
import { type DecisionTree, fitTreeRegressor, treePredict } from "./tree.ts";

export interface ForestRegressorOptions {
  /** Number of trees (sklearn n_estimators). Default 100. */
  readonly nTrees?: number;
  readonly seed?: number;
}

export interface ForestRegressor {
  readonly nFeatures: number;
  readonly trees: readonly DecisionTree[];
}

export function fitForestRegressor(
  X: Dense,
  y: ArrayLike<number>,
  options: ForestRegressorOptions = {},
): ForestRegressor {
  const { nRows: n, nCols: d } = X;
  const nTrees = options.nTrees ?? 100;
  const rng = createRng(options.seed ?? 0);
  const trees: DecisionTree[] = [];
  const data = new Float64Array(n * d);
  const yb = new Float64Array(n);
  for (let t = 0; t < nTrees; t++) {
    const r = rng.fork(t);
    for (let k = 0; k < n; k++) {
      const i = r.int(n);
      data.set(X.data.subarray(i * d, i * d + d), k * d);
      yb[k] = y[i];
    }
    trees.push(fitTreeRegressor({ nRows: n, nCols: d, data }, yb, { maxDepth: Number.POSITIVE_INFINITY }));
  }
  return { nFeatures: d, trees };
}

/** Mean over trees of each row's leaf mean. */
export function forestRegressorPredict(f: ForestRegressor, X: Dense): Float64Array {
  const out = new Float64Array(X.nRows);
  for (const t of f.trees) {
    const p = treePredict(t, X);
    for (let i = 0; i < out.length; i++) out[i] += p[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= f.trees.length;
  return out;
}
