/**
 * CART tree against sklearn DecisionTreeClassifier / DecisionTreeRegressor (reference values made by
 * bench/tree_regression_reference.py, cases whose sklearn tree does not depend on its random tie-breaking) and
 * against hand-computed small cases.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  fitTreeClassifier,
  fitTreeRegressor,
  treeDepth,
  treePredict,
  treePredictProba,
} from "../../../stats/classifiers/tree.ts";
import type { Dense } from "../../../stats/primitives/matrix.ts";

interface TreeRef {
  node_count: number;
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  depth: number;
}
interface Case {
  name: string;
  max_depth: number;
  n_classes?: number;
  X_train: number[][];
  y_train: number[];
  X_test: number[][];
  proba?: number[][];
  predict: number[];
  tree: TreeRef;
}
const fixture = JSON.parse(
  readFileSync(resolve(import.meta.dirname, "../../fixtures/tree-regression-reference.json"), "utf8"),
) as { trees: { classifiers: Case[]; regressors: Case[] } };

const dense = (rows: number[][]): Dense => ({
  nRows: rows.length,
  nCols: rows[0].length,
  data: Float64Array.from(rows.flat()),
});

/** sklearn numbers nodes depth-first, left child first, as we do; leaves have feature −2 and threshold −2. */
function expectSameTree(t: ReturnType<typeof fitTreeClassifier>, ref: TreeRef): void {
  expect(t.feature.length).toBe(ref.node_count);
  for (let v = 0; v < ref.node_count; v++) {
    if (ref.feature[v] < 0) {
      expect(t.feature[v], `node ${v}`).toBe(-1);
      continue;
    }
    expect(t.feature[v], `node ${v}`).toBe(ref.feature[v]);
    // sklearn casts X to float32 before taking midpoints, so its thresholds carry float32 rounding (~1e-8).
    expect(Math.abs(t.threshold[v] - ref.threshold[v])).toBeLessThan(
      1e-6 * Math.max(1, Math.abs(ref.threshold[v])),
    );
    expect(t.left[v]).toBe(ref.left[v]);
    expect(t.right[v]).toBe(ref.right[v]);
  }
  expect(treeDepth(t)).toBe(ref.depth);
}

describe("CART classifier vs sklearn DecisionTreeClassifier", () => {
  it.each(fixture.trees.classifiers.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const t = fitTreeClassifier(dense(c.X_train), c.y_train, { maxDepth: c.max_depth }, c.n_classes);
    expectSameTree(t, c.tree);
    const proba = treePredictProba(t, dense(c.X_test));
    const k = c.n_classes ?? 2;
    c.proba?.forEach((row, i) => row.forEach((p, j) => expect(proba[i * k + j]).toBeCloseTo(p, 12)));
    expect(Array.from(treePredict(t, dense(c.X_test)))).toEqual(c.predict);
  });
});

describe("CART regressor vs sklearn DecisionTreeRegressor", () => {
  it.each(fixture.trees.regressors.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const t = fitTreeRegressor(dense(c.X_train), c.y_train, { maxDepth: c.max_depth });
    expectSameTree(t, c.tree);
    const pred = treePredict(t, dense(c.X_test));
    c.predict.forEach((p, i) => expect(pred[i]).toBeCloseTo(p, 10));
  });
});

describe("CART hand-computed", () => {
  it("separable data: one split at the midpoint 2.5, pure leaves", () => {
    const t = fitTreeClassifier(dense([[1], [2], [3], [4]]), [0, 0, 1, 1], { maxDepth: 5 });
    expect(Array.from(t.feature)).toEqual([0, -1, -1]);
    expect(t.threshold[0]).toBe(2.5);
    expect(Array.from(treePredictProba(t, dense([[2], [3.5]])))).toEqual([1, 0, 0, 1]);
  });

  it("Gini picks the split with the largest Σl²/n_L + Σr²/n_R", () => {
    // x = 1..5, y = 0 0 1 0 1. Candidates (left | right class counts):
    //   t=1.5: {1,0}|{2,2} → 1/1 + 8/4 = 3;  t=2.5: {2,0}|{1,2} → 4/2 + 5/3 = 3.667
    //   t=3.5: {2,1}|{1,1} → 5/3 + 2/2 = 2.667;  t=4.5: {3,1}|{0,1} → 10/4 + 1/1 = 3.5  ⇒ t = 2.5.
    const t = fitTreeClassifier(dense([[1], [2], [3], [4], [5]]), [0, 0, 1, 0, 1], { maxDepth: 1 });
    expect(t.threshold[0]).toBe(2.5);
    const p = treePredictProba(t, dense([[0], [9]]));
    expect(Array.from(p)).toEqual([1, 0, 1 / 3, 2 / 3]);
  });

  it("the most informative of two features is chosen; depth 0 is a single leaf of class shares", () => {
    // Feature 0 is noise-free for y, feature 1 splits it 2:2 into mixed halves.
    const X = dense([
      [0, 1],
      [0, 2],
      [1, 1],
      [1, 2],
    ]);
    const t = fitTreeClassifier(X, [0, 0, 1, 1], { maxDepth: 3 });
    expect(t.feature[0]).toBe(0);
    expect(t.threshold[0]).toBe(0.5);
    const stump = fitTreeClassifier(X, [0, 0, 0, 1], { maxDepth: 0 });
    expect(Array.from(stump.value)).toEqual([0.75, 0.25]);
  });

  it("squared error: x = 1..4, y = 1 1 5 7 splits at 2.5 into means 1 and 6", () => {
    // (Σ_L y)²/n_L + (Σ_R y)²/n_R: t=1.5 → 1 + 169/3 = 57.33; t=2.5 → 4/2 + 144/2 = 74; t=3.5 → 49/3 + 49 = 65.33.
    const t = fitTreeRegressor(dense([[1], [2], [3], [4]]), [1, 1, 5, 7], { maxDepth: 1 });
    expect(t.threshold[0]).toBe(2.5);
    expect(Array.from(treePredict(t, dense([[0], [10]])))).toEqual([1, 6]);
  });

  it("rejects labels that are not class indices, naming the row", () => {
    expect(() => fitTreeClassifier(dense([[1], [2]]), [0, 1.5])).toThrow(/row 1/);
  });
});
