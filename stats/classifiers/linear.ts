/**
 * Ordinary least squares with an intercept: β minimises ‖y − b − Xw‖². Solved by modified Gram–Schmidt QR of
 * [1 X] with one re-orthogonalisation pass; a column whose remaining norm is below 1e-10 of its original norm
 * is linearly dependent on the earlier ones (e.g. a full one-hot block beside the intercept) and gets weight 0.
 * That is a basic least-squares solution: its fitted values, and predictions for rows in the same span (one-hot
 * rows), equal numpy.linalg.lstsq's minimum-norm solution's.
 */
import type { Dense } from "../primitives/matrix.ts";

export interface LinearFit {
  readonly weights: Float64Array;
  readonly intercept: number;
  /** Columns dropped as linearly dependent (indices into X's columns). */
  readonly dropped: number[];
}

export function fitLinear(X: Dense, y: ArrayLike<number>): LinearFit {
  const { nRows: n, nCols: d } = X;
  if (y.length !== n) throw new RangeError(`fitLinear: ${n} rows but ${y.length} targets`);
  if (n === 0) throw new RangeError("fitLinear: no rows");
  const p = d + 1;
  // Column-major copy of [1 X].
  const A = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    A[i] = 1;
    for (let j = 0; j < d; j++) A[(j + 1) * n + i] = X.data[i * d + j];
  }
  const R = new Float64Array(p * p);
  const kept: number[] = [];
  const qty = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const a = A.subarray(j * n, j * n + n);
    let norm0 = 0;
    for (let i = 0; i < n; i++) norm0 += a[i] * a[i];
    norm0 = Math.sqrt(norm0);
    for (let pass = 0; pass < 2; pass++) {
      for (const k of kept) {
        const q = A.subarray(k * n, k * n + n);
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[i] * a[i];
        R[k * p + j] += dot;
        for (let i = 0; i < n; i++) a[i] -= dot * q[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += a[i] * a[i];
    norm = Math.sqrt(norm);
    if (norm0 === 0 || norm <= 1e-10 * norm0) continue;
    R[j * p + j] = norm;
    for (let i = 0; i < n; i++) a[i] /= norm;
    let dot = 0;
    for (let i = 0; i < n; i++) dot += a[i] * y[i];
    qty[j] = dot;
    kept.push(j);
  }
  // Back substitution over the kept columns: R_kk β_k + Σ_{later kept l} R_kl β_l = qᵀy.
  const beta = new Float64Array(p);
  for (let t = kept.length - 1; t >= 0; t--) {
    const k = kept[t];
    let s = qty[k];
    for (let u = t + 1; u < kept.length; u++) s -= R[k * p + kept[u]] * beta[kept[u]];
    beta[k] = s / R[k * p + k];
  }
  const dropped: number[] = [];
  for (let j = 1; j < p; j++) if (!kept.includes(j)) dropped.push(j - 1);
  return { weights: beta.slice(1), intercept: beta[0], dropped };
}

export function predictLinear(fit: LinearFit, X: Dense): Float64Array {
  const { nRows: n, nCols: d } = X;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = fit.intercept;
    for (let j = 0; j < d; j++) s += fit.weights[j] * X.data[i * d + j];
    out[i] = s;
  }
  return out;
}

// R² = 1 − Σ(y − ŷ)²/Σ(y − ȳ)² (sklearn r2_score; NaN when y is constant).
export function r2Score(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const n = truth.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += truth[i];
  mean /= n;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < n; i++) {
    res += (truth[i] - pred[i]) ** 2;
    tot += (truth[i] - mean) ** 2;
  }
  return tot === 0 ? Number.NaN : 1 - res / tot;
}

// RMSE = sqrt(Σ(y − ŷ)²/n).
export function rmse(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += (truth[i] - pred[i]) ** 2;
  return truth.length === 0 ? Number.NaN : Math.sqrt(s / truth.length);
}
