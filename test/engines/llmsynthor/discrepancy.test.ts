import { describe, expect, it } from "vitest";
import { codedColumn, numericColumn, tableOf } from "../../../data/build.ts";
import type { Table } from "../../../data/types.ts";
import {
  type DiscrepancyCell,
  edgeFormatter,
  jointDiscrepancy,
  MISSING_LABEL,
  marginalDiscrepancy,
  numericCell,
  quantileEdges,
  uniformEdges,
} from "../../../engines/llmsynthor/discrepancy.ts";

const NaN_ = Number.NaN;

function simple(cells: readonly DiscrepancyCell[]) {
  return cells.map((c) => ({ labels: c.labels, real: c.real, synthetic: c.synthetic, diff: c.diff }));
}

function expectCells(actual: readonly DiscrepancyCell[], expected: Array<[string[], number, number]>) {
  expect(actual.map((c) => c.labels)).toEqual(expected.map((e) => e[0]));
  actual.forEach((c, i) => {
    expect(c.real, c.labels.join("|")).toBeCloseTo(expected[i][1], 14);
    expect(c.synthetic, c.labels.join("|")).toBeCloseTo(expected[i][2], 14);
    expect(c.diff, c.labels.join("|")).toBeCloseTo(expected[i][1] - expected[i][2], 14);
  });
}

describe("quantile main bins", () => {
  it("are numpy linear quantiles of the real values at linspace(0, 1, B+1)", () => {
    // n = 7, B = 3: positions 6·(0, 1/3, 2/3, 1) = 0, 2, 4, 6 -> sorted values 1, 3, 5, 7.
    expect(Array.from(quantileEdges(Float64Array.of(7, 1, 2, NaN_, 3, 4, 5, 6), 3))).toEqual([1, 3, 5, 7]);
    // n = 4, B = 2: position 1.5 -> 2 + (3 − 2)·0.5 = 2.5.
    expect(Array.from(quantileEdges(Float64Array.of(1, 2, 3, 4), 2))).toEqual([1, 2.5, 4]);
  });

  it("merge repeated quantiles (ties), and a constant column keeps one edge", () => {
    // n = 5, B = 4: positions 0, 1, 2, 3, 4 -> 1, 1, 1, 1, 2.
    expect(Array.from(quantileEdges(Float64Array.of(1, 1, 1, 1, 2), 4))).toEqual([1, 2]);
    expect(Array.from(quantileEdges(Float64Array.of(5, 5, 5), 6))).toEqual([5]);
    expect(quantileEdges(Float64Array.of(NaN_), 6).length).toBe(0);
  });

  it("numericCell: below = 0, bins 1..B left-closed with the last closed, above = B+1, missing = B+2", () => {
    const e = Float64Array.of(1, 3, 5, 7);
    const cells = [0.5, 1, 2.9, 3, 5, 6.99, 7, 7.01, NaN_].map((v) => numericCell(v, e));
    expect(cells).toEqual([0, 1, 1, 2, 3, 3, 3, 4, 5]);
    const c = Float64Array.of(5);
    expect([4, 5, 6, NaN_].map((v) => numericCell(v, c))).toEqual([0, 1, 2, 3]);
  });

  it("uniform sub-bin edges follow numpy.linspace (last edge exact)", () => {
    expect(Array.from(uniformEdges(5, 7, 2))).toEqual([5, 6, 7]);
    const e = uniformEdges(0.1, 0.7, 3);
    expect(e[3]).toBe(0.7);
    expect(e[1]).toBeCloseTo(0.3, 15);
  });
});

describe("marginal discrepancy", () => {
  // Real x = 1..7 with B = 3: bins [1, 3) = {1, 2}, [3, 5) = {3, 4}, [5, 7] = {5, 6, 7} -> 2/7, 2/7, 3/7.
  // Synthetic (n = 8): 0 below, {1, 1}, {3}, {6, 7}, 8 above, one missing.
  // diff = real − synthetic: below −1/8, [1,3) 2/7 − 2/8 = 1/28, [3,5) 2/7 − 1/8 = 9/56, [5,7] 3/7 − 2/8 = 5/28,
  // above −1/8, missing −1/8. TVD = ½ Σ|diff| = ½·(3/8 + 21/56) = 3/8; max |diff| = 5/28.
  const real = tableOf([numericColumn("x", [1, 2, 3, 4, 5, 6, 7])]);
  const syn = tableOf([numericColumn("x", [0, 1, 1, 3, 6, 7, 8, null])]);

  it("ranks the cells worst first with readable labels", () => {
    const [m] = marginalDiscrepancy(real, syn, { mainBins: 3, subBins: 2 });
    expect(m.column).toBe("x");
    expect(m.kind).toBe("numeric");
    expect(m.edges).toEqual([1, 3, 5, 7]);
    expect(m.tvd).toBeCloseTo(3 / 8, 15);
    expect(m.maxAbsDiff).toBeCloseTo(5 / 28, 15);
    expectCells(m.cells, [
      [["[5, 7]"], 3 / 7, 2 / 8],
      [["[3, 5)"], 2 / 7, 1 / 8],
      [["(-inf, 1)"], 0, 1 / 8],
      [["(7, +inf)"], 0, 1 / 8],
      [[MISSING_LABEL], 0, 1 / 8],
      [["[1, 3)"], 2 / 7, 2 / 8],
    ]);
    expect(m.cells[0].parts).toEqual([{ kind: "range", lo: 5, hi: 7, loClosed: true, hiClosed: true }]);
    expect(m.cells[2].parts).toEqual([{ kind: "range", lo: null, hi: 1, loClosed: false, hiClosed: false }]);
    expect(m.cells[4].parts).toEqual([{ kind: "missing" }]);
  });

  it("splits the worst main bin into uniform sub-bins whose proportions sum to the parent's", () => {
    // [5, 7] into [5, 6) and [6, 7]: real {5} 1/7, {6, 7} 2/7; synthetic {} 0, {6, 7} 2/8.
    const [m] = marginalDiscrepancy(real, syn, { mainBins: 3, subBins: 2 });
    expect(m.split?.parent.labels).toEqual(["[5, 7]"]);
    expectCells(m.split?.cells ?? [], [
      [["[5, 6)"], 1 / 7, 0],
      [["[6, 7]"], 2 / 7, 2 / 8],
    ]);
    const sumReal = (m.split?.cells ?? []).reduce((s, c) => s + c.real, 0);
    expect(sumReal).toBeCloseTo(m.split?.parent.real ?? NaN_, 15);
  });

  it("splitBy absolute vs positive (the default) picks different bins when the worst bin is over-generated", () => {
    // Synthetic (n = 8) six 1s, a 3 and a 5: [1,3) 2/7 − 6/8 = −13/28, [3,5) 2/7 − 1/8 = 9/56, [5,7] 3/7 − 1/8 = 17/56.
    const syn2 = tableOf([numericColumn("x", [1, 1, 1, 1, 1, 1, 3, 5])]);
    const [abs] = marginalDiscrepancy(real, syn2, { mainBins: 3, subBins: 2, splitBy: "absolute" });
    expect(abs.split?.parent.labels).toEqual(["[1, 3)"]);
    expect(abs.split?.parent.diff).toBeCloseTo(-13 / 28, 15);
    // [1, 3) into [1, 2) and [2, 3): real {1} 1/7, {2} 1/7; synthetic six 1s = 6/8, none.
    expectCells(abs.split?.cells ?? [], [
      [["[1, 2)"], 1 / 7, 6 / 8],
      [["[2, 3)"], 1 / 7, 0],
    ]);
    const [pos] = marginalDiscrepancy(real, syn2, { mainBins: 3, subBins: 2, splitBy: "positive" });
    expect(pos.split?.parent.labels).toEqual(["[5, 7]"]);
    expect(pos.split?.parent.diff).toBeCloseTo(17 / 56, 15);
    const [byDefault] = marginalDiscrepancy(real, syn2, { mainBins: 3, subBins: 2 });
    expect(byDefault.split).toEqual(pos.split);
  });

  it("uses the paper defaults (6 main bins, 8 sub-bins)", () => {
    const values = Array.from({ length: 13 }, (_, i) => i); // quantiles at 12·k/6 = 0, 2, ..., 12
    const [m] = marginalDiscrepancy(
      tableOf([numericColumn("v", values)]),
      tableOf([numericColumn("v", [0])]),
    );
    expect(m.edges).toEqual([0, 2, 4, 6, 8, 10, 12]);
    // Real bins hold 2/13 each (the last 3/13); the one synthetic row is in [0, 2) (2/13 − 1 < 0), so the largest
    // positive gap is the last bin's 3/13 − 0.
    expect(m.split?.parent.labels).toEqual(["[10, 12]"]);
    // 8 sub-bins of width 0.25 over [10, 12]: real 10 -> [10, 10.25), 11 -> [11, 11.25), 12 -> [11.75, 12]; the
    // labels use 3 significant digits (enough to tell 10, 10.25, 10.5, ... apart): 10.25 -> 10.3, 11.75 -> 11.8.
    expectCells(m.split?.cells ?? [], [
      [["[10, 10.3)"], 1 / 13, 0],
      [["[11, 11.3)"], 1 / 13, 0],
      [["[11.8, 12]"], 1 / 13, 0],
    ]);
  });

  it("a constant real column has one bin [c, c]; no split is possible", () => {
    const [m] = marginalDiscrepancy(
      tableOf([numericColumn("k", [5, 5, 5, 5])]),
      tableOf([numericColumn("k", [5, 4, 6, 6])]),
    );
    expect(m.edges).toEqual([5]);
    expectCells(m.cells, [
      [["[5, 5]"], 1, 1 / 4],
      [["(5, +inf)"], 0, 2 / 4],
      [["(-inf, 5)"], 0, 1 / 4],
    ]);
    expect(m.tvd).toBeCloseTo(0.75, 15);
    expect(m.split).toBeUndefined();
  });

  it("a real column with no values puts every synthetic value in one unbounded bin", () => {
    const [m] = marginalDiscrepancy(
      tableOf([numericColumn("x", [null, null])]),
      tableOf([numericColumn("x", [3, null])]),
    );
    expect(m.edges).toEqual([]);
    // Both |diff| are 0.5: ties keep table order (bins before missing).
    expectCells(m.cells, [
      [["(-inf, +inf)"], 0, 0.5],
      [[MISSING_LABEL], 1, 0.5],
    ]);
    expect(m.tvd).toBeCloseTo(0.5, 15);
    expect(m.split).toBeUndefined();
  });

  it("categorical: per category (compared by string across tables) plus a missing cell", () => {
    // Real (n = 4): a 1/2, b 1/4, missing 1/4. Synthetic (n = 5): a 1/5, b 2/5, c 1/5, missing 1/5.
    // diff: a 0.3, b −0.15, c −0.2, missing 0.05; TVD = ½·0.7 = 0.35.
    const real = tableOf([codedColumn("c", ["a", "b", "a", null])]);
    const syn = tableOf([codedColumn("c", ["c", "b", "b", "a", null])]);
    const [m] = marginalDiscrepancy(real, syn);
    expect(m.kind).toBe("categorical");
    expect(m.tvd).toBeCloseTo(0.35, 15);
    expectCells(m.cells, [
      [["a"], 0.5, 0.2],
      [["c"], 0, 0.2],
      [["b"], 0.25, 0.4],
      [[MISSING_LABEL], 0.25, 0.2],
    ]);
    expect(m.cells[1].parts).toEqual([{ kind: "category", value: "c" }]);
    expect(m.split).toBeUndefined();
  });

  it("treats an empty synthetic table as all-zero proportions and skips id columns", () => {
    const real = tableOf([codedColumn("id", ["1", "2"], "id"), codedColumn("c", ["a", "b"])]);
    const empty = tableOf([codedColumn("id", [], "id"), codedColumn("c", [])]);
    const ms = marginalDiscrepancy(real, empty);
    expect(ms.map((m) => m.column)).toEqual(["c"]);
    expect(ms[0].tvd).toBe(0.5);
    expect(simple(ms[0].cells)).toEqual([
      { labels: ["a"], real: 0.5, synthetic: 0, diff: 0.5 },
      { labels: ["b"], real: 0.5, synthetic: 0, diff: 0.5 },
    ]);
  });
});

describe("joint discrepancy", () => {
  // Real x = 1..4 with B = 2 -> edges [1, 2.5, 4]; cells (x-bin, c): ([1,2.5),u), ([1,2.5),v), ([2.5,4],u),
  // ([2.5,4],v), 1/4 each. Synthetic x = [1, 1, 4, NaN], c = [u, u, v, v]: ([1,2.5),u) 1/2, ([2.5,4],v) 1/4,
  // (missing, v) 1/4. diff: −1/4, 1/4, 1/4, 0, −1/4; TVD = 1/2.
  const real: Table = tableOf([numericColumn("x", [1, 2, 3, 4]), codedColumn("c", ["u", "v", "u", "v"])]);
  const syn: Table = tableOf([numericColumn("x", [1, 1, 4, null]), codedColumn("c", ["u", "u", "v", "v"])]);

  it("counts the contingency table over the group and ranks cells worst first", () => {
    const j = jointDiscrepancy(real, syn, ["x", "c"], { mainBins: 2 });
    expect(j.columns).toEqual(["x", "c"]);
    expect(j.tvd).toBeCloseTo(0.5, 15);
    expect(j.maxAbsDiff).toBeCloseTo(0.25, 15);
    expectCells(j.cells, [
      [["[1, 2.5)", "u"], 0.25, 0.5],
      [["[1, 2.5)", "v"], 0.25, 0],
      [["[2.5, 4]", "u"], 0.25, 0],
      [[MISSING_LABEL, "v"], 0, 0.25],
      [["[2.5, 4]", "v"], 0.25, 0.25],
    ]);
    expect(j.cells[0].columns).toEqual(["x", "c"]);
    expect(j.cells[0].parts).toEqual([
      { kind: "range", lo: 1, hi: 2.5, loClosed: true, hiClosed: false },
      { kind: "category", value: "u" },
    ]);
  });

  it("follows the group's column order", () => {
    const j = jointDiscrepancy(real, syn, ["c", "x"], { mainBins: 2 });
    expect(j.cells[0].labels).toEqual(["u", "[1, 2.5)"]);
    expect(j.tvd).toBeCloseTo(0.5, 15);
  });

  it("rejects groups of fewer than 2 distinct columns and unknown columns", () => {
    expect(() => jointDiscrepancy(real, syn, ["x"])).toThrow(/2 or more/);
    expect(() => jointDiscrepancy(real, syn, ["x", "x"])).toThrow(/2 or more/);
    expect(() => jointDiscrepancy(real, syn, ["x", "nope"])).toThrow(/no column "nope"/);
  });
});

describe("labels", () => {
  it("use the fewest significant digits (≥ 3) that keep adjacent edges distinct", () => {
    // 3 digits would print 0.12341 and 0.12349 both as 0.123.
    const fmt = edgeFormatter("numerical", Float64Array.of(0.12341, 0.12349, 3.456789));
    expect([0.12341, 0.12349, 3.456789].map(fmt)).toEqual(["0.1234", "0.1235", "3.457"]);
    expect(edgeFormatter("numerical", Float64Array.of(1, 2.5, 1234567))(1234567)).toBe("1234567");
    expect(edgeFormatter("numerical", Float64Array.of(1.23456, 9))(1.23456)).toBe("1.23");
  });

  it("datetimes print as ISO dates, with the time only when an edge is not midnight UTC", () => {
    const day = Date.UTC(2024, 0, 15);
    expect(edgeFormatter("datetime", Float64Array.of(day, day + 86_400_000))(day)).toBe("2024-01-15");
    expect(edgeFormatter("datetime", Float64Array.of(day, day + 3_600_000))(day + 3_600_000)).toBe(
      "2024-01-15T01:00:00Z",
    );
  });

  it("numeric datetime columns are binned and labelled as dates", () => {
    const d = (k: number) => Date.UTC(2024, 0, 1) + k * 86_400_000;
    const real = tableOf([numericColumn("t", [d(0), d(2), d(4)], "datetime")]);
    const [m] = marginalDiscrepancy(real, real, { mainBins: 2 });
    expect(m.cells.map((c) => c.labels[0])).toEqual(["[2024-01-01, 2024-01-03)", "[2024-01-03, 2024-01-05]"]);
    expect(m.tvd).toBe(0);
    expect(m.split).toBeUndefined();
  });
});
