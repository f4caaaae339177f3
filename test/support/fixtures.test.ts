/** The fixture checker itself: it must count leaves and fail on every kind of mismatch. */
import { describe, expect, it } from "vitest";
import { compareTree } from "./fixtures.ts";

describe("compareTree", () => {
  const expected = {
    a: { value: 1.5, atol: 1e-9 },
    b: { c: { value: [1, null, 3], atol: 0.1 } },
    d: { value: null, atol: 1e-9 },
    flag: true,
    label: "exact",
    _debug: [1, 2, 3],
    rows: [{ value: [1, 2], atol: 0 }],
  };
  it("accepts a matching tree (NaN for null, within atol)", () => {
    const actual = {
      a: 1.5 + 1e-10,
      b: { c: [1.05, Number.NaN, 3] },
      d: Number.NaN,
      flag: true,
      rows: [[1, 2]],
    };
    expect(compareTree(actual, expected)).toEqual([]);
  });
  it("reports each mismatch with its path", () => {
    const actual = { a: 1.6, b: { c: [1, 2, 3] }, d: 0, flag: false, rows: [[1, 3]] };
    const f = compareTree(actual, expected);
    expect(f.map((s) => s.split(":")[0]).sort()).toEqual(["a", "b.c[1]", "d", "flag", "rows[0][1]"]);
  });
  it("reports missing keys and wrong lengths", () => {
    const f = compareTree({ b: { c: [1, null] }, d: null, flag: true, rows: [] }, expected);
    expect(f).toEqual(["a: missing in actual", "b.c: length 2, expected 3", "rows[0]: missing in actual"]);
  });
});
