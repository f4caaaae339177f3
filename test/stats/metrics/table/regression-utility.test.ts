/**
 * Regression utility on MALLM-GAN's Insurance task (target charges) against numpy least squares on the same
 * encoded matrix (bench/tree_regression_reference.py), plus hand-computed OLS cases.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { takeTableRows } from "../../../../data/build.ts";
import { readTable } from "../../../../data/read.ts";
import { fitLinear, predictLinear, r2Score, rmse } from "../../../../stats/classifiers/linear.ts";
import {
  regressionUtility,
  trainTestRegression,
} from "../../../../stats/metrics/table/regression-utility.ts";
import { DATASETS } from "../../../support/fixtures.ts";

interface Scores {
  r2: number;
  rmse: number;
}
const ref = JSON.parse(
  readFileSync(resolve(import.meta.dirname, "../../../fixtures/tree-regression-reference.json"), "utf8"),
) as {
  insurance: {
    split: Record<"real" | "synthetic" | "holdout", [number, number]>;
    trtr: { linear: Scores; random_forest_sklearn: Scores };
    tstr: { linear: Scores; random_forest_sklearn: Scores };
  };
};

const { table } = await readTable(join(DATASETS, "insurance.csv"), { target: "charges" });
const range = ([a, b]: [number, number]) =>
  takeTableRows(
    table,
    Int32Array.from({ length: b - a }, (_, i) => a + i),
  );
const real = range(ref.insurance.split.real);
const synthetic = range(ref.insurance.split.synthetic);
const holdout = range(ref.insurance.split.holdout);

describe("Insurance regression utility vs numpy lstsq", () => {
  it("linear TRTR and TSTR R² and RMSE match numpy on the same ENC-SDM matrix", () => {
    const u = regressionUtility(real, synthetic, holdout, "charges", { regressors: ["linear"] });
    const lin = u.per_regressor.linear;
    expect(lin.trtr.r2).toBeCloseTo(ref.insurance.trtr.linear.r2, 9);
    expect(lin.trtr.rmse / ref.insurance.trtr.linear.rmse).toBeCloseTo(1, 9);
    expect(lin.tstr.r2).toBeCloseTo(ref.insurance.tstr.linear.r2, 9);
    expect(lin.tstr.rmse / ref.insurance.tstr.linear.rmse).toBeCloseTo(1, 9);
    expect(u.best_r2.trtr).toBe(lin.trtr.r2);
  });

  it("random forest R² is near sklearn's (different RNG: informational, within 0.03)", () => {
    const s = trainTestRegression(real, holdout, "charges", "random_forest", { seed: 0, forestTrees: 100 });
    expect(Math.abs(s.r2 - ref.insurance.trtr.random_forest_sklearn.r2)).toBeLessThan(0.03);
  }, 60_000);

  it("a categorical target is refused with the column named", () => {
    expect(() => trainTestRegression(real, holdout, "smoker", "linear")).toThrow(/"smoker"/);
  });
});

describe("OLS hand-computed", () => {
  it("y = 1 + 2x exactly: intercept 1, slope 2, R² 1, RMSE 0", () => {
    const X = { nRows: 3, nCols: 1, data: Float64Array.from([0, 1, 2]) };
    const fit = fitLinear(X, [1, 3, 5]);
    expect(fit.intercept).toBeCloseTo(1, 12);
    expect(fit.weights[0]).toBeCloseTo(2, 12);
    const pred = predictLinear(fit, X);
    expect(r2Score([1, 3, 5], pred)).toBeCloseTo(1, 12);
    expect(rmse([1, 3, 5], pred)).toBeCloseTo(0, 12);
  });

  it("a full one-hot block beside the intercept: fitted values are the group means", () => {
    // Groups a = {1, 3}, b = {10}: least squares with group dummies fits each group's mean (2 and 10).
    const X = { nRows: 3, nCols: 2, data: Float64Array.from([1, 0, 1, 0, 0, 1]) };
    const fit = fitLinear(X, [1, 3, 10]);
    expect(fit.dropped).toEqual([1]);
    const pred = predictLinear(fit, X);
    expect(Array.from(pred).map((v) => Math.round(v * 1e9) / 1e9)).toEqual([2, 2, 10]);
    // R² = 1 − (1 + 1 + 0)/Σ(y − 14/3)² = 1 − 2/(121/9 + 25/9 + 256/9) = 1 − 18/402.
    expect(r2Score([1, 3, 10], pred)).toBeCloseTo(1 - 18 / 402, 12);
  });
});
