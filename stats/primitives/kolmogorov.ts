/**
 * Kolmogorov–Smirnov distributions, ported from scipy: the one-sided Smirnov SF (scipy/special/xsf/cephes/
 * kolmogorov.h `_smirnov`, with its double-double arithmetic) and the two-sided finite-n distribution `kstwo`
 * (scipy/stats/_ksstats.py `_kolmogn` and its Durbin/MTW, Pomeranz and Pelz–Good branches, Simard & L'Ecuyer 2011).
 */
import { lgam, MINLOG } from "./special.ts";

// ---------------------------------------------------------------------------------------------------------------
// Double-double arithmetic (Dekker/Knuth error-free transforms, as xsf dd_real.h), on scalar (hi, lo) pairs so the
// O(n) Smirnov sum allocates nothing: each function returns the high word and leaves the low word in `SCRATCH[LO]`.

const SPLITTER = 134217729; // 2^27 + 1
const DBL_EPS = 2.220446049250313e-16;
// Low word of the last double-double result, and the exponents returned by frexp/pow2Scaled, in typed-array
// slots: module-level `let` doubles would be re-boxed (a heap allocation) on every store.
const SCRATCH = new Float64Array(3);
const LO = 0;
const FREXP_E = 1;
const POW_E = 2;

function quickTwoSum(a: number, b: number): number {
  const s = a + b;
  SCRATCH[LO] = b - (s - a);
  return s;
}

function twoSum(a: number, b: number): number {
  const s = a + b;
  const bb = s - a;
  SCRATCH[LO] = a - (s - bb) + (b - bb);
  return s;
}

// a·b = p + e exactly (Dekker split; JS has no FMA).
function twoProdErr(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

function ddAdd(ah: number, al: number, bh: number, bl: number): number {
  const s1 = twoSum(ah, bh);
  let s2 = SCRATCH[LO];
  const t1 = twoSum(al, bl);
  const t2 = SCRATCH[LO];
  s2 += t1;
  const u = quickTwoSum(s1, s2);
  return quickTwoSum(u, SCRATCH[LO] + t2);
}

function ddAddD(ah: number, al: number, b: number): number {
  const s1 = twoSum(ah, b);
  return quickTwoSum(s1, SCRATCH[LO] + al);
}

function ddMul(ah: number, al: number, bh: number, bl: number): number {
  const p = ah * bh;
  return quickTwoSum(p, twoProdErr(ah, bh, p) + (ah * bl + al * bh));
}

function ddMulD(ah: number, al: number, b: number): number {
  const p = ah * b;
  return quickTwoSum(p, twoProdErr(ah, b, p) + al * b);
}

function ddDivD(ah: number, al: number, b: number): number {
  const q1 = ah / b;
  const p1 = q1 * b;
  const p2 = twoProdErr(q1, b, p1);
  const s = twoSum(ah, -p1);
  const e = SCRATCH[LO] + al - p2;
  return quickTwoSum(q1, (s + e) / b);
}

function ddDiv(ah: number, al: number, bh: number, bl: number): number {
  const q1 = ah / bh;
  let rh = ddMulD(bh, bl, q1);
  rh = ddAdd(ah, al, -rh, -SCRATCH[LO]);
  let rl = SCRATCH[LO];
  const q2 = rh / bh;
  const ph = ddMulD(bh, bl, q2);
  rh = ddAdd(rh, rl, -ph, -SCRATCH[LO]);
  rl = SCRATCH[LO];
  const q3 = rh / bh;
  const qh = quickTwoSum(q1, q2);
  return ddAddD(qh, SCRATCH[LO], q3);
}

// 2^e for e in [−1074, 1023], so ldexp/frexp are a table lookup instead of a pow() call.
const POW2 = (() => {
  const t = new Float64Array(2098);
  let v = 1;
  for (let e = 0; e <= 1023; e++, v *= 2) t[e + 1074] = v;
  v = 1;
  for (let e = 0; e >= -1074; e--, v /= 2) t[e + 1074] = v;
  return t;
})();

/** x·2^e without intermediate overflow/underflow (C ldexp). */
export function ldexp(x: number, e: number): number {
  if (e >= -1022 && e <= 1023) return x * POW2[e + 1074];
  while (e > 1023) {
    x *= 8.98846567431158e307; // 2^1023
    e -= 1023;
    if (!Number.isFinite(x)) return x;
  }
  while (e < -1022) {
    x *= 2.2250738585072014e-308; // 2^-1022
    e += 1022;
    if (x === 0) return x;
  }
  return x * POW2[e + 1074];
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // index of the high word

/** Mantissa in [0.5, 1) of x (C frexp); the exponent is left in `SCRATCH[FREXP_E]` to avoid a tuple allocation. */
function frexp(x: number): number {
  if (x === 0 || !Number.isFinite(x)) {
    SCRATCH[FREXP_E] = 0;
    return x;
  }
  F64[0] = x;
  let bexp = (U32[HI] >>> 20) & 0x7ff;
  let scale = 0;
  if (bexp === 0) {
    // Subnormal: normalise first.
    F64[0] = x * 18014398509481984; // 2^54
    bexp = (U32[HI] >>> 20) & 0x7ff;
    scale = 54;
  }
  SCRATCH[FREXP_E] = bexp - 1022 - scale;
  // Replace the exponent field by 1022 (value in [0.5, 1)).
  U32[HI] = (U32[HI] & 0x800fffff) | (1022 << 20);
  return F64[0];
}

// frexp of a double-double: significand (hi returned, lo in SCRATCH[LO]), exponent in `SCRATCH[FREXP_E]`.
function ddFrexp(ah: number, al: number): number {
  let m = frexp(ah);
  let e = SCRATCH[FREXP_E];
  let b = ldexp(al, -e);
  if (Math.abs(m) === 0.5 && m * b < 0) {
    m *= 2;
    b *= 2;
    e -= 1;
  }
  SCRATCH[FREXP_E] = e;
  SCRATCH[LO] = b;
  return m;
}

// a^m for a double-double base: pow of the high word corrected by (1 + lo/hi)^m (xsf pow_D).
function powD(ah: number, al: number, m: number): number {
  if (m <= 0) {
    if (m === 0) {
      SCRATCH[LO] = 0;
      return 1;
    }
    const ph = powD(ah, al, -m);
    return ddDiv(1, 0, ph, SCRATCH[LO]);
  }
  if (ah === 0 && al === 0) {
    SCRATCH[LO] = 0;
    return 0;
  }
  const ans = ah ** m;
  const r = al / ah;
  let adj = m * r;
  if (Math.abs(adj) > 1e-8) {
    if (Math.abs(adj) < 1e-4) adj += m * r * (((m - 1) / 2) * r);
    else adj = Math.expm1(m * Math.log1p(r));
  }
  return ddAddD(ans, 0, ans * adj);
}

const SM_MAX_EXPONENT = 960;

// a^m = significand·2^SCRATCH[POW_E] (significand hi returned, lo in SCRATCH[LO]), splitting m to avoid underflow (xsf pow2Scaled_D).
function pow2Scaled(ah: number, al: number, m: number): number {
  if (m <= 0) {
    if (m === 0) {
      SCRATCH[POW_E] = 0;
      SCRATCH[LO] = 0;
      return 1;
    }
    const ih = pow2Scaled(ah, al, -m);
    const aE1 = SCRATCH[POW_E];
    const qh = ddDiv(1, 0, ih, SCRATCH[LO]);
    const fh = ddFrexp(qh, SCRATCH[LO]);
    SCRATCH[POW_E] = -aE1 + SCRATCH[FREXP_E];
    return fh;
  }
  const yh = ddFrexp(ah, al);
  const yl = SCRATCH[LO];
  const yE = SCRATCH[FREXP_E];
  if (m === 1) {
    SCRATCH[POW_E] = yE;
    SCRATCH[LO] = yl;
    return yh;
  }
  let maxExpt = SM_MAX_EXPONENT;
  if ((m * (yh - 1)) / yh < -SM_MAX_EXPONENT * Math.LN2) {
    const lg2y = Math.log(yh) / Math.LN2;
    if (m * lg2y <= -SM_MAX_EXPONENT) maxExpt = Math.trunc(nextPowerOf2(-SM_MAX_EXPONENT / lg2y + 1) / 2);
  }
  if (m <= maxExpt) {
    const ph = powD(yh, yl, m);
    const fh = ddFrexp(ph, SCRATCH[LO]);
    SCRATCH[POW_E] = SCRATCH[FREXP_E] + m * yE;
    return fh;
  }
  const q = Math.trunc(m / maxExpt);
  const r = m % maxExpt;
  const y2rh = pow2Scaled(yh, yl, r);
  const y2rl = SCRATCH[LO];
  const y2rE = SCRATCH[POW_E];
  const y2mh = pow2Scaled(yh, yl, maxExpt);
  const y2ml = SCRATCH[LO];
  const y2mE = SCRATCH[POW_E];
  const y2mqh = pow2Scaled(y2mh, y2ml, q);
  const y2mql = SCRATCH[LO];
  const y2mqE = SCRATCH[POW_E] + y2mE * q;
  const ph = ddMul(y2rh, y2rl, y2mqh, y2mql);
  const fh = ddFrexp(ph, SCRATCH[LO]);
  SCRATCH[POW_E] = SCRATCH[FREXP_E] + y2mqE + y2rE + m * yE;
  return fh;
}

// Smallest power of two ≥ x, for positive x (xsf nextPowerOf2).
function nextPowerOf2(x: number): number {
  const q = ldexp(x, 1 - 53);
  let L = Math.abs(q + x);
  if (L === 0) L = Math.abs(x);
  else if (Math.trunc(L) === L) L = Math.trunc(L);
  return L;
}

// ((a+b)/(c+d))^m in double-double (xsf pow4_D).
function pow4D(a: number, b: number, c: number, d: number, m: number): number {
  if (m <= 0) {
    if (m === 0) {
      SCRATCH[LO] = 0;
      return 1;
    }
    return pow4D(c, d, a, b, -m);
  }
  const Ah = twoSum(a, b);
  const Al = SCRATCH[LO];
  const Ch = twoSum(c, d);
  const Cl = SCRATCH[LO];
  if (Ah === 0 && Al === 0) {
    SCRATCH[LO] = 0;
    return Ch === 0 && Cl === 0 ? Number.NaN : 0;
  }
  if (Ch === 0 && Cl === 0) {
    SCRATCH[LO] = 0;
    return Ah < 0 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  const xh = ddDiv(Ah, Al, Ch, Cl);
  return powD(xh, SCRATCH[LO], m);
}

// ---------------------------------------------------------------------------------------------------------------
// Loader (2000) saddle-point pieces of the binomial pmf: dbinom(k; n, p) =
// sqrt(n/(2πk(n−k)))·exp(stirlerr(n) − stirlerr(k) − stirlerr(n−k) − bd0(k, np) − bd0(n−k, nq)).

const LS2PI = 0.9189385332046728; // log(sqrt(2π))

// Stirling-series coefficients 1/12, 1/360, 1/1260, 1/1680, 1/1188 (Loader's S0..S4).
const S0 = 1 / 12;
const S1 = 1 / 360;
const S2 = 1 / 1260;
const S3 = 1 / 1680;
const S4 = 1 / 1188;

// stirlerr(k) = log k! − log(sqrt(2πk)·(k/e)^k) (Loader; series in 1/k² above 15).
function stirlerr(k: number): number {
  if (k <= 15) return lgam(k + 1) - (k + 0.5) * Math.log(k) + k - LS2PI;
  const kk = k * k;
  if (k > 500) return (S0 - S1 / kk) / k;
  if (k > 80) return (S0 - (S1 - S2 / kk) / kk) / k;
  if (k > 35) return (S0 - (S1 - (S2 - S3 / kk) / kk) / kk) / k;
  return (S0 - (S1 - (S2 - (S3 - S4 / kk) / kk) / kk) / kk) / k;
}

// bd0(k, M) = k·log(k/M) + M − k ≥ 0 with the difference d = k − M given exactly (Loader's series near k = M).
function bd0(k: number, M: number, d: number): number {
  if (Math.abs(d) < 0.1 * (k + M)) {
    let v = d / (k + M);
    let s = d * v;
    let ej = 2 * k * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return k * Math.log1p(d / M) - d;
}

// ---------------------------------------------------------------------------------------------------------------
// Smirnov one-sided SF.

const SMIRNOV_MAX_COMPUTE_N = 1000000;
const SM_UPPER_MAX_TERMS = 3;
const SM_UPPERSUM_MIN_N = 10;

/** Above this n the lower Birnbaum–Tingey sum evaluates its terms by the saddle-point form (see `smirnov`). */
export const SMIRNOV_SADDLE_MIN_N = 20000;

/**
 * One-sided Smirnov SF P(D⁺_n ≥ d) = d·Σ_{j=0}^{⌊n(1−d)⌋} C(n,j)(1−d−j/n)^{n−j}(d+j/n)^{j−1}
 * (scipy.special.smirnov; Birnbaum & Tingey 1951, van Mulbregt 2018).
 * `terms`: "dd" evaluates every term as scipy does (double-double powers, ~9 pow() calls per term); "saddle"
 * evaluates the O(n) lower-sum terms by Loader's saddle-point binomial form instead (no pow(), ~10× faster, same
 * ~1e-14 relative accuracy); "auto" uses "saddle" for n > SMIRNOV_SADDLE_MIN_N only.
 */
export function smirnov(n: number, x: number, terms: "auto" | "dd" | "saddle" = "auto"): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;

  // floor(n·x) and its remainder, exactly (xsf modNX).
  const nxh = ddMulD(x, 0, n);
  const nxl = SCRATCH[LO];
  let flh = Math.floor(nxh);
  let fll = 0;
  if (flh === nxh) {
    flh = quickTwoSum(flh, Math.floor(nxl));
    fll = SCRATCH[LO];
  }
  let alpha = ddAdd(nxh, nxl, -flh, -fll);
  let nxfl = Math.trunc(flh);
  if (alpha === 1) {
    nxfl += 1;
    alpha = 0;
  }
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  let n1mxceil = n - nxfl;
  if (alpha === 0) {
    n1mxfl -= 1;
    n1mxceil += 1;
  }

  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    const t = powD(twoSum(1, x), SCRATCH[LO], n - 1);
    return clip01(1 - x * t);
  }
  if (-2 * n * x * x < MINLOG) return 0;
  if (nxfl >= n - 1) return clip01(powD(twoSum(1, -x), SCRATCH[LO], n));
  if (n > SMIRNOV_MAX_COMPUTE_N) {
    // p ~ e^(−(6nx+1)²/18n)
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    if (logp < -Math.LN2) return Math.exp(logp);
    const cdf = -Math.expm1(logp);
    return 1 - cdf;
  }

  const nUpperTerms = n - n1mxceil + 1;
  const useUpper =
    (nUpperTerms <= 1 && x < 0.5) ||
    (n >= SM_UPPERSUM_MIN_N && nUpperTerms <= SM_UPPER_MAX_TERMS && x <= 0.5 / Math.sqrt(n));

  let start = 0;
  let step = 1;
  let nTerms = n1mxfl + 1;
  const vmid = Math.trunc(n / 2);
  // C(n, j) as a double-double significand in [0.5, 1) and a binary exponent.
  let cmh = 1;
  let cml = 0;
  let cexp = 0;
  let ajh: number;
  let ajl: number;
  if (useUpper) {
    start = n;
    step = -1;
    nTerms = n - n1mxceil + 1;
    ajh = pow4D(1, x, 1, 0, n - 1);
    ajl = SCRATCH[LO];
  } else {
    const t2h = pow4D(1, -x, 1, 0, n);
    ajh = ddDivD(t2h, SCRATCH[LO], x);
    ajl = SCRATCH[LO];
  }
  const saddle = !useUpper && (terms === "saddle" || (terms === "auto" && n > SMIRNOV_SADDLE_MIN_N));
  const stirN = saddle ? stirlerr(n) : 0;
  let sumh = ajh;
  let suml = ajl;
  for (let j = 0; j < nTerms; j++) {
    if (j > 0) {
      const v = start + j * step;
      if (saddle) {
        // A_v = dbinom(v; n, p)/p with p = x + v/n; n·p − v = n·x exactly, so the deviances need no pow().
        const e =
          stirN - stirlerr(v) - stirlerr(n - v) - bd0(v, v + nxh, -nxh) - bd0(n - v, n - v - nxh, nxh);
        ajh = (Math.exp(e) * Math.sqrt(n / (2 * Math.PI * v * (n - v)))) / (x + v / n);
        ajl = 0;
      } else {
        // A_v = C(n,v)·(1−x−v/n)^(n−v)·(x+v/n)^(v−1)
        let bh = ddDivD(n - v, 0, n);
        bh = ddAddD(bh, SCRATCH[LO], -x);
        const t2h = pow2Scaled(bh, SCRATCH[LO], n - v);
        const t2l = SCRATCH[LO];
        const t2E = SCRATCH[POW_E];
        bh = ddDivD(v, 0, n);
        bh = ddAddD(bh, SCRATCH[LO], x);
        const t1h = pow2Scaled(bh, SCRATCH[LO], v - 1);
        const t1l = SCRATCH[LO];
        const t1E = SCRATCH[POW_E];
        let ph = ddMul(t1h, t1l, t2h, t2l);
        ph = ddMul(ph, SCRATCH[LO], cmh, cml);
        const e = cexp + t1E + t2E;
        ajl = ldexp(SCRATCH[LO], e);
        ajh = ldexp(ph, e);
      }
      const nonzero = ajh !== 0 || ajl !== 0;
      if (Number.isFinite(ajh) && nonzero) {
        sumh = ddAdd(sumh, suml, ajh, ajl);
        suml = SCRATCH[LO];
      }
      if (nonzero) {
        if (4 * (nTerms - j) * Math.abs(ajh) < DBL_EPS * sumh && j !== nTerms - 1) break;
      } else if (j > vmid) break;
    }
    // C(n, j+1) = C(n, j)·(n−j)/(j+1)
    const rh = ddDivD(n - j, 0, j + 1);
    const mh = ddMul(cmh, cml, rh, SCRATCH[LO]);
    cmh = ddFrexp(mh, SCRATCH[LO]);
    cml = SCRATCH[LO];
    cexp += SCRATCH[FREXP_E];
  }
  const prob = ddMulD(sumh, suml, x);
  return clip01(step < 0 ? 1 - prob : prob);
}

function clip01(p: number): number {
  return Math.min(Math.max(p, 0), 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Two-sided one-sample Kolmogorov distribution for finite n (kstwo).

const E128 = 128;
const EP128 = 2 ** 128;
const EM128 = 2 ** -128;
const LOG_2PI = Math.log(2 * Math.PI);
const SQRT2PI = Math.sqrt(2 * Math.PI);
const SQRT3 = Math.sqrt(3);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const MIN_LOG = -708;
const STIRLING_COEFFS = [
  -0.029550653594771242, 0.00641025641025641, -0.0019175269175269176, 0.0008417508417508417,
  -0.0005952380952380953, 0.0007936507936507937, -0.002777777777777778, 0.08333333333333333,
];

// log(n!/n^n) by Stirling with n·log(n) removed up front (scipy _log_nfactorial_div_n_pow_n).
function logNFactorialDivNPowN(n: number): number {
  const rn = 1 / n;
  const y = rn / n;
  let poly = STIRLING_COEFFS[0];
  for (let i = 1; i < STIRLING_COEFFS.length; i++) poly = poly * y + STIRLING_COEFFS[i];
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

function select(cdfprob: number, cdf: boolean): number {
  return clip01(cdf ? cdfprob : 1 - cdfprob);
}

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k];
      if (aik === 0) continue;
      const bo = k * m;
      const oo = i * m;
      for (let j = 0; j < m; j++) out[oo + j] += aik * b[bo + j];
    }
  }
  return out;
}

/** P(D_n ≤ d) by Durbin's matrix H^n (Marsaglia, Tsang & Wang 2003; scipy _kolmogn_DMTW). */
export function kolmognDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - i + 1];
  for (let r = 0; r < m; r++) H[r * m] = v[r];
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c];

  let Hpwr: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) Hpwr[i * m + i] = 1;
  let nn = n;
  let expnt = 0;
  let Hexpnt = 0;
  const kk = (k - 1) * m + (k - 1);
  while (nn > 0) {
    if (nn % 2) {
      Hpwr = matmul(Hpwr, H, m);
      expnt += Hexpnt;
    }
    H = matmul(H, H, m);
    Hexpnt *= 2;
    if (Math.abs(H[kk]) > EP128) {
      for (let i = 0; i < H.length; i++) H[i] /= EP128;
      Hexpnt += E128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = Hpwr[kk];
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= EP128;
      expnt -= E128;
    }
  }
  if (expnt !== 0) p = ldexp(p, expnt);
  return clip01(p);
}

// Endpoints of the non-zero window of row i of the Pomeranz recursion (scipy _pomeranz_compute_j1j2).
function pomeranzJ1J2(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** P(D_n ≤ d) by the Pomeranz (1974) recursion (scipy _kolmogn_Pomeranz). */
export function kolmognPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  // (g/n)^m/m!, (2g/n)^m/m!, ((1−2g)/n)^m/m!: Poisson probabilities without their normalising factor.
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = 1;
  twogpower[0] = 1;
  onem2gpower[0] = 1;
  let expnt = 0;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1] * gOverN) / m;
    twogpower[m] = (twogpower[m - 1] * twoGOverN) / m;
    onem2gpower[m] = (onem2gpower[m - 1] * oneMinusTwoGOverN) / m;
  }
  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let [j1, j2] = pomeranzJ1J2(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    const tmp = V0;
    V0 = V1;
    V1 = tmp;
    const ts = V0s;
    V0s = V1s;
    V1s = ts;
    V1.fill(0);
    [j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // conv = np.convolve(V0[k1−V0s : k1−V0s+ln2], pwrs[:ln2]); V1[:len] = conv[j1−k1 : j1−k1+len]
      const uStart = k1 - V0s;
      const uLen = Math.max(0, Math.min(ln2, npwrs - uStart));
      const wLen = Math.min(ln2, npwrs);
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      let vmax = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < convLen; c++) {
        const cc = convStart + c;
        let s = 0;
        const lo = Math.max(0, cc - (wLen - 1));
        const hi = Math.min(cc, uLen - 1);
        for (let q = lo; q <= hi; q++) s += V0[uStart + q] * pwrs[cc - q];
        V1[c] = s;
      }
      for (let c = 0; c < npwrs; c++) if (V1[c] > vmax) vmax = V1[c];
      if (vmax > 0 && vmax < EM128) {
        for (let c = 0; c < npwrs; c++) V1[c] *= EP128;
        expnt -= E128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s];
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > EP128) {
      ans *= EM128;
      expnt += E128;
    }
    ans *= m;
  }
  if (expnt !== 0) ans = ldexp(ans, expnt);
  return clip01(ans);
}

/** Pelz–Good (1976) approximation to P(D_n ≤ x) for small x (scipy _kolmogn_PelzGood, cdf form). */
export function kolmognPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const zsquared = z * z;
  const zthree = z ** 3;
  const zfour = z ** 4;
  const zsix = z ** 6;
  const qlog = -PI2 / 8 / zsquared;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);
  const k1a = -zsquared;
  const k1b = PI2 / 4;
  const k2a = 6 * zsix + 2 * zfour;
  const k2b = ((2 * zfour - 5 * zsquared) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * zsquared)) / 16;
  const k3d = (PI6 * (5 - 30 * zsquared)) / 64;
  const k3c = (PI4 * (-60 * zsquared + 212 * zfour)) / 16;
  const k3b = (PI2 * (135 * zfour - 96 * zsix)) / 4;
  const k3a = -30 * zsix - 90 * z ** 8;
  let K0 = 0;
  let K1 = 0;
  let K2 = 0;
  let K3 = 0;
  const maxk = Math.ceil((16 * z) / Math.PI);
  // Horner scheme for Σ c_i q^(i²) over odd i.
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const msquared = m * m;
    const mfour = m ** 4;
    const msix = m ** 6;
    const qpower = q ** (8 * k);
    K0 = K0 * qpower + 1;
    K1 = K1 * qpower + (k1a + k1b * msquared);
    K2 = K2 * qpower + (k2a + k2b * msquared + k2c * mfour);
    K3 = K3 * qpower + (k3a + k3b * msquared + k3c * mfour + k3d * msix);
  }
  K0 = (K0 * q * SQRT2PI) / z;
  K1 = (K1 * q * SQRT2PI) / (6 * zfour);
  K2 = (K2 * q * SQRT2PI) / (72 * z ** 7);
  K3 = (K3 * q * SQRT2PI) / (6480 * z ** 10);
  // Sums over all integers k for K2 and K3.
  q = Math.exp(-PI2 / 2 / zsquared);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = SQRT3 * z;
  for (let k = maxk; k > 0; k--) {
    const ksq = k * k;
    const qp = q ** ksq;
    k2extra += ksq * qp;
    const kspi = Math.PI * k;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
  }
  K2 += k2extra * ((PI2 * SQRT2PI) / (-36 * zthree));
  K3 += k3extra * ((PI2 * SQRT2PI) / (216 * zsix));
  K1 /= Math.sqrt(n);
  K2 /= n;
  K3 /= n ** 1.5;
  return K0 + K1 + K2 + K3;
}

/**
 * Two-sided one-sample KS distribution for sample size n at d: the CDF P(D_n ≤ d), or the SF if `cdf` is false
 * (scipy.stats.kstwo; Simard & L'Ecuyer 2011 decision tree, scipy _kolmogn).
 */
export function kolmogn(n: number, x: number, cdf: boolean): number {
  if (Number.isNaN(n) || Number.isNaN(x)) return Number.NaN;
  if (Math.trunc(n) !== n || n <= 0) return Number.NaN;
  if (x >= 1) return select(1, cdf);
  if (x <= 0) return select(0, cdf);
  const t = n * x;
  if (t <= 1) {
    // Ruben–Gambino: 1/2n ≤ x ≤ 1/n
    if (t <= 0.5) return select(0, cdf);
    let prob: number;
    if (n <= 140) {
      prob = 1;
      const f = 2 * t - 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * f;
    } else {
      prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
    }
    return select(prob, cdf);
  }
  if (t >= n - 1) {
    const prob = 2 * (1 - x) ** n;
    return select(1 - prob, cdf);
  }
  if (x >= 0.5) {
    const prob = 2 * smirnov(n, x);
    return select(1 - prob, cdf);
  }
  const nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) return select(kolmognDurbin(n, x), cdf);
    if (nxsquared <= 4) return select(kolmognPomeranz(n, x), cdf);
    const prob = 2 * smirnov(n, x);
    return select(1 - prob, cdf);
  }
  if (!cdf) {
    if (nxsquared >= 370) return 0;
    if (nxsquared >= 2.2) return clip01(2 * smirnov(n, x));
  }
  let cdfprob: number;
  if (nxsquared >= 18) cdfprob = 1;
  else if (n <= 100000 && n * x ** 1.5 <= 1.4) cdfprob = kolmognDurbin(n, x);
  else cdfprob = kolmognPelzGood(n, x);
  return select(cdfprob, cdf);
}

/** kstwo.sf(d, n): P(D_n ≥ d) for the two-sided one-sample KS statistic (scipy.stats.kstwo). */
export function kstwoSf(n: number, d: number): number {
  return kolmogn(n, d, false);
}

/** kstwo.cdf(d, n): P(D_n ≤ d) (scipy.stats.kstwo). */
export function kstwoCdf(n: number, d: number): number {
  return kolmogn(n, d, true);
}
