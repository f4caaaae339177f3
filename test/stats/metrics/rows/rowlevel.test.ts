import { describe, expect, it } from "vitest";
import { codedColumn, numericColumn, tableOf } from "../../../../data/build.ts";
import {
  encodeMix,
  encodeOhMinmax,
  encodeTabsyn,
  oneHotSpec,
} from "../../../../stats/metrics/rows/encode.ts";
import { fitSdmEncoder, transformSdm } from "../../../../stats/classifiers/encode-sdm.ts";
import {
  dcrL1,
  dcrMixed,
  nearestL2,
  nearestOtherL2,
  twoNearestL2,
} from "../../../../stats/metrics/rows/neighbors.ts";
import { createRng } from "../../../../stats/primitives/rng.ts";
import {
  identifiability,
  mmdRbf,
  rowLevelMetrics,
  selectKth,
  subsampleRows,
} from "../../../../stats/metrics/rows/rowlevel.ts";
import { compareTree, fixtureTable, tableFixtures } from "../../../support/fixtures.ts";

const fixtures = tableFixtures();

describe("row_level subtree matches every table fixture", () => {
  it("finds table fixtures", () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });
  for (const f of fixtures) {
    it(f.case_id, () => {
      const real = fixtureTable(f.schema, f.data.real);
      const synthetic = fixtureTable(f.schema, f.data.synthetic);
      const holdout = fixtureTable(f.schema, f.data.holdout);
      const actual = rowLevelMetrics(real, synthetic, holdout, { alphaBetaSteps: f.params.alpha_beta_steps });
      const expected = f.expected.row_level as Record<string, unknown>;
      expect(expected).toBeDefined();
      expect(compareTree(actual, expected)).toEqual([]);
      // Where the reference raises, we must not return numbers.
      const ab = expected.alpha_beta_naive as Record<string, unknown>;
      if (typeof ab.error === "string") {
        expect("error" in actual.alpha_beta_naive).toBe(true);
        expect("alpha_precision" in actual.alpha_beta_naive).toBe(false);
      }
    });
  }
});

const small = () => tableOf([numericColumn("x", [0, 10, null, 4]), codedColumn("c", ["b", "a", null, "a"])]);

describe("encodings (hand-computed)", () => {
  it("one-hot over fit categories: code-point order, missing last, unseen zeros", () => {
    const fit = codedColumn("c", ["b", "a", null, "a"]);
    expect(oneHotSpec(fit)).toEqual({ levels: ["a", "b"], missing: true });
    const other = tableOf([numericColumn("x", [1, null]), codedColumn("c", ["z", null])]);
    const m = transformSdm(fitSdmEncoder(small()), other);
    // x: missing → fit mean (0+10+4)/3; c: unseen "z" → 0,0,0; missing → last slot.
    expect(m.nCols).toBe(4);
    expect(Array.from(m.data)).toEqual([1, 0, 0, 0, 14 / 3, 0, 0, 1]);
  });

  it("ENC-TABSYN divides by the train range without subtracting the min", () => {
    const [m] = encodeTabsyn(small(), [small()]);
    expect(Array.from(m.data.subarray(0, 4))).toEqual([0, 0, 1, 0]);
    expect(m.data[4]).toBe(1); // 10/10
    expect(m.data[8]).toBe(14 / 3 / 10);
  });

  it("ENC-OH-MINMAX maps a column constant 1 in real to 0 (real) and −1 (others)", () => {
    const real = tableOf([numericColumn("x", [2, 4]), codedColumn("c", ["a", "a"])]);
    const syn = tableOf([numericColumn("x", [3, 6]), codedColumn("c", ["a", "b"])]);
    const [r, s] = encodeOhMinmax(real, [real, syn]);
    expect(Array.from(r.data)).toEqual([0, 0, 1, 0]);
    expect(Array.from(s.data)).toEqual([0.5, 0, 2, -1]);
  });

  it("ENC-MIX labels: union codes, missing equal to missing", () => {
    const [a, b] = encodeMix(
      small(),
      [small(), tableOf([numericColumn("x", [5]), codedColumn("c", [null])])],
      "minmax_real",
    );
    expect(a.num.data[1]).toBe(1); // 10 / range 10
    expect(b.cat[0]).toBe(-1);
    expect(a.cat[2]).toBe(-1);
  });
});

describe("neighbour kernels (hand-computed)", () => {
  it("dcrL1: L1 minimum per synthetic row", () => {
    const R = Float64Array.from([0, 0, 3, 4, 1, 1]);
    const S = Float64Array.from([3, 3, 0, 0.5, 10, -10]);
    // row0: |3|+|3|=6, 0+1=1, 2+2=4 → 1; row1: 0.5, 7.5, 1.5 → 0.5; row2: 20, 21, 20 → 20
    expect(Array.from(dcrL1(S, R, 2))).toEqual([1, 0.5, 20]);
  });

  it("dcrMixed: numeric L1 plus 1 per label mismatch", () => {
    const d = dcrMixed(
      Float64Array.from([0.5]),
      Float64Array.from([0, 0.25]),
      1,
      Int32Array.from([1, -1]),
      Int32Array.from([1, 0, 2, -1]),
      2,
      1,
      2,
    );
    // r0: 0.5 + 0 + 1 = 1.5; r1: 0.25 + 1 + 0 = 1.25
    expect(Array.from(d)).toEqual([1.25]);
  });

  it("nearestL2: ties go to the lowest index", () => {
    const X = Float64Array.from([1, 0, -1, 0, 0, 1, 0, 0.5]);
    const Q = Float64Array.from([0, 0, 0, 0.75]);
    const { dist, index } = nearestL2(Q, X, 2);
    // Q1 is 0.25 from rows 2 and 3: row 2 wins.
    expect(Array.from(index)).toEqual([3, 2]);
    expect(Array.from(dist)).toEqual([0.5, 0.25]);
    const { index: tie } = nearestL2(Float64Array.from([0, 0]), X.subarray(0, 6), 2);
    expect(tie[0]).toBe(0); // rows 0, 1, 2 all at distance 1
  });

  it("twoNearestL2 and nearestOtherL2 (duplicates give 0)", () => {
    const X = Float64Array.from([0, 3, 3, 10]);
    const [d1, d2] = twoNearestL2(Float64Array.from([4]), X, 1);
    expect([d1[0], d2[0]]).toEqual([1, 1]);
    expect(Array.from(nearestOtherL2(X, 1))).toEqual([3, 0, 0, 7]);
  });

  it("selectKth agrees with a full sort", () => {
    const rng = createRng(7);
    const a = new Float64Array(1001);
    for (let i = 0; i < a.length; i++) a[i] = Math.floor(rng.next() * 50);
    const sorted = Float64Array.from(a).sort();
    for (const k of [0, 1, 500, 999, 1000]) expect(selectKth(Float64Array.from(a), k)).toBe(sorted[k]);
  });
});

describe("row-level metrics (hand-computed)", () => {
  it("identifiability: distinct matches, missing equals missing", () => {
    const real = tableOf([numericColumn("x", [1, null, 2]), codedColumn("c", ["a", "b", null])]);
    const syn = tableOf([
      numericColumn("x", [1, 1, null, 2, 2]),
      codedColumn("c", ["a", "a", "b", "a", null]),
    ]);
    // Rows 0, 1 (same), 2 and 4 occur in real: 3 distinct, 4 rows.
    expect(identifiability(real, syn)).toEqual({
      synllm: 3 / 5,
      exact_match_rate: 4 / 5,
      n_distinct_matches: 3,
    });
  });

  it("MMD: sigma is the pooled median distance; biased formula by hand", () => {
    // Real {0}, synthetic {1, 3} in one dimension: pair distances 1, 3, 2 → σ = 2.
    const m = mmdRbf(
      { data: Float64Array.from([0]), rows: 1, cols: 1 },
      { data: Float64Array.from([1, 3]), rows: 2, cols: 1 },
    );
    const k = (d: number) => Math.exp(-(d * d) / 8);
    const biased = 1 + (2 + 2 * k(2)) / 4 - (2 * (k(1) + k(3))) / 2;
    expect(m.sigma).toBe(2);
    expect(m.mmd2_biased).toBeCloseTo(biased, 15);
    expect(m.mmd).toBeCloseTo(Math.sqrt(biased), 15);
    expect(m.mmd2_unbiased).toBeNaN(); // n = 1 leaves no off-diagonal real pairs
  });

  it("omits the DCR share without holdout and reports an error when sizes differ", () => {
    const real = small();
    const syn = tableOf([numericColumn("x", [4, 1]), codedColumn("c", ["a", "b"])]);
    const r = rowLevelMetrics(real, syn, undefined, { alphaBetaSteps: 30 });
    expect(r.dcr_share_tabsyn).toBeUndefined();
    expect(r._notes.some((n) => n.includes("dcr_share_tabsyn"))).toBe(true);
    expect("error" in r.alpha_beta_naive).toBe(true);
    // syn row 0 (4, a) copies real row 3; row 1 (1, b) vs real row 0 (0, b): |1 − 0| = 1 raw, 0.1 minmax.
    expect(r.dcr.raw.per_row).toEqual([0, 1]);
    expect(r.dcr.minmax_real.per_row).toEqual([0, 0.1]);
    expect(r.dcr.raw.frac_zero).toBe(0.5);
  });

  it("subsamples above maxRows with a seeded RNG, keeping row order", () => {
    const t = tableOf([
      numericColumn(
        "x",
        Array.from({ length: 100 }, (_, i) => i),
      ),
    ]);
    const notes: string[] = [];
    const a = subsampleRows(t, 10, createRng(3), "t", notes);
    const b = subsampleRows(t, 10, createRng(3), "t", []);
    const va = Array.from((a.columns[0] as { values: Float64Array }).values);
    expect(a.nRows).toBe(10);
    expect(va).toEqual(Array.from((b.columns[0] as { values: Float64Array }).values));
    expect(va).toEqual([...va].sort((x, y) => x - y));
    expect(new Set(va).size).toBe(10);
    expect(notes).toHaveLength(1);
    expect(subsampleRows(t, 100, createRng(3), "t", [])).toBe(t);
  });
});
