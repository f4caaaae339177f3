/**
 * The summary card's plain-word reading of the evaluation: quality, detection, utility, privacy, each with the
 * thresholds that make it good, fair or poor. The thresholds are this project's reading rules (stated on the
 * page and in docs/metrics-protocol.md), not universal standards.
 */
import type { EvaluateResult } from "../stats/metrics/evaluate.ts";
import { fmt } from "./html.ts";

export type Level = "good" | "fair" | "poor" | "n/a";

export interface Verdict {
  readonly aspect: "Quality" | "Detection" | "Utility" | "Privacy";
  readonly level: Level;
  readonly value: string;
  readonly meaning: string;
  readonly rule: string;
}

/** good when x ≥ good, fair when x ≥ fair, else poor; n/a when x is not finite. */
function atLeast(x: number | null | undefined, good: number, fair: number): Level {
  if (x === null || x === undefined || !Number.isFinite(x)) return "n/a";
  return x >= good ? "good" : x >= fair ? "fair" : "poor";
}

export const THRESHOLDS = {
  quality: { good: 0.9, fair: 0.75 },
  detection: { good: 0.8, fair: 0.5 },
  /** TRTR − TSTR accuracy. */
  utilityGap: { good: 0.02, fair: 0.05 },
  /** DCR share − train/(train + holdout). */
  dcrExcess: { good: 0.05, fair: 0.1 },
} as const;

export function readVerdicts(ev: EvaluateResult, target: string | undefined): Verdict[] {
  const s = ev.summary;
  const T = THRESHOLDS;
  const out: Verdict[] = [];
  out.push({
    aspect: "Quality",
    level: atLeast(s.quality_overall, T.quality.good, T.quality.fair),
    value: `${fmt(s.quality_overall)} (column shapes ${fmt(s.column_shapes)}, pair trends ${fmt(s.column_pair_trends)})`,
    meaning:
      "How closely each column and each pair of columns of the synthetic table follow the real table (1 = identical).",
    rule: `good ≥ ${T.quality.good}, fair ≥ ${T.quality.fair}, poor below.`,
  });
  out.push({
    aspect: "Detection",
    level: atLeast(s.logistic_detection, T.detection.good, T.detection.fair),
    value: fmt(s.logistic_detection),
    meaning:
      "How hard a logistic regression finds it to tell synthetic rows from real ones (1 = cannot tell them apart, 0 = always can).",
    rule: `good ≥ ${T.detection.good}, fair ≥ ${T.detection.fair}, poor below.`,
  });
  const gap = s.trtr_accuracy !== null && s.tstr_accuracy !== null ? s.trtr_accuracy - s.tstr_accuracy : null;
  out.push({
    aspect: "Utility",
    level:
      gap === null ? "n/a" : gap <= T.utilityGap.good ? "good" : gap <= T.utilityGap.fair ? "fair" : "poor",
    value:
      gap === null
        ? "not measured (needs a target column and a holdout table)"
        : `accuracy ${fmt(s.tstr_accuracy)} trained on synthetic vs ${fmt(s.trtr_accuracy)} trained on real`,
    meaning: `A model predicting ${target ?? "the target"} learns as much from the synthetic table as from the real one when the two accuracies on the same holdout are close.`,
    rule: `good when real − synthetic accuracy ≤ ${T.utilityGap.good}, fair ≤ ${T.utilityGap.fair}, poor above.`,
  });
  const share = ev.row_level.dcr_share_tabsyn;
  const nH = s.rows.holdout;
  const ideal = nH === null ? null : s.rows.real / (s.rows.real + nH);
  const excess = share && ideal !== null ? share.share - ideal : null;
  const copies = s.exact_copies ?? 0;
  let level: Level;
  if (copies > 0) level = "poor";
  else if (excess === null) level = "n/a";
  else level = excess <= T.dcrExcess.good ? "good" : excess <= T.dcrExcess.fair ? "fair" : "poor";
  out.push({
    aspect: "Privacy",
    level,
    value: `${copies} exact copies of real rows; DCR share ${fmt(share?.share)}${ideal === null ? "" : ` (ideal ${fmt(ideal)})`}`,
    meaning:
      "Whether synthetic rows copy training rows: exact copies, and whether synthetic rows sit closer to the training rows than unseen (holdout) real rows do.",
    rule: `poor with any exact copy; else good when DCR share − ideal ≤ ${T.dcrExcess.good}, fair ≤ ${T.dcrExcess.fair}, poor above (n/a without a holdout).`,
  });
  return out;
}
