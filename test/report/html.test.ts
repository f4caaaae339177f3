/**
 * The report's HTML without a browser: hostile names and values are escaped, every section and figure is
 * there with its numbers table, nothing external is referenced, and the binning behind the plots is right.
 */
import { describe, expect, it } from "vitest";
import { columnOf, tableOf } from "../../data/build.ts";
import { deriveMetadata } from "../../data/metadata.ts";
import type { Table } from "../../data/types.ts";
import { buildReport } from "../../report/build.ts";
import { binShares, pairFigure, sharedEdges } from "../../report/figures.ts";
import { escapeHtml } from "../../report/html.ts";
import { encodeTabsyn } from "../../stats/metrics/rows/encode.ts";
import { evaluateTables } from "../../stats/metrics/evaluate.ts";
import { dcrL1 } from "../../stats/metrics/rows/neighbors.ts";
import { createRng } from "../../stats/primitives/rng.ts";

const EVIL_COL = `<script>alert("col")</script>`;
const EVIL_LEVEL = `<img src=x onerror=alert(1)>`;
const DOTTED = "a.b[0]|c";

function table(n: number, seed: number): Table {
  const rng = createRng(seed);
  const x: number[] = [];
  const y: number[] = [];
  const z: Array<number | null> = [];
  const cat: Array<string | null> = [];
  const target: string[] = [];
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    x.push(Math.round(100 * u) / 10);
    y.push(Math.round(100 * (u + rng.next())) / 10);
    z.push(i % 7 === 0 ? null : Math.round(50 * rng.next()));
    cat.push(i % 11 === 0 ? null : [EVIL_LEVEL, "b & c", "d"][i % 3]);
    target.push(u + 0.3 * rng.next() > 0.6 ? "yes" : "no");
  }
  return tableOf([
    columnOf("x", "numerical", x),
    columnOf(DOTTED, "numerical", y),
    columnOf(EVIL_COL, "numerical", z),
    columnOf("cat", "categorical", cat),
    columnOf("target", "categorical", target),
  ]);
}

const real = table(120, 1);
const synthetic = table(90, 2);
const holdout = table(60, 3);
const evaluation = evaluateTables(real, synthetic, holdout, { target: "target", positive_label: "yes" });
const html = await buildReport({
  real,
  synthetic,
  holdout,
  metadata: deriveMetadata(real),
  target: "target",
  evaluation,
  run: {
    iterations: [
      { iteration: 1, scores: { quality: 0.7 }, verdict: "revise", feedback: `<iframe src="http://x">` },
    ],
    usage: {
      calls: 1,
      failed_calls: 0,
      prompt_tokens: 10,
      completion_tokens: 5,
      estimated: true,
      latency_ms: 10,
    },
  },
});

describe("report HTML", () => {
  it("escapes every hostile column name, level and feedback text", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<iframe/i);
    expect(html).toContain(escapeHtml(EVIL_COL));
    expect(html).toContain(escapeHtml(EVIL_LEVEL));
    expect(html).toContain(escapeHtml(`<iframe src="http://x">`));
    expect(html).toContain("b &amp; c");
  });

  it("reads a column name with dots, brackets and a pipe as a name, not a field path", () => {
    // A field path "a.b[0]|c" would read nothing: the histogram would show only zero shares.
    const fig = html.slice(html.indexOf('id="col-1"'), html.indexOf('id="col-2"'));
    expect(fig).toContain(escapeHtml(DOTTED));
    expect(fig).toMatch(/<path[^>]*class="?[^"]*"?/);
  });

  it("has every section, a figure per plot, each with a titled SVG and a numbers table", () => {
    for (const id of ["summary", "columns", "correlations", "pairs", "privacy", "utility", "run"])
      expect(html, id).toContain(`<section id="${id}">`);
    const figures = html.match(/<figure id="[^"]+" class="plot">/g) ?? [];
    // 5 columns, 3 correlation heatmaps, 4 pairs, DCR, utility, trajectory.
    expect(figures.length).toBe(5 + 3 + 4 + 1 + 1 + 1);
    expect((html.match(/<svg role="img" aria-labelledby=/g) ?? []).length).toBe(figures.length);
    expect((html.match(/<details><summary>Numbers behind/g) ?? []).length).toBe(figures.length);
    expect(html).toMatch(/<title>Synthetic data report<\/title>/);
    expect(html).not.toContain("<!--fig:");
    expect((html.match(/class="card /g) ?? []).length).toBe(4);
  });

  it("references nothing outside the page and carries no script", () => {
    // Attributes of real tags only (escaped text such as "&lt;img src=x&gt;" is no tag).
    const tags = html.match(/<[a-zA-Z][^<>]*>/g) ?? [];
    const refs = tags.flatMap((t) =>
      [...t.matchAll(/\s([\w:-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/g)]
        .filter((m) => /^(src|href|action|srcset|xlink:href|data|poster|background)$/i.test(m[1]))
        .map((m) => m[2].replace(/^["']|["']$/g, "")),
    );
    expect(refs.filter((r) => !r.startsWith("#"))).toEqual([]);
    // url() only for gradients and clips defined in the page.
    const urls = [...html.matchAll(/url\(([^)]*)\)/g)].map((m) => m[1]);
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    for (const u of urls) expect(ids).toContain(u.replace(/^#/, ""));
    for (const u of urls) expect(u.startsWith("#")).toBe(true);
    expect(html).toContain("default-src 'none'");
  });

  it("gives every element id once in the page (inline SVGs share one id space)", () => {
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(20);
    expect(ids.filter((id, k) => ids.indexOf(id) !== k)).toEqual([]);
  });

  it("stays small: under 300 KB for a five-column table", () => {
    expect(Buffer.byteLength(html)).toBeLessThan(300_000);
  });

  it("draws the holdout→real DCR on the scale of the evaluation's synthetic→real DCR", () => {
    // Recomputing synthetic→real the way the report computes holdout→real must give the evaluation's d_train.
    const [s, r] = encodeTabsyn(real, [synthetic, real]);
    const d = dcrL1(s.data, r.data, r.cols);
    expect(Array.from(d)).toEqual(evaluation.row_level.dcr_share_tabsyn?.d_train);
  });
});

describe("report binning", () => {
  it("shares per bin, last bin closed, missing apart (hand-computed)", () => {
    // edges over {0,1,2,3} with 2 bins: [0, 1.5, 3]; bin 0 holds 0 and 1, bin 1 holds 2 and 3 (3 = right edge).
    const edges = sharedEdges([Float64Array.from([0, 1, 2, 3, Number.NaN])], 2);
    expect(Array.from(edges)).toEqual([0, 1.5, 3]);
    const { shares, missing } = binShares(Float64Array.from([0, 1, 2, 3, Number.NaN]), edges);
    expect(Array.from(shares)).toEqual([2 / 4, 2 / 4]);
    expect(missing).toBe(1 / 5);
  });

  it("a constant column gets one unit-wide range around its value (numpy)", () => {
    expect(Array.from(sharedEdges([Float64Array.from([5, 5])], 2))).toEqual([4.5, 5, 5.5]);
  });

  it("samples at most 300 rows per table for a scatter", () => {
    const big = (seed: number) => {
      const rng = createRng(seed);
      return tableOf([
        columnOf(
          "u",
          "numerical",
          Array.from({ length: 5000 }, () => rng.next()),
        ),
        columnOf(
          "v",
          "numerical",
          Array.from({ length: 5000 }, () => rng.next()),
        ),
      ]);
    };
    const a = big(1);
    const b = big(2);
    const fig = pairFigure(
      0,
      a.columns[0],
      a.columns[1],
      b.columns[0],
      b.columns[1],
      0.9,
      "CorrelationSimilarity",
      0,
    );
    expect(fig.table.rows.filter((r) => r[0] === "real").length).toBe(300);
    expect(fig.table.rows.filter((r) => r[0] === "synthetic").length).toBe(300);
  });
});
