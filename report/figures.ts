/**
 * The report's figures: each is a Vega-Lite spec over plain rows plus the same numbers as a table, so every
 * plot has a text alternative (<details>). Bins and shares are computed here; metric values come from the
 * evaluation tree (stats/metrics/evaluate.ts) so the page shows exactly what `evaluate` reports.
 */
import type { TopLevelSpec } from "vega-lite";
import { isNumeric } from "../data/build.ts";
import type { Column, NumericColumn } from "../data/types.ts";
import { createRng, permutation } from "../stats/primitives/rng.ts";
import type { Cell } from "./html.ts";

export interface Figure {
  /** Stable anchor id (ASCII, built from an index, never from a column name). */
  readonly id: string;
  readonly title: string;
  /** One sentence under the plot: what is drawn and how to read it. */
  readonly caption: string;
  readonly spec: TopLevelSpec;
  readonly table: { readonly headers: readonly string[]; readonly rows: readonly (readonly Cell[])[] };
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const SOURCES = ["real", "synthetic", "holdout"] as const;
const WIDTH = 360;
const HEIGHT = 180;
/** Categorical bars shown per column; the rest are pooled into one "other" bar. */
const MAX_LEVELS = 20;

/** Equal-width edges over the finite values of all arrays (numpy.histogram_bin_edges on the union). */
export function sharedEdges(arrays: readonly Float64Array[], bins: number): Float64Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const a of arrays)
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  if (lo > hi) return new Float64Array(0);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = new Float64Array(bins + 1);
  for (let k = 0; k <= bins; k++) edges[k] = lo + ((hi - lo) * k) / bins;
  edges[bins] = hi;
  return edges;
}

/** Share of the finite values in each bin [e_k, e_{k+1}) (last bin closed), and the missing share. */
export function binShares(
  values: Float64Array,
  edges: Float64Array,
): { shares: Float64Array; missing: number } {
  const bins = edges.length - 1;
  const counts = new Float64Array(Math.max(bins, 0));
  let finite = 0;
  let missing = 0;
  const lo = edges[0];
  const step = (edges[bins] - lo) / bins;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      missing++;
      continue;
    }
    let k = Math.floor((v - lo) / step);
    if (k >= bins) k = bins - 1;
    if (k < 0) k = 0;
    counts[k]++;
    finite++;
  }
  for (let k = 0; k < bins; k++) counts[k] = finite === 0 ? 0 : counts[k] / finite;
  return { shares: counts, missing: values.length === 0 ? 0 : missing / values.length };
}

function missingShareCoded(codes: Int32Array): number {
  let m = 0;
  for (let i = 0; i < codes.length; i++) if (codes[i] < 0) m++;
  return codes.length === 0 ? 0 : m / codes.length;
}

function levelShares(col: Column): Map<string, number> {
  const out = new Map<string, number>();
  if (isNumeric(col)) return out;
  let n = 0;
  for (let i = 0; i < col.codes.length; i++) {
    const c = col.codes[i];
    if (c < 0) continue;
    const l = col.levels[c];
    out.set(l, (out.get(l) ?? 0) + 1);
    n++;
  }
  for (const [k, v] of out) out.set(k, v / n);
  return out;
}

/** Distinct display labels: a repeated label gets " (2)", " (3)", ... so ordinal scales never merge two bars. */
function uniqueLabels(labels: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((l) => {
    const k = (seen.get(l) ?? 0) + 1;
    seen.set(l, k);
    return k === 1 ? l : `${l} (${k})`;
  });
}

function binLabel(a: number, b: number, datetime: boolean): string {
  if (datetime)
    return `${new Date(a).toISOString().slice(0, 10)} – ${new Date(b).toISOString().slice(0, 10)}`;
  const d = Math.abs(b - a) >= 10 ? 0 : Math.abs(b - a) >= 1 ? 1 : 3;
  return `${a.toFixed(d)} – ${b.toFixed(d)}`;
}

const colour = (domain: readonly string[]) => ({
  field: "source",
  type: "nominal" as const,
  title: "table",
  scale: { domain: [...domain] },
});

/** Real vs synthetic distribution of one column: step histogram (numeric) or grouped bars (categorical). */
export function columnFigure(
  index: number,
  real: Column,
  synthetic: Column,
  score: number | undefined,
): Figure {
  const title = `Column ${real.name}: real vs synthetic distribution`;
  if (isNumeric(real) && isNumeric(synthetic)) {
    const datetime = real.kind === "datetime";
    const edges = sharedEdges([real.values, synthetic.values], 20);
    const r = binShares(real.values, edges);
    const s = binShares(synthetic.values, edges);
    const values: Array<Record<string, number | string>> = [];
    const rows: Cell[][] = [];
    for (let k = 0; k + 1 < edges.length; k++) {
      values.push({ x: edges[k], x2: edges[k + 1], y: r.shares[k], source: "real" });
      values.push({ x: edges[k], x2: edges[k + 1], y: s.shares[k], source: "synthetic" });
      rows.push([binLabel(edges[k], edges[k + 1], datetime), r.shares[k], s.shares[k]]);
    }
    rows.push(["(missing, share of all rows)", r.missing, s.missing]);
    const caption = `Share of non-missing values per bin (20 equal-width bins over both tables). Missing: real ${(100 * r.missing).toFixed(1)}%, synthetic ${(100 * s.missing).toFixed(1)}%. Shape score (KS complement) ${score === undefined || !Number.isFinite(score) ? "n/a" : score.toFixed(3)}.`;
    return {
      id: `col-${index}`,
      title,
      caption,
      table: { headers: ["bin", "real share", "synthetic share"], rows },
      spec: {
        $schema: SCHEMA,
        title,
        width: WIDTH,
        height: HEIGHT,
        data: { values },
        mark: { type: "bar", opacity: 0.55, binSpacing: 0 },
        encoding: {
          x: {
            field: "x",
            type: datetime ? "temporal" : "quantitative",
            title: real.name,
            scale: { zero: false },
          },
          x2: { field: "x2" },
          y: { field: "y", type: "quantitative", title: "share of rows", stack: null },
          y2: { datum: 0 },
          color: colour(["real", "synthetic"]),
        },
      },
    };
  }
  const rs = levelShares(real);
  const ss = levelShares(synthetic);
  const all = [...new Set([...rs.keys(), ...ss.keys()])].sort(
    (a, b) => (rs.get(b) ?? 0) - (rs.get(a) ?? 0) || (ss.get(b) ?? 0) - (ss.get(a) ?? 0),
  );
  const shown = all.slice(0, MAX_LEVELS);
  const rest = all.slice(MAX_LEVELS);
  const labels = uniqueLabels(shown);
  const entries: Array<[string, number, number]> = shown.map((l, k) => [
    labels[k],
    rs.get(l) ?? 0,
    ss.get(l) ?? 0,
  ]);
  if (rest.length > 0) {
    let a = 0;
    let b = 0;
    for (const l of rest) {
      a += rs.get(l) ?? 0;
      b += ss.get(l) ?? 0;
    }
    entries.push([`(${rest.length} other levels)`, a, b]);
  }
  const rMiss = isNumeric(real) ? 0 : missingShareCoded(real.codes);
  const sMiss = isNumeric(synthetic) ? 0 : missingShareCoded(synthetic.codes);
  const values = entries.flatMap(([label, a, b]) => [
    { x: label, y: a, source: "real" },
    { x: label, y: b, source: "synthetic" },
  ]);
  const caption = `Share of non-missing values per level (most frequent real levels first${rest.length > 0 ? `, ${rest.length} rarer levels pooled` : ""}). Missing: real ${(100 * rMiss).toFixed(1)}%, synthetic ${(100 * sMiss).toFixed(1)}%. Shape score (TV complement) ${score === undefined || !Number.isFinite(score) ? "n/a" : score.toFixed(3)}.`;
  return {
    id: `col-${index}`,
    title,
    caption,
    table: {
      headers: ["level", "real share", "synthetic share"],
      rows: [...entries.map((e) => [...e]), ["(missing, share of all rows)", rMiss, sMiss]],
    },
    spec: {
      $schema: SCHEMA,
      title,
      width: { step: entries.length > 10 ? 12 : 20 } as unknown as number,
      height: HEIGHT,
      data: { values },
      mark: "bar",
      encoding: {
        x: {
          field: "x",
          type: "nominal",
          title: real.name,
          sort: entries.map((e) => e[0]),
          axis: { labelAngle: -40 },
        },
        xOffset: { field: "source", sort: ["real", "synthetic"] },
        y: { field: "y", type: "quantitative", title: "share of rows" },
        color: colour(["real", "synthetic"]),
      },
    },
  };
}

/** Heatmap of a square matrix over `names` (diverging blue–orange, CVD-safe), values printed in the cells. */
export function heatmapFigure(
  id: string,
  title: string,
  caption: string,
  names: readonly string[],
  m: readonly (readonly number[])[],
  domain: [number, number],
): Figure {
  const values: Array<Record<string, string | number | null>> = [];
  for (let a = 0; a < names.length; a++)
    for (let b = 0; b < names.length; b++) {
      const v = m[a][b];
      values.push({
        row: names[a],
        col: names[b],
        v: Number.isFinite(v) ? v : null,
        t: Number.isFinite(v) ? v.toFixed(2) : "n/a",
      });
    }
  const side = Math.max(120, Math.min(420, 36 * names.length));
  return {
    id,
    title,
    caption,
    table: {
      headers: ["", ...names],
      rows: names.map((n, a) => [n, ...names.map((_, b) => m[a][b])]),
    },
    spec: {
      $schema: SCHEMA,
      title,
      width: side,
      height: side,
      data: { values },
      encoding: {
        x: { field: "col", type: "nominal", sort: [...names], title: "column", axis: { labelAngle: -40 } },
        y: { field: "row", type: "nominal", sort: [...names], title: "column" },
      },
      layer: [
        {
          mark: "rect",
          encoding: {
            color: {
              field: "v",
              type: "quantitative",
              title: "value",
              scale: { scheme: "blueorange", domain, clamp: true },
            },
          },
        },
        {
          mark: { type: "text", fontSize: names.length > 10 ? 8 : 10 },
          encoding: { text: { field: "t", type: "nominal" } },
        },
      ],
    },
  };
}

/** Levels of one column for a two-way picture: numeric → 6 equal-width bins of the real range; coded → 8 top levels. */
function pairLevels(
  real: Column,
  other: Column,
): { labels: string[]; code: (c: Column, i: number) => number } {
  if (isNumeric(real)) {
    const edges = sharedEdges([real.values, (other as NumericColumn).values], 6);
    const labels = [];
    for (let k = 0; k + 1 < edges.length; k++)
      labels.push(binLabel(edges[k], edges[k + 1], real.kind === "datetime"));
    labels.push("(missing)");
    const miss = labels.length - 1;
    const lo = edges[0];
    const step = (edges[edges.length - 1] - lo) / (edges.length - 1);
    return {
      labels,
      code: (c, i) => {
        const v = (c as NumericColumn).values[i];
        if (!Number.isFinite(v)) return miss;
        return Math.max(0, Math.min(edges.length - 2, Math.floor((v - lo) / step)));
      },
    };
  }
  const shares = levelShares(real);
  const top = [...shares.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map((e) => e[0]);
  const index = new Map(top.map((l, k) => [l, k] as const));
  const labels = uniqueLabels([...top, "(other)", "(missing)"]);
  return {
    labels,
    code: (c, i) => {
      if (isNumeric(c)) return top.length + 1;
      const k = c.codes[i];
      if (k < 0) return top.length + 1;
      return index.get(c.levels[k]) ?? top.length;
    },
  };
}

/** One of the pairs whose trend differs most: scatter (both numeric) or faceted two-way share heatmap. */
export function pairFigure(
  index: number,
  ra: Column,
  rb: Column,
  sa: Column,
  sb: Column,
  score: number,
  metric: string,
  seed: number,
): Figure {
  const title = `Pair ${ra.name} × ${rb.name}: real vs synthetic`;
  const base = `${metric} ${Number.isFinite(score) ? score.toFixed(3) : "n/a"} (1 = same trend).`;
  if (
    isNumeric(ra) &&
    isNumeric(rb) &&
    isNumeric(sa) &&
    isNumeric(sb) &&
    ra.kind === "numerical" &&
    rb.kind === "numerical"
  ) {
    const cap = 300;
    const values: Array<Record<string, number | string>> = [];
    const rows: Cell[][] = [];
    const rng = createRng(seed);
    for (const [source, xa, xb, stream] of [
      ["real", ra, rb, 0],
      ["synthetic", sa, sb, 1],
    ] as const) {
      const n = xa.values.length;
      const idx =
        n <= cap
          ? Int32Array.from({ length: n }, (_, i) => i)
          : permutation(n, rng.fork(stream)).subarray(0, cap);
      for (const i of idx) {
        const x = xa.values[i];
        const y = xb.values[i];
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        values.push({ x, y, source });
        rows.push([source, x, y]);
      }
    }
    return {
      id: `pair-${index}`,
      title,
      caption: `Scatter of up to ${cap} seeded-sampled rows per table. ${base}`,
      table: { headers: ["table", ra.name, rb.name], rows },
      spec: {
        $schema: SCHEMA,
        title,
        width: WIDTH,
        height: 240,
        data: { values },
        mark: { type: "point", size: 18, opacity: 0.6 },
        encoding: {
          x: { field: "x", type: "quantitative", title: ra.name, scale: { zero: false } },
          y: { field: "y", type: "quantitative", title: rb.name, scale: { zero: false } },
          color: colour(["real", "synthetic"]),
          shape: {
            field: "source",
            type: "nominal",
            title: "table",
            scale: { domain: ["real", "synthetic"], range: ["circle", "triangle-up"] },
          },
        },
      },
    };
  }
  const la = pairLevels(ra, sa);
  const lb = pairLevels(rb, sb);
  const ka = la.labels.length;
  const kb = lb.labels.length;
  const values: Array<Record<string, number | string>> = [];
  const rows: Cell[][] = [];
  const shares: Record<string, Float64Array> = {};
  for (const [source, a, b] of [
    ["real", ra, rb],
    ["synthetic", sa, sb],
  ] as const) {
    const n = isNumeric(a) ? a.values.length : a.codes.length;
    const counts = new Float64Array(ka * kb);
    for (let i = 0; i < n; i++) counts[la.code(a, i) * kb + lb.code(b, i)]++;
    for (let c = 0; c < counts.length; c++) counts[c] = n === 0 ? 0 : counts[c] / n;
    shares[source] = counts;
  }
  for (let p = 0; p < ka; p++)
    for (let q = 0; q < kb; q++) {
      const r = shares.real[p * kb + q];
      const s = shares.synthetic[p * kb + q];
      if (r === 0 && s === 0) continue;
      values.push({ a: la.labels[p], b: lb.labels[q], v: r, source: "real" });
      values.push({ a: la.labels[p], b: lb.labels[q], v: s, source: "synthetic" });
      rows.push([la.labels[p], lb.labels[q], r, s]);
    }
  const usedA = la.labels.filter((l) => values.some((v) => v.a === l));
  const usedB = lb.labels.filter((l) => values.some((v) => v.b === l));
  return {
    id: `pair-${index}`,
    title,
    caption: `Share of rows in each combination (numeric columns in 6 equal-width bins, categorical in their 8 most frequent real levels), real on the left, synthetic on the right. ${base}`,
    table: { headers: [ra.name, rb.name, "real share", "synthetic share"], rows },
    spec: {
      $schema: SCHEMA,
      title,
      data: { values },
      facet: { column: { field: "source", type: "nominal", title: "table", sort: ["real", "synthetic"] } },
      spec: {
        width: Math.max(100, 18 * usedB.length),
        height: Math.max(100, 18 * usedA.length),
        mark: "rect",
        encoding: {
          x: { field: "b", type: "nominal", sort: usedB, title: rb.name, axis: { labelAngle: -40 } },
          y: { field: "a", type: "nominal", sort: usedA, title: ra.name },
          color: { field: "v", type: "quantitative", title: "share of rows", scale: { scheme: "viridis" } },
        },
      },
    },
  };
}

/** Overlaid histograms (shares on shared equal-width bins) of several named samples, e.g. DCR distributions. */
export function overlaidHistogram(
  id: string,
  title: string,
  caption: string,
  xTitle: string,
  samples: ReadonlyArray<{ name: string; values: Float64Array }>,
  bins = 30,
): Figure {
  const edges = sharedEdges(
    samples.map((s) => s.values),
    bins,
  );
  const shares = samples.map((s) => binShares(s.values, edges).shares);
  const values: Array<Record<string, number | string>> = [];
  const rows: Cell[][] = [];
  for (let k = 0; k + 1 < edges.length; k++) {
    samples.forEach((s, j) =>
      values.push({ x: edges[k], x2: edges[k + 1], y: shares[j][k], source: s.name }),
    );
    rows.push([binLabel(edges[k], edges[k + 1], false), ...shares.map((sh) => sh[k])]);
  }
  return {
    id,
    title,
    caption,
    table: { headers: ["bin", ...samples.map((s) => `${s.name} share`)], rows },
    spec: {
      $schema: SCHEMA,
      title,
      width: WIDTH,
      height: HEIGHT,
      data: { values },
      mark: { type: "bar", opacity: 0.55, binSpacing: 0 },
      encoding: {
        x: { field: "x", type: "quantitative", title: xTitle },
        x2: { field: "x2" },
        y: { field: "y", type: "quantitative", title: "share of rows", stack: null },
        y2: { datum: 0 },
        color: colour(samples.map((s) => s.name)),
      },
    },
  };
}

/** Grouped bars: per model (facet) and metric (x), one bar per setting (colour), e.g. TSTR vs TRTR. */
export function groupedBars(
  id: string,
  title: string,
  caption: string,
  rows: ReadonlyArray<{ model: string; metric: string; setting: string; value: number }>,
  settings: readonly string[],
): Figure {
  const values = rows.filter((r) => Number.isFinite(r.value));
  return {
    id,
    title,
    caption,
    table: {
      headers: ["model", "metric", "setting", "value"],
      rows: rows.map((r) => [r.model, r.metric, r.setting, r.value]),
    },
    spec: {
      $schema: SCHEMA,
      title,
      data: { values },
      facet: { column: { field: "model", type: "nominal", title: "model" } },
      spec: {
        width: 220,
        height: HEIGHT,
        mark: "bar",
        encoding: {
          x: { field: "metric", type: "nominal", title: "metric", axis: { labelAngle: 0 } },
          xOffset: { field: "setting", sort: [...settings] },
          y: {
            field: "value",
            type: "quantitative",
            title: "score (higher is better)",
            scale: { domain: [0, 1] },
          },
          color: { field: "setting", type: "nominal", title: "trained on", scale: { domain: [...settings] } },
        },
      },
    },
  };
}

/** Scores per iteration of a run, one line (colour and point shape) per score. */
export function trajectoryFigure(
  id: string,
  rows: ReadonlyArray<{ iteration: number; metric: string; value: number }>,
): Figure {
  const title = "Run trajectory: scores per iteration";
  const metrics = [...new Set(rows.map((r) => r.metric))];
  return {
    id,
    title,
    caption:
      "Each score the run recorded after each iteration (the scores' own scales; see the table for values).",
    table: {
      headers: ["iteration", "score", "value"],
      rows: rows.map((r) => [r.iteration, r.metric, r.value]),
    },
    spec: {
      $schema: SCHEMA,
      title,
      width: WIDTH,
      height: 220,
      data: { values: rows.filter((r) => Number.isFinite(r.value)) },
      mark: { type: "line", point: true },
      encoding: {
        x: {
          field: "iteration",
          type: "quantitative",
          title: "iteration",
          axis: { tickMinStep: 1, format: "d" },
        },
        y: { field: "value", type: "quantitative", title: "score" },
        color: { field: "metric", type: "nominal", title: "score", scale: { domain: metrics } },
        shape: { field: "metric", type: "nominal", title: "score", scale: { domain: metrics } },
      },
    },
  };
}

export { SOURCES };
