/**
 * The Adult report's inputs, shared by the browser test and bench/report.bench.ts: real = a seeded 2,000-row
 * split of adult.csv, holdout = the next 2,000 rows of the same permutation, synthetic = a seeded 2,000-row
 * sample of adult_test.csv (a stand-in "generator" that never saw the training rows), read with real's types.
 */
import { join } from "node:path";
import { takeTableRows } from "../../data/build.ts";
import { metadataToJson } from "../../data/metadata.ts";
import { readTable } from "../../data/read.ts";
import type { Metadata, Table } from "../../data/types.ts";
import { createRng, permutation } from "../../stats/primitives/rng.ts";
import { DATASETS } from "./fixtures.ts";

export interface AdultReportTables {
  real: Table;
  synthetic: Table;
  holdout: Table;
  metadata: Metadata;
  target: string;
}

export async function adultReportTables(rows = 2000, seed = 0): Promise<AdultReportTables> {
  const full = await readTable(join(DATASETS, "adult.csv"), { target: "income" });
  const same = { metadata: metadataToJson(full.metadata), metadataSource: "adult.csv" };
  const test = await readTable(join(DATASETS, "adult_test.csv"), same);
  const rng = createRng(seed);
  const perm = permutation(full.table.nRows, rng.fork(0));
  const real = takeTableRows(full.table, perm.subarray(0, rows).slice().sort());
  const holdout = takeTableRows(
    full.table,
    perm
      .subarray(rows, 2 * rows)
      .slice()
      .sort(),
  );
  const synthetic = takeTableRows(
    test.table,
    permutation(test.table.nRows, rng.fork(1)).subarray(0, rows).slice().sort(),
  );
  return { real, synthetic, holdout, metadata: full.metadata, target: "income" };
}
