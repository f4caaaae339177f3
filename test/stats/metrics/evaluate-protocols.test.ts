/**
 * The protocol keys of evaluateTables (utility_protocols, regression_utility, alpha_beta): present when their
 * inputs are, equal to the functions they wrap on a small case, and α/β on tables of different sizes. Also
 * the weighted F1 by hand and the depth-limited regression tree by hand.
 */
import { describe, expect, it } from "vitest";
import { columnOf, tableOf } from "../../../data/build.ts";
import type { Table } from "../../../data/types.ts";
import { evaluateTables, isRegressionTarget } from "../../../stats/metrics/evaluate.ts";
import { alphaBetaTables } from "../../../stats/metrics/rows/alpha-beta.ts";
import { regressionUtility, trainTestRegression } from "../../../stats/metrics/table/regression-utility.ts";
import { f1Weighted, mleBestOf } from "../../../stats/metrics/table/utility-protocols.ts";
import { createRng } from "../../../stats/primitives/rng.ts";

function table(n: number, seed: number): Table {
  const rng = createRng(seed);
  const x: number[] = [];
  const c: string[] = [];
  const y: string[] = [];
  const z: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    x.push(Math.round(1000 * u) / 100);
    c.push(["a", "b", "c"][i % 3]);
    y.push(u + 0.4 * rng.next() > 0.7 ? "yes" : "no");
    z.push(Math.round(100 * (3 * u + rng.next())) / 100);
  }
  return tableOf([
    columnOf("x", "numerical", x),
    columnOf("c", "categorical", c),
    columnOf("y", "categorical", y),
    columnOf("z", "numerical", z),
  ]);
}

const real = table(90, 1);
const synthetic = table(70, 2);
const holdout = table(50, 3);

describe("evaluate: protocol keys", () => {
  it("classification target: utility_protocols equals mleBestOf; no regression key", () => {
    const ev = evaluateTables(real, synthetic, holdout, { target: "y", positive_label: "yes", seed: 4 });
    const direct = mleBestOf(real, synthetic, holdout, "y", "yes", { seed: 4, treeDepth: 5 });
    expect(ev.utility_protocols).toEqual({ ...direct, positive_label: "yes", tree_depth: 5 });
    expect(ev.utility_protocols?.classifiers).toEqual(["logistic", "random_forest", "tree"]);
    expect(ev.regression_utility).toBeUndefined();
    // The existing keys are still there.
    expect(ev.tstr_logistic?.tstr.accuracy).toBeTypeOf("number");
  });

  it("skip_random_forest leaves the forest out of the best-of and says so", () => {
    const ev = evaluateTables(real, synthetic, holdout, {
      target: "y",
      positive_label: "yes",
      skip_random_forest: true,
      tree_depth: 2,
    });
    expect(ev.utility_protocols?.classifiers).toEqual(["logistic", "tree"]);
    expect(ev.utility_protocols?.tree_depth).toBe(2);
    expect(Object.keys(ev.utility_protocols?.per_classifier ?? {})).toEqual(["logistic", "tree"]);
  });

  it("numerical target: regression_utility equals regressionUtility", () => {
    expect(isRegressionTarget(real, "z")).toBe(true);
    expect(isRegressionTarget(real, "y")).toBe(false);
    const ev = evaluateTables(real, synthetic, holdout, { target: "z", seed: 2 });
    const direct = regressionUtility(real, synthetic, holdout, "z", {
      seed: 2,
      regressors: ["linear", "random_forest"],
    });
    expect(ev.regression_utility).toEqual({ ...direct, regressors: ["linear", "random_forest"] });
    expect(ev.utility_protocols).toBeUndefined();
  });

  it("a 0/1 numerical target is a classification target", () => {
    const t = tableOf([columnOf("x", "numerical", [1, 2, 3]), columnOf("t", "numerical", [0, 1, 0])]);
    expect(isRegressionTarget(t, "t")).toBe(false);
  });

  it("alpha_beta on tables of different sizes equals alphaBetaTables (the naive key refuses them)", () => {
    const ev = evaluateTables(real, synthetic, undefined, {});
    expect(real.nRows).not.toBe(synthetic.nRows);
    expect("error" in ev.row_level.alpha_beta_naive).toBe(true);
    expect(ev.alpha_beta).toEqual(alphaBetaTables(real, synthetic, 30));
    expect(ev.alpha_beta && "n_synthetic" in ev.alpha_beta ? ev.alpha_beta.n_synthetic : 0).toBe(70);
  });
});

describe("weighted F1", () => {
  it("by hand", () => {
    // truth 1 1 1 0 0, pred 1 1 0 1 0: TP 2, FN 1, FP 1, TN 1.
    // F1₁ = 4/6, F1₀ = 2·1/(2 + 1 + 1) = 1/2; weights 3/5 and 2/5 → 0.4 + 0.2 = 0.6.
    expect(f1Weighted(Uint8Array.from([1, 1, 0, 1, 0]), Uint8Array.from([1, 1, 1, 0, 0]))).toBeCloseTo(
      0.6,
      15,
    );
    // Only negatives in truth: F1₀ = 2·2/(2·2 + 0 + 1) = 4/5 with weight 1.
    expect(f1Weighted(Uint8Array.from([0, 0, 1]), Uint8Array.from([0, 0, 0]))).toBeCloseTo(0.8, 15);
  });
});

describe("regression tree in regression utility", () => {
  it("depth 1 by hand: split at x = 2.5, leaf means 1 and 5", () => {
    const train = tableOf([
      columnOf("x", "numerical", [1, 2, 3, 4]),
      columnOf("y", "numerical", [1, 1, 5, 5]),
    ]);
    const test = tableOf([columnOf("x", "numerical", [1.5, 3.5, 0]), columnOf("y", "numerical", [1, 5, 3])]);
    const s = trainTestRegression(train, test, "y", "tree", { treeDepth: 1 });
    // ŷ = 1, 5, 1; residuals 0, 0, 2; ȳ = 3, Σ(y − ȳ)² = 4 + 4 + 0 = 8 → R² = 1 − 4/8; RMSE = √(4/3).
    expect(s.r2).toBeCloseTo(0.5, 12);
    expect(s.rmse).toBeCloseTo(Math.sqrt(4 / 3), 12);
  });
});
