/**
 * `npx tsx bench/report.bench.ts`: build time and size of the Adult report (report/build.ts). Real = a seeded
 * 2,000-row split of adult.csv, holdout = the next 2,000 rows, synthetic = a seeded 2,000-row sample of
 * adult_test.csv (test/support/report-adult.ts); the evaluation includes the random forest. Times reading,
 * evaluateTables and buildReport separately (median of RUNS builds after one warm-up build, so the evaluate
 * that every report needs is the reference the build time is compared against). Targets: build under 10 s,
 * page under 2 MB; a miss sets exit code 1. Writes bench/results/report.json; `--html PATH` also writes the page.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildReport } from "../report/build.ts";
import { evaluateTables } from "../stats/metrics/evaluate.ts";
import { adultReportTables } from "../test/support/report-adult.ts";

const here = dirname(fileURLToPath(import.meta.url));
const RUNS = 3;
const TARGET_SECONDS = 10;
const TARGET_BYTES = 2 * 1024 * 1024;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const t0 = performance.now();
const a = await adultReportTables();
const t1 = performance.now();
const evaluation = evaluateTables(a.real, a.synthetic, a.holdout, {
  target: a.target,
  positive_label: ">50K",
});
const t2 = performance.now();
const input = { ...a, evaluation };
let html = await buildReport(input); // warm-up
const builds: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const s = performance.now();
  html = await buildReport(input);
  builds.push((performance.now() - s) / 1000);
}
const bytes = Buffer.byteLength(html);
const result = {
  rows: { real: a.real.nRows, synthetic: a.synthetic.nRows, holdout: a.holdout.nRows },
  read_seconds: (t1 - t0) / 1000,
  evaluate_seconds: (t2 - t1) / 1000,
  build_seconds_median: median(builds),
  build_seconds_runs: builds,
  build_over_evaluate: median(builds) / ((t2 - t1) / 1000),
  page_bytes: bytes,
  figures: (html.match(/<figure /g) ?? []).length,
  targets: { build_seconds: TARGET_SECONDS, page_bytes: TARGET_BYTES },
};
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results/report.json"), `${JSON.stringify(result, null, 2)}\n`);
const htmlAt = process.argv.indexOf("--html");
if (htmlAt > 0 && process.argv[htmlAt + 1]) writeFileSync(process.argv[htmlAt + 1], html);
console.log(JSON.stringify(result, null, 2));
const missed: string[] = [];
if (result.build_seconds_median > TARGET_SECONDS)
  missed.push(`build ${result.build_seconds_median.toFixed(2)} s > ${TARGET_SECONDS} s`);
if (bytes > TARGET_BYTES) missed.push(`page ${bytes} B > ${TARGET_BYTES} B`);
if (missed.length > 0) {
  console.error(`missed targets: ${missed.join("; ")}`);
  process.exitCode = 1;
}
