/**
 * The random forest (stats/classifiers/forest.ts): deterministic per seed, separates a clearly separable problem, and is
 * at chance (AUC ≈ 0.5) when the labels are noise. sklearn's RNG stream cannot be reproduced, so these are the
 * behaviours checked rather than sklearn's numbers.
 */
import { describe, expect, it } from "vitest";
import { fitForest, forestProba } from "../../../stats/classifiers/forest.ts";
import type { Dense } from "../../../stats/primitives/matrix.ts";
import { createRng, type Rng } from "../../../stats/primitives/rng.ts";

/** AUC = P(score_pos > score_neg) + ½·P(tie) over all (positive, negative) pairs (Mann–Whitney U / n₁n₀). */
function auc(score: Float64Array, y: Uint8Array): number {
  let u = 0;
  let pairs = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 1) continue;
    for (let k = 0; k < y.length; k++) {
      if (y[k] !== 0) continue;
      pairs++;
      if (score[i] > score[k]) u += 1;
      else if (score[i] === score[k]) u += 0.5;
    }
  }
  return u / pairs;
}

/**
 * n rows of d features: two continuous, one 0..4 integer, the rest 0/1 one-hot-like. Label: x0 + x2 > 2 with a
 * margin of ≥ 0.5 around the boundary (rows inside it are redrawn), or a fair coin when `noise`.
 */
function problem(n: number, d: number, rng: Rng, noise: boolean): { X: Dense; y: Uint8Array } {
  const data = new Float64Array(n * d);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const row = data.subarray(i * d, (i + 1) * d);
    for (;;) {
      row[0] = 6 * rng.next() - 1;
      row[1] = rng.next();
      row[2] = rng.int(5);
      for (let j = 3; j < d; j++) row[j] = rng.next() < 0.3 ? 1 : 0;
      if (noise || Math.abs(row[0] + row[2] - 2) >= 0.5) break;
    }
    y[i] = noise ? (rng.next() < 0.5 ? 1 : 0) : row[0] + row[2] > 2 ? 1 : 0;
  }
  return { X: { nRows: n, nCols: d, data }, y };
}

describe("fitForest / forestProba", () => {
  const train = problem(600, 8, createRng(1), false);
  const test = problem(400, 8, createRng(2), false);

  it("is deterministic per seed, and the seed matters", () => {
    const a = forestProba(fitForest(train.X, train.y, { nTrees: 20, seed: 7 }), test.X);
    const b = forestProba(fitForest(train.X, train.y, { nTrees: 20, seed: 7 }), test.X);
    const c = forestProba(fitForest(train.X, train.y, { nTrees: 20, seed: 8 }), test.X);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
  });

  it("separates a clearly separable problem (held-out accuracy ≥ 0.98, AUC ≥ 0.995)", () => {
    const p = forestProba(fitForest(train.X, train.y, { seed: 3 }), test.X);
    let correct = 0;
    for (let i = 0; i < p.length; i++) if ((p[i] > 0.5 ? 1 : 0) === test.y[i]) correct++;
    expect(correct / p.length).toBeGreaterThanOrEqual(0.98);
    expect(auc(p, test.y)).toBeGreaterThanOrEqual(0.995);
    // Trees grown until pure fit their own training rows: every training row lands on its side.
    const q = forestProba(fitForest(train.X, train.y, { seed: 3 }), train.X);
    for (let i = 0; i < q.length; i++) expect(q[i] > 0.5 ? 1 : 0).toBe(train.y[i]);
  });

  it("is near AUC 0.5 on label noise", () => {
    const noisyTrain = problem(600, 8, createRng(4), true);
    const noisyTest = problem(1000, 8, createRng(5), true);
    const p = forestProba(fitForest(noisyTrain.X, noisyTrain.y, { seed: 5 }), noisyTest.X);
    // Null sd of AUC with ~500 per class: sqrt((n₁ + n₀ + 1) / (12 n₁ n₀)) ≈ 0.018; 0.07 is about four of them.
    expect(Math.abs(auc(p, noisyTest.y) - 0.5)).toBeLessThan(0.07);
  });

  it("gives probabilities in [0, 1]: a single tree grown to purity gives 0 or 1 on its training rows", () => {
    const one = fitForest(train.X, train.y, { nTrees: 1, seed: 9 });
    expect(one.trees).toHaveLength(1);
    const p = forestProba(one, test.X);
    for (const v of p) expect(v === 0 || v === 1).toBe(true);
    const all = forestProba(fitForest(train.X, train.y, { nTrees: 7, seed: 9 }), test.X);
    // Mean of 7 leaf shares that are 0 or 1 (pure leaves): a multiple of 1/7.
    for (const v of all) expect(Math.abs(v * 7 - Math.round(v * 7))).toBeLessThan(1e-12);
  });

  it("maxDepth limits every tree (sklearn max_depth); unlimited is the default", () => {
    const depthOf = (t: { feature: Int32Array; left: Int32Array; right: Int32Array }): number => {
      const depth = new Int32Array(t.feature.length);
      let max = 0;
      for (let v = 0; v < t.feature.length; v++) {
        if (t.feature[v] < 0) continue;
        depth[t.left[v]] = depth[t.right[v]] = depth[v] + 1;
        max = Math.max(max, depth[v] + 1);
      }
      return max;
    };
    const shallow = fitForest(train.X, train.y, { nTrees: 10, seed: 2, maxDepth: 2 });
    const depths = shallow.trees.map(depthOf);
    expect(Math.max(...depths)).toBe(2);
    const full = fitForest(train.X, train.y, { nTrees: 10, seed: 2 });
    expect(Math.max(...full.trees.map(depthOf))).toBeGreaterThan(2);
    const unlimited = fitForest(train.X, train.y, {
      nTrees: 10,
      seed: 2,
      maxDepth: Number.POSITIVE_INFINITY,
    });
    expect(Array.from(forestProba(unlimited, test.X))).toEqual(Array.from(forestProba(full, test.X)));
    // Depth 0: each tree is its root, whose value is the bootstrap's positive share, so every row gets the mean
    // of those shares.
    const stumps = fitForest(train.X, train.y, { nTrees: 5, seed: 2, maxDepth: 0 });
    const mean = stumps.trees.reduce((a, t) => a + t.value[0], 0) / 5;
    for (const t of stumps.trees) expect(t.feature[0]).toBe(-1);
    for (const v of forestProba(stumps, test.X)) expect(v).toBeCloseTo(mean, 14);
  });

  it("refuses rows of another width", () => {
    const f = fitForest(train.X, train.y, { nTrees: 2, seed: 1 });
    expect(() => forestProba(f, { nRows: 1, nCols: 3, data: new Float64Array(3) })).toThrow(/3 features/);
  });
});
