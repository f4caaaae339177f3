/**
 * Duplicate-aware detection folds (stats/metrics/table/detection.ts) and random-forest detection
 * (stats/metrics/table/forest-detection.ts, docs/metrics.md §3.9). Expected values are derived in the comments:
 * a table compared with itself scores chance exactly, two tables with no value in common are told apart exactly,
 * and a column-shuffled copy is seen by the forest while the logistic regression scores it 1.
 */
import { describe, expect, it } from "vitest";
import { codedColumn, numericColumn, tableOf } from "../../../../data/build.ts";
import type { Table } from "../../../../data/types.ts";
import {
  detectionMetrics,
  duplicateAwareFolds,
  stratifiedFolds,
} from "../../../../stats/metrics/table/detection.ts";
import { forestDetection } from "../../../../stats/metrics/table/forest-detection.ts";
import { createRng } from "../../../../stats/primitives/rng.ts";

/** 300 rows where y = x (two dependent columns) and a category c that follows x's sign. */
function dependent(seed: number): Table {
  const rng = createRng(seed);
  const x = Array.from({ length: 300 }, () => rng.next() * 2 - 1);
  return tableOf([
    numericColumn("x", x),
    numericColumn(
      "y",
      x.map((v) => v + 0.05 * (rng.next() - 0.5)),
    ),
    codedColumn(
      "c",
      x.map((v) => (v > 0 ? "pos" : "neg")),
    ),
  ]);
}

/** Each column permuted on its own (Fisher–Yates, seed per column): same marginals, no dependence left. */
function shuffledColumns(t: Table): Table {
  return {
    nRows: t.nRows,
    columns: t.columns.map((c, j) => {
      const rng = createRng(50 + j);
      const p = Array.from({ length: t.nRows }, (_, i) => i);
      for (let i = p.length - 1; i > 0; i--) {
        const k = rng.int(i + 1);
        [p[i], p[k]] = [p[k], p[i]];
      }
      return "values" in c
        ? { ...c, values: Float64Array.from(p, (i) => c.values[i]) }
        : { ...c, codes: Int32Array.from(p, (i) => c.codes[i]) };
    }),
  };
}

describe("duplicateAwareFolds", () => {
  it("tables with no row in common: exactly stratifiedFolds", () => {
    const real = dependent(1);
    const other = dependent(2);
    expect(duplicateAwareFolds(real, other, 3, 7)).toEqual(stratifiedFolds(300, 300, 3, 7));
  });
  it("a table with itself: each row and its copy share a fold, and the folds still partition the rows", () => {
    const t = dependent(1);
    const folds = duplicateAwareFolds(t, t, 3, 7);
    const owner = new Map<number, number>();
    folds.forEach((f, k) => {
      for (const i of f) owner.set(i, k);
    });
    expect([...owner.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 600 }, (_, i) => i));
    for (let i = 0; i < 300; i++) expect(owner.get(300 + i)).toBe(owner.get(i));
  });
});

describe("forestDetection", () => {
  it("a table with itself: every fold's AUC is 0.5 and the gap 0 (a row and its copy get one score)", () => {
    const t = dependent(1);
    const d = forestDetection(t, t, duplicateAwareFolds(t, t, 3, 0), { seed: 0 });
    // Twins share a test fold and have identical features, so the forest gives both one P(real): the real and
    // the synthetic scores of a fold are the same multiset, so the Mann–Whitney AUC is exactly ½, and
    // "P > 0.5" is right for exactly one of each pair.
    for (const auc of d.auc_per_fold) expect(auc).toBeCloseTo(0.5, 12);
    expect(d.forest_detection).toBe(1);
    expect(d.c2st_gap).toBe(0);
  });
  it("tables with disjoint values: told apart exactly (AUC 1, detection 0, gap 0.5)", () => {
    const a = tableOf([
      numericColumn(
        "x",
        Array.from({ length: 60 }, (_, i) => i),
      ),
    ]);
    const b = tableOf([
      numericColumn(
        "x",
        Array.from({ length: 60 }, (_, i) => 100 + i),
      ),
    ]);
    const d = forestDetection(a, b, stratifiedFolds(60, 60, 3, 0), { seed: 0 });
    // One split x ≤ 59.5 separates the classes in every bootstrap sample that holds both classes.
    expect(d.auc_per_fold).toEqual([1, 1, 1]);
    expect(d.forest_detection).toBe(0);
    expect(d.c2st_gap).toBe(0.5);
  });
  it("a column-shuffled copy: the logistic regression scores it about 1, the forest sees the lost dependence", () => {
    const real = dependent(1);
    const shuffled = shuffledColumns(real);
    const folds = duplicateAwareFolds(real, shuffled, 3, 0);
    const logistic = detectionMetrics(real, shuffled, folds);
    const forest = forestDetection(real, shuffled, folds, { seed: 0 });
    expect(logistic.logistic_detection).toBeGreaterThan(0.8);
    expect(forest.forest_detection).toBeLessThan(0.5);
    expect(forestDetection(real, shuffled, folds, { seed: 0 })).toEqual(forest);
  });
});
