/**
 * `npx tsx bench/llmsynthor-curve.bench.ts`: the pool's mean TVD (LLMSynthor's loop statistic: the mean over
 * the marginals and the joint groups of ½ Σ |real − synthetic| on the quantile bins) against the iteration, on
 * the paper's e-commerce ground truth (2,000 real rows, examples/ecommerce.ts), for T = 1 … 100 iterations and
 * both split rules (--split positive | absolute).
 *
 * SCRIPTED PROPOSALS, NO MODEL: the loop is the engine's own code (marginalDiscrepancy, jointDiscrepancy,
 * rowsForIteration, validateProposals, sampleProposals, totalDiscrepancy, concatTables), but the proposer is a
 * script that reads the discrepancy objects directly and proposes, each iteration, the 5 most under-filled
 * cells (largest real − synthetic among the split sub-bins, the joint cells and the marginal cells; a proposal
 * fixes the cell's variables and leaves the others to the real marginal), counts proportional to the gap. It
 * follows the guidance as well as the guidance allows; a model does worse. So the curve's shape (how fast
 * the pool's TVD falls with T), not its level, is the figure. Joint groups are fixed (the network's edges).
 *
 * Writes bench/results/llmsynthor-curve.json and docs/llmsynthor-curve.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { deriveMetadata } from "../data/metadata.ts";
import type { Metadata, Table } from "../data/types.ts";
import {
  type DiscrepancyCell,
  jointDiscrepancy,
  marginalDiscrepancy,
} from "../engines/llmsynthor/discrepancy.ts";
import { type RawProposal, validateProposals } from "../engines/llmsynthor/proposals.ts";
import { sampleProposals } from "../engines/llmsynthor/sampler.ts";
import {
  concatTables,
  plannedIterations,
  rowsForIteration,
  totalDiscrepancy,
} from "../engines/llmsynthor/state.ts";
import { ecommerceTable } from "../examples/ecommerce.ts";
import { deriveSeed, SEED_STREAMS } from "../state/seeds.ts";

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, "results/llmsynthor-curve.json");
const DOC = join(here, "../docs/llmsynthor-curve.md");
const REAL_ROWS = 2_000;
const SIZES = [1_000, 10_000];
const ITERATIONS = [1, 2, 3, 5, 10, 20, 50, 100];
const SEEDS = [0, 1, 2];
const PROPOSALS = 5;
const GROUPS = [
  ["user_age", "gender", "product_category"],
  ["product_category", "price"],
  ["location_tier", "payment_method"],
];
type Split = "positive" | "absolute";

/** A cell as a proposal: its category or range per variable (open bounds at the column's range). */
function cellProposal(cell: DiscrepancyCell, metadata: Metadata, num: number): RawProposal | undefined {
  const proposal: Record<string, unknown> = {};
  for (let k = 0; k < cell.columns.length; k++) {
    const part = cell.parts[k];
    const meta = metadata.columns.find((c) => c.name === cell.columns[k]);
    if (!meta || part.kind === "missing") return undefined;
    if (part.kind === "category") proposal[cell.columns[k]] = part.value;
    else proposal[cell.columns[k]] = [part.lo ?? meta.min ?? 0, part.hi ?? meta.max ?? 0];
  }
  return { proposal, num, reason: cell.labels.join(" & ") };
}

/** One run of T iterations; returns the pool's mean TVD measured before each iteration and after the last. */
function runLoop(
  real: Table,
  metadata: Metadata,
  rows: number,
  iterations: number,
  split: Split,
  seed: number,
) {
  const opts = { mainBins: 6, subBins: 8, splitBy: split } as const;
  const pools: Table[] = [];
  let pool = concatTables([], metadata);
  const curve: number[] = [];
  for (let t = 1; t <= iterations + 1; t++) {
    const marginals = marginalDiscrepancy(real, pool, opts);
    const joints = GROUPS.map((g) => jointDiscrepancy(real, pool, g, opts));
    curve.push(pool.nRows === 0 ? Number.NaN : totalDiscrepancy(marginals, joints));
    if (t > iterations) break;
    const want = rowsForIteration(rows, pool.nRows, t, iterations);
    if (want <= 0) continue;
    // The guidance: under-filled cells (positive gap), the split's sub-bins first when they qualify.
    const cells: DiscrepancyCell[] = [
      ...marginals.flatMap((m) => m.split?.cells ?? []),
      ...joints.flatMap((j) => j.cells),
      ...marginals.flatMap((m) => m.cells),
    ].filter((c) => c.diff > 0);
    cells.sort((a, b) => b.diff - a.diff);
    const raws: RawProposal[] = [];
    for (const c of cells) {
      if (raws.length >= PROPOSALS) break;
      const p = cellProposal(c, metadata, Math.max(1, Math.round(c.diff * 10_000)));
      if (p) raws.push(p);
    }
    // An empty pool has every real cell under-filled; nothing under-filled: proposals from the top cells anyway.
    const { proposals } = validateProposals(raws, metadata, want, { maxProposals: PROPOSALS });
    if (proposals.length === 0) continue;
    const drawn = sampleProposals(proposals, metadata, deriveSeed(seed, SEED_STREAMS.llmsynthor.sampler, t));
    pools.push(drawn);
    pool = concatTables(pools, metadata);
  }
  return { curve, rows: pool.nRows };
}

const r4 = (x: number): number => Number(x.toFixed(4));
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function runBench() {
  const real = ecommerceTable(REAL_ROWS, 0);
  const metadata = deriveMetadata(real);
  const results: Record<string, unknown> = {};
  const finals: Record<string, Record<Split, Record<string, number>>> = {};
  const curves: Record<string, Record<Split, number[]>> = {};
  for (const n of SIZES) {
    finals[n] = { positive: {}, absolute: {} };
    curves[n] = { positive: [], absolute: [] };
    for (const split of ["positive", "absolute"] as const) {
      for (const T of ITERATIONS) {
        const runs = SEEDS.map((seed) => runLoop(real, metadata, n, T, split, seed));
        for (const r of runs) if (r.rows !== n) throw new Error(`N = ${n}, T = ${T}: pool of ${r.rows} rows`);
        finals[n][split][T] = r4(mean(runs.map((r) => r.curve[r.curve.length - 1])));
        if (T === 100) {
          // Pool TVD after iteration t of the T = 100 run (index t), mean over seeds.
          curves[n][split] = runs[0].curve.map((_, i) => r4(mean(runs.map((r) => r.curve[i]))));
        }
        process.stderr.write(`N = ${n}, split ${split}, T = ${T}: final mean TVD ${finals[n][split][T]}\n`);
      }
    }
  }
  results.note =
    "scripted proposer reading the discrepancy objects (5 most under-filled cells per iteration), no model; engine's discrepancy, validation and sampler; mean over seeds " +
    SEEDS.join(", ");
  results.real_rows = REAL_ROWS;
  results.final_mean_tvd = finals;
  results.curve_t100 = curves;
  results.default_iterations = Object.fromEntries(SIZES.map((n) => [n, plannedIterations(n)]));
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);

  const lines: string[] = [
    "# LLMSynthor: pool TVD against iterations",
    "",
    "`npx tsx bench/llmsynthor-curve.bench.ts` on the e-commerce ground truth (2,000 real rows). **Scripted",
    "proposals, no model**: each iteration a script proposes the 5 most under-filled cells of the engine's own",
    "discrepancy tables (counts proportional to the gap); discrepancy, validation and sampling are the engine's",
    `code. Mean TVD of the final pool (marginals and the 3 joint groups), mean of seeds ${SEEDS.join(", ")}.`,
    "",
    "Final pool mean TVD by the number of iterations T:",
    "",
    `| N | split | ${ITERATIONS.map((t) => `T = ${t}`).join(" | ")} |`,
    `| --- | --- | ${ITERATIONS.map(() => "---").join(" | ")} |`,
  ];
  for (const n of SIZES)
    for (const split of ["positive", "absolute"] as const)
      lines.push(
        `| ${n.toLocaleString("en")} | ${split} | ${ITERATIONS.map((t) => finals[n][split][t].toFixed(4)).join(" | ")} |`,
      );
  lines.push(
    "",
    "Pool mean TVD after iteration t of a T = 100 run (the pool holds t/100 of N rows):",
    "",
    "| N | split | t = 1 | 2 | 5 | 10 | 20 | 50 | 100 |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const n of SIZES)
    for (const split of ["positive", "absolute"] as const)
      lines.push(
        `| ${n.toLocaleString("en")} | ${split} | ${[1, 2, 5, 10, 20, 50, 100].map((t) => curves[n][split][t].toFixed(4)).join(" | ")} |`,
      );
  const gap = (n: number): string =>
    `${(finals[n].positive[10] - finals[n].positive[100]).toFixed(3)} at N = ${n.toLocaleString("en")} (${finals[n].positive[10].toFixed(3)} vs ${finals[n].positive[100].toFixed(3)})`;
  const same = SIZES.every((n) => ITERATIONS.every((t) => finals[n].positive[t] === finals[n].absolute[t]));
  lines.push(
    "",
    `Default T = min(10, N / 20): ten iterations end within ${SIZES.map(gap).join(" and ")} of a hundred, for a`,
    "tenth of the proposer calls; most of the fall happens in the first 5 iterations.",
    same
      ? "The two split rules give the same pools here: a sub-bin's gap is at most its parent's, so this proposer's 5 largest gaps never include a sub-bin; with a model the split changes the guidance text it reads."
      : "The split rules differ in the table above.",
    "",
  );
  writeFileSync(DOC, `${lines.join("\n")}\n`);
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await runBench();
}
