/**
 * `npm run bench:ecommerce -- [SYNTH.csv]`: the LLMSynthor e-commerce evaluation (LLMSynthor paper, §4.1, tables 2 and 3; docs/papers.md)
 * of a synthetic table against the A.1 ground truth (examples/ecommerce.ts; reference: 2,000 rows, seed REF_SEED,
 * as the paper's target set). With no file it scores an independent second 2,000-row sample of the ground truth:
 * the floor any generator can reach at this size.
 * - marginals: Wasserstein-1 for user_age and price, TVD (½Σ|p−q| over categories and missing) for the rest;
 * - joints [user_age, gender, product_category], [product_category, price], [location_tier, payment_method]:
 *   Jensen–Shannon on the contingency tables of engines/llmsynthor/discrepancy.ts (numbers on the real quantile main bins,
 *   6); the paper does not say which JSD variant, so divergence and distance (base 2) are both reported;
 * - C2ST gap |acc − 0.5| (docs/metrics.md §3.7) per variable, per joint group and over all columns, 3 seeded folds.
 * Writes bench/results/ecommerce.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getColumn } from "../data/build.ts";
import { deriveMetadata, metadataToJson } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import type { NumericColumn, Table } from "../data/types.ts";
import { detectionMetrics, stratifiedFolds } from "../stats/metrics/table/detection.ts";
import { jointDiscrepancy, marginalDiscrepancy } from "../engines/llmsynthor/discrepancy.ts";
import { ECOMMERCE_COLUMNS, ecommerceTable } from "../examples/ecommerce.ts";
import { jensenShannonCounts, wasserstein1 } from "../stats/metrics/column/shapes.ts";

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, "results/ecommerce.json");
const REF_ROWS = 2000;
const REF_SEED = 20250601;
const FLOOR_SEED = REF_SEED + 1;
const FOLDS = 3;
const FOLD_SEED = 0;

const CONTINUOUS = ["user_age", "price"] as const;
const DISCRETE = ["gender", "location_tier", "product_category", "payment_method"] as const;
const JOINTS = [
  ["user_age", "gender", "product_category"],
  ["product_category", "price"],
  ["location_tier", "payment_method"],
] as const;

/** Paper 002, tables 2 and 3, the LLMSynthor row (for comparison only; their reference sample is not published). */
const PAPER_LLMSYNTHOR = {
  marginal: {
    user_age: { wasserstein: 1.13, c2st_gap: 0.023 },
    gender: { tvd: 0.002, c2st_gap: 0.008 },
    location_tier: { tvd: 0.002, c2st_gap: 0.012 },
    product_category: { tvd: 0.01, c2st_gap: 0.022 },
    price: { wasserstein: 12.762, c2st_gap: 0.011 },
    payment_method: { tvd: 0.003, c2st_gap: 0.004 },
  },
  joint: {
    "user_age,gender,product_category": { jsd: 0.071, c2st_gap: 0.022 },
    "product_category,price": { jsd: 0.134, c2st_gap: 0.02 },
    "location_tier,payment_method": { jsd: 0.007, c2st_gap: 0.007 },
  },
};

function select(t: Table, names: readonly string[]): Table {
  return { nRows: t.nRows, columns: names.map((n) => getColumn(t, n)) };
}

function c2stGap(real: Table, synthetic: Table, names: readonly string[]): number {
  const folds = stratifiedFolds(real.nRows, synthetic.nRows, FOLDS, FOLD_SEED);
  return detectionMetrics(select(real, names), select(synthetic, names), folds).c2st_gap;
}

const r4 = (x: number): number => Number(x.toFixed(4));

async function main(): Promise<void> {
  const file = process.argv[2];
  const real = ecommerceTable(REF_ROWS, REF_SEED);
  const meta = deriveMetadata(real);
  let synthetic: Table;
  if (file) {
    const read = await readTable(resolve(file), { metadata: metadataToJson(meta) });
    const missing = ECOMMERCE_COLUMNS.filter((c) => !read.table.columns.some((x) => x.name === c));
    if (missing.length > 0) throw new Error(`${file} lacks the column(s) ${missing.join(", ")}`);
    synthetic = select(read.table, ECOMMERCE_COLUMNS);
  } else {
    synthetic = ecommerceTable(REF_ROWS, FLOOR_SEED);
  }

  const margins = new Map(marginalDiscrepancy(real, synthetic).map((m) => [m.column, m]));
  const marginal: Record<string, Record<string, number>> = {};
  for (const c of CONTINUOUS) {
    const w = wasserstein1(
      (getColumn(real, c) as NumericColumn).values,
      (getColumn(synthetic, c) as NumericColumn).values,
    );
    marginal[c] = { wasserstein: r4(w), c2st_gap: r4(c2stGap(real, synthetic, [c])) };
  }
  for (const c of DISCRETE) {
    marginal[c] = { tvd: r4(margins.get(c)?.tvd ?? Number.NaN), c2st_gap: r4(c2stGap(real, synthetic, [c])) };
  }
  const joint: Record<string, Record<string, number>> = {};
  for (const g of JOINTS) {
    const j = jointDiscrepancy(real, synthetic, g);
    const js = jensenShannonCounts(
      Float64Array.from(j.cells, (c) => c.real),
      Float64Array.from(j.cells, (c) => c.synthetic),
    );
    joint[g.join(",")] = {
      jsd_divergence_base2: r4(js.divergenceBase2),
      js_distance_base2: r4(js.distanceBase2),
      tvd: r4(j.tvd),
      c2st_gap: r4(c2stGap(real, synthetic, g)),
    };
  }
  const result = {
    reference: {
      generator: "LLMSynthor paper appendix A.1 (examples/ecommerce.ts)",
      rows: REF_ROWS,
      seed: REF_SEED,
    },
    synthetic: file
      ? { file, rows: synthetic.nRows }
      : { floor: "independent ground-truth sample", rows: REF_ROWS, seed: FLOOR_SEED },
    c2st: {
      folds: FOLDS,
      fold_seed: FOLD_SEED,
      gap_all_columns: r4(c2stGap(real, synthetic, ECOMMERCE_COLUMNS)),
    },
    marginal,
    joint,
    paper_llmsynthor: PAPER_LLMSYNTHOR,
  };

  const lines = [
    `e-commerce ground truth (A.1, ${REF_ROWS} rows, seed ${REF_SEED}) vs ${file ?? `an independent sample (seed ${FLOOR_SEED}): the floor`}`,
    "variable            metric          value     C2ST gap   paper LLMSynthor",
  ];
  for (const c of [...CONTINUOUS, ...DISCRETE]) {
    const m = marginal[c];
    const metric = "wasserstein" in m ? "wasserstein" : "tvd";
    const paper = PAPER_LLMSYNTHOR.marginal[c];
    const pv = "wasserstein" in paper ? paper.wasserstein : paper.tvd;
    lines.push(
      `${c.padEnd(20)}${metric.padEnd(16)}${String(m[metric]).padEnd(10)}${String(m.c2st_gap).padEnd(11)}${pv} / ${paper.c2st_gap}`,
    );
  }
  for (const g of JOINTS) {
    const key = g.join(",");
    const m = joint[key];
    const paper = PAPER_LLMSYNTHOR.joint[key as keyof typeof PAPER_LLMSYNTHOR.joint];
    lines.push(`[${key}]`);
    lines.push(
      `${"".padEnd(20)}${"JSD (div, b2)".padEnd(16)}${String(m.jsd_divergence_base2).padEnd(10)}${String(m.c2st_gap).padEnd(11)}${paper.jsd} / ${paper.c2st_gap}`,
    );
    lines.push(`${"".padEnd(20)}${"JS dist (b2)".padEnd(16)}${m.js_distance_base2}`);
  }
  lines.push(`C2ST gap over all columns: ${result.c2st.gap_all_columns}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${OUT}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
