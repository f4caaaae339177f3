/**
 * Standard normal CDF Φ and its inverse Φ⁻¹, ported from scipy's cephes (scipy/xsf include/xsf/cephes:
 * ndtr.h for erf/erfc/ndtr, ndtri.h for ndtri). Coefficients and branch points are cephes' own, so values
 * track scipy.special.ndtr / ndtri to a few ulp (relative error 3.4e-14 for ndtr, 7.2e-16 for ndtri).
 * Hand-written: no installed dependency provides them at double precision.
 */
import { MAXLOG } from "./special.ts";

const SQRT1_2 = Math.SQRT1_2;
const SQRT2PI = 2.5066282746310007;
const EXP_M2 = 0.1353352832366127; // exp(−2)

// erfc for 1 <= |x| < 8 (P/Q) and x >= 8 (R/S); erf for |x| < 1 (T/U).
const P = [
  2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687, 4.86371970985681366614e1,
  1.96520832956077098242e2, 5.26445194995477358631e2, 9.3452852717195760754e2, 1.02755188689515710272e3,
  5.57535335369399327526e2,
];
const Q = [
  1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2, 9.75708501743205489753e2,
  1.82390916687909736289e3, 2.24633760818710981792e3, 1.65666309194161350182e3, 5.57535340817727675546e2,
];
const R = [
  5.64189583547755073984e-1, 1.27536670759978104416, 5.01905042251180477414, 6.16021097993053585195,
  7.4097426995044893916, 2.9788666537210024067,
];
const S = [
  2.2605286322011727659, 9.39603524938001434673, 1.20489539808096656605e1, 1.70814450747565897222e1,
  9.60896809063285878198, 3.3690764510008151605,
];
const T = [
  9.60497373987051638749, 9.00260197203842689217e1, 2.23200534594684319226e3, 7.00332514112805075473e3,
  5.55923013010394962768e4,
];
const U = [
  3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3, 2.26290000613890934246e4,
  4.92673942608635921086e4,
];
// ndtri: |y − ½| <= 3/8 (P0/Q0); z = √(−2 ln y) in [2, 8) (P1/Q1) and [8, 64) (P2/Q2).
const P0 = [
  -5.99633501014107895267e1, 9.80010754185999661536e1, -5.66762857469070293439e1, 1.39312609387279679503e1,
  -1.23916583867381258016,
];
const Q0 = [
  1.95448858338141759834, 4.67627912898881538453, 8.63602421390890590575e1, -2.25462687854119370527e2,
  2.00260212380060660359e2, -8.20372256168333339912e1, 1.59056225126211695515e1, -1.18331621121330003142,
];
const P1 = [
  4.05544892305962419923, 3.15251094599893866154e1, 5.71628192246421288162e1, 4.408050738932008347e1,
  1.46849561928858024014e1, 2.18663306850790267539, -1.40256079171354495875e-1, -3.50424626827848203418e-2,
  -8.57456785154685413611e-4,
];
const Q1 = [
  1.57799883256466749731e1, 4.53907635128879210584e1, 4.1317203825467203044e1, 1.50425385692907503408e1,
  2.50464946208309415979, -1.42182922854787788574e-1, -3.80806407691578277194e-2, -9.33259480895457427372e-4,
];
const P2 = [
  3.2377489177694603597, 6.91522889068984211695, 3.93881025292474443415, 1.33303460815807542389,
  2.01485389549179081538e-1, 1.23716634817820021358e-2, 3.01581553508235416007e-4, 2.65806974686737550832e-6,
  6.2397453918498329373e-9,
];
const Q2 = [
  6.02427039364742014255, 3.67983563856160859403, 1.37702099489081330271, 2.1623699359449663589e-1,
  1.34204006088543189037e-2, 3.28014464682127739104e-4, 2.89247864745380683936e-6, 6.79019408009981274425e-9,
];

// c[0]·x^n + … + c[n]
function polevl(x: number, c: readonly number[]): number {
  let a = c[0];
  for (let i = 1; i < c.length; i++) a = a * x + c[i];
  return a;
}

// x^n + c[0]·x^(n−1) + … + c[n−1]
function p1evl(x: number, c: readonly number[]): number {
  let a = x + c[0];
  for (let i = 1; i < c.length; i++) a = a * x + c[i];
  return a;
}

/** Complementary error function erfc(x) = 1 − erf(x). */
export function erfc(a: number): number {
  if (a !== a) return Number.NaN;
  const x = Math.abs(a);
  if (x < 1) return 1 - erf(a);
  const z = -a * a;
  if (z < -MAXLOG) return a < 0 ? 2 : 0;
  const e = Math.exp(z);
  const y = x < 8 ? (e * polevl(x, P)) / p1evl(x, Q) : (e * polevl(x, R)) / p1evl(x, S);
  const out = a < 0 ? 2 - y : y;
  return out !== 0 ? out : a < 0 ? 2 : 0;
}

/** Error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt. */
export function erf(x: number): number {
  if (x !== x) return Number.NaN;
  if (x < 0) return -erf(-x);
  if (x > 1) return 1 - erfc(x);
  const z = x * x;
  return (x * polevl(z, T)) / p1evl(z, U);
}

/** Φ(x): standard normal CDF (scipy.special.ndtr). */
export function ndtr(a: number): number {
  if (a !== a) return Number.NaN;
  const x = a * SQRT1_2;
  const z = Math.abs(x);
  if (z < 1) return 0.5 + 0.5 * erf(x);
  const y = 0.5 * erfc(z);
  return x > 0 ? 1 - y : y;
}

/** Φ⁻¹(y): the x with Φ(x) = y (scipy.special.ndtri); ±∞ at 0 and 1, NaN outside [0, 1]. */
export function ndtri(y0: number): number {
  if (y0 === 0) return Number.NEGATIVE_INFINITY;
  if (y0 === 1) return Number.POSITIVE_INFINITY;
  if (!(y0 > 0 && y0 < 1)) return Number.NaN;
  let y = y0;
  let negate = true;
  if (y > 1 - EXP_M2) {
    y = 1 - y;
    negate = false;
  }
  if (y > EXP_M2) {
    y -= 0.5;
    const y2 = y * y;
    return (y + y * ((y2 * polevl(y2, P0)) / p1evl(y2, Q0))) * SQRT2PI;
  }
  const x = Math.sqrt(-2 * Math.log(y));
  const x0 = x - Math.log(x) / x;
  const z = 1 / x;
  const x1 = x < 8 ? (z * polevl(z, P1)) / p1evl(z, Q1) : (z * polevl(z, P2)) / p1evl(z, Q2);
  const out = x0 - x1;
  return negate ? -out : out;
}

/** Standard normal density φ(x). */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / SQRT2PI;
}
