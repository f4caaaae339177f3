/**
 * The privacy guard's exact-copy mask (stats/privacy/exact-copies.ts) against hand counts and a brute-force
 * reference.
 */
import { describe, expect, it } from "vitest";
import { codedColumn, numericColumn, tableOf } from "../../../data/build.ts";
import type { CodedColumn, Table } from "../../../data/types.ts";
import { createRng } from "../../../stats/primitives/rng.ts";
import { exactCopyMask } from "../../../stats/privacy/exact-copies.ts";

describe("exactCopyMask", () => {
  it("marks rows equal in every non-id column, by category string, with missing = missing", () => {
    const real = tableOf([
      numericColumn("a", [1, 2, null, 0]),
      codedColumn("b", ["x", "y", "z", null]),
      codedColumn("id", ["r1", "r2", "r3", "r4"], "id"),
    ]);
    // Synthetic levels in another order; -0 equals 0; a new category never matches.
    const synthetic = tableOf([
      numericColumn("a", [2, 1, null, -0, 1, 2, 3]),
      codedColumn("b", ["y", "y", "z", null, "x", "new", "x"]),
      codedColumn("id", ["s1", "s2", "s3", "s4", "s5", "s6", "s7"], "id"),
    ]);
    expect([...exactCopyMask(real, synthetic)]).toEqual([1, 0, 1, 1, 1, 0, 0]);
  });

  it("agrees with a brute-force comparison on random tables with duplicates", () => {
    const rng = createRng(5);
    // Synthetic values come from a wider space than real ones, so some rows match and some cannot.
    const make = (n: number, width: number, cats: readonly string[]): Table => {
      const a: Array<number | null> = [];
      const b: Array<string | null> = [];
      for (let i = 0; i < n; i++) {
        a.push(rng.int(10) === 0 ? null : rng.int(width) / 2);
        b.push(rng.int(10) === 0 ? null : cats[rng.int(cats.length)]);
      }
      return tableOf([numericColumn("a", a), codedColumn("b", b)]);
    };
    const real = make(200, 4, ["p", "q", "r"]);
    const synthetic = make(300, 6, ["r", "q", "p", "s"]);
    const key = (t: Table, i: number): string =>
      t.columns
        .map((c) =>
          c.kind === "numerical" || c.kind === "datetime"
            ? String(c.values[i])
            : (c as CodedColumn).codes[i] < 0
              ? "<NA>"
              : `s:${(c as CodedColumn).levels[(c as CodedColumn).codes[i]]}`,
        )
        .join("|");
    const realKeys = new Set(Array.from({ length: real.nRows }, (_, i) => key(real, i)));
    const expected = Array.from({ length: synthetic.nRows }, (_, i) =>
      realKeys.has(key(synthetic, i)) ? 1 : 0,
    );
    const mask = exactCopyMask(real, synthetic);
    expect([...mask]).toEqual(expected);
    expect(expected.filter((x) => x === 1).length).toBeGreaterThan(100);
    expect(expected.filter((x) => x === 0).length).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------------
