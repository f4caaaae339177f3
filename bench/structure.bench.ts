/**
 * `npx tsx bench/structure.bench.ts`: time and accuracy of BIC hill-climbing structure learning
 * (stats/structure/hill-climb.ts) on Asia (5,000 rows; also the 10,000-row fresh sample) against the known network,
 * and time on Adult (32,561 rows, 15 columns) and MALLM-GAN's Adult training subsets (N = 100…800), plus
 * the incremental discriminator's partial_fit on an Adult-800 batch. Median of RUNS runs after one warm-up.
 * Writes bench/results/structure.json.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readTable } from "../data/read.ts";
import type { Table } from "../data/types.ts";
import {
  type Dag,
  dagOf,
  formatEdgeList,
  graphEditDistance,
  skeletonDistance,
  structuralHammingDistance,
} from "../stats/structure/dag.ts";
import { takeTableRows } from "../data/build.ts";
import { createRng, permutation } from "../stats/primitives/rng.ts";
import { createIncrementalDiscriminator } from "../stats/classifiers/sgd.ts";
import {
  learnStructure,
  type StructureOptions,
  type StructureResult,
} from "../stats/structure/hill-climb.ts";
import { ASIA_TRUTH } from "../test/support/asia.ts";

const here = dirname(fileURLToPath(import.meta.url));
const DATASETS = resolve(here, "../../shared/datasets");
const OUT = join(here, "results/structure.json");
const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

function timeLearn(table: Table, opts: StructureOptions): { result: StructureResult; seconds: number } {
  let result = learnStructure(table, opts);
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    result = learnStructure(table, opts);
    times.push((performance.now() - t0) / 1000);
  }
  return { result, seconds: Number(median(times).toFixed(4)) };
}

function accuracy(truth: Dag, learned: Dag): Record<string, number> {
  return {
    skeleton_distance: skeletonDistance(truth, learned),
    shd: structuralHammingDistance(truth, learned),
    ged: graphEditDistance(truth, learned),
  };
}

const out: Record<string, unknown> = {
  note: "BIC hill climbing from the empty graph (pgmpy/bnlearn hc+bic), numerical columns in 5 quantile bins; seconds = median of 5 runs after a warm-up; distances against the Asia network (SHD counts a reversal once, GED twice)",
  node: process.version,
};

for (const [name, file] of [
  ["asia", "asia.csv"],
  ["asia_sampled", "asia_sampled.csv"],
] as const) {
  const { table } = await readTable(join(DATASETS, file));
  const truth = dagOf(
    table.columns.map((c) => c.name),
    ASIA_TRUTH,
  );
  for (const [variant, opts] of [
    ["hc", {}],
    ["hc_restarts10", { restarts: 10, seed: 1 }],
  ] as const) {
    const { result, seconds } = timeLearn(table, opts);
    out[`${name}_${variant}`] = {
      rows: table.nRows,
      seconds,
      edges: formatEdgeList(result.dag),
      bic: Number(result.score.toFixed(3)),
      moves: result.moves,
      family_scores: result.familyScores,
      ...accuracy(truth, result.dag),
    };
  }
}

const adult = (await readTable(join(DATASETS, "adult.csv"))).table;
{
  const { result, seconds } = timeLearn(adult, {});
  out.adult_hc = {
    rows: adult.nRows,
    columns: adult.columns.length,
    seconds,
    edges: result.dag.edges.length,
    bic: Number(result.score.toFixed(3)),
    moves: result.moves,
    family_scores: result.familyScores,
    dag: formatEdgeList(result.dag),
  };
}

const subsets: Record<string, unknown> = {};
for (const n of [100, 200, 400, 800]) {
  const file = join(DATASETS, `mallm-gan/adult${n}/train.csv`);
  if (!existsSync(file)) continue;
  const { table } = await readTable(file);
  const { result, seconds } = timeLearn(table, {});
  subsets[String(n)] = {
    rows: table.nRows,
    seconds,
    edges: result.dag.edges.length,
    dag: formatEdgeList(result.dag),
  };
}
out.adult_mallm_subsets_hc = subsets;

{
  // One MALLM-GAN step at N = 800: partial_fit on 80% of a (real batch, synthetic batch) pair of 50 + 50 rows,
  // here with real Adult rows standing in for the synthetic ones.
  const rng = createRng(3);
  const perm = permutation(adult.nRows, rng);
  const real = takeTableRows(adult, perm.subarray(0, 800));
  const a = takeTableRows(adult, perm.subarray(800, 840));
  const b = takeTableRows(adult, perm.subarray(840, 880));
  const disc = createIncrementalDiscriminator(real);
  const times: number[] = [];
  for (let r = 0; r < 200; r++) {
    const t0 = performance.now();
    disc.partialFit(a, b, r);
    times.push((performance.now() - t0) * 1000);
  }
  out.discriminator_partial_fit_adult = {
    features: disc.snapshot().weights.length,
    rows_per_fit: 80,
    microseconds_median: Number(median(times).toFixed(1)),
  };
}

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out, null, 2));
