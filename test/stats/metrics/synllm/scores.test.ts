/** SynLLM's scores on tables small enough to work by hand (the arithmetic is in each test). */
import { describe, expect, it } from "vitest";
import { numericColumn, tableOf } from "../../../../data/build.ts";
import { groupMeanGap, olsSlope } from "../../../../stats/metrics/synllm/clinical.ts";
import { nndrSyntheticToReal } from "../../../../stats/metrics/synllm/nndr.ts";
import { harmonicScore, synllmQualityPrivacy } from "../../../../stats/metrics/synllm/scores.ts";
import { synllmUtility } from "../../../../stats/metrics/synllm/utility.ts";

const t = (xs: number[]) => tableOf([numericColumn("x", xs)]);

describe("SynLLM scores", () => {
  it("NNDR: synthetic-to-nearest-real over real-to-nearest-other-real, min–max scaled on real", () => {
    // real x = 0, 1, 3 → scaled 0, 1/3, 1; synthetic x = 2 → 2/3.
    // synthetic → nearest real: |2/3 − 1/3| = 1/3 (mean 1/3).
    // real → nearest other real: 1/3, 1/3, 2/3 (mean 4/9). NNDR = (1/3)/(4/9) = 0.75.
    expect(nndrSyntheticToReal(t([0, 1, 3]), t([2]))).toBeCloseTo(0.75, 12);
  });

  it("harmonic = 2QP/(Q + P)", () => {
    expect(harmonicScore(0.5, 1)).toBeCloseTo(2 / 3, 12); // 2·0.5·1 / 1.5
    expect(harmonicScore(0, 0)).toBe(0);
  });

  it("quality and privacy on one column: W1 over the real range, NNDR capped at 1, identifiability", () => {
    // real 0, 1, 3; synthetic 0, 2, 3. W1 = mean |sorted differences| = (0 + 1 + 0)/3 = 1/3; range 3 →
    // wasserstein score 1 − 1/9 = 8/9. One numerical column: no correlation, no category → quality = 8/9.
    // NNDR: synthetic scaled 0, 2/3, 1 → nearest real 0, 1/3, 0 (mean 1/9) over 4/9 = 0.25; two synthetic rows
    // copy a real row (0 and 3): identifiability 2/3 → score 1/3. privacy = (0.25 + 1/3)/2 = 7/24.
    const s = synllmQualityPrivacy(t([0, 1, 3]), t([0, 2, 3]));
    expect(s.normalised.wasserstein).toBeCloseTo(8 / 9, 12);
    expect(s.normalised.correlation).toBeNull();
    expect(s.quality).toBeCloseTo(8 / 9, 12);
    expect(s.nndr_synthetic_to_real).toBeCloseTo(0.25, 12);
    expect(s.identifiability).toBeCloseTo(2 / 3, 12);
    expect(s.privacy).toBeCloseTo(7 / 24, 12);
    expect(s.harmonic).toBeCloseTo((2 * (8 / 9) * (7 / 24)) / (8 / 9 + 7 / 24), 12);
  });

  it("clinical consistency: group-mean gap and least-squares slope", () => {
    // mean(1, 2 | g = 0) = 1.5, mean(3, 5 | g = 1) = 4 → Δ = 2.5.
    expect(groupMeanGap(Float64Array.of(1, 2, 3, 5), Float64Array.of(0, 0, 1, 1))).toBe(2.5);
    // y = 1 + 2x exactly → slope 2.
    expect(olsSlope(Float64Array.of(1, 3, 5), Float64Array.of(0, 1, 2))).toBe(2);
  });

  it("utility: TSTR on the holdout when one is given, TRTR as its baseline (a depth-5 tree, by hand)", () => {
    // One feature x, target y. real x = i + 0.25, synthetic x = i + 0.5, both y = 1 for i ≥ 10 (i = 0..19);
    // holdout x = i + 0.25 with y = 1 for i ≥ 5. A tree fitted on either splits between 9.25/9.5 and
    // 10.25/10.5, so it predicts 1 exactly for x ≥ 10.25.
    const i20 = Array.from({ length: 20 }, (_, i) => i);
    const table = (dx: number, from: number) =>
      tableOf([
        numericColumn(
          "x",
          i20.map((i) => i + dx),
        ),
        numericColumn(
          "y",
          i20.map((i) => (i >= from ? 1 : 0)),
        ),
      ]);
    const real = table(0.25, 10);
    const synthetic = table(0.5, 10);
    const holdout = table(0.25, 5);
    const u = synllmUtility(real, synthetic, "y", 1, holdout);
    expect(u?.tstr_test).toBe("holdout");
    // Holdout: 15 positives, 10 predicted 1 (x ≥ 10.25), 5 missed (i = 5..9); 5 negatives all right.
    // accuracy 15/20; F1(1) = 2·10/(2·10 + 0 + 5) = 0.8, F1(0) = 2·5/(2·5 + 5 + 0) = 2/3, macro 11/15;
    // AUC with scores 1 (10 positives) and 0 (5 positives, 5 negatives): (10·5 + ½·5·5)/(15·5) = 5/6.
    for (const part of [u?.tstr.tree, u?.trtr?.tree]) {
      expect(part?.accuracy).toBeCloseTo(0.75, 12);
      expect(part?.f1_macro).toBeCloseTo(11 / 15, 12);
      expect(part?.auc).toBeCloseTo(5 / 6, 12);
    }
    // Trained on real, tested on synthetic: every row right.
    expect(u?.trts.tree).toEqual({ accuracy: 1, f1_macro: 1, auc: 1 });
    // Without a holdout TSTR is tested on the real rows (every one right) and there is no TRTR.
    const v = synllmUtility(real, synthetic, "y", 1);
    expect(v?.tstr_test).toBe("real");
    expect(v?.tstr.tree).toEqual({ accuracy: 1, f1_macro: 1, auc: 1 });
    expect(v?.trtr).toBeNull();
  });
});
