/**
 * Normal scores z = Φ⁻¹(F(x)) of one column, the copula's view of the data, and their inverse.
 * Numeric: F is the fitted marginal; missing stays NaN (left out pairwise by the correlation).
 * Coded (RDT UniformEncoder): category c owns [s_c, s_c + f_c) of [0, 1], f_c its frequency (missing is a
 * category of its own); a row of category c gets u = s_c + f_c·U with U uniform (seeded), so u is exactly
 * uniform and needs no fitted marginal (SDV fits its default distribution to these u; we use them as they are).
 * u is clipped to [ε, 1 − ε], ε = 2^−23 (float32 machine epsilon, Copulas' EPSILON), so z stays finite.
 */
import { ndtri } from "../../stats/primitives/normal.ts";
import type { Rng } from "../../stats/primitives/rng.ts";
import { marginalCdf, type Marginal } from "./marginals.ts";
import type { CodedColumnModel } from "./model.ts";

export const EPSILON = 1.1920928955078125e-7;

export function clipUnit(u: number): number {
  return u < EPSILON ? EPSILON : u > 1 - EPSILON ? 1 - EPSILON : u;
}

/**
 * z of a numeric column under its marginal (NaN where x is missing). z is a function of x alone, so it is
 * computed once per distinct value (F and Φ⁻¹ cost far more than the lookup; whole-number columns repeat a
 * few dozen values hundreds of times), and F(x) is taken from `knownCdf` when the marginal's fit already
 * computed it (fitMarginalWithCdf: the same F at the same x).
 */
export function numericNormalScores(
  values: Float64Array,
  marginal: Marginal,
  knownCdf: ReadonlyMap<number, number> = new Map(),
): Float64Array {
  const z = new Float64Array(values.length);
  const seen = new Map<number, number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) {
      z[i] = Number.NaN;
      continue;
    }
    let zi = seen.get(v);
    if (zi === undefined) {
      zi = ndtri(clipUnit(knownCdf.get(v) ?? marginalCdf(marginal, v)));
      seen.set(v, zi);
    }
    z[i] = zi;
  }
  return z;
}

/** Interval starts s_c of the categories, in model order. */
export function intervalStarts(model: CodedColumnModel): Float64Array {
  const starts = new Float64Array(model.categories.length);
  let s = 0;
  for (let k = 0; k < model.categories.length; k++) {
    starts[k] = s;
    s += model.categories[k].freq;
  }
  return starts;
}

/** z of a coded column (codes −1 = missing) under the uniform-interval encoding. */
export function codedNormalScores(codes: Int32Array, model: CodedColumnModel, rng: Rng): Float64Array {
  const starts = intervalStarts(model);
  const slot = new Map<number, number>();
  model.categories.forEach((c, k) => slot.set(c.level, k));
  const z = new Float64Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const k = slot.get(codes[i] < 0 ? -1 : codes[i]);
    if (k === undefined) throw new Error(`code ${codes[i]} of column "${model.name}" has no interval`);
    z[i] = ndtri(clipUnit(starts[k] + model.categories[k].freq * rng.next()));
  }
  return z;
}

/** The category slot whose interval holds u (the last interval whose start is <= u). */
export function categoryOf(u: number, starts: Float64Array): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= u) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
