/**
 * Binary C-support vector classifier (Cortes & Vapnik 1995) as sklearn's SVC, which wraps libsvm (Chang & Lin
 * 2011). With labels ỹ_i = +1 for class 1 and −1 for class 0 it solves the dual
 *   min_α ½ αᵀQα − Σ α_i   subject to 0 ≤ α_i ≤ C and Σ ỹ_i α_i = 0,   Q_ij = ỹ_i ỹ_j K(x_i, x_j),
 * and decides f(x) = Σ_i α_i ỹ_i K(x_i, x) − ρ, class 1 when f(x) > 0 (sklearn decision_function / predict).
 * Kernels: "rbf" K = exp(−γ‖x − x'‖²) with γ = "scale" = 1/(d · Var(X)) by default (sklearn's default: the
 * variance of every entry of the training matrix, ddof 0; γ = 1 when that variance is 0); "linear" K = x · x'.
 * Solver: SMO with libsvm's second-order working-set selection (Fan, Chen & Lin 2005, "WSS 3"), its clipped
 * two-variable update, the stop when the maximal violating pair's gap is below `tol`, and its ρ: the mean of
 * ỹ_i ∇_i over free α_i (0 < α_i < C), else the midpoint of the bounds (libsvm calculate_rho). libsvm's
 * shrinking heuristic is left out: it changes the speed, not the optimum. Features are used as given, unscaled,
 * as sklearn does. Kernel work grows as n² (rows of Q are cached up to ~8·10⁶ entries): meant for the
 * protocols' training sets of hundreds to a few thousand rows, as libsvm is.
 */
import type { Dense } from "../primitives/matrix.ts";

export type SvmKernel = "rbf" | "linear";

export interface SvmOptions {
  /** Box constraint (sklearn C). Default 1. */
  readonly C?: number;
  /** Default "rbf" (sklearn's default). */
  readonly kernel?: SvmKernel;
  /** RBF width; default "scale" = 1/(d · Var(X)). */
  readonly gamma?: number | "scale";
  /** Stop when the maximal violating pair's gap is below this (sklearn tol, libsvm eps). Default 1e-3. */
  readonly tol?: number;
  /** Iteration cap; default max(10⁷, 100·n) as libsvm. */
  readonly maxIter?: number;
}

export interface SvmFit {
  readonly kernel: SvmKernel;
  readonly gamma: number;
  /** Support vectors (rows with α > 0), nSupport × d. */
  readonly support: Dense;
  /** α_i ỹ_i of each support vector (sklearn dual_coef_). */
  readonly dualCoef: Float64Array;
  /** −ρ (sklearn intercept_). */
  readonly intercept: number;
  readonly iterations: number;
}

const TAU = 1e-12;

/** γ = 1/(d · Var(X)) over all entries (sklearn gamma="scale"); 1 when the variance is 0. */
export function scaleGamma(X: Dense): number {
  const N = X.data.length;
  if (N === 0) return 1;
  let mean = 0;
  for (let e = 0; e < N; e++) mean += X.data[e];
  mean /= N;
  let v = 0;
  for (let e = 0; e < N; e++) v += (X.data[e] - mean) ** 2;
  v /= N;
  return v === 0 ? 1 : 1 / (X.nCols * v);
}

function kernelAt(
  kernel: SvmKernel,
  gamma: number,
  a: Float64Array,
  ao: number,
  b: Float64Array,
  bo: number,
  d: number,
): number {
  if (kernel === "linear") {
    let s = 0;
    for (let k = 0; k < d; k++) s += a[ao + k] * b[bo + k];
    return s;
  }
  let s = 0;
  for (let k = 0; k < d; k++) {
    const t = a[ao + k] - b[bo + k];
    s += t * t;
  }
  return Math.exp(-gamma * s);
}

/** Fits the classifier on X with labels y ∈ {0, 1}; both classes must occur. */
export function fitSvm(X: Dense, y: Uint8Array, options: SvmOptions = {}): SvmFit {
  const { nRows: n, nCols: d, data } = X;
  if (y.length !== n) throw new Error(`fitSvm: ${y.length} labels for ${n} rows`);
  const C = options.C ?? 1;
  if (!(C > 0)) throw new Error(`fitSvm: C must be positive, got ${C}`);
  const kernel = options.kernel ?? "rbf";
  const gamma = options.gamma === undefined || options.gamma === "scale" ? scaleGamma(X) : options.gamma;
  const tol = options.tol ?? 1e-3;
  const maxIter = options.maxIter ?? Math.max(10_000_000, 100 * n);
  const s = new Float64Array(n); // ỹ
  let nPos = 0;
  for (let i = 0; i < n; i++) {
    s[i] = y[i] === 1 ? 1 : -1;
    nPos += y[i] === 1 ? 1 : 0;
  }
  if (nPos === 0 || nPos === n) throw new Error("fitSvm: both classes must occur in the training labels");

  // Rows of Q on demand, kept in a least-recently-used cache of about 8·10⁶ entries (all of Q up to n ≈ 2800).
  const cache = new Map<number, Float64Array>();
  const maxRows = Math.max(2, Math.floor(8e6 / n));
  const row = (i: number): Float64Array => {
    const hit = cache.get(i);
    if (hit) {
      cache.delete(i);
      cache.set(i, hit);
      return hit;
    }
    const q = new Float64Array(n);
    for (let j = 0; j < n; j++) q[j] = s[i] * s[j] * kernelAt(kernel, gamma, data, i * d, data, j * d, d);
    if (cache.size >= maxRows) cache.delete(cache.keys().next().value as number);
    cache.set(i, q);
    return q;
  };
  const QD = new Float64Array(n);
  for (let i = 0; i < n; i++) QD[i] = kernelAt(kernel, gamma, data, i * d, data, i * d, d);

  const alpha = new Float64Array(n);
  const G = new Float64Array(n).fill(-1); // ∇ = Qα − e at α = 0
  const upper = (i: number): boolean => alpha[i] >= C;
  const lower = (i: number): boolean => alpha[i] <= 0;
  let iterations = 0;
  for (; iterations < maxIter; iterations++) {
    // WSS 3: i maximises −ỹ_t ∇_t over I_up; j minimises the second-order decrease over I_low.
    let gmax = Number.NEGATIVE_INFINITY;
    let gmax2 = Number.NEGATIVE_INFINITY;
    let i = -1;
    for (let t = 0; t < n; t++) {
      if (s[t] === 1) {
        if (!upper(t) && -G[t] >= gmax) {
          gmax = -G[t];
          i = t;
        }
      } else if (!lower(t) && G[t] >= gmax) {
        gmax = G[t];
        i = t;
      }
    }
    let j = -1;
    let objMin = Number.POSITIVE_INFINITY;
    const Qi = i >= 0 ? row(i) : null;
    for (let t = 0; t < n; t++) {
      if (s[t] === 1) {
        if (lower(t)) continue;
        const diff = gmax + G[t];
        if (G[t] >= gmax2) gmax2 = G[t];
        if (diff > 0 && Qi) {
          const quad = QD[i] + QD[t] - 2 * s[i] * Qi[t];
          const obj = -(diff * diff) / (quad > 0 ? quad : TAU);
          if (obj <= objMin) {
            j = t;
            objMin = obj;
          }
        }
      } else {
        if (upper(t)) continue;
        const diff = gmax - G[t];
        if (-G[t] >= gmax2) gmax2 = -G[t];
        if (diff > 0 && Qi) {
          const quad = QD[i] + QD[t] + 2 * s[i] * Qi[t];
          const obj = -(diff * diff) / (quad > 0 ? quad : TAU);
          if (obj <= objMin) {
            j = t;
            objMin = obj;
          }
        }
      }
    }
    if (gmax + gmax2 < tol || j === -1 || !Qi) break;

    const Qj = row(j);
    const ai = alpha[i];
    const aj = alpha[j];
    if (s[i] !== s[j]) {
      let quad = QD[i] + QD[j] + 2 * Qi[j];
      if (quad <= 0) quad = TAU;
      const delta = (-G[i] - G[j]) / quad;
      const diff = alpha[i] - alpha[j];
      alpha[i] += delta;
      alpha[j] += delta;
      if (diff > 0) {
        if (alpha[j] < 0) {
          alpha[j] = 0;
          alpha[i] = diff;
        }
      } else if (alpha[i] < 0) {
        alpha[i] = 0;
        alpha[j] = -diff;
      }
      if (diff > 0) {
        // diff > C_i − C_j = 0
        if (alpha[i] > C) {
          alpha[i] = C;
          alpha[j] = C - diff;
        }
      } else if (alpha[j] > C) {
        alpha[j] = C;
        alpha[i] = C + diff;
      }
    } else {
      let quad = QD[i] + QD[j] - 2 * Qi[j];
      if (quad <= 0) quad = TAU;
      const delta = (G[i] - G[j]) / quad;
      const sum = alpha[i] + alpha[j];
      alpha[i] -= delta;
      alpha[j] += delta;
      if (sum > C) {
        if (alpha[i] > C) {
          alpha[i] = C;
          alpha[j] = sum - C;
        }
      } else if (alpha[j] < 0) {
        alpha[j] = 0;
        alpha[i] = sum;
      }
      if (sum > C) {
        if (alpha[j] > C) {
          alpha[j] = C;
          alpha[i] = sum - C;
        }
      } else if (alpha[i] < 0) {
        alpha[i] = 0;
        alpha[j] = sum;
      }
    }
    const dai = alpha[i] - ai;
    const daj = alpha[j] - aj;
    for (let t = 0; t < n; t++) G[t] += Qi[t] * dai + Qj[t] * daj;
  }

  // ρ (libsvm calculate_rho).
  let ub = Number.POSITIVE_INFINITY;
  let lb = Number.NEGATIVE_INFINITY;
  let sumFree = 0;
  let nFree = 0;
  for (let t = 0; t < n; t++) {
    const yG = s[t] * G[t];
    if (upper(t)) {
      if (s[t] === -1) ub = Math.min(ub, yG);
      else lb = Math.max(lb, yG);
    } else if (lower(t)) {
      if (s[t] === 1) ub = Math.min(ub, yG);
      else lb = Math.max(lb, yG);
    } else {
      nFree++;
      sumFree += yG;
    }
  }
  const rho = nFree > 0 ? sumFree / nFree : (ub + lb) / 2;

  const sv: number[] = [];
  for (let t = 0; t < n; t++) if (alpha[t] > 0) sv.push(t);
  const support = new Float64Array(sv.length * d);
  const dualCoef = new Float64Array(sv.length);
  sv.forEach((t, k) => {
    support.set(data.subarray(t * d, t * d + d), k * d);
    dualCoef[k] = alpha[t] * s[t];
  });
  return {
    kernel,
    gamma,
    support: { nRows: sv.length, nCols: d, data: support },
    dualCoef,
    intercept: -rho,
    iterations,
  };
}

/** f(x) = Σ dualCoef_k K(sv_k, x) + intercept for every row of X (sklearn decision_function). */
export function svmDecision(fit: SvmFit, X: Dense): Float64Array {
  const d = X.nCols;
  if (d !== fit.support.nCols)
    throw new Error(`svmDecision: ${d} features, the classifier was fitted on ${fit.support.nCols}`);
  const out = new Float64Array(X.nRows);
  const sv = fit.support;
  for (let i = 0; i < X.nRows; i++) {
    let f = fit.intercept;
    for (let k = 0; k < sv.nRows; k++)
      f += fit.dualCoef[k] * kernelAt(fit.kernel, fit.gamma, sv.data, k * d, X.data, i * d, d);
    out[i] = f;
  }
  return out;
}

/** Class 1 where f(x) > 0, else 0 (sklearn predict for a binary SVC). */
export function svmPredict(fit: SvmFit, X: Dense): Uint8Array {
  const f = svmDecision(fit, X);
  const out = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = f[i] > 0 ? 1 : 0;
  return out;
}
