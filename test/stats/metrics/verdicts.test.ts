/**
 * The summary's reading rules (stats/metrics/verdicts.ts): each figure's level at and around its thresholds,
 * detection and the C2ST gap read from the worse classifier, privacy poor with any exact copy. Every expected
 * level follows from THRESHOLDS as written in the comment of each case.
 */
import { describe, expect, it } from "vitest";
import { summaryVerdicts, THRESHOLDS, type VerdictInputs } from "../../../stats/metrics/verdicts.ts";

const base: VerdictInputs = {
  rows: { real: 100, synthetic: 100, holdout: 100 },
  quality_overall: 0.95,
  column_shapes: 0.95,
  column_pair_trends: 0.95,
  logistic_detection: 0.9,
  forest_detection: 0.9,
  c2st_gap: 0.01,
  forest_c2st_gap: 0.01,
  exact_copies: 0,
  dcr_share: 0.5,
  tstr_accuracy: 0.8,
  trtr_accuracy: 0.81,
};
const level = (s: Partial<VerdictInputs>, figure: string): string | undefined =>
  summaryVerdicts({ ...base, ...s }).find((v) => v.figure === figure)?.level;

describe("summaryVerdicts", () => {
  it("quality: good at 0.9, fair at 0.75, poor below", () => {
    expect(THRESHOLDS.quality).toEqual({ good: 0.9, fair: 0.75 });
    expect(level({ quality_overall: 0.9 }, "quality")).toBe("good");
    expect(level({ quality_overall: 0.8999 }, "quality")).toBe("fair");
    expect(level({ quality_overall: 0.75 }, "quality")).toBe("fair");
    expect(level({ quality_overall: 0.7499 }, "quality")).toBe("poor");
    expect(level({ column_pair_trends: 0.5 }, "column_pair_trends")).toBe("poor");
  });
  it("detection reads the worse classifier: logistic 1 with forest 0.1 is poor", () => {
    const v = summaryVerdicts({ ...base, logistic_detection: 1, forest_detection: 0.1 }).find(
      (x) => x.figure === "detection",
    );
    expect(v?.value).toBe(0.1);
    // 0.1 < fair 0.5.
    expect(v?.level).toBe("poor");
    expect(level({ logistic_detection: null, forest_detection: 0.8 }, "detection")).toBe("good");
    expect(level({ logistic_detection: null, forest_detection: null }, "detection")).toBe("n/a");
  });
  it("C2ST gap reads the larger gap, lower is better: good ≤ 0.05, fair ≤ 0.15", () => {
    expect(level({ c2st_gap: 0, forest_c2st_gap: 0.05 }, "c2st_gap")).toBe("good");
    expect(level({ c2st_gap: 0, forest_c2st_gap: 0.1 }, "c2st_gap")).toBe("fair");
    expect(level({ c2st_gap: 0.4, forest_c2st_gap: 0 }, "c2st_gap")).toBe("poor");
  });
  it("utility: TRTR − TSTR ≤ 0.02 good, ≤ 0.05 fair; n/a without both accuracies", () => {
    // 0.81 − 0.8 = 0.01 ≤ 0.02.
    expect(level({}, "utility")).toBe("good");
    // 0.81 − 0.71 = 0.10 > 0.05.
    expect(level({ tstr_accuracy: 0.71 }, "utility")).toBe("poor");
    expect(level({ tstr_accuracy: null }, "utility")).toBe("n/a");
  });
  it("privacy: poor with any exact copy; else DCR share − n_T/(n_T + n_H) ≤ 0.05 good, ≤ 0.1 fair", () => {
    expect(level({ exact_copies: 1 }, "privacy")).toBe("poor");
    // ideal 100/(100 + 100) = 0.5: share 0.54 is 0.04 over, 0.58 is 0.08 over, 0.7 is 0.2 over.
    expect(level({ dcr_share: 0.54 }, "privacy")).toBe("good");
    expect(level({ dcr_share: 0.58 }, "privacy")).toBe("fair");
    expect(level({ dcr_share: 0.7 }, "privacy")).toBe("poor");
    expect(level({ dcr_share: null, rows: { real: 100, synthetic: 100, holdout: null } }, "privacy")).toBe(
      "n/a",
    );
  });
});
