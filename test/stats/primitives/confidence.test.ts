import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  aucInterval,
  meanInterval,
  medianInterval,
  wilsonInterval,
} from "../../../stats/primitives/confidence.ts";

// Wilson and mean references: scipy, computed by bench/confidence_reference.py.
const here = dirname(fileURLToPath(import.meta.url));
const ref = JSON.parse(readFileSync(join(here, "../../fixtures/confidence-intervals.json"), "utf8")) as {
  wilson: Array<{ k: number; n: number; lo: number; hi: number }>;
  mean: Array<{ x: number[]; lo: number; hi: number }>;
};

describe("confidence intervals", () => {
  it.each(ref.wilson)("Wilson k=$k n=$n matches scipy binomtest", ({ k, n, lo, hi }) => {
    const [a, b] = wilsonInterval(k, n);
    expect(a).toBeCloseTo(lo, 12);
    expect(b).toBeCloseTo(hi, 12);
  });

  it.each(ref.mean.map((m, i) => ({ i, ...m })))("mean interval $i matches scipy norm.interval", (m) => {
    const [a, b] = meanInterval(m.x);
    expect(a).toBeCloseTo(m.lo, 12);
    expect(b).toBeCloseTo(m.hi, 12);
  });

  it("median interval takes order statistics l = ⌊n/2 − z√n/2⌋ and u = ⌈n/2 + z√n/2⌉", () => {
    // n = 9: z·√9/2 = 1.95996·3/2 = 2.93995; l = ⌊4.5 − 2.93995⌋ = ⌊1.56⌋ = 1, u = ⌈7.43995⌉ = 8.
    expect(medianInterval([9, 1, 8, 2, 7, 3, 6, 4, 5])).toEqual([1, 8]);
    // n = 100: z·10/2 = 9.7998; l = ⌊50 − 9.7998⌋ = 40, u = ⌈59.7998⌉ = 60 → values 40 and 60 of 1..100.
    const x = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(medianInterval(x)).toEqual([40, 60]);
  });

  it("AUC interval follows Hanley & McNeil", () => {
    // A = 0.8, n1 = n0 = 10: Q1 = 0.8/1.2 = 0.666667, Q2 = 2·0.64/1.8 = 0.711111,
    // SE² = (0.8·0.2 + 9·(0.666667 − 0.64) + 9·(0.711111 − 0.64))/100 = (0.16 + 0.24 + 0.64)/100 = 0.0104,
    // half width = 1.959964·√0.0104 = 0.199878.
    const [lo, hi] = aucInterval(0.8, 10, 10);
    expect(lo).toBeCloseTo(0.8 - 0.199878, 5);
    expect(hi).toBeCloseTo(0.999878, 5);
    expect(aucInterval(1, 5, 5)).toEqual([1, 1]);
  });

  it("gives NaN bounds when there is nothing to estimate from", () => {
    expect(wilsonInterval(0, 0)).toEqual([Number.NaN, Number.NaN]);
    expect(meanInterval([1])).toEqual([Number.NaN, Number.NaN]);
    expect(medianInterval([])).toEqual([Number.NaN, Number.NaN]);
  });
});
