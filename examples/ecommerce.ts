/**
 * The e-commerce ground truth of LLMSynthor (LLMSynthor paper, §4.1 and appendix A.1; docs/papers.md): a six-variable Bayesian network
 * p(A, G, L, C, X, M) = p(A) p(G) p(L) p(C | g(A), G) p(X | C) p(M | L), every parameter taken from A.1.
 *
 * Choices where the paper is silent:
 * - "Truncated to [a, b]" is read as the density restricted to [a, b] (the indicator 1_[a,b] in A.1), drawn by
 *   rejection: age redraws component and value together (truncating the mixture, as A.1's formula writes it),
 *   price redraws from its category's normal. So the accepted age components are π_i·Z_i / Σ_j π_j·Z_j with
 *   Z_i = P(18 ≤ N(μ_i, σ_i²) ≤ 90), not π itself (≈ 0.473 / 0.358 / 0.169).
 * - Values are kept at full double precision (no rounding of age or price).
 * - Levels are in A.1's order; columns are A.1's variable names.
 */
import { numericColumn, tableOf } from "../data/build.ts";
import type { Table } from "../data/types.ts";
import { createRng, type Rng } from "../stats/primitives/rng.ts";

export const ECOMMERCE_COLUMNS = [
  "user_age",
  "gender",
  "location_tier",
  "product_category",
  "price",
  "payment_method",
] as const;

/** Appendix A.1 "Implementation Settings", verbatim. */
export const ECOMMERCE_PARAMS = {
  age: { weights: [0.5, 0.35, 0.15], means: [24, 38, 55], sds: [6, 15, 10], lo: 18, hi: 90 },
  gender: { levels: ["Male", "Female"], probs: [0.45, 0.55] },
  tier: { levels: ["Developed", "Developing"], probs: [0.4, 0.6] },
  category: {
    levels: ["Electronics", "Apparel", "Food & Beverages", "Furniture & Appliances"],
    /** g(A): young A < 35, middle 35 ≤ A < 55, old A ≥ 55. */
    ageGroups: ["young", "middle", "old"],
    ageCuts: [35, 55],
    /** cpt[ageGroup][gender] over the category levels. */
    cpt: [
      [
        [0.5, 0.25, 0.05, 0.2],
        [0.2, 0.5, 0.05, 0.25],
      ],
      [
        [0.2, 0.1, 0.5, 0.2],
        [0.1, 0.2, 0.55, 0.15],
      ],
      [
        [0.1, 0.1, 0.65, 0.15],
        [0.1, 0.1, 0.6, 0.2],
      ],
    ],
  },
  price: { means: [800, 100, 100, 200], sds: [1000, 500, 400, 500], lo: 0, hi: 2000 },
  payment: {
    levels: ["Online Payment", "Cash on Delivery"],
    /** byTier[tier] over the payment levels. */
    byTier: [
      [0.7, 0.3],
      [0.4, 0.6],
    ],
  },
} as const;

export interface EcommerceSample {
  table: Table;
  /** Latent mixture component (0, 1, 2) of each row's age: kept for tests of the mixture, not a column. */
  ageComponent: Uint8Array;
}

/** Standard normal by Box–Muller, z = sqrt(−2 ln u₁)·cos(2π u₂), u₁ ∈ (0, 1]. */
function standardNormal(rng: Rng): number {
  const u1 = 1 - rng.next();
  const u2 = rng.next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Index k with P(k) = probs[k], by inversion of the cumulative sums. */
function discrete(rng: Rng, probs: readonly number[]): number {
  const u = rng.next();
  let acc = 0;
  for (let k = 0; k < probs.length - 1; k++) {
    acc += probs[k];
    if (u < acc) return k;
  }
  return probs.length - 1;
}

/** n rows of the A.1 network, with the latent age components; same (n, seed) → same rows. */
export function sampleEcommerce(n: number, seed: number): EcommerceSample {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`rows must be a non-negative integer, got ${n}`);
  const P = ECOMMERCE_PARAMS;
  const rng = createRng(seed);
  const age = new Float64Array(n);
  const comp = new Uint8Array(n);
  const gender = new Int32Array(n);
  const tier = new Int32Array(n);
  const category = new Int32Array(n);
  const price = new Float64Array(n);
  const payment = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let a: number;
    let k: number;
    do {
      k = discrete(rng, P.age.weights);
      a = P.age.means[k] + P.age.sds[k] * standardNormal(rng);
    } while (a < P.age.lo || a > P.age.hi);
    age[i] = a;
    comp[i] = k;
    const g = discrete(rng, P.gender.probs);
    gender[i] = g;
    const t = discrete(rng, P.tier.probs);
    tier[i] = t;
    const group = a < P.category.ageCuts[0] ? 0 : a < P.category.ageCuts[1] ? 1 : 2;
    const c = discrete(rng, P.category.cpt[group][g]);
    category[i] = c;
    let x: number;
    do {
      x = P.price.means[c] + P.price.sds[c] * standardNormal(rng);
    } while (x < P.price.lo || x > P.price.hi);
    price[i] = x;
    payment[i] = discrete(rng, P.payment.byTier[t]);
  }
  const coded = (name: string, codes: Int32Array, levels: readonly string[]) => ({
    kind: "categorical" as const,
    name,
    codes,
    levels: [...levels],
  });
  const table = tableOf([
    numericColumn("user_age", age),
    coded("gender", gender, P.gender.levels),
    coded("location_tier", tier, P.tier.levels),
    coded("product_category", category, P.category.levels),
    numericColumn("price", price),
    coded("payment_method", payment, P.payment.levels),
  ]);
  return { table, ageComponent: comp };
}

/** The ground-truth table alone. */
export function ecommerceTable(n: number, seed: number): Table {
  return sampleEcommerce(n, seed).table;
}
