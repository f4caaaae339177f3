/**
 * Gradient-boosted trees against xgboost (bench/mallm_gan_mle_reference.py): tree_method="exact" margins for
 * binary:logistic and reg:squarederror, the base score xgboost estimated, and xgboost's default "hist" on
 * small-integer features (every distinct value is a bin, so hist searches the exact method's splits); plus a
 * hand-computed one-round stump.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { boosterMargin, boosterPredict, fitBooster } from "../../../stats/classifiers/boosting.ts";
import type { Dense } from "../../../stats/primitives/matrix.ts";

interface BoostCase {
  name: string;
  objective: "binary:logistic" | "reg:squarederror";
  rounds: number;
  learning_rate: number;
  max_depth: number;
  X_train: number[][];
  y_train: number[];
  X_test: number[][];
  margin: number[];
  proba?: number[];
  base_score?: number;
}
const fixture = JSON.parse(
  readFileSync(resolve(import.meta.dirname, "../../fixtures/svm-boosting-reference.json"), "utf8"),
) as { boosting: BoostCase[] };

const dense = (rows: number[][]): Dense => ({
  nRows: rows.length,
  nCols: rows[0].length,
  data: Float64Array.from(rows.flat()),
});

// xgboost keeps features, gradients, leaf values and margins in float32: about 1e-6 relative per round.
const close = (a: number, b: number): boolean => Math.abs(a - b) <= 2e-6 * Math.max(1, Math.abs(b));

describe("fitBooster against xgboost", () => {
  it("has the three reference cases", () => {
    expect(fixture.boosting.map((c) => c.name)).toEqual([
      "exact_logistic",
      "exact_squared_error",
      "hist_integer_logistic",
    ]);
  });
  for (const c of fixture.boosting) {
    it(`${c.name}: margins on the test rows`, () => {
      const b = fitBooster(dense(c.X_train), c.y_train, {
        objective: c.objective,
        rounds: c.rounds,
        learningRate: c.learning_rate,
        maxDepth: c.max_depth,
      });
      expect(b.trees).toHaveLength(c.rounds);
      if (c.base_score !== undefined) {
        const base = c.objective === "binary:logistic" ? 1 / (1 + Math.exp(-b.baseMargin)) : b.baseMargin;
        expect(Math.abs(base - c.base_score)).toBeLessThan(1e-6 * Math.max(1, c.base_score));
      }
      const m = boosterMargin(b, dense(c.X_test));
      for (let i = 0; i < m.length; i++)
        expect(close(m[i], c.margin[i]), `row ${i}: ${m[i]} vs ${c.margin[i]}`).toBe(true);
      if (c.proba) {
        const p = boosterPredict(b, dense(c.X_test));
        for (let i = 0; i < p.length; i++) expect(Math.abs(p[i] - c.proba[i])).toBeLessThan(1e-5);
      }
    });
  }
});

describe("fitBooster by hand", () => {
  it("one round of squared error on four rows is the best stump", () => {
    // x = 0, 1, 2, 3 and y = 1, 1, 5, 5; base = ȳ = 3, so g = ŷ − y = 2, 2, −2, −2 and h = 1 each (λ = 1).
    // Root gain G²/(H+λ) = 0. Split between 1 and 2 (t = 1.5): G_L = 4, H_L = 2 and G_R = −4, H_R = 2, so
    // loss_chg = 16/3 + 16/3 = 32/3; the split at 0.5 gives 2²/2 + (−2)²/4 = 3, the one at 2.5 the same.
    // Leaves: η·(−G/(H+λ)) = 0.5·(−4/3) = −2/3 and +2/3, so the margins are 3 ∓ 2/3.
    const X = dense([[0], [1], [2], [3]]);
    const b = fitBooster(X, [1, 1, 5, 5], {
      objective: "reg:squarederror",
      rounds: 1,
      learningRate: 0.5,
      maxDepth: 1,
    });
    expect(b.baseMargin).toBe(3);
    expect(b.trees[0].feature[0]).toBe(0);
    expect(b.trees[0].threshold[0]).toBe(1.5);
    const m = boosterMargin(b, X);
    expect(Array.from(m).map((v) => v * 3)).toEqual([7, 7, 11, 11].map((v) => expect.closeTo(v, 12)));
  });
  it("min_child_weight keeps a child's hessian at 1 or more", () => {
    // Logistic with ȳ = ½: h = ¼ per row, so a child needs 4 rows; 6 rows allow no split at all.
    const X = dense([[0], [1], [2], [3], [4], [5]]);
    const b = fitBooster(X, [0, 0, 0, 1, 1, 1], { objective: "binary:logistic", rounds: 1, maxDepth: 2 });
    expect(b.trees[0].feature[0]).toBe(-1);
    // The leaf −G/(H+λ) with G = Σ(½ − y) = 0 is 0: every margin stays at logit(½) = 0.
    expect(Array.from(boosterMargin(b, X))).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
