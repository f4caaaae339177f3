/**
 * The copula's correlation matrix: Pearson correlation of the normal scores over pairwise-complete rows (pandas
 * DataFrame.corr, which Copulas' GaussianMultivariate calls), NaN entries (a constant column) set to 0 as
 * Copulas does, then made positive definite by shrinking towards the identity, R_λ = (1−λ)R + λI with λ from
 * 1e-12 doubling until a Cholesky factorisation R_λ = LLᵀ succeeds (unit diagonal kept; the smallest eigenvalue
 * rises by λ(1 − μ_min)). Copulas instead adds ε·I when cond(R) > 1/ε and lets numpy's SVD sampler cope.
 */

/** Lower-triangular L with A = LLᵀ (d×d row-major), or null when A is not positive definite. */
export function cholesky(a: Float64Array, d: number): Float64Array | null {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j];
      for (let k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / l[j * d + j];
    }
  }
  return l;
}

/** Pearson correlation of columns `z` (NaN = missing) over rows where both are present; d×d row-major. */
export function pairwiseCorrelation(z: readonly Float64Array[]): Float64Array {
  const d = z.length;
  const r = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    r[i * d + i] = 1;
    for (let j = 0; j < i; j++) {
      const v = pearsonComplete(z[i], z[j]);
      r[i * d + j] = v;
      r[j * d + i] = v;
    }
  }
  return r;
}

function pearsonComplete(x: Float64Array, y: Float64Array): number {
  let n = 0;
  let mx = 0;
  let my = 0;
  for (let k = 0; k < x.length; k++) {
    if (x[k] !== x[k] || y[k] !== y[k]) continue;
    n++;
    mx += x[k];
    my += y[k];
  }
  if (n < 2) return 0;
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < x.length; k++) {
    if (x[k] !== x[k] || y[k] !== y[k]) continue;
    const dx = x[k] - mx;
    const dy = y[k] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const c = sxy / Math.sqrt(sxx * syy);
  return Number.isFinite(c) ? Math.max(-1, Math.min(1, c)) : 0;
}

/** R shrunk towards I just enough for Cholesky to succeed; returns the matrix and its factor. */
export function positiveDefinite(r: Float64Array, d: number): { corr: Float64Array; chol: Float64Array } {
  let chol = cholesky(r, d);
  if (chol) return { corr: r, chol };
  for (let lambda = 1e-12; lambda <= 1; lambda *= 2) {
    const s = new Float64Array(d * d);
    for (let k = 0; k < d * d; k++) s[k] = (1 - lambda) * r[k];
    for (let i = 0; i < d; i++) s[i * d + i] = 1;
    chol = cholesky(s, d);
    if (chol) return { corr: s, chol };
  }
  const eye = new Float64Array(d * d);
  for (let i = 0; i < d; i++) eye[i * d + i] = 1;
  return { corr: eye, chol: Float64Array.from(eye) };
}
