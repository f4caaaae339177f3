/**
 * Special functions ported from scipy's cephes (scipy/special/xsf/cephes: gamma.h, lanczos.h, unity.h, igam.h).
 * Pure scalar functions; constants and branch points are cephes' own so results track scipy to ~1 ulp·κ.
 * Hand-written: no installed dependency provides incomplete gamma functions; cephes is what scipy evaluates.
 */

/** Machine epsilon of cephes (2^-53). */
export const MACHEP = 1.1102230246251565e-16;
/** log(DBL_MAX). */
export const MAXLOG = 709.782712893384;
/** log(2^-1075): exp() of anything below underflows to 0. */
export const MINLOG = -745.1332191019412;

const LS2PI = 0.9189385332046728; // log(sqrt(2π))
const LOGPI = 1.1447298858494002;
const EULER = 0.5772156649015329;
const MAXLGM = 2.556348e305;
const IGAM_MAXITER = 2000;
const IGAM_BIG = 4.503599627370496e15;
const IGAM_BIGINV = 2.220446049250313e-16;

// p(x) = c[0]·x^n + … + c[n] (cephes polevl).
function polevl(x: number, c: readonly number[], n: number): number {
  let ans = c[0];
  for (let i = 1; i <= n; i++) ans = ans * x + c[i];
  return ans;
}

// p(x) = x^n + c[0]·x^(n−1) + … + c[n−1] (cephes p1evl: leading coefficient 1 omitted).
function p1evl(x: number, c: readonly number[], n: number): number {
  let ans = x + c[0];
  for (let i = 1; i < n; i++) ans = ans * x + c[i];
  return ans;
}

// num(x)/den(x), evaluated in 1/x when |x| > 1 to avoid overflow (cephes ratevl).
function ratevl(x: number, num: readonly number[], m: number, den: readonly number[], n: number): number {
  const absx = Math.abs(x);
  const inv = absx > 1;
  const y = inv ? 1 / x : x;
  let a = inv ? num[m] : num[0];
  for (let i = 1; i <= m; i++) a = a * y + (inv ? num[m - i] : num[i]);
  let b = inv ? den[n] : den[0];
  for (let i = 1; i <= n; i++) b = b * y + (inv ? den[n - i] : den[i]);
  return inv ? (x ** (n - m) * a) / b : a / b;
}

const GAMMA_A = [
  0.0008116141674705085, -0.0005950619042843014, 0.0007936503404577169, -0.002777777777300997,
  0.08333333333333319,
];
const GAMMA_B = [
  -1378.2515256912086, -38801.631513463784, -331612.9927388712, -1162370.974927623, -1721737.0082083966,
  -853555.6642457654,
];
const GAMMA_C = [
  -351.81570143652345, -17064.210665188115, -220528.59055385445, -1139334.4436798252, -2532523.0717758294,
  -2018891.4143353277,
];

// sin(πx) with exact argument reduction (only used by the lgam reflection for x < −34).
function sinpi(x: number): number {
  const s = x < 0 ? -1 : 1;
  let r = Math.abs(x) % 2;
  if (r > 1) return -s * sinpi(r - 1);
  if (r > 0.5) r = 1 - r;
  return s * Math.sin(Math.PI * r);
}

/** log|Γ(x)| (cephes lgam: Stirling series for x ≥ 13, rational approximation on [2,3] below). */
export function lgam(x: number): number {
  if (!Number.isFinite(x)) return x;
  if (x < -34) {
    const q = -x;
    const w = lgam(q);
    let p = Math.floor(q);
    if (p === q) return Number.POSITIVE_INFINITY;
    let z = q - p;
    if (z > 0.5) {
      p += 1;
      z = p - q;
    }
    z = q * sinpi(z);
    if (z === 0) return Number.POSITIVE_INFINITY;
    return LOGPI - Math.log(Math.abs(z)) - w;
  }
  if (x < 13) {
    let z = 1;
    let p = 0;
    let u = x;
    while (u >= 3) {
      p -= 1;
      u = x + p;
      z *= u;
    }
    while (u < 2) {
      if (u === 0) return Number.POSITIVE_INFINITY;
      z /= u;
      p += 1;
      u = x + p;
    }
    if (z < 0) z = -z;
    if (u === 2) return Math.log(z);
    p -= 2;
    const y = x + p;
    return Math.log(z) + (y * polevl(y, GAMMA_B, 5)) / p1evl(y, GAMMA_C, 6);
  }
  if (x > MAXLGM) return Number.POSITIVE_INFINITY;
  if (x >= 1000) {
    const q = (x - 0.5) * Math.log(x) - x + LS2PI;
    if (x > 1e8) return q;
    const p = 1 / (x * x);
    return q + ((0.0007936507936507937 * p - 0.002777777777777778) * p + 0.08333333333333333) / x;
  }
  const q = (x - 0.5) * Math.log(x) - x + LS2PI;
  const p = 1 / (x * x);
  return q + polevl(p, GAMMA_A, 4) / x;
}

// ζ(n) for n = 2..41 by Euler–Maclaurin (N = 10 terms + 8 Bernoulli corrections; error < 1e-20).
const ZETA: Float64Array = (() => {
  const b2j = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510];
  const out = new Float64Array(42);
  const N = 10;
  for (let s = 2; s <= 41; s++) {
    let sum = 0;
    for (let k = N - 1; k >= 1; k--) sum += k ** -s;
    let tail = N ** (1 - s) / (s - 1) + N ** -s / 2;
    // term_j = B_2j/(2j)! · s(s+1)…(s+2j−2) · N^(−s−2j+1)
    let rising = s;
    let fact = 2;
    for (let j = 1; j <= b2j.length; j++) {
      if (j > 1) {
        rising *= (s + 2 * j - 3) * (s + 2 * j - 2);
        fact *= (2 * j - 1) * (2 * j);
      }
      tail += (b2j[j - 1] / fact) * rising * N ** (-s - 2 * j + 1);
    }
    out[s] = sum + tail;
  }
  return out;
})();

// log Γ(1+x) near x = 0 by its Taylor series −γx + Σ ζ(n)(−x)^n/n (cephes lgam1p_taylor).
function lgam1pTaylor(x: number): number {
  if (x === 0) return 0;
  let res = -EULER * x;
  let xfac = -x;
  for (let n = 2; n < 42; n++) {
    xfac *= -x;
    const coeff = (ZETA[n] * xfac) / n;
    res += coeff;
    if (Math.abs(coeff) < MACHEP * Math.abs(res)) break;
  }
  return res;
}

/** log Γ(1+x), accurate near x = 0 and x = 1 (cephes lgam1p). */
export function lgam1p(x: number): number {
  if (Math.abs(x) <= 0.5) return lgam1pTaylor(x);
  if (Math.abs(x - 1) < 0.5) return Math.log(x) + lgam1pTaylor(x - 1);
  return lgam(x + 1);
}

/** log(1+x) − x without cancellation for small x (cephes log1pmx). */
export function log1pmx(x: number): number {
  if (Math.abs(x) < 0.5) {
    let xfac = x;
    let res = 0;
    for (let n = 2; n < 500; n++) {
      xfac *= -x;
      const term = xfac / n;
      res += term;
      if (Math.abs(term) < MACHEP * Math.abs(res)) break;
    }
    return res;
  }
  return Math.log1p(x) - x;
}

const LANCZOS_G = 6.02468004077673;
const LANCZOS_EXPG_NUM = [
  0.006061842346248907, 0.5098416655656676, 19.519927882476175, 449.9445569063168, 6955.999602515376,
  75999.29304014542, 601859.6171681099, 3481712.154980646, 14605578.087685067, 43338889.32467614,
  86363131.2881386, 103794043.11634454, 56906521.913471565,
];
const LANCZOS_EXPG_DEN = [
  1, 66, 1925, 32670, 357423, 2637558, 13339535, 45995730, 105258076, 150917976, 120543840, 39916800, 0,
];

// x^a·e^(−x)/Γ(a), via the Lanczos form when a ≈ x to avoid cancellation (cephes igam_fac).
function igamFac(a: number, x: number): number {
  if (Math.abs(a - x) > 0.4 * Math.abs(a)) {
    const ax = a * Math.log(x) - x - lgam(a);
    if (ax < -MAXLOG) return 0;
    return Math.exp(ax);
  }
  const fac = a + LANCZOS_G - 0.5;
  let res = Math.sqrt(fac / Math.E) / ratevl(a, LANCZOS_EXPG_NUM, 12, LANCZOS_EXPG_DEN, 12);
  if (a < 200 && x < 200) {
    res *= Math.exp(a - x) * (x / fac) ** a;
  } else {
    const num = x - a - LANCZOS_G + 0.5;
    res *= Math.exp(a * log1pmx(num / fac) + (x * (0.5 - LANCZOS_G)) / fac);
  }
  return res;
}

// Q(a,x) by the continued fraction DLMF 8.9.2 (cephes igamc_continued_fraction).
function igamcContinuedFraction(a: number, x: number): number {
  const ax = igamFac(a, x);
  if (ax === 0) return 0;
  let y = 1 - a;
  let z = x + y + 1;
  let c = 0;
  let pkm2 = 1;
  let qkm2 = x;
  let pkm1 = x + 1;
  let qkm1 = z * x;
  let ans = pkm1 / qkm1;
  for (let i = 0; i < IGAM_MAXITER; i++) {
    c += 1;
    y += 1;
    z += 2;
    const yc = y * c;
    const pk = pkm1 * z - pkm2 * yc;
    const qk = qkm1 * z - qkm2 * yc;
    let t: number;
    if (qk !== 0) {
      const r = pk / qk;
      t = Math.abs((ans - r) / r);
      ans = r;
    } else t = 1;
    pkm2 = pkm1;
    pkm1 = pk;
    qkm2 = qkm1;
    qkm1 = qk;
    if (Math.abs(pk) > IGAM_BIG) {
      pkm2 *= IGAM_BIGINV;
      pkm1 *= IGAM_BIGINV;
      qkm2 *= IGAM_BIGINV;
      qkm1 *= IGAM_BIGINV;
    }
    if (t <= MACHEP) break;
  }
  return ans * ax;
}

// P(a,x) by the power series DLMF 8.11.4 (cephes igam_series).
function igamSeries(a: number, x: number): number {
  const ax = igamFac(a, x);
  if (ax === 0) return 0;
  let r = a;
  let c = 1;
  let ans = 1;
  for (let i = 0; i < IGAM_MAXITER; i++) {
    r += 1;
    c *= x / r;
    ans += c;
    if (c <= MACHEP * ans) break;
  }
  return (ans * ax) / a;
}

// Q(a,x) for small x by DLMF 8.7.3, avoiding the cancellation of 1 − P (cephes igamc_series).
function igamcSeries(a: number, x: number): number {
  let fac = 1;
  let sum = 0;
  for (let n = 1; n < IGAM_MAXITER; n++) {
    fac *= -x / n;
    const term = fac / (a + n);
    sum += term;
    if (Math.abs(term) <= MACHEP * Math.abs(sum)) break;
  }
  const logx = Math.log(x);
  const term = -Math.expm1(a * logx - lgam1p(a));
  return term - Math.exp(a * logx - lgam(a)) * sum;
}

/**
 * Regularized lower incomplete gamma P(a, x) = γ(a,x)/Γ(a) (scipy.special.gammainc, cephes igam).
 * Departs from cephes only for a > 20 with x ≈ a, where cephes switches to the Temme asymptotic series and
 * this uses the series/continued fraction (still converges; accuracy ~1e-14 relative there).
 */
export function gammainc(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x)) return Number.NaN;
  if (x < 0 || a < 0) return Number.NaN;
  if (a === 0) return x > 0 ? 1 : Number.NaN;
  if (x === 0) return 0;
  if (!Number.isFinite(a)) return Number.isFinite(x) ? 0 : Number.NaN;
  if (!Number.isFinite(x)) return 1;
  if (x > 1 && x > a) return 1 - gammaincc(a, x);
  return igamSeries(a, x);
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a,x)/Γ(a) (scipy.special.gammaincc, cephes igamc). */
export function gammaincc(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x)) return Number.NaN;
  if (x < 0 || a < 0) return Number.NaN;
  if (a === 0) return x > 0 ? 0 : Number.NaN;
  if (x === 0) return 1;
  if (!Number.isFinite(a)) return Number.isFinite(x) ? 1 : Number.NaN;
  if (!Number.isFinite(x)) return 0;
  if (x > 1.1) {
    return x < a ? 1 - igamSeries(a, x) : igamcContinuedFraction(a, x);
  }
  if (x <= 0.5) {
    return -0.4 / Math.log(x) < a ? 1 - igamSeries(a, x) : igamcSeries(a, x);
  }
  return x * 1.1 < a ? 1 - igamSeries(a, x) : igamcSeries(a, x);
}

/** χ² survival function: Q(df/2, x/2) (scipy.stats.chi2.sf = cephes chdtrc; x < 0 gives 1). */
export function chi2Sf(df: number, x: number): number {
  if (Number.isNaN(x) || Number.isNaN(df) || df <= 0) return Number.NaN;
  if (x < 0) return 1;
  return gammaincc(df / 2, x / 2);
}
