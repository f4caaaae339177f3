/**
 * The grid lookup of a rounded column (engines/copula/rounded-ppf.ts) against the per-row reference (the
 * iterative inverse F⁻¹(u), clipped and rounded) on many uniforms: the same value for every u, for beta and
 * gamma marginals on whole numbers, one decimal, and a datetime-like step; values on the grid only.
 */
import { describe, expect, it } from "vitest";
import { fitFamily } from "../../../engines/copula/marginals.ts";
import { gridInverse, gridValue, roundedPpf } from "../../../engines/copula/rounded-ppf.ts";
import { createRng } from "../../../stats/primitives/rng.ts";

/** Skewed sample values on a grid of `unit` between lo and hi (seeded). */
function gridSample(lo: number, hi: number, unit: number, decimals: number | null, n: number): Float64Array {
  const rng = createRng(5);
  const f = decimals === null ? 1 : 10 ** decimals;
  return Float64Array.from({ length: n }, () => {
    const v = lo + (hi - lo) * rng.next() ** 2;
    return decimals === null ? Math.round(v / unit) * unit : Math.round(v * f) / f;
  });
}

const CASES = [
  { name: "whole numbers 60..202", lo: 60, hi: 202, step: 1, decimals: 0 as number | null },
  { name: "one decimal -2.6..6.2", lo: -2.6, hi: 6.2, step: 0.1, decimals: 1 as number | null },
  { name: "0/1", lo: 0, hi: 1, step: 1, decimals: 0 as number | null },
  { name: "days (step, no decimals)", lo: 0, hi: 400 * 86_400_000, step: 86_400_000, decimals: null },
];

describe("gridInverse / gridValue", () => {
  for (const c of CASES) {
    for (const family of ["beta", "gamma"] as const) {
      it(`${c.name}, ${family}: the per-row rounded inverse at every one of 20,000 uniforms`, () => {
        const x = gridSample(c.lo, c.hi, c.step, c.decimals, 500);
        const m = fitFamily(family, x);
        const rounding = { min: Math.min(...x), max: Math.max(...x), step: c.step, decimals: c.decimals };
        const grid = gridInverse(m, rounding, 1_000_000);
        expect(grid).not.toBeNull();
        if (grid === null) return;
        const rng = createRng(9);
        // Uniforms over (0, 1) plus the extremes the sampler can produce (u is clipped to [2^−23, 1 − 2^−23]).
        const us = [1.1920928955078125e-7, 1 - 1.1920928955078125e-7];
        for (let i = 0; i < 20_000; i++) us.push(rng.next());
        for (const u of us) expect(gridValue(grid, u)).toBe(roundedPpf(m, rounding, u));
        // Each grid value is a value of the column's grid within [min, max].
        for (const v of grid.values) {
          expect(v).toBeGreaterThanOrEqual(rounding.min);
          expect(v).toBeLessThanOrEqual(rounding.max);
        }
      });
    }
  }

  it("no grid for an unrounded column, nor for one with more points than allowed", () => {
    const m = fitFamily("beta", Float64Array.from([1, 2, 3, 5, 8, 13]));
    expect(gridInverse(m, { min: 1, max: 13, step: 0, decimals: null }, 100)).toBeNull();
    // 1..13 in whole numbers is 13 points.
    expect(gridInverse(m, { min: 1, max: 13, step: 1, decimals: 0 }, 12)).toBeNull();
    expect(gridInverse(m, { min: 1, max: 13, step: 1, decimals: 0 }, 13)?.values).toHaveLength(13);
  });
});
