/**
 * Univariate marginals of the Gaussian copula: CDF, PPF and fit of the families SDV's GaussianCopulaSynthesizer
 * offers (numerical_distributions / default_distribution: norm, beta, truncnorm, gamma, uniform), in scipy's
 * parameterisation (loc, scale and shapes), plus "auto": every family fitted, the one with the smallest
 * Kolmogorov–Smirnov statistic D = sup|F̂ₙ(x) − F(x)| kept (Copulas' Univariate selection, select_univariate).
 *
 * Estimators (each the closed form or score equation scipy's `fit` solves, so tests compare with scipy):
 *   norm       loc = mean, scale = √(Σ(x−mean)²/n)                          (scipy norm.fit, MLE)
 *   uniform    loc = min, scale = max − min                                 (scipy uniform.fit)
 *   gamma      loc = min − δ fixed; MLE of shape a: ln a − ψ(a) = ln ȳ − mean(ln y), scale = ȳ/a, y = x − loc
 *              (scipy gamma.fit(x, floc=loc))
 *   beta       loc = min − δ, scale = max − min + 2δ fixed; MLE of a, b: ψ(a) − ψ(a+b) = mean ln y,
 *              ψ(b) − ψ(a+b) = mean ln(1−y), y = (x−loc)/scale, by Newton (scipy beta.fit(x, floc, fscale))
 *   truncnorm  bounds [min, max], loc = mean, scale = sd of the data (moments, not scipy's MLE: the MLE of a
 *              truncated normal is an unbounded optimisation that costs more than it gains for a marginal)
 * δ = (max − min)/(n + 1), the expected gap between a sample's extreme and the support's end for n uniform draws:
 * fixing loc at the minimum itself puts ln 0 in the likelihood. Copulas fits beta and gamma with free loc and
 * scale by scipy's numeric MLE, which is slower and sometimes lands outside the data; fixed bounds keep the
 * support on the observed range, which SDV's enforce_min_max_values clips to anyway.
 * Default "auto" rather than SDV's "beta": the KS pass costs 5 CDF sweeps over a column and never picks a
 * worse fit than beta by the same statistic SDMetrics' column-shape score is built on.
 */
import { z } from "zod";
import { digamma, trigamma } from "../../stats/primitives/digamma.ts";
import { betainc, betaincinv, lbeta } from "../../stats/primitives/incomplete-beta.ts";
import { gammaincinv } from "../../stats/primitives/incomplete-gamma-inverse.ts";
import { ndtr, ndtri } from "../../stats/primitives/normal.ts";
import { gammainc } from "../../stats/primitives/special.ts";

export const FAMILIES = ["norm", "beta", "truncnorm", "gamma", "uniform"] as const;
export type Family = (typeof FAMILIES)[number];
export const familyChoiceSchema = z.enum([...FAMILIES, "auto"]);
export type FamilyChoice = z.infer<typeof familyChoiceSchema>;

export const marginalSchema = z.discriminatedUnion("family", [
  z.strictObject({ family: z.literal("norm"), loc: z.number(), scale: z.number().positive() }),
  z.strictObject({ family: z.literal("uniform"), loc: z.number(), scale: z.number().positive() }),
  z.strictObject({
    family: z.literal("truncnorm"),
    a: z.number(),
    b: z.number(),
    loc: z.number(),
    scale: z.number().positive(),
  }),
  z.strictObject({
    family: z.literal("gamma"),
    a: z.number().positive(),
    loc: z.number(),
    scale: z.number().positive(),
  }),
  z.strictObject({
    family: z.literal("beta"),
    a: z.number().positive(),
    b: z.number().positive(),
    loc: z.number(),
    scale: z.number().positive(),
  }),
  // One distinct value (or none): every sample is that value.
  z.strictObject({ family: z.literal("constant"), value: z.number() }),
]);
export type Marginal = z.infer<typeof marginalSchema>;

// ln B(a, b) of the last beta marginal seen: CDF sweeps call it n times with the same shapes.
let lbetaKey = [Number.NaN, Number.NaN];
let lbetaValue = Number.NaN;
function lbetaOf(a: number, b: number): number {
  if (a !== lbetaKey[0] || b !== lbetaKey[1]) {
    lbetaKey = [a, b];
    lbetaValue = lbeta(a, b);
  }
  return lbetaValue;
}

/** F(x) of a fitted marginal. */
export function marginalCdf(m: Marginal, x: number): number {
  switch (m.family) {
    case "norm":
      return ndtr((x - m.loc) / m.scale);
    case "uniform":
      return Math.min(1, Math.max(0, (x - m.loc) / m.scale));
    case "truncnorm": {
      const xi = (x - m.loc) / m.scale;
      if (xi <= m.a) return 0;
      if (xi >= m.b) return 1;
      const lo = ndtr(m.a);
      return (ndtr(xi) - lo) / (ndtr(m.b) - lo);
    }
    case "gamma": {
      const y = (x - m.loc) / m.scale;
      return y <= 0 ? 0 : gammainc(m.a, y);
    }
    case "beta": {
      const y = (x - m.loc) / m.scale;
      return y <= 0 ? 0 : y >= 1 ? 1 : betainc(m.a, m.b, y, lbetaOf(m.a, m.b));
    }
    case "constant":
      return x < m.value ? 0 : 1;
  }
}

/** F⁻¹(u) of a fitted marginal, u in [0, 1]. */
export function marginalPpf(m: Marginal, u: number): number {
  switch (m.family) {
    case "norm":
      return m.loc + m.scale * ndtri(u);
    case "uniform":
      return m.loc + m.scale * u;
    case "truncnorm": {
      const lo = ndtr(m.a);
      const xi = ndtri(lo + u * (ndtr(m.b) - lo));
      return m.loc + m.scale * Math.min(m.b, Math.max(m.a, xi));
    }
    case "gamma":
      return m.loc + m.scale * gammaincinv(m.a, u);
    case "beta":
      return m.loc + m.scale * betaincinv(m.a, m.b, u);
    case "constant":
      return m.value;
  }
}

interface Moments {
  n: number;
  min: number;
  max: number;
  mean: number;
  sd: number;
}

function moments(x: Float64Array): Moments {
  const n = x.length;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
  return { n, min, max, mean, sd: Math.sqrt(ss / n) };
}

/** The support padding δ = (max − min)/(n + 1) (see header). */
export function supportPadding(min: number, max: number, n: number): number {
  return (max - min) / (n + 1);
}

/** Fits one family to finite, non-constant values (NaN must be removed by the caller). */
export function fitFamily(family: Family, x: Float64Array): Marginal {
  const m = moments(x);
  if (!(m.max > m.min)) return { family: "constant", value: m.n > 0 ? m.min : 0 };
  switch (family) {
    case "norm":
      return { family, loc: m.mean, scale: m.sd };
    case "uniform":
      return { family, loc: m.min, scale: m.max - m.min };
    case "truncnorm":
      return { family, a: (m.min - m.mean) / m.sd, b: (m.max - m.mean) / m.sd, loc: m.mean, scale: m.sd };
    case "gamma":
      return fitGamma(x, m);
    case "beta":
      return fitBeta(x, m);
  }
}

function fitGamma(x: Float64Array, m: Moments): Marginal {
  const loc = m.min - supportPadding(m.min, m.max, m.n);
  let sumLog = 0;
  for (let i = 0; i < m.n; i++) sumLog += Math.log(x[i] - loc);
  const ybar = m.mean - loc;
  const s = Math.log(ybar) - sumLog / m.n; // > 0 by Jensen
  // Minka's starting point, then Newton on g(a) = ln a − ψ(a) − s (g is decreasing and convex).
  let a = (3 - s + Math.sqrt((s - 3) * (s - 3) + 24 * s)) / (12 * s);
  for (let it = 0; it < 100; it++) {
    const g = Math.log(a) - digamma(a) - s;
    const dg = 1 / a - trigamma(a);
    const next = a - g / dg;
    const safe = next > 0 ? next : a / 2;
    if (Math.abs(safe - a) <= 1e-14 * a) {
      a = safe;
      break;
    }
    a = safe;
  }
  return { family: "gamma", a, loc, scale: ybar / a };
}

function fitBeta(x: Float64Array, m: Moments): Marginal {
  const pad = supportPadding(m.min, m.max, m.n);
  const loc = m.min - pad;
  const scale = m.max - m.min + 2 * pad;
  let g1 = 0;
  let g2 = 0;
  let mean = 0;
  let sq = 0;
  for (let i = 0; i < m.n; i++) {
    const y = (x[i] - loc) / scale;
    g1 += Math.log(y);
    g2 += Math.log1p(-y);
    mean += y;
    sq += y * y;
  }
  g1 /= m.n;
  g2 /= m.n;
  mean /= m.n;
  const v = sq / m.n - mean * mean;
  // Method of moments start: a + b = mean(1−mean)/v − 1.
  const common = Math.max((mean * (1 - mean)) / v - 1, 1e-3);
  let a = mean * common;
  let b = (1 - mean) * common;
  for (let it = 0; it < 200; it++) {
    const dab = digamma(a + b);
    const f1 = digamma(a) - dab - g1;
    const f2 = digamma(b) - dab - g2;
    const tab = trigamma(a + b);
    const j11 = trigamma(a) - tab;
    const j22 = trigamma(b) - tab;
    const j12 = -tab;
    const det = j11 * j22 - j12 * j12;
    let da = (j22 * f1 - j12 * f2) / det;
    let db = (j11 * f2 - j12 * f1) / det;
    // Halve the step until both shapes stay positive.
    while (a - da <= 0 || b - db <= 0) {
      da /= 2;
      db /= 2;
    }
    a -= da;
    b -= db;
    if (Math.abs(da) <= 1e-13 * a && Math.abs(db) <= 1e-13 * b) break;
  }
  return { family: "beta", a, b, loc, scale };
}

/**
 * KS statistic sup|F̂ₙ − F| of a marginal against sorted values (scipy.stats.kstest's two-sided D), evaluated
 * at every `stride`-th order statistic (1 = exact). Between two evaluated points F and F̂ₙ both rise, so the
 * strided value is at most stride/n below the exact one: selection uses stride = ⌈n/2000⌉ (error <= 1/2000).
 * Tied order statistics share F(x): F is computed once per run of equal values, where (i + 1)/n − F peaks at
 * the run's last evaluated index and F − i/n at its first, so D is the same number as evaluating every index
 * (a table of whole numbers has a few dozen distinct values per column, and F is the costly part).
 * With `stopAbove`, the scan ends as soon as D exceeds it (D is a running maximum, so it can only grow) and
 * returns that partial value, itself above `stopAbove`: enough to know the family does not win a selection.
 * `cdfOut` receives F(x) of every value evaluated (the normal scores of the chosen family reuse them).
 */
export function ksStatistic(
  m: Marginal,
  sorted: Float64Array,
  stride = 1,
  stopAbove = Number.POSITIVE_INFINITY,
  cdfOut?: Map<number, number>,
): number {
  const n = sorted.length;
  let d = 0;
  for (let first = 0; first < n;) {
    const x = sorted[first];
    let last = first;
    while (last + stride < n && sorted[last + stride] === x) last += stride;
    const f = marginalCdf(m, x);
    cdfOut?.set(x, f);
    const dPlus = (last + 1) / n - f;
    const dMinus = f - first / n;
    if (dPlus > d) d = dPlus;
    if (dMinus > d) d = dMinus;
    if (d > stopAbove) return d;
    first = last + stride;
  }
  return d;
}

// Families in the order their CDFs are cheap (closed forms first, incomplete beta and gamma last), so the
// costly scans start with a tight bound to stop at.
const BY_COST: readonly Family[] = ["norm", "uniform", "truncnorm", "beta", "gamma"];

/**
 * Fits `choice` (or, for "auto", the family with the smallest KS statistic; ties keep FAMILIES order). The
 * families are scanned cheapest first and a scan stops once its D exceeds the best so far, which never changes
 * the choice: a stopped family's D is larger than the winner's. `cdf` holds F(x) of the chosen marginal at the
 * values its KS scan evaluated (every distinct value when n <= 2000; empty when the family was given).
 */
export function fitMarginalWithCdf(
  choice: FamilyChoice,
  values: Float64Array,
): { marginal: Marginal; cdf: ReadonlyMap<number, number> } {
  if (choice !== "auto") return { marginal: fitFamily(choice, values), cdf: new Map() };
  const sorted = Float64Array.from(values).sort();
  const stride = Math.ceil(sorted.length / 2000);
  let best: Marginal | undefined;
  let bestCdf = new Map<number, number>();
  let bestD = Number.POSITIVE_INFINITY;
  let bestRank: number = FAMILIES.length;
  for (const family of BY_COST) {
    const m = fitFamily(family, values);
    if (m.family === "constant") return { marginal: m, cdf: new Map() };
    const cdf = new Map<number, number>();
    const d = ksStatistic(m, sorted, stride, bestD, cdf);
    const rank = FAMILIES.indexOf(family);
    if (d < bestD || (d === bestD && rank < bestRank)) {
      bestD = d;
      best = m;
      bestCdf = cdf;
      bestRank = rank;
    }
  }
  return { marginal: best as Marginal, cdf: bestCdf };
}

/** fitMarginalWithCdf's marginal. */
export function fitMarginal(choice: FamilyChoice, values: Float64Array): Marginal {
  return fitMarginalWithCdf(choice, values).marginal;
}
