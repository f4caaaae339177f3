/**
 * `npx tsx bench/high-cardinality.bench.ts [rows] [levels]`: time and peak memory of `synthgraph evaluate` on
 * a table with one very high-cardinality categorical column (default 30,000 rows whose `zip` has 10,000 levels
 * seen once plus 50 popular ones: test/support/tables.ts highCardinalityTable, seeded; the synthetic table is
 * the same generator with another seed and other one-off levels). Runs the CLI as a user would, under GNU
 * `/usr/bin/time -f "%e %U %S %M"` (wall, user and system seconds, peak RSS), once, with the load average at
 * the start recorded next to it (the machine is shared). Before stats/metrics/top-levels.ts the same evaluate
 * was still running after 16 minutes at 12 GB (issue 11). Prints one JSON line; writes nothing in the repository.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { highCardinalityTable } from "../test/support/tables.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const rows = Number(process.argv[2] ?? 30_000);
const levels = Number(process.argv[3] ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), "synthgraph-high-cardinality-"));
const real = join(dir, "real.csv");
const synthetic = join(dir, "synthetic.csv");
writeFileSync(real, highCardinalityTable(1, rows, levels).csv);
writeFileSync(synthetic, highCardinalityTable(2, rows, levels, "y").csv);
const out = join(dir, "evaluate.json");
const load = loadavg()[0];
const run = spawnSync(
  "/usr/bin/time",
  [
    ...["-f", "%e %U %S %M", process.execPath, join(ROOT, "bin/synthgraph.js"), "evaluate"],
    ...["--real", real, "--synthetic", synthetic, "--target", "income", "--json", out],
  ],
  { encoding: "utf8", maxBuffer: 1 << 26 },
);
if (run.status !== 0) throw new Error(`evaluate failed:\n${run.stderr}`);
const [wall, user, sys, rssKb] = (run.stderr.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
const tree = JSON.parse(readFileSync(out, "utf8")) as { high_cardinality?: unknown };
console.log(
  JSON.stringify({
    rows,
    levels,
    seconds: wall,
    cpu_seconds: Math.round((user + sys) * 100) / 100,
    peak_rss_mb: Math.round(rssKb / 1024),
    load_average_at_start: load,
    high_cardinality: tree.high_cardinality,
  }),
);
