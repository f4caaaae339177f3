// Reference values: test/fixtures/copula/marginals.json, computed by scipy with bench/copula_reference.py.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  FAMILIES,
  type Family,
  fitFamily,
  fitMarginal,
  fitMarginalWithCdf,
  ksStatistic,
  type Marginal,
  marginalCdf,
  marginalPpf,
} from "../../../engines/copula/marginals.ts";
import { digamma, trigamma } from "../../../stats/primitives/digamma.ts";
import { betainc, betaincinv } from "../../../stats/primitives/incomplete-beta.ts";
import { gammaincinv } from "../../../stats/primitives/incomplete-gamma-inverse.ts";
import { ndtr, ndtri } from "../../../stats/primitives/normal.ts";

interface FamilyRef {
  params: Record<string, number>;
  cdf: number[];
  ppf: number[];
  ks: number;
}
interface Reference {
  ndtr: Array<{ x: number; y: number }>;
  ndtri: Array<{ p: number; x: number }>;
  beta: Array<{ a: number; b: number; x?: number; i?: number; p?: number; xinv?: number }>;
  gammaincinv: Array<{ a: number; p: number; x: number }>;
  polygamma: Array<{ x: number; psi: number; psi1: number }>;
  fits: Array<{
    name: string;
    x: number[];
    probe_x: number[];
    probe_u: number[];
    families: Record<Family, FamilyRef>;
    best_by_ks: Family;
  }>;
}

const here = dirname(fileURLToPath(import.meta.url));
const ref = JSON.parse(readFileSync(join(here, "../../fixtures/copula/marginals.json"), "utf8")) as Reference;

function close(actual: number, expected: number, rel: number, abs = 0): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected) + abs);
}

describe("special functions against scipy.special", () => {
  it("ndtr and ndtri to a few ulp (cephes port)", () => {
    for (const { x, y } of ref.ndtr) close(ndtr(x), y, 1e-13, 1e-300);
    for (const { p, x } of ref.ndtri) close(ndtri(p), x, 1e-14);
    expect(ndtri(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(ndtri(1.5)).toBeNaN();
  });
  it("betainc and betaincinv", () => {
    for (const c of ref.beta) {
      if (c.x !== undefined && c.i !== undefined) close(betainc(c.a, c.b, c.x), c.i, 1e-11, 1e-14);
      if (c.p !== undefined && c.xinv !== undefined) close(betaincinv(c.a, c.b, c.p), c.xinv, 1e-9, 1e-14);
    }
  });
  it("gammaincinv", () => {
    for (const c of ref.gammaincinv) close(gammaincinv(c.a, c.p), c.x, 1e-10, 1e-14);
  });
  it("digamma and trigamma", () => {
    for (const c of ref.polygamma) {
      close(digamma(c.x), c.psi, 1e-13, 1e-14);
      close(trigamma(c.x), c.psi1, 1e-13);
    }
  });
});

describe("marginal fits, CDF, PPF and KS against scipy.stats", () => {
  for (const fit of ref.fits) {
    const x = Float64Array.from(fit.x);
    for (const family of FAMILIES) {
      it(`${fit.name}: ${family}`, () => {
        const r = fit.families[family];
        const m = fitFamily(family, x);
        expect(m.family).toBe(family);
        // MLE shapes solved by different root finders agree to ~1e-7 relative (scipy's fsolve/brentq xtol).
        for (const [k, v] of Object.entries(r.params))
          close((m as unknown as Record<string, number>)[k], v, 1e-6, 1e-9);
        fit.probe_x.forEach((px, i) => close(marginalCdf(m, px), r.cdf[i], 1e-6, 1e-9));
        fit.probe_u.forEach((u, i) => close(marginalPpf(m, u), r.ppf[i], 1e-6, 1e-7));
        const sorted = Float64Array.from(x).sort();
        close(ksStatistic(m, sorted), r.ks, 1e-6, 1e-9);
      });
    }
    it(`${fit.name}: "auto" keeps the family with the smallest KS statistic (${fit.best_by_ks})`, () => {
      expect(fitMarginal("auto", x).family).toBe(fit.best_by_ks);
    });
  }

  it("ksStatistic on tied values is the brute-force maximum over every evaluated order statistic", () => {
    // Whole numbers with long runs of ties (F is computed once per run): the reference evaluates
    // (i + 1)/n − F(x_i) and F(x_i) − i/n at every i = 0, stride, 2·stride, ... as the definition states.
    const brute = (m: Marginal, sorted: Float64Array, stride: number): number => {
      let d = 0;
      for (let i = 0; i < sorted.length; i += stride) {
        const f = marginalCdf(m, sorted[i]);
        d = Math.max(d, (i + 1) / sorted.length - f, f - i / sorted.length);
      }
      return d;
    };
    const x = Float64Array.from({ length: 997 }, (_, i) =>
      Math.round(40 + 12 * Math.sin(i * 1.7) * Math.cos(i)),
    );
    const sorted = Float64Array.from(x).sort();
    for (const family of FAMILIES) {
      const m = fitFamily(family, x);
      for (const stride of [1, 2, 3, 7])
        expect(ksStatistic(m, sorted, stride)).toBe(brute(m, sorted, stride));
    }
  });

  it('"auto" with early-stopped scans picks what a full KS scan of every family picks', () => {
    // Brute force: every family fitted, its full KS statistic, the smallest kept (ties: FAMILIES order).
    const rng = (k: number) => Math.abs(Math.sin(k * 12.9898) * 43758.5453) % 1;
    const samples = [
      Float64Array.from({ length: 900 }, (_, i) => Math.round(100 + 40 * rng(i) * rng(i + 7))),
      Float64Array.from({ length: 900 }, (_, i) => Math.round(10 * -Math.log(1 - rng(i) * 0.999)) / 10),
      Float64Array.from({ length: 4500 }, (_, i) => 50 + 10 * (rng(i) + rng(i + 1) + rng(i + 2))),
      Float64Array.from({ length: 600 }, (_, i) => (rng(i) < 0.7 ? 0 : 1)),
    ];
    for (const x of samples) {
      const sorted = Float64Array.from(x).sort();
      const stride = Math.ceil(sorted.length / 2000);
      let best: Marginal | undefined;
      let bestD = Number.POSITIVE_INFINITY;
      for (const family of FAMILIES) {
        const m = fitFamily(family, x);
        const d = ksStatistic(m, sorted, stride);
        if (d < bestD) {
          bestD = d;
          best = m;
        }
      }
      expect(fitMarginal("auto", x)).toEqual(best);
    }
  });

  it("fitMarginalWithCdf hands over F of the chosen marginal at every distinct value (n <= 2000)", () => {
    const x = Float64Array.from(
      { length: 1500 },
      (_, i) => Math.round(1000 * Math.abs(Math.sin(i * 0.37))) / 10,
    );
    const { marginal, cdf } = fitMarginalWithCdf("auto", x);
    expect(marginal).toEqual(fitMarginal("auto", x));
    expect([...cdf.keys()].sort((a, b) => a - b)).toEqual([...new Set(x)].sort((a, b) => a - b));
    for (const [v, f] of cdf) expect(f).toBe(marginalCdf(marginal, v));
    expect(fitMarginalWithCdf("norm", x).cdf.size).toBe(0);
  });

  it("a constant column fits a constant marginal whose PPF returns the value", () => {
    const m: Marginal = fitMarginal("auto", Float64Array.from([3, 3, 3]));
    expect(m).toEqual({ family: "constant", value: 3 });
    expect(marginalPpf(m, 0.7)).toBe(3);
  });
});
