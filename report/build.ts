/**
 * `buildReport`: one self-contained HTML page comparing a synthetic table with its real table. No script, no
 * external resource of any kind (a Content-Security-Policy forbids them), plots as inline SVG rendered in Node
 * (report/svg.ts), each with its numbers in a <details> table. Metric values are read from the evaluation tree
 * of stats/metrics/evaluate.ts; the page only bins values for pictures and adds the holdout→real DCR beside the
 * synthetic→real DCR (same encoding and kernel as the DCR share). Every name and value is escaped.
 */
import { z } from "zod";
import type { Metadata, Table } from "../data/types.ts";
import { encodeTabsyn } from "../stats/metrics/rows/encode.ts";
import { alignTable, type EvaluateResult, statColumns } from "../stats/metrics/evaluate.ts";
import { dcrL1 } from "../stats/metrics/rows/neighbors.ts";
import {
  columnFigure,
  type Figure,
  groupedBars,
  heatmapFigure,
  overlaidHistogram,
  pairFigure,
  trajectoryFigure,
} from "./figures.ts";
import { escapeHtml, fmt, GENERATOR_META, htmlTable, pct } from "./html.ts";
import { readVerdicts, type Verdict } from "./verdicts.ts";
import { renderSvg } from "./svg.ts";
import { usageTotalsObject } from "../state/schemas.ts";

// A run without model calls (the offline engines) records no latency.
const usageTotalsSchema = usageTotalsObject.extend({ latency_ms: z.number().optional() });

/** What a run contributes: its iterations (scores, verdict, feedback) and model usage. Validate files with it. */
export const runTraceSchema = z.object({
  iterations: z.array(
    z.object({
      iteration: z.number().int(),
      scores: z.record(z.string(), z.number().nullable()),
      verdict: z.string().optional(),
      feedback: z.string().optional(),
    }),
  ),
  usage: usageTotalsSchema.extend({ by_role: z.record(z.string(), usageTotalsSchema).optional() }).optional(),
});
export type RunTrace = z.output<typeof runTraceSchema>;

export interface ReportInput {
  readonly real: Table;
  readonly synthetic: Table;
  readonly holdout?: Table;
  readonly metadata: Metadata;
  readonly target?: string;
  /** The tree `evaluateTables(real, synthetic, holdout, …)` returned for these tables. */
  readonly evaluation: EvaluateResult;
  readonly run?: RunTrace;
  /** Page heading; default "Synthetic data report". */
  readonly title?: string;
  /** Pairs drawn among those with the largest trend gaps. Default 4. */
  readonly pairs?: number;
  /** Seed of the scatter plots' row sampling. Default 0. */
  readonly seed?: number;
}

/** The report as one HTML string (async: vega renders SVG asynchronously). */
export async function buildReport(input: ReportInput): Promise<string> {
  const ev = input.evaluation;
  const names = statColumns(input.real);
  const real = alignTable(input.real, names, "real");
  const synthetic = alignTable(input.synthetic, names, "synthetic");
  const holdout = input.holdout ? alignTable(input.holdout, names, "holdout") : undefined;
  const sections: string[] = [];
  const figures: Figure[] = [];
  const sectionFigures = (heading: string, id: string, intro: string, figs: Figure[]): void => {
    figures.push(...figs);
    sections.push(
      `<section id="${id}"><h2>${escapeHtml(heading)}</h2><p>${escapeHtml(intro)}</p>${figs.map((f) => `<!--fig:${f.id}-->`).join("\n")}</section>`,
    );
  };

  sections.push(summaryCard(readVerdicts(ev, input.target)));

  // Columns
  const colFigs = real.columns.map((rc, j) => {
    const shape = ev.column_shapes[rc.name];
    const score =
      shape === undefined ? undefined : "ks_complement" in shape ? shape.ks_complement : shape.tv_complement;
    return columnFigure(j, rc, synthetic.columns[j], score);
  });
  sectionFigures(
    "Columns",
    "columns",
    "Each column's distribution in the real and the synthetic table. The shape score is 1 when the two agree.",
    colFigs,
  );

  // Correlations
  const cm = ev.correlation_matrix;
  if (cm.columns.length >= 2) {
    const diff = cm.real.map((row, a) => row.map((v, b) => cm.synthetic[a][b] - v));
    sectionFigures(
      "Correlations",
      "correlations",
      `Pearson correlation of the numerical columns. Frobenius distance between the matrices: ${fmt(cm.frobenius_diff)} (0 = identical).`,
      [
        heatmapFigure(
          "corr-real",
          "Correlation matrix: real",
          "Pearson r between numerical columns of the real table (−1 blue to +1 orange).",
          cm.columns,
          cm.real,
          [-1, 1],
        ),
        heatmapFigure(
          "corr-synthetic",
          "Correlation matrix: synthetic",
          "Pearson r between numerical columns of the synthetic table.",
          cm.columns,
          cm.synthetic,
          [-1, 1],
        ),
        heatmapFigure(
          "corr-diff",
          "Correlation difference: synthetic − real",
          "Signed difference of the two matrices; white cells agree.",
          cm.columns,
          diff,
          [-1, 1],
        ),
      ],
    );
  } else {
    sections.push(
      `<section id="correlations"><h2>Correlations</h2><p>Fewer than two numerical columns: no correlation matrix.</p></section>`,
    );
  }

  // Pairs with the largest trend gaps
  const index = new Map(names.map((n, j) => [n, j] as const));
  const worst = Object.entries(ev.column_pairs)
    .filter(([, p]) => Number.isFinite(p.report_score))
    .sort((a, b) => a[1].report_score - b[1].report_score)
    .slice(0, input.pairs ?? 4);
  const pairFigs = worst.map(([key, p], k) => {
    const [a, b] = splitPairKey(key, index);
    return pairFigure(
      k,
      real.columns[a],
      real.columns[b],
      synthetic.columns[a],
      synthetic.columns[b],
      p.report_score,
      p.report_metric,
      input.seed ?? 0,
    );
  });
  sectionFigures(
    "Column pairs with the largest trend gaps",
    "pairs",
    `The ${pairFigs.length} pairs whose joint behaviour differs most (lowest pair-trend score of the quality report).`,
    pairFigs,
  );

  // Privacy
  sections.push(privacySection(ev, real, synthetic, holdout, figures));

  // Utility
  sections.push(utilitySection(ev, input.target, figures));

  // Run
  if (input.run) sections.push(runSection(input.run, figures));

  // Notes
  const notes = ev.summary.notes;
  if (notes.length > 0)
    sections.push(
      `<section id="notes"><h2>Notes</h2><ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul></section>`,
    );

  let body = sections.join("\n");
  const rendered = await Promise.all(figures.map(async (f) => [f.id, await figureHtml(f)] as const));
  for (const [id, html] of rendered) body = body.replace(`<!--fig:${id}-->`, () => html);
  return page(input.title ?? "Synthetic data report", ev, input.metadata, body);
}

/** "a|b" back to column indices; column names may contain "|", so every split point is tried. */
function splitPairKey(key: string, index: Map<string, number>): [number, number] {
  for (let i = key.indexOf("|"); i >= 0; i = key.indexOf("|", i + 1)) {
    const a = index.get(key.slice(0, i));
    const b = index.get(key.slice(i + 1));
    if (a !== undefined && b !== undefined) return [a, b];
  }
  throw new Error(`column pair "${key}" does not name two columns of the real table`);
}

async function figureHtml(f: Figure): Promise<string> {
  const svg = scopeIds(await renderSvg(f.spec), f.id);
  const titled = svg.replace(/^<svg /, `<svg role="img" aria-labelledby="${f.id}-title" `);
  return `<figure id="${f.id}" class="plot">
<figcaption><strong id="${f.id}-title">${escapeHtml(f.title)}</strong><br>${escapeHtml(f.caption)}</figcaption>
${titled}
<details><summary>Numbers behind “${escapeHtml(f.title)}”</summary>${htmlTable(f.table.headers, f.table.rows)}</details>
</figure>`;
}

/**
 * Inline SVGs share the page's id space: vega names every legend gradient and clip path `gradient_0`,
 * `clip1`, ... in each SVG, so without a per-figure prefix every legend would paint the first figure's gradient.
 */
export function scopeIds(svg: string, prefix: string): string {
  const ids = new Set([...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=")([^"]+)"/g, (all, a: string, id: string) =>
      ids.has(id) ? `${a}${prefix}-${id}"` : all,
    )
    .replace(/url\(#([^)]+)\)/g, (all, id: string) => (ids.has(id) ? `url(#${prefix}-${id})` : all))
    .replace(/(href=")#([^"]+)"/g, (all, a: string, id: string) =>
      ids.has(id) ? `${a}#${prefix}-${id}"` : all,
    );
}

function summaryCard(verdicts: Verdict[]): string {
  const items = verdicts
    .map(
      (
        v,
      ) => `<div class="card ${v.level}"><h3>${escapeHtml(v.aspect)}: <span class="level">${escapeHtml(v.level)}</span></h3>
<p class="value">${escapeHtml(v.value)}</p><p>${escapeHtml(v.meaning)}</p><p class="rule">${escapeHtml(v.rule)}</p></div>`,
    )
    .join("\n");
  return `<section id="summary"><h2>Summary</h2><div class="cards">${items}</div></section>`;
}

function privacySection(
  ev: EvaluateResult,
  real: Table,
  synthetic: Table,
  holdout: Table | undefined,
  figures: Figure[],
): string {
  const s = ev.summary;
  const share = ev.row_level.dcr_share_tabsyn;
  const parts: string[] = [
    `<p>Exact copies of real rows: ${escapeHtml(fmt(s.exact_copies))} of ${synthetic.nRows}. Identifiability (distinct synthetic rows found in real): ${escapeHtml(pct(ev.row_level.identifiability.synllm))}. Median distance to the closest real row (min-max scaled): ${escapeHtml(fmt(s.dcr_minmax_median))}.</p>`,
  ];
  if (share && holdout) {
    // The encoding and kernel of dcrShare (rowlevel.ts), so both samples share the scale of share.d_train.
    const [rEnc, hEnc] = encodeTabsyn(real, [real, holdout]);
    const holdoutToReal = dcrL1(hEnc.data, rEnc.data, rEnc.cols);
    const ideal = real.nRows / (real.nRows + holdout.nRows);
    parts.push(
      `<p>DCR share (synthetic rows closer to a training row than to any holdout row): ${escapeHtml(fmt(share.share))}; about ${escapeHtml(fmt(ideal))} (= train/(train + holdout)) when synthetic rows are no closer to the training rows than unseen real rows are.</p>`,
    );
    const fig = overlaidHistogram(
      "dcr",
      "Distance to closest record: synthetic→real vs holdout→real",
      "L1 distance of each row to its nearest training row (numerical columns divided by the training range, categories one-hot). If synthetic rows sit much closer than holdout rows, the generator copies training rows.",
      "distance to the closest training row (L1)",
      [
        { name: "synthetic", values: Float64Array.from(share.d_train) },
        { name: "holdout", values: holdoutToReal },
      ],
    );
    figures.push(fig);
    parts.push(`<!--fig:${fig.id}-->`);
  } else {
    parts.push("<p>No holdout table: the DCR comparison with unseen real rows is skipped.</p>");
  }
  return `<section id="privacy"><h2>Privacy</h2>${parts.join("\n")}</section>`;
}

function utilitySection(ev: EvaluateResult, target: string | undefined, figures: Figure[]): string {
  const rows: Array<{ model: string; metric: string; setting: string; value: number }> = [];
  const models = [
    ["logistic regression", ev.tstr_logistic],
    ["random forest", ev.tstr_random_forest],
  ] as const;
  for (const [model, u] of models) {
    if (!u) continue;
    for (const [metric, key] of [
      ["accuracy", "accuracy"],
      ["macro F1", "f1_macro"],
      ["ROC AUC", "roc_auc"],
    ] as const) {
      rows.push({ model, metric, setting: "TSTR (synthetic)", value: u.tstr[key] });
      rows.push({ model, metric, setting: "TRTR (real)", value: u.trtr[key] });
    }
  }
  if (rows.length === 0)
    return `<section id="utility"><h2>Utility</h2><p>No TSTR/TRTR: it needs a target column and a holdout table.</p></section>`;
  const fig = groupedBars(
    "utility-bars",
    `Utility: train on synthetic (TSTR) vs train on real (TRTR), target ${target ?? "(unnamed)"}`,
    "Classifiers trained on each table and tested on the same holdout rows; close bars mean the synthetic table teaches what the real one does.",
    rows,
    ["TRTR (real)", "TSTR (synthetic)"],
  );
  figures.push(fig);
  return `<section id="utility"><h2>Utility</h2><!--fig:${fig.id}--></section>`;
}

function runSection(run: RunTrace, figures: Figure[]): string {
  const parts: string[] = [];
  const points = run.iterations.flatMap((it) =>
    Object.entries(it.scores).map(([metric, value]) => ({
      iteration: it.iteration,
      metric,
      value: value ?? Number.NaN,
    })),
  );
  if (points.length > 0) {
    const fig = trajectoryFigure("trajectory", points);
    figures.push(fig);
    parts.push(`<!--fig:${fig.id}-->`);
  }
  parts.push(
    htmlTable(
      ["iteration", "verdict", "feedback"],
      run.iterations.map((it) => [it.iteration, it.verdict ?? "", it.feedback ?? ""]),
      "Verdict and feedback per iteration",
    ),
  );
  const u = run.usage;
  if (u) {
    const line = (name: string, t: z.output<typeof usageTotalsSchema>) => [
      name,
      t.calls,
      t.failed_calls,
      t.prompt_tokens,
      t.completion_tokens,
      t.latency_ms === undefined ? "n/a" : t.latency_ms / 1000,
      t.estimated ? "yes" : "no",
    ];
    parts.push(
      htmlTable(
        ["role", "calls", "failed calls", "prompt tokens", "completion tokens", "latency (s)", "estimated"],
        [line("total", u), ...Object.entries(u.by_role ?? {}).map(([r, t]) => line(r, t))],
        "Model usage",
      ),
    );
  }
  return `<section id="run"><h2>Run</h2>${parts.join("\n")}</section>`;
}

const CSS = `body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem 1.5rem;color:#1a1a1a;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:.8rem}
.card{border:2px solid #999;border-radius:6px;padding:.6rem .8rem}.card h3{margin:.1rem 0}.card p{margin:.3rem 0}
.card.good{border-color:#009E73}.card.fair{border-color:#E69F00}.card.poor{border-color:#D55E00}
.card .value{font-size:1.15rem;font-weight:600}.card .rule{font-size:.85rem;color:#444}
figure.plot{margin:1.2rem 0;padding:.5rem;border:1px solid #e3e3e3;border-radius:6px;overflow-x:auto}
figcaption{font-size:.9rem;margin-bottom:.4rem}svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.15rem .45rem;text-align:left;vertical-align:top}
caption{text-align:left;font-weight:600;padding:.3rem 0}details summary{cursor:pointer;font-size:.85rem}`;

function page(title: string, ev: EvaluateResult, metadata: Metadata, body: string): string {
  const s = ev.summary;
  const rows = `real ${s.rows.real}, synthetic ${s.rows.synthetic}${s.rows.holdout === null ? "" : `, holdout ${s.rows.holdout}`}`;
  const colTable = htmlTable(
    ["column", "type", "missing in real"],
    metadata.columns.map((c) => [c.name, c.sdtype, pct(c.missingRate)]),
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
${GENERATOR_META}
<title>${escapeHtml(title)}</title><style>${CSS}</style></head>
<body><header><h1>${escapeHtml(title)}</h1><p>Rows: ${escapeHtml(rows)}; columns: ${s.columns}.</p>
<details><summary>Columns and types</summary>${colTable}</details>
<nav><a href="#summary">Summary</a> · <a href="#columns">Columns</a> · <a href="#correlations">Correlations</a> · <a href="#pairs">Pairs</a> · <a href="#privacy">Privacy</a> · <a href="#utility">Utility</a></nav></header>
<main>
${body}
</main></body></html>
`;
}
