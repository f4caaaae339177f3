/**
 * The plain-words reading of an evaluation summary: each headline figure with its range, its direction, the
 * thresholds that make it good, fair or poor, and a sentence. The thresholds are this project's reading rules
 * (docs/metrics.md §7), not universal standards; the `evaluate` summary, its JSON (`summary.verdicts`) and the
 * HTML report (report/verdicts.ts) all read them from here.
 *
 * Detection takes the worse of two classifiers: a logistic regression (LogisticDetection, §3.6) misses what
 * only a combination of columns shows (a copy of the real table with each column shuffled on its own keeps
 * every marginal and scores 1), a random forest (§3.9) does not. So "hard to tell apart" needs both.
 */

export type Level = "good" | "fair" | "poor" | "n/a";

export const THRESHOLDS = {
  /** Quality, column shapes, pair trends: higher is better. */
  quality: { good: 0.9, fair: 0.75 },
  /** Detection (1 = the classifier cannot tell the tables apart): higher is better. */
  detection: { good: 0.8, fair: 0.5 },
  /** C2ST gap |accuracy − 0.5|: lower is better. */
  c2stGap: { good: 0.05, fair: 0.15 },
  /** TRTR − TSTR accuracy: lower is better. */
  utilityGap: { good: 0.02, fair: 0.05 },
  /** DCR share − train/(train + holdout): lower is better. */
  dcrExcess: { good: 0.05, fair: 0.1 },
} as const;

export interface FigureVerdict {
  /** Which figure: the summary key it reads (or a name for a derived one). */
  readonly figure:
    "quality" | "column_shapes" | "column_pair_trends" | "detection" | "c2st_gap" | "utility" | "privacy";
  /** The value the verdict reads (null when not measured). */
  readonly value: number | null;
  /** The figure's range, and which end is better. */
  readonly range: readonly [number, number] | null;
  readonly better: "higher" | "lower";
  readonly level: Level;
  /** The rule, with its thresholds. */
  readonly rule: string;
  /** What the value means, in plain words. */
  readonly words: string;
}

/** good when x ≥ good, fair when x ≥ fair, else poor; n/a when x is not finite. */
export function atLeast(x: number | null | undefined, good: number, fair: number): Level {
  if (x === null || x === undefined || !Number.isFinite(x)) return "n/a";
  return x >= good ? "good" : x >= fair ? "fair" : "poor";
}

/** good when x ≤ good, fair when x ≤ fair, else poor; n/a when x is not finite. */
export function atMost(x: number | null | undefined, good: number, fair: number): Level {
  if (x === null || x === undefined || !Number.isFinite(x)) return "n/a";
  return x <= good ? "good" : x <= fair ? "fair" : "poor";
}

const finite = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : x;

/** The worse of two figures (min when higher is better), ignoring one that is not measured. */
function worse(a: number | null, b: number | null, better: "higher" | "lower"): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return better === "higher" ? Math.min(a, b) : Math.max(a, b);
}

/** What the verdicts read of the summary (stats/metrics/evaluate.ts EvaluateSummary). */
export interface VerdictInputs {
  rows: { real: number; synthetic: number; holdout: number | null };
  quality_overall: number;
  column_shapes: number;
  column_pair_trends: number;
  logistic_detection: number | null;
  forest_detection: number | null;
  c2st_gap: number | null;
  forest_c2st_gap: number | null;
  exact_copies: number | null;
  dcr_share: number | null;
  tstr_accuracy: number | null;
  trtr_accuracy: number | null;
}

const WORDS: Record<FigureVerdict["figure"], Record<Exclude<Level, "n/a">, string> & { "n/a": string }> = {
  quality: {
    good: "the synthetic columns and column pairs follow the real table closely",
    fair: "the synthetic table follows the real one in broad strokes, with visible differences",
    poor: "the synthetic columns or column pairs differ clearly from the real table",
    "n/a": "not measured",
  },
  column_shapes: {
    good: "each column's distribution matches the real one closely",
    fair: "some columns' distributions differ from the real ones",
    poor: "the columns' distributions differ clearly from the real ones",
    "n/a": "not measured",
  },
  column_pair_trends: {
    good: "how columns move together matches the real table",
    fair: "some relations between columns are weaker or different than in the real table",
    poor: "the relations between columns are largely lost or wrong",
    "n/a": "not measured",
  },
  detection: {
    good: "classifiers find it hard to tell synthetic rows from real ones",
    fair: "a classifier tells part of the synthetic rows from real ones",
    poor: "a classifier tells synthetic rows from real ones easily",
    "n/a": "not measured",
  },
  c2st_gap: {
    good: "a classifier guesses which table a row comes from about as well as a coin",
    fair: "a classifier guesses which table a row comes from noticeably better than a coin",
    poor: "a classifier guesses which table a row comes from much better than a coin",
    "n/a": "not measured",
  },
  utility: {
    good: "a model trained on the synthetic table predicts the target about as well as one trained on real rows",
    fair: "a model trained on the synthetic table predicts the target somewhat worse than one trained on real rows",
    poor: "a model trained on the synthetic table predicts the target clearly worse than one trained on real rows",
    "n/a": "not measured (needs a target column and a holdout table)",
  },
  privacy: {
    good: "no synthetic row copies a training row, and they sit no closer to the training rows than unseen real rows do",
    fair: "synthetic rows sit somewhat closer to the training rows than unseen real rows do",
    poor: "synthetic rows copy training rows or sit much closer to them than unseen real rows do",
    "n/a": "no exact copies; closeness to the training rows not measured (needs a holdout table)",
  },
};

function verdict(
  figure: FigureVerdict["figure"],
  value: number | null,
  range: readonly [number, number] | null,
  better: "higher" | "lower",
  level: Level,
  rule: string,
): FigureVerdict {
  return { figure, value, range, better, level, rule, words: WORDS[figure][level] };
}

/** The verdict of each headline figure of a summary, in the order the summary prints them. */
export function summaryVerdicts(s: VerdictInputs): FigureVerdict[] {
  const T = THRESHOLDS;
  const q = (figure: "quality" | "column_shapes" | "column_pair_trends", x: number): FigureVerdict =>
    verdict(
      figure,
      finite(x),
      [0, 1],
      "higher",
      atLeast(x, T.quality.good, T.quality.fair),
      `good ≥ ${T.quality.good}, fair ≥ ${T.quality.fair}, poor below`,
    );
  const det = worse(finite(s.logistic_detection), finite(s.forest_detection), "higher");
  const gap = worse(finite(s.c2st_gap), finite(s.forest_c2st_gap), "lower");
  const utilityGap =
    s.tstr_accuracy !== null && s.trtr_accuracy !== null ? s.trtr_accuracy - s.tstr_accuracy : null;
  const ideal = s.rows.holdout === null ? null : s.rows.real / (s.rows.real + s.rows.holdout);
  const excess = s.dcr_share !== null && ideal !== null ? s.dcr_share - ideal : null;
  const copies = s.exact_copies ?? 0;
  const privacyLevel: Level = copies > 0 ? "poor" : atMost(excess, T.dcrExcess.good, T.dcrExcess.fair);
  return [
    q("quality", s.quality_overall),
    q("column_shapes", s.column_shapes),
    q("column_pair_trends", s.column_pair_trends),
    verdict(
      "detection",
      det,
      [0, 1],
      "higher",
      atLeast(det, T.detection.good, T.detection.fair),
      `the worse of logistic and random-forest detection; good ≥ ${T.detection.good}, fair ≥ ${T.detection.fair}, poor below`,
    ),
    verdict(
      "c2st_gap",
      gap,
      [0, 0.5],
      "lower",
      atMost(gap, T.c2stGap.good, T.c2stGap.fair),
      `the larger of the logistic and random-forest gaps; good ≤ ${T.c2stGap.good}, fair ≤ ${T.c2stGap.fair}, poor above`,
    ),
    verdict(
      "utility",
      utilityGap,
      [-1, 1],
      "lower",
      atMost(utilityGap, T.utilityGap.good, T.utilityGap.fair),
      `TRTR − TSTR accuracy on the holdout; good ≤ ${T.utilityGap.good}, fair ≤ ${T.utilityGap.fair}, poor above`,
    ),
    verdict(
      "privacy",
      copies > 0 ? copies : excess,
      copies > 0 ? null : [-1, 1],
      "lower",
      privacyLevel,
      `poor with any exact copy of a real row; else DCR share − train/(train + holdout): good ≤ ${T.dcrExcess.good}, fair ≤ ${T.dcrExcess.fair}, poor above`,
    ),
  ];
}
