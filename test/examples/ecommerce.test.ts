/**
 * The e-commerce ground truth (LLMSynthor paper, appendix A.1; docs/papers.md) at n = 20,000 against the paper's parameters. Expected
 * values are derived from A.1 by numeric integration (truncated-normal moments, truncated-mixture weights and
 * CDF); tolerances are 4 standard errors of the estimate (the generator is seeded, so the test is exact-repeatable).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runExample } from "../../cli/example.ts";
import { getColumn, isNumeric } from "../../data/build.ts";
import { readTable } from "../../data/read.ts";
import type { CodedColumn, NumericColumn, Table } from "../../data/types.ts";
import { ECOMMERCE_COLUMNS, ECOMMERCE_PARAMS as P, sampleEcommerce } from "../../examples/ecommerce.ts";

const N = 20_000;
const SEED = 7;
const { table, ageComponent } = sampleEcommerce(N, SEED);

// Φ by composite Simpson on φ over [−12, x] (error far below the tolerances used).
function phi(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}
function Phi(x: number): number {
  if (x < -12) return 0;
  const m = 4000;
  const h = (x + 12) / m;
  let s = phi(-12) + phi(x);
  for (let k = 1; k < m; k++) s += (k % 2 ? 4 : 2) * phi(-12 + k * h);
  return (s * h) / 3;
}
/** Mass, mean and variance of N(μ, σ²) restricted to [a, b]. */
function truncated(mu: number, sd: number, a: number, b: number) {
  const al = (a - mu) / sd;
  const be = (b - mu) / sd;
  const Z = Phi(be) - Phi(al);
  const r = (phi(al) - phi(be)) / Z;
  const mean = mu + sd * r;
  const variance = sd * sd * (1 + (al * phi(al) - be * phi(be)) / Z - r * r);
  return { Z, mean, variance };
}

const num = (t: Table, name: string) => getColumn(t, name) as NumericColumn;
const cod = (t: Table, name: string) => getColumn(t, name) as CodedColumn;
const tol = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n);

describe("e-commerce ground truth (appendix A.1)", () => {
  it("has A.1's six variables, in order, with A.1's levels", () => {
    expect(table.nRows).toBe(N);
    expect(table.columns.map((c) => c.name)).toEqual([...ECOMMERCE_COLUMNS]);
    expect(table.columns.map((c) => c.kind)).toEqual([
      "numerical",
      "categorical",
      "categorical",
      "categorical",
      "numerical",
      "categorical",
    ]);
    expect(cod(table, "gender").levels).toEqual(["Male", "Female"]);
    expect(cod(table, "location_tier").levels).toEqual(["Developed", "Developing"]);
    expect(cod(table, "product_category").levels).toEqual([
      "Electronics",
      "Apparel",
      "Food & Beverages",
      "Furniture & Appliances",
    ]);
    expect(cod(table, "payment_method").levels).toEqual(["Online Payment", "Cash on Delivery"]);
  });

  it("is deterministic in the seed", () => {
    expect(sampleEcommerce(500, SEED).table).toEqual(sampleEcommerce(500, SEED).table);
    expect(sampleEcommerce(500, SEED + 1).table).not.toEqual(sampleEcommerce(500, SEED).table);
  });

  it("age: mixture 0.5/0.35/0.15 of N(24,6²), N(38,15²), N(55,10²) truncated to [18, 90]", () => {
    const age = num(table, "user_age").values;
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    for (const a of age) {
      lo = Math.min(lo, a);
      hi = Math.max(hi, a);
      sum += a;
    }
    expect(lo).toBeGreaterThanOrEqual(18);
    expect(hi).toBeLessThanOrEqual(90);
    const parts = P.age.means.map((m, k) => truncated(m, P.age.sds[k], 18, 90));
    const mass = parts.reduce((s, p, k) => s + P.age.weights[k] * p.Z, 0);
    // Truncating the mixture re-weights its components by the mass each keeps in [18, 90].
    const weights = parts.map((p, k) => (P.age.weights[k] * p.Z) / mass);
    const counts = [0, 0, 0];
    for (const k of ageComponent) counts[k]++;
    weights.forEach((w, k) => {
      expect(Math.abs(counts[k] / N - w)).toBeLessThan(tol(w, N));
      // the brief's ±0.02 on the mixture weights
      expect(Math.abs(counts[k] / N - w)).toBeLessThan(0.02);
    });
    // weights derived from π = [0.5, 0.35, 0.15]: 0.5·0.8413/0.8886 ≈ 0.473
    expect(weights[0]).toBeCloseTo(0.4734, 3);
    const mean = parts.reduce((s, p, k) => s + weights[k] * p.mean, 0);
    const second = parts.reduce((s, p, k) => s + weights[k] * (p.variance + p.mean * p.mean), 0);
    const sd = Math.sqrt(second - mean * mean);
    expect(Math.abs(sum / N - mean)).toBeLessThan((4 * sd) / Math.sqrt(N));
    // CDF at the age-group cuts and a few more points.
    for (const x of [22, 35, 45, 55, 70]) {
      // F(x) = Σ π_k (Φ((x−μ_k)/σ_k) − Φ((18−μ_k)/σ_k)) / Σ π_k Z_k
      let F = 0;
      for (let k = 0; k < 3; k++) {
        const mu = P.age.means[k];
        const sd = P.age.sds[k];
        F += P.age.weights[k] * (Phi((x - mu) / sd) - Phi((18 - mu) / sd));
      }
      F /= mass;
      let below = 0;
      for (const a of age) if (a <= x) below++;
      expect(Math.abs(below / N - F), `F(${x})`).toBeLessThan(tol(F, N));
    }
  });

  it("gender 0.45/0.55 and location tier 0.40/0.60", () => {
    const share = (c: CodedColumn, k: number) => c.codes.filter((x) => x === k).length / N;
    expect(Math.abs(share(cod(table, "gender"), 0) - 0.45)).toBeLessThan(tol(0.45, N));
    expect(Math.abs(share(cod(table, "location_tier"), 0) - 0.4)).toBeLessThan(tol(0.4, N));
  });

  it("product category follows A.1's table given age group and gender", () => {
    const age = num(table, "user_age").values;
    const g = cod(table, "gender").codes;
    const c = cod(table, "product_category").codes;
    for (let group = 0; group < 3; group++) {
      for (let gender = 0; gender < 2; gender++) {
        const counts = [0, 0, 0, 0];
        let n = 0;
        for (let i = 0; i < N; i++) {
          const ag = age[i] < 35 ? 0 : age[i] < 55 ? 1 : 2;
          if (ag !== group || g[i] !== gender) continue;
          counts[c[i]]++;
          n++;
        }
        expect(n).toBeGreaterThan(300);
        P.category.cpt[group][gender].forEach((p, k) => {
          expect(Math.abs(counts[k] / n - p), `${P.category.ageGroups[group]}/${gender}/${k}`).toBeLessThan(
            tol(p, n),
          );
        });
      }
    }
  });

  it("price given category: N(μ_c, σ_c²) truncated to [0, 2000]", () => {
    const price = num(table, "price").values;
    const c = cod(table, "product_category").codes;
    for (let k = 0; k < 4; k++) {
      const t = truncated(P.price.means[k], P.price.sds[k], 0, 2000);
      let n = 0;
      let sum = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < N; i++) {
        if (c[i] !== k) continue;
        lo = Math.min(lo, price[i]);
        hi = Math.max(hi, price[i]);
        n++;
        sum += price[i];
      }
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(2000);
      expect(Math.abs(sum / n - t.mean), P.category.levels[k]).toBeLessThan(
        (4 * Math.sqrt(t.variance)) / Math.sqrt(n),
      );
    }
  });

  it("payment method given tier: Developed 0.70/0.30, Developing 0.40/0.60", () => {
    const t = cod(table, "location_tier").codes;
    const m = cod(table, "payment_method").codes;
    for (let tier = 0; tier < 2; tier++) {
      let n = 0;
      let online = 0;
      for (let i = 0; i < N; i++) {
        if (t[i] !== tier) continue;
        n++;
        if (m[i] === 0) online++;
      }
      const p = P.payment.byTier[tier][0];
      expect(Math.abs(online / n - p)).toBeLessThan(tol(p, n));
    }
  });
});

describe("synthgraph example ecommerce (runExample)", () => {
  it("writes the seeded sample as CSV that reads back with the same values", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sg-example-"));
    const out = join(dir, "ecommerce.csv");
    const r = await runExample({ name: "ecommerce", rows: 300, seed: 11, out });
    expect(r).toEqual({ out, rows: 300, columns: [...ECOMMERCE_COLUMNS] });
    expect(readFileSync(out, "utf8").split("\n")[0]).toBe(ECOMMERCE_COLUMNS.join(","));
    const back = await readTable(out);
    const truth = sampleEcommerce(300, 11).table;
    expect(back.table.nRows).toBe(300);
    for (const col of truth.columns) {
      const got = getColumn(back.table, col.name);
      if (isNumeric(col)) expect(Array.from((got as NumericColumn).values)).toEqual(Array.from(col.values));
      else {
        const g = got as CodedColumn;
        expect(Array.from(g.codes, (k) => g.levels[k])).toEqual(Array.from(col.codes, (k) => col.levels[k]));
      }
    }
  });

  it("rejects an unknown example and bad row counts with a hint", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "sg-example-")), "x.csv");
    await expect(runExample({ name: "nope" as "ecommerce", out })).rejects.toThrow(/unknown example/);
    await expect(runExample({ name: "ecommerce", rows: 0, out })).rejects.toThrow(/rows/);
  });
});
