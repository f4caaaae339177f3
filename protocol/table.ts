/**
 * The results table of a protocol run: per engine × dataset × size and metric, the mean over repeats, the
 * sample standard deviation sd = √(Σ(x − x̄)²/(n − 1)) (0 for one repeat) and the standard error sd/√n (the
 * "±" of MALLM-GAN's tables), over the repeats whose value is finite. Rendered as JSON and as Markdown (one
 * table per dataset, the protocol's reference value beside the measured mean when it has one).
 */
import type { CellResult, Protocol } from "./schema.ts";
import type { SkippedCell } from "./run.ts";

export interface MetricSummary {
  mean: number | null;
  sd: number | null;
  se: number | null;
  n: number;
}

export interface ResultRow {
  engine: string;
  dataset: string;
  size: number;
  repeats: number;
  metrics: Record<string, MetricSummary>;
  /** How often each model reached the best-of score. */
  best_models: Record<string, number>;
  reference: { metric: string; value: number; diff: number | null; source: string } | null;
}

export interface ResultsTable {
  protocol: string;
  rows: ResultRow[];
  skipped: SkippedCell[];
}

export function summarize(xs: ReadonlyArray<number | null>): MetricSummary {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: null, sd: null, se: null, n: 0 };
  let mean = 0;
  for (const x of v) mean += x;
  mean /= n;
  let ss = 0;
  for (const x of v) ss += (x - mean) * (x - mean);
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  return { mean, sd, se: sd / Math.sqrt(n), n };
}

export function resultsTable(
  p: Protocol,
  results: readonly CellResult[],
  skipped: SkippedCell[],
): ResultsTable {
  const rows: ResultRow[] = [];
  for (const engine of p.engines)
    for (const d of p.datasets)
      for (const size of p.sizes) {
        const group = results.filter((r) => r.engine === engine && r.dataset === d.name && r.size === size);
        if (group.length === 0) continue;
        const keys = [...new Set(group.flatMap((r) => Object.keys(r.metrics)))];
        const metrics: Record<string, MetricSummary> = {};
        for (const k of keys) metrics[k] = summarize(group.map((r) => r.metrics[k] ?? null));
        const best_models: Record<string, number> = {};
        for (const r of group)
          if (r.best_model) best_models[r.best_model] = (best_models[r.best_model] ?? 0) + 1;
        const ref = d.reference;
        const refValue = ref && ref.engine === engine ? ref.values[String(size)] : undefined;
        const mean = ref ? metrics[ref.metric]?.mean : null;
        rows.push({
          engine,
          dataset: d.name,
          size,
          repeats: group.length,
          metrics,
          best_models,
          reference:
            ref && refValue !== undefined
              ? {
                  metric: ref.metric,
                  value: refValue,
                  diff: mean === null || mean === undefined ? null : mean - refValue,
                  source: ref.source,
                }
              : null,
        });
      }
  return { protocol: p.name, rows, skipped };
}

const f3 = (x: number | null | undefined): string => (x === null || x === undefined ? "n/a" : x.toFixed(3));
const pm = (m: MetricSummary | undefined): string =>
  !m || m.mean === null ? "n/a" : `${m.mean.toFixed(3)} ± ${f3(m.sd)}`;

/** One Markdown table per dataset: size, engine, MLE, reference, per-model scores, fidelity. */
export function resultsMarkdown(p: Protocol, t: ResultsTable): string {
  const out: string[] = [`# ${p.name}`, ""];
  if (p.description) out.push(p.description, "");
  out.push(
    `Mean ± sample sd over ${p.repeats} repeats (seeds ${p.seed}…${p.seed + p.repeats - 1}). MLE = best TSTR score over ${p.mle.classifiers.join(
      ", ",
    )} (classification, ${p.mle.metric}) or ${p.mle.regressors.join(", ")} (regression, R²).`,
    "",
  );
  for (const d of p.datasets) {
    const rows = t.rows.filter((r) => r.dataset === d.name);
    if (rows.length === 0) continue;
    const models =
      d.task === "classification"
        ? p.mle.classifiers.map((c) => `${p.mle.metric}.${c}`)
        : p.mle.regressors.map((r) => `r2.${r}`);
    const fidelity = p.fidelity ? ["quality", "detection", "dcr_share"] : [];
    const head = [
      "N",
      "engine",
      `MLE (${d.task === "classification" ? p.mle.metric : "R²"})`,
      ...(d.reference ? [`reference`, "diff"] : []),
      ...models,
      ...(d.task === "classification" ? ["mle_f1_positive"] : []),
      ...fidelity,
      "best model (count)",
    ];
    out.push(`## ${d.name} (${d.task}, target \`${d.target}\`)`, "");
    if (d.reference) out.push(`Reference: ${d.reference.source}.`, "");
    out.push(`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`);
    for (const r of rows) {
      const cellsOut = [
        String(r.size),
        r.engine,
        pm(r.metrics.mle),
        ...(d.reference
          ? [
              f3(r.reference?.value),
              r.reference?.diff === null || !r.reference
                ? ""
                : `${r.reference.diff >= 0 ? "+" : ""}${r.reference.diff.toFixed(3)}`,
            ]
          : []),
        ...models.map((k) => pm(r.metrics[k])),
        ...(d.task === "classification" ? [pm(r.metrics.mle_f1_positive)] : []),
        ...fidelity.map((k) => pm(r.metrics[k])),
        Object.entries(r.best_models)
          .map(([m, c]) => `${m} (${c})`)
          .join(", "),
      ];
      out.push(`| ${cellsOut.join(" | ")} |`);
    }
    out.push("");
  }
  if (t.skipped.length > 0) {
    const reasons = new Map<string, number>();
    for (const s of t.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
    out.push("Skipped cells:", "");
    for (const [reason, n] of reasons) out.push(`- ${n} × ${reason}`);
    out.push("");
  }
  return out.join("\n");
}
