import { describe, expect, it } from "vitest";
import { numericColumn, tableOf } from "../../../../data/build.ts";
import {
  correlationMatrices,
  pearsonMatrix,
  pearsonPairwise,
} from "../../../../stats/metrics/pairs/correlation.ts";
import {
  columnPairs,
  contingencySimilarity,
  cramersV,
  crossTab,
  mutualInformation,
} from "../../../../stats/metrics/pairs/pairs.ts";
import { qualityReport } from "../../../../stats/metrics/table/quality.ts";
import { createRng } from "../../../../stats/primitives/rng.ts";
import {
  compareTree,
  fixtureTable,
  isLeaf,
  type TableFixture,
  tableFixtures,
} from "../../../support/fixtures.ts";

const fixtures = tableFixtures();

function leafValue(x: unknown): number {
  if (!isLeaf(x)) throw new Error(`not a leaf: ${JSON.stringify(x)}`);
  return x.value === null ? Number.NaN : (x.value as number);
}

function tables(f: TableFixture) {
  return { real: fixtureTable(f.schema, f.data.real), synthetic: fixtureTable(f.schema, f.data.synthetic) };
}

describe("column pairs and correlation matrix against the fixtures", () => {
  it("has table fixtures", () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  for (const f of fixtures) {
    describe(f.case_id, () => {
      const { real, synthetic } = tables(f);
      const expectedPairs = f.expected.column_pairs as Record<string, Record<string, unknown>>;

      it("column_pairs matches every leaf", () => {
        const actual = columnPairs(real, synthetic, { bins: f.params.bins });
        expect(compareTree(actual, expectedPairs)).toEqual([]);
        // compareTree skips labels and extra keys: check the pair set, report_metric and error flags here.
        expect(Object.keys(actual)).toEqual(Object.keys(expectedPairs));
        for (const [key, exp] of Object.entries(expectedPairs)) {
          expect(actual[key].report_metric, key).toBe(exp.report_metric);
          const expCs = exp.correlation_similarity as Record<string, unknown> | undefined;
          expect(actual[key].correlation_similarity === undefined, key).toBe(expCs === undefined);
          if (expCs) expect(typeof actual[key].correlation_similarity?.error, key).toBe(typeof expCs.error);
        }
      });

      it("correlation_matrix matches every leaf", () => {
        const actual = correlationMatrices(real, synthetic);
        const expected = f.expected.correlation_matrix as Record<string, unknown>;
        expect(compareTree(actual, expected)).toEqual([]);
        expect(actual.columns).toEqual(expected.columns);
      });

      it("qualityReport aggregates the fixture's own shape and pair scores", () => {
        const shapes = f.expected.column_shapes as Record<string, Record<string, unknown>>;
        const shapeScores = f.schema.map((s) =>
          leafValue(s.type === "numerical" ? shapes[s.name].ks_complement : shapes[s.name].tv_complement),
        );
        const pairScores = Object.values(expectedPairs).map((p) => leafValue(p.report_score));
        const actual = qualityReport(shapeScores, pairScores);
        expect(compareTree(actual, f.expected.quality_report)).toEqual([]);
      });
    });
  }
});

describe("pearson", () => {
  it("matches a hand-computed 3-point correlation: x=[1,2,3], y=[2,4,7] -> 5/sqrt(2·114/9)", () => {
    const expected = 5 / Math.sqrt((2 * 114) / 9);
    const x = Float64Array.of(1, 2, 3);
    const y = Float64Array.of(2, 4, 7);
    expect(pearsonPairwise(x, y)).toBeCloseTo(expected, 14);
    const m = pearsonMatrix([x, y]);
    expect(m[0][1]).toBeCloseTo(expected, 14);
    expect(m[1][0]).toBe(m[0][1]);
    expect(m[0][0]).toBe(1);
  });

  it("uses pairwise deletion: rows missing in either column are dropped", () => {
    // With the NaN row removed this is the hand-computed case above.
    const x = Float64Array.of(1, Number.NaN, 2, 3, 100);
    const y = Float64Array.of(2, 50, 4, 7, Number.NaN);
    const expected = 5 / Math.sqrt((2 * 114) / 9);
    expect(pearsonPairwise(x, y)).toBeCloseTo(expected, 14);
    expect(pearsonMatrix([x, y])[0][1]).toBeCloseTo(expected, 14);
  });

  it("is NaN for a constant column (even 0.1, whose mean is inexact) and for fewer than 2 rows", () => {
    const c = new Float64Array(7).fill(0.1);
    const x = Float64Array.of(1, 5, 2, 8, 3, 9, 4);
    expect(pearsonPairwise(c, x)).toBeNaN();
    const m = pearsonMatrix([c, x]);
    expect(m[0][1]).toBeNaN();
    expect(m[0][0]).toBeNaN();
    expect(m[1][1]).toBe(1);
    // Constant only on the jointly present rows: x is 3 wherever y is present.
    const x2 = Float64Array.of(3, 3, 3, 7, 9);
    const y2 = Float64Array.of(1, 2, 4, Number.NaN, Number.NaN);
    expect(pearsonPairwise(x2, y2)).toBeNaN();
    expect(pearsonMatrix([x2, y2])[0][1]).toBeNaN();
    const one = Float64Array.of(1, Number.NaN, Number.NaN);
    expect(pearsonPairwise(one, Float64Array.of(2, 3, 4))).toBeNaN();
  });

  it("blocked matrix equals the two-pass pairwise reference (complete and missing columns, > 1 block)", () => {
    const rng = createRng(7);
    const n = 5000;
    const cols = Array.from({ length: 7 }, (_, j) => {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = 1000 * j + rng.next() * (j + 1) + (j > 0 ? 0.3 * a[i] : 0);
      if (j >= 4) for (let i = j; i < n; i += 13 + j) a[i] = Number.NaN;
      return a;
    });
    // Correlate some columns so the values are not all near 0.
    for (let i = 0; i < n; i++) cols[1][i] += 3 * cols[0][i];
    const m = pearsonMatrix(cols);
    for (let a = 0; a < cols.length; a++) {
      for (let b = 0; b < cols.length; b++) {
        const ref = a === b ? 1 : pearsonPairwise(cols[a], cols[b]);
        expect(Math.abs(m[a][b] - ref), `${a},${b}`).toBeLessThan(1e-12);
      }
    }
  });

  it("frobenius counts both triangles and skips undefined entries", () => {
    const real = tableOf([
      numericColumn("a", [1, 2, 3]),
      numericColumn("b", [2, 4, 7]),
      numericColumn("k", [5, 5, 5]),
    ]);
    const syn = tableOf([
      numericColumn("a", [1, 2, 3]),
      numericColumn("b", [3, 2, 1]),
      numericColumn("k", [1, 2, 3]),
    ]);
    const r = correlationMatrices(real, syn);
    const rho = 5 / Math.sqrt((2 * 114) / 9);
    expect(r.n_defined_offdiag).toBe(2);
    expect(r.frobenius_diff).toBeCloseTo(Math.sqrt(2 * (rho + 1) ** 2), 14);
  });
});

describe("contingency, Cramér's V and mutual information on a hand-computed 2×2 table", () => {
  // Table [[3, 1], [1, 3]], N = 8: expected counts 2 everywhere, χ² = 4·(1²/2) = 2, V = sqrt(2/8) = 0.5.
  // MI = Σ p ln(p/(p_i p_j)) = 2·(3/8)ln(3/8/(1/4)) + 2·(1/8)ln(1/8/(1/4)) = (3/4)ln(1.5) + (1/4)ln(0.5).
  const a = Int32Array.of(0, 0, 0, 0, 1, 1, 1, 1);
  const b = Int32Array.of(0, 0, 0, 1, 0, 1, 1, 1);
  const t = crossTab(a, b, 2, 2);

  it("cross-tabulates the non-zero cells by key a·kb + b", () => {
    expect(Array.from(t.keys)).toEqual([0, 1, 2, 3]);
    expect(Array.from(t.counts)).toEqual([3, 1, 1, 3]);
  });

  it("Cramér's V = 0.5 (no Yates correction)", () => {
    expect(cramersV(t, 2, 2)).toBeCloseTo(0.5, 15);
  });

  it("mutual information in nats", () => {
    expect(mutualInformation(t, 2, 2)).toBeCloseTo(0.75 * Math.log(1.5) + 0.25 * Math.log(0.5), 15);
  });

  it("V is NaN and MI is 0 with a single observed level", () => {
    const single = crossTab(new Int32Array(4), Int32Array.of(0, 1, 0, 1), 3, 2);
    expect(cramersV(single, 3, 2)).toBeNaN();
    expect(mutualInformation(single, 3, 2)).toBe(0);
  });

  it("contingency similarity = 1 − ½ Σ|P_R − P_S| over the union of cells", () => {
    // Synthetic has cells 0 (4/8) and a new cell 5 (4/8): TV = ½(|3/8−4/8| + 1/8 + 1/8 + 3/8 + 4/8) = 0.625.
    const syn = crossTab(Int32Array.of(0, 0, 0, 0, 2, 2, 2, 2), Int32Array.of(0, 0, 0, 0, 1, 1, 1, 1), 3, 2);
    expect(contingencySimilarity(t, syn)).toBeCloseTo(1 - 0.625, 15);
    expect(contingencySimilarity(t, t)).toBe(1);
  });
});
