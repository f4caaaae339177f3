/**
 * α-precision, β-recall and authenticity (Alaa et al. 2022, "How Faithful is your Synthetic Data?"), computed as
 * synthcity's naive AlphaPrecision on raw (encoded) rows, for real and synthetic tables of any sizes n_R, n_S:
 *   c_R, c_S   column means of real and synthetic rows;
 *   α levels   a_k = k/(K−1), k = 0..K−1 (K = 30);
 *   precision  P_k = #{s : ‖s − c_R‖ ≤ Q_{a_k}(‖r − c_R‖ over real r)} / n_S
 *              (share of synthetic rows inside the real rows' α-ball around the real centre);
 *   recall     for each real r: s*(r) its nearest synthetic row, ρ(r) its distance to the nearest other real
 *              row; C_k = #{r : ‖r − s*(r)‖ ≤ ρ(r) and ‖s*(r) − c_S‖ ≤ Q_{a_k}(‖s*(r') − c_S‖ over real r')} / n_R;
 *   score      α-precision = 1 − Σ_k |a_k − P_k| / Σ_k a_k, β-recall likewise with C_k (1 = calibrated);
 *   authenticity  for each synthetic s: r*(s) its nearest real row; authentic when ‖s − r*(s)‖ > ρ(r*(s));
 *              the share of authentic synthetic rows (the paper's per-sample definition).
 * Q_a is numpy.quantile (linear). Nearest-neighbour ties take the lowest index. Differences from synthcity:
 * synthcity asserts n_R = n_S only because its authenticity line indexes the real rows' ρ by the synthetic
 * neighbours of real rows (a mixed index that needs equal sizes); we use the per-synthetic-row definition
 * above, so authenticity differs from synthcity's even when n_R = n_S, while P_k, C_k and both scores agree.
 * Scores may be negative for very poor data (synthcity raises); they are returned as they are.
 */
import { linspace01, quantileSorted } from "../../primitives/binning.ts";
import { encodeOhMinmax, type Matrix } from "./encode.ts";
import { nearestL2, nearestOtherL2 } from "./neighbors.ts";
import type { Table } from "../../../data/types.ts";

export interface AlphaBetaResult {
  alpha_precision: number;
  beta_recall: number;
  authenticity: number;
  alphas: number[];
  alpha_precision_curve: number[];
  beta_recall_curve: number[];
  n_real: number;
  n_synthetic: number;
  encoded_dim: number;
}

export function alphaBeta(real: Matrix, synthetic: Matrix, steps = 30): AlphaBetaResult {
  const d = real.cols;
  if (synthetic.cols !== d)
    throw new RangeError(`alphaBeta: real has ${d} columns, synthetic ${synthetic.cols}`);
  if (real.rows < 2) throw new RangeError("alphaBeta: needs at least 2 real rows (nearest other real row)");
  if (synthetic.rows < 1) throw new RangeError("alphaBeta: needs at least 1 synthetic row");
  if (!Number.isInteger(steps) || steps < 2)
    throw new RangeError(`alphaBeta: steps must be an integer ≥ 2, got ${steps}`);
  const nR = real.rows;
  const nS = synthetic.rows;
  const R = real.data.subarray(0, nR * d);
  const S = synthetic.data.subarray(0, nS * d);
  const alphas = linspace01(steps);
  const cR = means(R, nR, d);
  const cS = means(S, nS, d);
  const realRadii = sortedDistances(R, nR, d, cR);
  const synthToCR = distances(S, nS, d, cR);
  const rho = nearestOtherL2(R, d);
  const { dist: rToS, index: sStar } = nearestL2(R, S, d);
  const sStarToCS = new Float64Array(nR);
  for (let i = 0; i < nR; i++) sStarToCS[i] = dist(S, sStar[i], d, cS);
  const sStarSorted = Float64Array.from(sStarToCS).sort();

  const precision: number[] = [];
  const recall: number[] = [];
  let sumA = 0;
  let devP = 0;
  let devC = 0;
  for (let k = 0; k < steps; k++) {
    const radius = quantileSorted(realRadii, alphas[k]);
    const qRadius = quantileSorted(sStarSorted, alphas[k]);
    let p = 0;
    for (let j = 0; j < nS; j++) if (synthToCR[j] <= radius) p++;
    let c = 0;
    for (let i = 0; i < nR; i++) if (rToS[i] <= rho[i] && sStarToCS[i] <= qRadius) c++;
    precision.push(p / nS);
    recall.push(c / nR);
    sumA += alphas[k];
    devP += Math.abs(alphas[k] - p / nS);
    devC += Math.abs(alphas[k] - c / nR);
  }
  const { dist: sToR, index: rStar } = nearestL2(S, R, d);
  let authentic = 0;
  for (let j = 0; j < nS; j++) if (sToR[j] > rho[rStar[j]]) authentic++;
  return {
    alpha_precision: 1 - devP / sumA,
    beta_recall: 1 - devC / sumA,
    authenticity: authentic / nS,
    alphas: Array.from(alphas),
    alpha_precision_curve: precision,
    beta_recall_curve: recall,
    n_real: nR,
    n_synthetic: nS,
    encoded_dim: d,
  };
}

/** α/β on tables: one-hot + min-max scaling fitted on real (ENC-OH-MINMAX, as the naive metric). */
export function alphaBetaTables(real: Table, synthetic: Table, steps = 30): AlphaBetaResult {
  const [r, s] = encodeOhMinmax(real, [real, synthetic]);
  return alphaBeta(r, s, steps);
}

function means(X: Float64Array, n: number, d: number): Float64Array {
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) c[j] += X[i * d + j];
  for (let j = 0; j < d; j++) c[j] /= n;
  return c;
}

function dist(X: Float64Array, i: number, d: number, c: Float64Array): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const t = X[i * d + j] - c[j];
    s += t * t;
  }
  return Math.sqrt(s);
}

function distances(X: Float64Array, n: number, d: number, c: Float64Array): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = dist(X, i, d, c);
  return out;
}

function sortedDistances(X: Float64Array, n: number, d: number, c: Float64Array): Float64Array {
  return distances(X, n, d, c).sort();
}
