/**
 * The summary card's plain-word reading of the evaluation: quality, detection, utility, privacy, each with the
 * thresholds that make it good, fair or poor. The thresholds and levels are the evaluate summary's
 * (stats/metrics/verdicts.ts: one set of reading rules for the CLI, its JSON and this page).
 */
import type { EvaluateResult } from "../stats/metrics/evaluate.ts";
import { type FigureVerdict, type Level, THRESHOLDS } from "../stats/metrics/verdicts.ts";
import { fmt } from "./html.ts";

export { type Level, THRESHOLDS };

export interface Verdict {
  readonly aspect: "Quality" | "Detection" | "Utility" | "Privacy";
  readonly level: Level;
  readonly value: string;
  readonly meaning: string;
  readonly rule: string;
}

export function readVerdicts(ev: EvaluateResult, target: string | undefined): Verdict[] {
  const s = ev.summary;
  const T = THRESHOLDS;
  // The levels are the summary's own (stats/metrics/verdicts.ts); this page adds the wording of its card.
  const levelOf = (figure: FigureVerdict["figure"]): Level =>
    s.verdicts.find((v) => v.figure === figure)?.level ?? "n/a";
  const out: Verdict[] = [];
  out.push({
    aspect: "Quality",
    level: levelOf("quality"),
    value: `${fmt(s.quality_overall)} (column shapes ${fmt(s.column_shapes)}, pair trends ${fmt(s.column_pair_trends)})`,
    meaning:
      "How closely each column and each pair of columns of the synthetic table follow the real table (1 = identical).",
    rule: `good ≥ ${T.quality.good}, fair ≥ ${T.quality.fair}, poor below.`,
  });
  out.push({
    aspect: "Detection",
    level: levelOf("detection"),
    value: `${fmt(s.detection)} (logistic regression ${fmt(s.logistic_detection)}, random forest ${fmt(s.forest_detection)})`,
    meaning:
      "How hard classifiers find it to tell synthetic rows from real ones (1 = cannot tell them apart, 0 = always can): the worse of a logistic regression and a random forest, which also sees relations between columns.",
    rule: `good ≥ ${T.detection.good}, fair ≥ ${T.detection.fair}, poor below.`,
  });
  const gap = s.trtr_accuracy !== null && s.tstr_accuracy !== null ? s.trtr_accuracy - s.tstr_accuracy : null;
  out.push({
    aspect: "Utility",
    level: levelOf("utility"),
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
  const copies = s.exact_copies ?? 0;
  out.push({
    aspect: "Privacy",
    level: levelOf("privacy"),
    value: `${copies} exact copies of real rows; DCR share ${fmt(share?.share)}${ideal === null ? "" : ` (ideal ${fmt(ideal)})`}`,
    meaning:
      "Whether synthetic rows copy training rows: exact copies, and whether synthetic rows sit closer to the training rows than unseen (holdout) real rows do.",
    rule: `poor with any exact copy; else good when DCR share − ideal ≤ ${T.dcrExcess.good}, fair ≤ ${T.dcrExcess.fair}, poor above (n/a without a holdout).`,
  });
  return out;
}
