/**
 * α-precision / β-recall / authenticity on real and synthetic tables of different sizes, against a brute-force
 * transcription of the definition (all pairwise distances, sorted-array quantiles), and on equal sizes against
 * the fixture-checked naive implementation (stats/metrics/rows/rowlevel.ts) for the curves and scores.
 */
import { describe, expect, it } from "vitest";
import { columnOf, tableOf } from "../../../../data/build.ts";
import { alphaBeta, alphaBetaTables } from "../../../../stats/metrics/rows/alpha-beta.ts";
import type { Matrix } from "../../../../stats/metrics/rows/encode.ts";
import { createRng } from "../../../../stats/primitives/rng.ts";
import { alphaBetaNaive } from "../../../../stats/metrics/rows/rowlevel.ts";

function matrix(rows: number, cols: number, seed: number, shift = 0): Matrix {
  const rng = createRng(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() + shift * rng.next();
  return { rows, cols, data };
}

function row(m: Matrix, i: number): number[] {
  return Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
}
const l2 = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, j) => s + (v - b[j]) ** 2, 0));
const centre = (m: Matrix) => {
  const c = new Array<number>(m.cols).fill(0);
  for (let i = 0; i < m.rows; i++) row(m, i).forEach((v, j) => (c[j] += v / m.rows));
  return c;
};
// numpy.quantile, method "linear": position (n−1)q between sorted neighbours.
function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** The definition, written out with plain loops over every pair. */
function bruteForce(R: Matrix, S: Matrix, steps: number) {
  const cR = centre(R);
  const cS = centre(S);
  const alphas = Array.from({ length: steps }, (_, k) => k / (steps - 1));
  const real = Array.from({ length: R.rows }, (_, i) => row(R, i));
  const syn = Array.from({ length: S.rows }, (_, j) => row(S, j));
  const rho = real.map((r, i) => Math.min(...real.filter((_, k) => k !== i).map((o) => l2(r, o))));
  const nearestSyn = real.map((r) => {
    let best = 0;
    for (let j = 1; j < syn.length; j++) if (l2(r, syn[j]) < l2(r, syn[best])) best = j;
    return best;
  });
  const realRadii = real.map((r) => l2(r, cR));
  const sStarD = nearestSyn.map((j) => l2(syn[j], cS));
  const P = alphas.map((a) => syn.filter((s) => l2(s, cR) <= quantile(realRadii, a)).length / syn.length);
  const C = alphas.map(
    (a) =>
      real.filter((r, i) => l2(r, syn[nearestSyn[i]]) <= rho[i] && sStarD[i] <= quantile(sStarD, a)).length /
      real.length,
  );
  const auth =
    syn.filter((s) => {
      let best = 0;
      for (let i = 1; i < real.length; i++) if (l2(s, real[i]) < l2(s, real[best])) best = i;
      return l2(s, real[best]) > rho[best];
    }).length / syn.length;
  const sumA = alphas.reduce((x, y) => x + y, 0);
  const score = (curve: number[]) => 1 - curve.reduce((s, v, k) => s + Math.abs(alphas[k] - v), 0) / sumA;
  return { P, C, auth, precision: score(P), recall: score(C) };
}

describe("alpha-precision / beta-recall on unequal sizes", () => {
  it.each([
    [60, 25, 0],
    [25, 60, 0],
    [40, 90, 0.8],
  ])("n_R = %i, n_S = %i (synthetic shift %f) matches the brute-force definition", (nR, nS, shift) => {
    const R = matrix(nR, 3, 11);
    const S = matrix(nS, 3, 12, shift);
    const got = alphaBeta(R, S, 30);
    const want = bruteForce(R, S, 30);
    got.alpha_precision_curve.forEach((v, k) => expect(v).toBeCloseTo(want.P[k], 12));
    got.beta_recall_curve.forEach((v, k) => expect(v).toBeCloseTo(want.C[k], 12));
    expect(got.alpha_precision).toBeCloseTo(want.precision, 12);
    expect(got.beta_recall).toBeCloseTo(want.recall, 12);
    expect(got.authenticity).toBeCloseTo(want.auth, 12);
    expect([got.n_real, got.n_synthetic]).toEqual([nR, nS]);
  });

  it("equal sizes: curves and scores equal the naive (synthcity-checked) implementation's", () => {
    const R = matrix(50, 4, 21);
    const S = matrix(50, 4, 22, 0.3);
    const got = alphaBeta(R, S, 30);
    const naive = alphaBetaNaive(R, S, 30);
    if ("error" in naive) throw new Error(naive.error);
    expect(got.alpha_precision_curve).toEqual(naive.alpha_precision_curve);
    expect(got.beta_recall_curve).toEqual(naive.beta_recall_curve);
    expect(got.alpha_precision).toBeCloseTo(naive.alpha_precision, 14);
    expect(got.beta_recall).toBeCloseTo(naive.beta_recall, 14);
  });

  it("tables of different sizes go through the one-hot min-max encoding", () => {
    const rng = createRng(5);
    const t = (n: number) =>
      tableOf([
        columnOf(
          "x",
          "numerical",
          Array.from({ length: n }, () => rng.next()),
        ),
        columnOf(
          "c",
          "categorical",
          Array.from({ length: n }, (_, i) => ["a", "b", "c"][i % 3]),
        ),
      ]);
    const r = alphaBetaTables(t(30), t(45));
    expect(r.encoded_dim).toBe(4);
    expect(r.n_synthetic).toBe(45);
    expect(Number.isFinite(r.alpha_precision) && Number.isFinite(r.beta_recall)).toBe(true);
  });
});
