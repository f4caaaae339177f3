/**
 * Detection / C2ST (docs/metrics.md §3.6–§3.7), TSTR/TRTR (§3.8) and the pieces they rest on: the converged
 * logistic solver, scalers, ENC-SDM, AUC/F1 and stratified folds. Fixture values come from
 * the shared metric fixtures (located by test/support/fixtures.ts); unit expectations are hand-derived in the comments next to them.
 */
import { describe, expect, it } from "vitest";
import { codedColumn, numericColumn, tableOf } from "../../../../data/build.ts";
import { accuracy, f1Macro, rocAuc, stratifiedKFold } from "../../../../stats/classifiers/classify.ts";
import { detectionMetrics, stratifiedFolds } from "../../../../stats/metrics/table/detection.ts";
import { fitSdmEncoder, transformSdm } from "../../../../stats/classifiers/encode-sdm.ts";
import type { Dense } from "../../../../stats/primitives/matrix.ts";
import {
  fitLogistic,
  logisticGradient,
  logisticObjective,
  predictProba,
} from "../../../../stats/classifiers/logistic.ts";
import { createRng } from "../../../../stats/primitives/rng.ts";
import { applyScaling, fitRobustScaler, fitStandardScaler } from "../../../../stats/classifiers/scale.ts";
import { tstrLogistic, tstrRandomForest } from "../../../../stats/metrics/table/utility.ts";
import { compareTree, fixtureTable, type TableFixture, tableFixtures } from "../../../support/fixtures.ts";

const fixtures = tableFixtures();

function tables(fx: TableFixture) {
  return {
    real: fixtureTable(fx.schema, fx.data.real),
    synthetic: fixtureTable(fx.schema, fx.data.synthetic),
    holdout: fixtureTable(fx.schema, fx.data.holdout),
  };
}

describe("fixtures", () => {
  it("has table fixtures to check", () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  describe.each(fixtures.map((fx) => [fx.case_id, fx] as const))("%s", (_id, fx) => {
    const { real, synthetic, holdout } = tables(fx);

    it("detection matches the converged optimum (atol 1e-6) and the sklearn-default loose values", () => {
      const d = detectionMetrics(real, synthetic, fx.params.detection_folds);
      expect(fx.expected.detection).toBeDefined();
      expect(compareTree(d, fx.expected.detection)).toEqual([]);
      expect(compareTree(d, fx.expected.detection_sklearn_default_lbfgs)).toEqual([]);
    });

    it("tstr_logistic matches the converged optimum (atol 1e-6) and the sklearn-default loose values", () => {
      const u = tstrLogistic(real, synthetic, holdout, fx.target, fx.positive_label);
      expect(fx.expected.tstr_logistic).toBeDefined();
      expect(compareTree(u, fx.expected.tstr_logistic)).toEqual([]);
      expect(compareTree(u, fx.expected.tstr_logistic_sklearn_default_lbfgs)).toEqual([]);
    });

    it("tstr_random_forest is within the informational tolerance (0.15)", () => {
      const u = tstrRandomForest(real, synthetic, holdout, fx.target, fx.positive_label, 0);
      expect(fx.expected.tstr_random_forest).toBeDefined();
      expect(compareTree(u, fx.expected.tstr_random_forest)).toEqual([]);
    });
  });
});

describe("fitLogistic", () => {
  it("intercept-only: b = log(n₁/n₀) (gradient Σ(p − y) = 0 ⇒ p = 3/4)", () => {
    const X: Dense = { nRows: 4, nCols: 0, data: new Float64Array(0) };
    const fit = fitLogistic(X, Uint8Array.of(1, 1, 1, 0));
    expect(fit.intercept).toBeCloseTo(Math.log(3), 13);
    expect(fit.weights.length).toBe(0);
  });

  it("x = (−1, 1), y = (0, 1): b = 0 by symmetry and w = 2·expit(−w) (stationarity, hand-derived)", () => {
    const X: Dense = { nRows: 2, nCols: 1, data: Float64Array.of(-1, 1) };
    const fit = fitLogistic(X, Uint8Array.of(0, 1));
    const w = fit.weights[0];
    expect(Math.abs(fit.intercept)).toBeLessThan(1e-14);
    expect(w - 2 / (1 + Math.exp(w))).toBeCloseTo(0, 14);
    // w − 2/(1+e^w) changes sign on [0.67, 0.68]: −0.00699 at 0.67, +0.00748 at 0.68.
    expect(w).toBeGreaterThan(0.67);
    expect(w).toBeLessThan(0.68);
    // C scales the data term: C = 2 ⇒ w = 4·expit(−w).
    const fit2 = fitLogistic(X, Uint8Array.of(0, 1), { C: 2 });
    expect(fit2.weights[0] - 4 / (1 + Math.exp(fit2.weights[0]))).toBeCloseTo(0, 13);
  });

  it("returns a stationary point (∇f ≈ 0) that no nearby point improves, on overlapping random data", () => {
    const rng = createRng(7);
    const n = 200;
    const d = 6;
    const data = new Float64Array(n * d);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0.3;
      for (let j = 0; j < d; j++) {
        const v = (rng.next() - 0.5) * 4 + (j === 5 ? 10 : 0); // an offset column tests the unpenalised intercept
        data[i * d + j] = v;
        s += (j % 2 === 0 ? 0.8 : -0.5) * (j === 5 ? 0 : v);
      }
      y[i] = rng.next() < 1 / (1 + Math.exp(-s)) ? 1 : 0;
    }
    const X: Dense = { nRows: n, nCols: d, data };
    const fit = fitLogistic(X, y);
    const g = logisticGradient(X, y, fit.weights, fit.intercept);
    for (const gj of g) expect(Math.abs(gj)).toBeLessThan(1e-9);
    expect(fit.gradientMax).toBeLessThan(1e-9);
    const f0 = logisticObjective(X, y, fit.weights, fit.intercept);
    for (let j = 0; j <= d; j++) {
      for (const eps of [1e-4, -1e-4]) {
        const w = Float64Array.from(fit.weights);
        let b = fit.intercept;
        if (j < d) w[j] += eps;
        else b += eps;
        expect(logisticObjective(X, y, w, b)).toBeGreaterThan(f0);
      }
    }
    const p = predictProba(fit, X);
    for (const pi of p) expect(pi > 0 && pi < 1).toBe(true);
  });

  it("stays finite on separable data (the L2 penalty bounds w)", () => {
    const X: Dense = { nRows: 4, nCols: 1, data: Float64Array.of(-2, -1, 1, 2) };
    const y = Uint8Array.of(0, 0, 1, 1);
    const fit = fitLogistic(X, y);
    expect(Number.isFinite(fit.weights[0])).toBe(true);
    expect(fit.weights[0]).toBeGreaterThan(0);
    for (const gj of logisticGradient(X, y, fit.weights, fit.intercept))
      expect(Math.abs(gj)).toBeLessThan(1e-10);
  });

  it("refuses a single-class problem (the intercept would diverge)", () => {
    const X: Dense = { nRows: 2, nCols: 1, data: Float64Array.of(1, 2) };
    expect(() => fitLogistic(X, Uint8Array.of(1, 1))).toThrow(/both classes/);
  });
});

describe("scalers", () => {
  // Column 0 = 1,2,3,4: median 2.5, q25 = 1 + 0.75 = 1.75, q75 = 3 + 0.25 = 3.25 ⇒ IQR 1.5.
  // Column 1 constant 7: IQR 0 < 10·eps ⇒ scale 1. Standard: mean 2.5, var (2.25+0.25+0.25+2.25)/4 = 1.25.
  const X: Dense = { nRows: 4, nCols: 2, data: Float64Array.of(4, 7, 1, 7, 3, 7, 2, 7) };

  it("RobustScaler: median centre, linear-quantile IQR scale, zero scale → 1", () => {
    const s = fitRobustScaler(X);
    expect(Array.from(s.center)).toEqual([2.5, 7]);
    expect(Array.from(s.scale)).toEqual([1.5, 1]);
    expect(Array.from(applyScaling(X, s).data)).toEqual([1, 0, -1, 0, 1 / 3, 0, -1 / 3, 0]);
  });

  it("StandardScaler: mean, ddof-0 std, zero std → 1", () => {
    const s = fitStandardScaler(X);
    expect(Array.from(s.center)).toEqual([2.5, 7]);
    expect(s.scale[0]).toBeCloseTo(Math.sqrt(1.25), 15);
    expect(s.scale[1]).toBe(1);
  });
});

describe("ENC-SDM", () => {
  it("numerical block first (missing → fitting mean), one-hot sorted by code point, missing last, unseen → zeros", () => {
    const fitTable = tableOf([codedColumn("c", ["b", null, "a", "B"]), numericColumn("x", [1, null, 3, 8])]);
    const enc = fitSdmEncoder(fitTable);
    // Levels: "B" (U+0042) < "a" < "b", then the missing slot; width 1 + 4.
    expect(enc.oneHot[0].spec.levels).toEqual(["B", "a", "b"]);
    expect(enc.width).toBe(5);
    const other = tableOf([numericColumn("x", [null, 2]), codedColumn("c", ["zzz", null])]);
    // x mean over 1, 3, 8 = 4.
    expect(Array.from(transformSdm(enc, other).data)).toEqual([4, 0, 0, 0, 0, 2, 0, 0, 0, 1]);
    expect(Array.from(transformSdm(enc, fitTable).data)).toEqual([
      1, 0, 0, 1, 0, 4, 0, 0, 0, 1, 3, 0, 1, 0, 0, 8, 1, 0, 0, 0,
    ]);
  });

  it("excludes the target and has no missing slot when the fitting table has no missing value", () => {
    const t = tableOf([codedColumn("c", ["x", "y"]), codedColumn("label", ["yes", "no"])]);
    const enc = fitSdmEncoder(t, ["label"]);
    expect(enc.width).toBe(2);
    expect(Array.from(transformSdm(enc, tableOf([codedColumn("c", [null])])).data)).toEqual([0, 0]);
  });
});

describe("classification scores", () => {
  it("AUC: sklearn's documented example is 0.75; a tie counts ½", () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], Uint8Array.of(0, 0, 1, 1))).toBe(0.75);
    // Pairs (pos, neg): (0.5 vs 0.5) = ½, (0.5 vs 0.2) = 1 ⇒ 1.5/2.
    expect(rocAuc([0.5, 0.5, 0.2], Uint8Array.of(1, 0, 0))).toBe(0.75);
    expect(rocAuc([0.3, 0.4], Uint8Array.of(1, 1))).toBeNaN();
  });

  it("accuracy and macro-F1 (class 1: 2·1/(2+1) = 2/3; class 0: 2·2/(4+1) = 4/5; mean 11/15)", () => {
    const pred = Uint8Array.of(1, 1, 0, 0);
    const truth = Uint8Array.of(1, 0, 0, 0);
    expect(accuracy(pred, truth)).toBe(0.75);
    expect(f1Macro(pred, truth)).toBeCloseTo(11 / 15, 15);
    // Only class 0 present in truth and predictions: sklearn averages over that one label.
    expect(f1Macro(Uint8Array.of(0, 0), Uint8Array.of(0, 0))).toBe(1);
  });

  it("stratified folds partition the rows, keep class shares, and depend only on the seed", () => {
    const folds = stratifiedFolds(10, 7, 3, 42);
    expect(folds.length).toBe(3);
    const all = folds.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 17 }, (_, i) => i));
    const sizes = folds.map((f) => f.length).sort();
    expect(sizes).toEqual([5, 6, 6]);
    for (const f of folds) {
      const nReal = f.filter((i) => i < 10).length;
      expect(nReal === 3 || nReal === 4).toBe(true);
    }
    expect(stratifiedFolds(10, 7, 3, 42)).toEqual(folds);
    expect(stratifiedFolds(10, 7, 3, 43)).not.toEqual(folds);
    expect(() => stratifiedKFold(Uint8Array.of(1), 3, 0)).toThrow();
  });

  it("detection runs on seeded folds and rejects folds that do not partition the rows", () => {
    const fx = fixtures[0];
    const { real, synthetic } = tables(fx);
    const folds = stratifiedFolds(real.nRows, synthetic.nRows, 3, 0);
    const a = detectionMetrics(real, synthetic, folds);
    expect(detectionMetrics(real, synthetic, folds)).toEqual(a);
    expect(a.logistic_detection).toBeGreaterThanOrEqual(0);
    expect(a.logistic_detection).toBeLessThanOrEqual(1);
    expect(a.c2st_gap).toBeCloseTo(Math.abs(a.accuracy_pooled - 0.5), 15);
    const bad = fx.params.detection_folds.map((f) => [...f]);
    bad[0].push(bad[1][0]);
    expect(() => detectionMetrics(real, synthetic, bad)).toThrow(/folds/);
    expect(() => detectionMetrics(real, synthetic, [fx.params.detection_folds[0]])).toThrow(/2 folds/);
  });
});
