/**
 * Column-shape metrics against the shared reference fixtures: every leaf of shared-edge-cases.json and the
 * `column_shapes` sub-tree of every kind:"table" fixture found (hidden sets in the same format are picked up too).
 */
import { describe, expect, it } from "vitest";
import { isNumeric } from "../data/build.ts";
import { kstwoSf } from "../stats/kolmogorov.ts";
import { gcd, ksExactPvalue, ksTwoSample, roundHalfEven } from "../stats/ks.ts";
import {
  type CategoricalShapes,
  categoricalShapes,
  chi2Sf,
  DEFAULT_SHAPE_PARAMS,
  type NumericalShapes,
  numericalShapes,
  type ShapeParams,
} from "../stats/shapes.ts";
import { compareTree, edgeFixture, fixtureColumn, type Leaf, tableFixtures } from "./support/fixtures.ts";

function expectNoFailures(failures: string[]): void {
  if (failures.length > 0) console.error(failures.join("\n"));
  expect(failures).toEqual([]);
}

function leafFailures(actual: number, leaf: Leaf, label: string): string[] {
  return compareTree({ v: actual }, { v: leaf }).map((f) => `${label}: ${f}`);
}

function shapesOf(
  name: string,
  type: "numerical" | "categorical",
  real: Array<number | string | null>,
  synthetic: Array<number | string | null>,
  params: ShapeParams,
): NumericalShapes | CategoricalShapes {
  const r = fixtureColumn(name, type, real);
  const s = fixtureColumn(name, type, synthetic);
  if (isNumeric(r) && isNumeric(s)) return numericalShapes(r.values, s.values, params);
  if (!isNumeric(r) && !isNumeric(s)) return categoricalShapes(r, s, params);
  throw new Error(`column ${name}: mixed kinds`);
}

describe("edge cases (shared-edge-cases.json)", () => {
  const edge = edgeFixture();

  it("column_cases: every leaf", () => {
    const failures: string[] = [];
    for (const c of edge.column_cases) {
      const actual = shapesOf(c.name, c.type, c.real, c.synthetic, DEFAULT_SHAPE_PARAMS);
      failures.push(...compareTree(actual, c.expected).map((f) => `${c.name}: ${f}`));
    }
    expectNoFailures(failures);
  });

  it("column_cases: method_auto labels and error markers", () => {
    for (const c of edge.column_cases) {
      if (c.type !== "numerical") continue;
      const actual = shapesOf(c.name, c.type, c.real, c.synthetic, DEFAULT_SHAPE_PARAMS) as NumericalShapes;
      const exp = c.expected as { ks: { method_auto: string }; anderson_ksamp: { error?: string } };
      expect(actual.ks.method_auto).toBe(exp.ks.method_auto);
      expect("error" in actual.anderson_ksamp).toBe(exp.anderson_ksamp.error !== undefined);
    }
  });

  it("ks_exact_pvalue_table", () => {
    const failures: string[] = [];
    for (const row of edge.ks_exact_pvalue_table) {
      const lcm = (row.n1 / gcd(row.n1, row.n2)) * row.n2;
      const h = roundHalfEven(row.d * lcm);
      failures.push(
        ...leafFailures(ksExactPvalue(row.n1, row.n2, h), row.expected, `n1=${row.n1} n2=${row.n2}`),
      );
    }
    expect(edge.ks_exact_pvalue_table.length).toBeGreaterThan(0);
    expectNoFailures(failures);
  });

  it("kstwo_sf_table (every branch of the decision tree)", () => {
    const failures: string[] = [];
    for (const row of edge.kstwo_sf_table) {
      failures.push(...leafFailures(kstwoSf(row.n, row.d), row.expected, `n=${row.n} d=${row.d}`));
    }
    expect(edge.kstwo_sf_table.length).toBeGreaterThan(0);
    expectNoFailures(failures);
  });

  it("chi2_sf_table", () => {
    const failures: string[] = [];
    for (const row of edge.chi2_sf_table) {
      failures.push(...leafFailures(chi2Sf(row.df, row.x), row.expected, `df=${row.df} x=${row.x}`));
    }
    expect(edge.chi2_sf_table.length).toBeGreaterThan(0);
    expectNoFailures(failures);
  });

  it("ks_large_samples: auto switches to the asymptotic method", () => {
    const failures: string[] = [];
    for (const c of edge.ks_large_samples) {
      const res = ksTwoSample(Float64Array.from(c.real), Float64Array.from(c.synthetic), "auto");
      const exp = c.expected as { method: string; en_rounded: number };
      expect(res.method).toBe(exp.method);
      const n = c.real.length;
      const m = c.synthetic.length;
      expect(roundHalfEven((n * m) / (n + m))).toBe(exp.en_rounded);
      failures.push(
        ...compareTree({ statistic: res.statistic, pvalue: res.pvalue }, c.expected).map(
          (f) => `${c.name}: ${f}`,
        ),
      );
    }
    expectNoFailures(failures);
  });
});

describe("table fixtures: column_shapes", () => {
  const tables = tableFixtures();

  it("finds at least one table fixture", () => {
    expect(tables.length).toBeGreaterThan(0);
  });

  for (const fx of tables) {
    it(`${fx.case_id}: every leaf of column_shapes`, () => {
      const params: ShapeParams = {
        bins: fx.params.bins,
        klPseudoCount: fx.params.kl_pseudo_count,
        ksRoundDecimals: fx.params.ks_round_decimals,
      };
      const expected = fx.expected.column_shapes as Record<string, unknown>;
      const actual: Record<string, unknown> = {};
      for (const col of fx.schema) {
        if (col.name in expected) {
          actual[col.name] = shapesOf(
            col.name,
            col.type,
            fx.data.real[col.name],
            fx.data.synthetic[col.name],
            params,
          );
        }
      }
      expect(Object.keys(actual).length).toBe(Object.keys(expected).length);
      expectNoFailures(compareTree(actual, expected));
    });
  }
});
