/**
 * L2-regularised binary logistic regression solved to the exact optimum (docs/metrics.md §3.6). Hand-written:
 * sklearn's lbfgs stops early, and a damped Newton method on a d+1 dense system converges to ~1e-15.
 */
import type { Dense } from "../primitives/matrix.ts";

export interface LogisticFit {
  /** Feature weights w (length nCols). */
  readonly weights: Float64Array;
  /** Unpenalised intercept b. */
  readonly intercept: number;
  /** Newton iterations taken. */
  readonly iterations: number;
  /** max |∂f/∂θ| at the returned (w, b). */
  readonly gradientMax: number;
}

export interface LogisticOptions {
  /** Inverse regularisation strength (sklearn `C`). Default 1. */
  readonly C?: number;
  /** Stop when max |gradient| ≤ tol·max(1, C·n). Default 1e-13. */
  readonly tol?: number;
  /** Newton iteration cap. Default 100. */
  readonly maxIter?: number;
}

/** z_i = w·x_i + b for every row. */
export function decisionFunction(fit: LogisticFit, X: Dense): Float64Array {
  return linearScores(X, fit.weights, fit.intercept);
}

/** P(y = 1 | x) = 1/(1 + e^{−z}) (scipy.special.expit, as sklearn predict_proba). */
export function predictProba(fit: LogisticFit, X: Dense): Float64Array {
  const z = decisionFunction(fit, X);
  for (let i = 0; i < z.length; i++) z[i] = 1 / (1 + Math.exp(-z[i]));
  return z;
}

/** f(w,b) = C·Σ log(1 + e^{−ỹ_i(w·x_i+b)}) + ½‖w‖², ỹ = 2y − 1 (sklearn LogisticRegression, penalty "l2"). */
export function logisticObjective(X: Dense, y: Uint8Array, w: Float64Array, b: number, C = 1): number {
  const z = linearScores(X, w, b);
  let loss = 0;
  for (let i = 0; i < z.length; i++) loss += softplus(y[i] === 1 ? -z[i] : z[i]);
  let pen = 0;
  for (let j = 0; j < w.length; j++) pen += w[j] * w[j];
  return C * loss + 0.5 * pen;
}

/** ∇f = [C·Σ (p_i − y_i)·x_i + w ; C·Σ (p_i − y_i)], p = expit(w·x + b); length nCols + 1. */
export function logisticGradient(X: Dense, y: Uint8Array, w: Float64Array, b: number, C = 1): Float64Array {
  const d = X.nCols;
  const g = new Float64Array(d + 1);
  const z = linearScores(X, w, b);
  for (let i = 0; i < X.nRows; i++) {
    const r = C * (expit(z[i]) - y[i]);
    const off = i * d;
    for (let j = 0; j < d; j++) g[j] += r * X.data[off + j];
    g[d] += r;
  }
  for (let j = 0; j < d; j++) g[j] += w[j];
  return g;
}

/** argmin logisticObjective by Newton + Armijo backtracking (H = C·XᵀDX + diag(1…1,0) ≻ 0: unique optimum). */
export function fitLogistic(X: Dense, y: Uint8Array, options: LogisticOptions = {}): LogisticFit {
  const C = options.C ?? 1;
  const tol = options.tol ?? 1e-13;
  const maxIter = options.maxIter ?? 100;
  const n = X.nRows;
  const d = X.nCols;
  const m = d + 1;
  if (y.length !== n) throw new Error(`fitLogistic: ${y.length} labels for ${n} rows`);
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += y[i];
  if (nPos === 0 || nPos === n)
    throw new Error("fitLogistic: both classes must occur in the training labels");

  const theta = new Float64Array(m); // [w; b]
  // Start from the intercept-only optimum: b = log(n₁/n₀) is exact when w = 0 and C is large, and close otherwise.
  theta[d] = Math.log(nPos / (n - nPos));
  const z = new Float64Array(n);
  const g = new Float64Array(m);
  const H = new Float64Array(m * m);
  const step = new Float64Array(m);
  const trial = new Float64Array(m);
  const gradStop = tol * Math.max(1, C * n);
  let f = objectiveAt(X, y, theta, C, z);
  let iterations = 0;
  let gmax = Number.POSITIVE_INFINITY;

  for (; iterations < maxIter; iterations++) {
    gmax = gradientAndHessian(X, y, theta, C, z, g, H);
    if (gmax <= gradStop) break;
    for (let j = 0; j < m; j++) step[j] = -g[j];
    choleskySolve(H, m, step);
    let slope = 0;
    for (let j = 0; j < m; j++) slope += g[j] * step[j];
    if (!(slope < 0)) break; // not a descent direction: already at the optimum up to rounding
    // Newton decrement λ² = −g·step below f's resolution: the line search can no longer judge a step (and the
    // gradient's rounding floor can sit above gradStop for n ≳ 10⁴), while the full step is quadratically final.
    if (-slope <= Number.EPSILON * Math.max(1, f)) {
      for (let j = 0; j < m; j++) theta[j] += step[j];
      iterations++;
      break;
    }
    let t = 1;
    let fNew = Number.POSITIVE_INFINITY;
    for (let ls = 0; ls < 60; ls++) {
      for (let j = 0; j < m; j++) trial[j] = theta[j] + t * step[j];
      fNew = objectiveAt(X, y, trial, C, z);
      if (fNew <= f + 1e-4 * t * slope) break;
      t *= 0.5;
    }
    let moved = 0;
    for (let j = 0; j < m; j++) moved = Math.max(moved, Math.abs(trial[j] - theta[j]));
    if (!(fNew <= f) || moved === 0) break; // no further decrease is representable
    theta.set(trial);
    f = fNew;
  }
  gmax = gradientAndHessian(X, y, theta, C, z, g, H);
  return { weights: theta.slice(0, d), intercept: theta[d], iterations, gradientMax: gmax };
}

function linearScores(X: Dense, w: ArrayLike<number>, b: number): Float64Array {
  const d = X.nCols;
  const z = new Float64Array(X.nRows);
  for (let i = 0; i < X.nRows; i++) {
    const off = i * d;
    let s = b;
    for (let j = 0; j < d; j++) s += w[j] * X.data[off + j];
    z[i] = s;
  }
  return z;
}

/** Objective at θ = [w; b], using `z` as scratch. */
function objectiveAt(X: Dense, y: Uint8Array, theta: Float64Array, C: number, z: Float64Array): number {
  const d = X.nCols;
  let loss = 0;
  for (let i = 0; i < X.nRows; i++) {
    const off = i * d;
    let s = theta[d];
    for (let j = 0; j < d; j++) s += theta[j] * X.data[off + j];
    z[i] = s;
    loss += softplus(y[i] === 1 ? -s : s);
  }
  let pen = 0;
  for (let j = 0; j < d; j++) pen += theta[j] * theta[j];
  return C * loss + 0.5 * pen;
}

/** Fills g and the upper triangle of H (then mirrors it) at θ; z must hold the scores at θ. Returns max|g|. */
function gradientAndHessian(
  X: Dense,
  y: Uint8Array,
  theta: Float64Array,
  C: number,
  z: Float64Array,
  g: Float64Array,
  H: Float64Array,
): number {
  const d = X.nCols;
  const m = d + 1;
  g.fill(0);
  H.fill(0);
  const data = X.data;
  const n = X.nRows;
  // Hessian rows are accumulated four data rows at a time: one load/store of H per four products.
  const v4 = new Float64Array(4);
  for (let i0 = 0; i0 < n; i0 += 4) {
    const cnt = Math.min(4, n - i0);
    v4.fill(0);
    for (let u = 0; u < cnt; u++) {
      const i = i0 + u;
      const off = i * d;
      let s = theta[d];
      for (let j = 0; j < d; j++) s += theta[j] * data[off + j];
      z[i] = s;
      const p = expit(s);
      const r = C * (p - y[i]);
      v4[u] = C * p * (1 - p);
      for (let j = 0; j < d; j++) g[j] += r * data[off + j];
      g[d] += r;
      H[d * m + d] += v4[u];
    }
    // Missing rows of a last partial block weigh 0 and read row i0 (any valid row).
    const o0 = i0 * d;
    const o1 = (cnt > 1 ? i0 + 1 : i0) * d;
    const o2 = (cnt > 2 ? i0 + 2 : i0) * d;
    const o3 = (cnt > 3 ? i0 + 3 : i0) * d;
    const v0 = v4[0];
    const v1 = v4[1];
    const v2 = v4[2];
    const v3 = v4[3];
    for (let j = 0; j < d; j++) {
      const a0 = v0 * data[o0 + j];
      const a1 = v1 * data[o1 + j];
      const a2 = v2 * data[o2 + j];
      const a3 = v3 * data[o3 + j];
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue; // one-hot columns are mostly zero
      const row = j * m;
      for (let k = j; k < d; k++) {
        H[row + k] += a0 * data[o0 + k] + a1 * data[o1 + k] + a2 * data[o2 + k] + a3 * data[o3 + k];
      }
      H[row + d] += a0 + a1 + a2 + a3;
    }
  }
  for (let j = 0; j < d; j++) {
    g[j] += theta[j];
    H[j * m + j] += 1;
  }
  for (let j = 0; j < m; j++) for (let k = j + 1; k < m; k++) H[k * m + j] = H[j * m + k];
  let gmax = 0;
  for (let j = 0; j < m; j++) gmax = Math.max(gmax, Math.abs(g[j]));
  return gmax;
}

/** Solves A·x = b in place (b ← x) for symmetric positive definite A (m×m, overwritten by its Cholesky factor). */
function choleskySolve(A: Float64Array, m: number, b: Float64Array): void {
  for (let j = 0; j < m; j++) {
    let s = A[j * m + j];
    for (let k = 0; k < j; k++) s -= A[j * m + k] * A[j * m + k];
    // A tiny floor keeps a numerically semi-definite H (saturated probabilities) solvable.
    const ljj = Math.sqrt(Math.max(s, 1e-300));
    A[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let t = A[i * m + j];
      for (let k = 0; k < j; k++) t -= A[i * m + k] * A[j * m + k];
      A[i * m + j] = t / ljj;
    }
  }
  for (let i = 0; i < m; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= A[i * m + k] * b[k];
    b[i] = s / A[i * m + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < m; k++) s -= A[k * m + i] * b[k];
    b[i] = s / A[i * m + i];
  }
}

function expit(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** log(1 + e^t) without overflow. */
function softplus(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}
