/**
 * TRTS beside TSTR/TRTR and the best-of-classifiers MLE score: a hand-computed TRTS case with the depth-5 tree,
 * binary F1 by hand, and the best-of rule over the per-classifier scores.
 */
import { describe, expect, it } from "vitest";
import { columnOf, tableOf } from "../../../../data/build.ts";
import type { Table } from "../../../../data/types.ts";
import { createRng } from "../../../../stats/primitives/rng.ts";
import {
  f1Binary,
  MLE_CLASSIFIERS,
  mleBestOf,
  trainTestBinary,
  utilityTriple,
} from "../../../../stats/metrics/table/utility-protocols.ts";

const t = (x: number[], y: string[]): Table =>
  tableOf([columnOf("x", "numerical", x), columnOf("y", "categorical", y)]);

describe("TRTS (train real, test synthetic)", () => {
  it("hand-computed with the tree: real splits at x = 1.5, synthetic disagrees on two of four rows", () => {
    const real = t([0, 1, 2, 3], ["no", "no", "yes", "yes"]);
    const synthetic = t([0, 3, 1, 2], ["no", "yes", "yes", "no"]);
    const u = utilityTriple(real, synthetic, synthetic, "y", "yes", "tree");
    // Predictions on synthetic x = 0, 3, 1, 2: no, yes, no, yes; truth no, yes, yes, no.
    expect(u.trts.accuracy).toBe(2 / 4);
    // Positive class: TP = 1 (x=3), FP = 1 (x=2), FN = 1 (x=1) → 2·1/(2 + 1 + 1).
    expect(u.trts.f1).toBe(0.5);
    // P(yes) = 0, 1, 0, 1 against labels 0, 1, 1, 0: pairs (pos, neg) = (1,0) 1, (1,1) ½, (0,0) ½, (0,1) 0 → 2/4.
    expect(u.trts.roc_auc).toBe(0.5);
    // TRTR on the same rows equals TRTS here because holdout = synthetic.
    expect(u.trtr).toEqual(u.trts);
  });

  it("binary F1 by hand; NaN when nothing is positive", () => {
    // TP = 2, FP = 1, FN = 1 → 4/6.
    expect(f1Binary(Uint8Array.from([1, 1, 1, 0, 0]), Uint8Array.from([1, 1, 0, 1, 0]))).toBeCloseTo(
      4 / 6,
      15,
    );
    expect(f1Binary(Uint8Array.from([0, 0]), Uint8Array.from([0, 0]))).toBeNaN();
  });
});

describe("best-of-classifiers MLE", () => {
  const rng = createRng(3);
  const make = (n: number, noise: number) => {
    const x: number[] = [];
    const z: number[] = [];
    const y: string[] = [];
    for (let i = 0; i < n; i++) {
      const a = rng.next();
      const b = rng.next();
      x.push(a);
      z.push(b);
      y.push(a + b + noise * (rng.next() - 0.5) > 1 ? "yes" : "no");
    }
    return tableOf([
      columnOf("x", "numerical", x),
      columnOf("z", "numerical", z),
      columnOf("y", "categorical", y),
    ]);
  };
  const real = make(120, 0.2);
  const synthetic = make(100, 0.8);
  const holdout = make(80, 0.2);

  it("is the highest per-classifier F1, per setting, with the classifier that reached it", () => {
    const m = mleBestOf(real, synthetic, holdout, "y", "yes", { seed: 1, forestTrees: 20 });
    expect(m.classifiers).toEqual(MLE_CLASSIFIERS);
    for (const setting of ["tstr", "trtr"] as const) {
      const scores = MLE_CLASSIFIERS.map((c) => m.per_classifier[c][setting].f1);
      expect(m[setting].score).toBe(Math.max(...scores));
      expect(m.per_classifier[m[setting].model ?? "none"][setting].f1).toBe(m[setting].score);
    }
    // Each per-classifier entry is the plain train/test of that classifier.
    expect(m.per_classifier.tree.tstr).toEqual(trainTestBinary(synthetic, holdout, "y", "yes", "tree"));
  });
});
