/**
 * The copula sampled under a condition by rejection (engines/copula/sample-under.ts): every row satisfies the
 * predicate, and the conditional frequencies match those of a large unconditional sample of the same model
 * filtered by the predicate (brute force, an independent seed), within 4 standard errors of the difference.
 */
import { describe, expect, it } from "vitest";
import { parsePredicate, predicateMask } from "../../../data/predicate/index.ts";
import type { Table } from "../../../data/types.ts";
import { fitCopula } from "../../../engines/copula/fit.ts";
import { sampleCopula } from "../../../engines/copula/sample.ts";
import { sampleUnder } from "../../../engines/copula/sample-under.ts";
import { adultModelInputs } from "../../support/offline-engines.ts";

function share(t: Table, mask: Uint8Array | null, column: string, level: string): { p: number; n: number } {
  const col = t.columns.find((c) => c.name === column);
  if (!col || !("codes" in col)) throw new Error(column);
  const code = col.levels.indexOf(level);
  let k = 0;
  let n = 0;
  for (let i = 0; i < t.nRows; i++) {
    if (mask && mask[i] !== 1) continue;
    n++;
    if (col.codes[i] === code) k++;
  }
  return { p: k / n, n };
}

function mean(t: Table, mask: Uint8Array | null, column: string): { m: number; sd: number; n: number } {
  const col = t.columns.find((c) => c.name === column);
  if (!col || !("values" in col)) throw new Error(column);
  const xs: number[] = [];
  for (let i = 0; i < t.nRows; i++)
    if ((!mask || mask[i] === 1) && col.values[i] === col.values[i]) xs.push(col.values[i]);
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) * (b - m), 0) / (xs.length - 1));
  return { m, sd, n: xs.length };
}

describe("sampleUnder (copula)", () => {
  it("matches the filtered unconditional distribution and satisfies the condition in every row", async () => {
    const { table, metadata } = await adultModelInputs();
    const model = fitCopula(table, metadata, { seed: 1 });
    const pred = parsePredicate('sex == "Female" and age > 40', metadata);
    const rows = sampleUnder(model, 4000, 21, pred, metadata);
    expect(rows.nRows).toBe(4000);
    expect(predicateMask(pred, rows).every((m) => m === 1)).toBe(true);
    const big = sampleCopula(model, 100_000, 99, metadata);
    const inPred = predicateMask(pred, big);
    for (const [column, level] of [
      ["income", ">50K"],
      ["marital-status", "Never-married"],
    ] as const) {
      const a = share(rows, null, column, level);
      const b = share(big, inPred, column, level);
      const se = Math.sqrt(b.p * (1 - b.p) * (1 / a.n + 1 / b.n));
      expect(Math.abs(a.p - b.p), `${column} == ${level}`).toBeLessThan(4 * se + 1e-9);
    }
    const a = mean(rows, null, "hours-per-week");
    const b = mean(big, inPred, "hours-per-week");
    expect(Math.abs(a.m - b.m)).toBeLessThan(4 * b.sd * Math.sqrt(1 / a.n + 1 / b.n));
  });

  it("without a condition it is sampleCopula; with one it is seeded", async () => {
    const { table, metadata } = await adultModelInputs();
    const model = fitCopula(table, metadata, { seed: 1 });
    expect(sampleUnder(model, 200, 5, null, metadata)).toEqual(sampleCopula(model, 200, 5, metadata));
    const pred = parsePredicate("age > 50", metadata);
    const x = sampleUnder(model, 200, 5, pred, metadata);
    expect(sampleUnder(model, 200, 5, pred, metadata)).toEqual(x);
    expect(sampleUnder(model, 200, 6, pred, metadata)).not.toEqual(x);
  });

  it("a condition the copula almost never meets fails with the condition in the message", async () => {
    const { table, metadata } = await adultModelInputs();
    const model = fitCopula(table, metadata, { seed: 1 });
    const pred = parsePredicate('age < 20 and `marital-status` == "Widowed" and income == ">50K"', metadata);
    expect(() => sampleUnder(model, 100, 1, pred, metadata, { maxDrawsPerRow: 5 })).toThrow(
      /age < 20 and .* is too unlikely under the fitted model/,
    );
  });
});
