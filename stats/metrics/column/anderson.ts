/**
 * Anderson–Darling k-sample test for k = 2, midrank variant (scipy.stats.anderson_ksamp; Scholz & Stephens 1987),
 * on ascending NaN-free arrays: one merge pass over the distinct pooled values.
 */

export type AndersonKSampResult =
  | {
      /** Standardised statistic T = (A²akN − (k−1))/σ. */
      readonly statistic: number;
      /** Interpolated significance level, capped to [0.001, 0.25]. */
      readonly pvalue: number;
      /** True when T lies outside the tabulated critical values and the p-value was capped/floored. */
      readonly pvalueClipped: boolean;
      /** Unstandardised midrank statistic A²akN. */
      readonly a2akN: number;
    }
  | { readonly error: string };

const B0 = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
const B1 = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
const B2 = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];
const SIG = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];

/**
 * A²akN = (N−1)/N · Σ_i (1/n_i) Σ_j (l_j/N)(N·M_ij − n_i·B_j)²/(B_j(N−B_j) − N·l_j/4), then T and its p-value
 * (scipy.stats.anderson_ksamp(midrank=True) with k = 2).
 */
export function andersonKSamp2Sorted(a: Float64Array, b: Float64Array): AndersonKSampResult {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { error: "anderson_ksamp encountered sample without observations" };
  const N = n + m;
  let i = 0;
  let j = 0;
  let distinct = 0;
  let sa = 0;
  let sb = 0;
  while (i < n || j < m) {
    const z = j >= m || (i < n && a[i] <= b[j]) ? a[i] : b[j];
    const i0 = i;
    const j0 = j;
    while (i < n && a[i] === z) i++;
    while (j < m && b[j] === z) j++;
    distinct++;
    const fa = i - i0;
    const fb = j - j0;
    const l = fa + fb;
    const B = i0 + j0 + l / 2;
    const den = B * (N - B) - (N * l) / 4;
    const Ma = i0 + fa / 2;
    const Mb = j0 + fb / 2;
    const da = N * Ma - B * n;
    const db = N * Mb - B * m;
    sa += ((l / N) * (da * da)) / den;
    sb += ((l / N) * (db * db)) / den;
  }
  if (distinct < 2) return { error: "anderson_ksamp needs more than one distinct observation" };
  // scipy indexes an empty harmonic-sum array when N < 3.
  if (N < 3) return { error: "anderson_ksamp needs at least 3 observations" };
  const a2akN = (sa / n + sb / m) * ((N - 1) / N);

  const k = 2;
  const H = 1 / n + 1 / m;
  // hs_cs = cumsum(1/(N−1), 1/(N−2), …, 1/2); h = hs_cs[−1] + 1; g = Σ hs_cs[t]/(t+2).
  let cs = 0;
  let g = 0;
  for (let t = 0; t < N - 2; t++) {
    cs += 1 / (N - 1 - t);
    g += cs / (t + 2);
  }
  const h = cs + 1;
  const ca = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H;
  const cb = (2 * g - 4) * k ** 2 + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6;
  const cc = (6 * h + 2 * g - 2) * k ** 2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h;
  const cd = (2 * h + 6) * k ** 2 - 4 * h * k;
  const sigmasq = (ca * N ** 3 + cb * N ** 2 + cc * N + cd) / ((N - 1) * (N - 2) * (N - 3));
  const km1 = k - 1;
  const T = (a2akN - km1) / Math.sqrt(sigmasq);

  const crit = B0.map((b0, t) => b0 + B1[t] / Math.sqrt(km1) + B2[t] / km1);
  const cmin = Math.min(...crit);
  const cmax = Math.max(...crit);
  if (T < cmin) return { statistic: T, pvalue: 0.25, pvalueClipped: true, a2akN };
  if (T > cmax) return { statistic: T, pvalue: 0.001, pvalueClipped: true, a2akN };
  const c = quadraticFit(
    crit,
    SIG.map((s) => Math.log(s)),
  );
  return { statistic: T, pvalue: Math.exp(c(T)), pvalueClipped: false, a2akN };
}

// Least-squares quadratic through (x, y) as numpy.polyfit(x, y, 2), solved on centred/scaled x for conditioning;
// returns the fitted polynomial as a function.
function quadraticFit(x: readonly number[], y: readonly number[]): (t: number) => number {
  const n = x.length;
  const mu = x.reduce((s, v) => s + v, 0) / n;
  const sc = Math.sqrt(x.reduce((s, v) => s + (v - mu) ** 2, 0) / n) || 1;
  // Normal equations in u = (x − mu)/sc: [Σu⁴ Σu³ Σu²; Σu³ Σu² Σu; Σu² Σu n]·[c2 c1 c0] = [Σu²y Σuy Σy].
  const S = new Float64Array(5);
  const R = new Float64Array(3);
  for (let t = 0; t < n; t++) {
    const u = (x[t] - mu) / sc;
    let p = 1;
    for (let e = 0; e < 5; e++, p *= u) S[e] += p;
    R[0] += u * u * y[t];
    R[1] += u * y[t];
    R[2] += y[t];
  }
  const M = [
    [S[4], S[3], S[2], R[0]],
    [S[3], S[2], S[1], R[1]],
    [S[2], S[1], S[0], R[2]],
  ];
  // Gaussian elimination with partial pivoting on the 3×4 augmented system.
  for (let col = 0; col < 3; col++) {
    let piv = col;
    for (let r = col + 1; r < 3; r++) if (Math.abs(M[r][col]) > Math.abs(M[piv][col])) piv = r;
    [M[col], M[piv]] = [M[piv], M[col]];
    for (let r = col + 1; r < 3; r++) {
      const f = M[r][col] / M[col][col];
      for (let cc = col; cc < 4; cc++) M[r][cc] -= f * M[col][cc];
    }
  }
  const coef = [0, 0, 0];
  for (let r = 2; r >= 0; r--) {
    let s = M[r][3];
    for (let cc = r + 1; cc < 3; cc++) s -= M[r][cc] * coef[cc];
    coef[r] = s / M[r][r];
  }
  return (t: number) => {
    const u = (t - mu) / sc;
    return (coef[0] * u + coef[1]) * u + coef[2];
  };
}
