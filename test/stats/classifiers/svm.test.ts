/**
 * C-SVC against sklearn SVC (libsvm) solved to tol 1e-10 (bench/mallm_gan_mle_reference.py): decision values,
 * intercept, support-vector count and predictions for the rbf kernel with gamma="scale" and the linear kernel
 * at C = 1 and 0.5; plus a hand-solved two-point case.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { fitSvm, scaleGamma, svmDecision, svmPredict } from "../../../stats/classifiers/svm.ts";
import type { Dense } from "../../../stats/primitives/matrix.ts";

interface SvmCase {
  name: string;
  kernel: "rbf" | "linear";
  C: number;
  gamma: number;
  X_train: number[][];
  y_train: number[];
  X_test: number[][];
  decision: number[];
  decision_train: number[];
  predict: number[];
  n_support: number;
  intercept: number;
}
const fixture = JSON.parse(
  readFileSync(resolve(import.meta.dirname, "../../fixtures/svm-boosting-reference.json"), "utf8"),
) as { svm: SvmCase[] };

const dense = (rows: number[][]): Dense => ({
  nRows: rows.length,
  nCols: rows[0].length,
  data: Float64Array.from(rows.flat()),
});

// libsvm caches kernel rows in float32 (Qfloat), so its optimum carries ~1e-7 relative rounding: 5e-6 absolute.
const TOL = 5e-6;

describe("fitSvm against sklearn SVC", () => {
  it("has the four reference cases", () => {
    expect(fixture.svm.map((c) => c.name)).toEqual(["rbf_C1.0", "rbf_C0.5", "linear_C1.0", "linear_C0.5"]);
  });
  for (const c of fixture.svm) {
    it(`${c.name}: decision values, intercept, support vectors, predictions`, () => {
      const X = dense(c.X_train);
      expect(scaleGamma(X)).toBeCloseTo(c.gamma, 14);
      const fit = fitSvm(X, Uint8Array.from(c.y_train), { kernel: c.kernel, C: c.C, tol: 1e-10 });
      const f = svmDecision(fit, dense(c.X_test));
      for (let i = 0; i < f.length; i++)
        expect(Math.abs(f[i] - c.decision[i]), `test row ${i}`).toBeLessThan(TOL);
      const ft = svmDecision(fit, X);
      for (let i = 0; i < ft.length; i++)
        expect(Math.abs(ft[i] - c.decision_train[i]), `train row ${i}`).toBeLessThan(TOL);
      expect(Math.abs(fit.intercept - c.intercept)).toBeLessThan(TOL);
      expect(fit.support.nRows).toBe(c.n_support);
      expect(Array.from(svmPredict(fit, dense(c.X_test)))).toEqual(c.predict);
    });
  }
  it("at the default tol 1e-3 the predictions are sklearn's", () => {
    const c = fixture.svm[0];
    const fit = fitSvm(dense(c.X_train), Uint8Array.from(c.y_train));
    expect(Array.from(svmPredict(fit, dense(c.X_test)))).toEqual(c.predict);
  });
});

describe("fitSvm by hand", () => {
  it("two points, linear kernel: the maximal-margin hyperplane", () => {
    // x₁ = (0, 0) class 0, x₂ = (2, 0) class 1, C large. Dual: α₁ = α₂ = α (Σ ỹα = 0), objective
    // ½α²‖x₂ − x₁‖² − 2α = 2α² − 2α, minimum at α = ½. w = α(x₂ − x₁) = (1, 0); the free vectors give
    // ρ = w·x₂ − 1 = 1, so f(x) = x₁-coordinate − 1: f(x₁) = −1, f(x₂) = +1, f((1, 5)) = 0.
    const X = dense([
      [0, 0],
      [2, 0],
    ]);
    const fit = fitSvm(X, Uint8Array.from([0, 1]), { kernel: "linear", C: 100, tol: 1e-12 });
    expect(Array.from(fit.dualCoef)).toEqual([-0.5, 0.5]);
    expect(fit.intercept).toBeCloseTo(-1, 12);
    const f = svmDecision(
      fit,
      dense([
        [0, 0],
        [2, 0],
        [1, 5],
        [3, -1],
      ]),
    );
    expect(Array.from(f).map((v) => Math.round(v * 1e12) / 1e12)).toEqual([-1, 1, 0, 2]);
  });
  it("rejects a single class", () => {
    expect(() => fitSvm(dense([[0], [1]]), Uint8Array.from([1, 1]))).toThrow(/both classes/);
  });
});
