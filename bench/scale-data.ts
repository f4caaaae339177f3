/**
 * Large Adult tables for bench/scale.bench.ts: `rows` records drawn with replacement (seeded, stats/primitives/rng.ts) from
 * the shared adult.csv (the "real" side) and adult_test.csv (the "synthetic" side), written as CSV with the
 * source header. Lines are copied verbatim, so the big files parse exactly like the small ones.
 * Files are cached by name (`adult-real-<rows>.csv`, `adult-synth-<rows>.csv`) in the cache dir: outside git.
 */
import { createWriteStream, existsSync, readFileSync, renameSync } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import { createRng } from "../stats/primitives/rng.ts";

/** Writes `rows` lines sampled with replacement from `source` (header kept) to `out`, unless it exists. */
export async function resampleCsv(source: string, out: string, rows: number, seed: number): Promise<void> {
  if (existsSync(out)) return;
  const lines = readFileSync(source, "utf8").split(/\r?\n/);
  const header = lines[0];
  const body = lines.slice(1).filter((l) => l.length > 0);
  const rng = createRng(seed);
  const tmp = `${out}.partial`;
  const w = createWriteStream(tmp);
  w.write(`${header}\n`);
  const CHUNK = 4096;
  for (let i = 0; i < rows; i += CHUNK) {
    const n = Math.min(CHUNK, rows - i);
    const part = new Array<string>(n);
    for (let k = 0; k < n; k++) part[k] = body[rng.int(body.length)];
    if (!w.write(`${part.join("\n")}\n`)) await once(w, "drain");
  }
  w.end();
  await once(w, "finish");
  renameSync(tmp, out);
}

/** Real and synthetic files of `rows` rows each in `dir` (created by the caller), seeds 1 and 2. */
export async function scaleFiles(
  dir: string,
  rows: number,
  adult: string,
  adultTest: string,
): Promise<{ real: string; synthetic: string }> {
  const real = join(dir, `adult-real-${rows}.csv`);
  const synthetic = join(dir, `adult-synth-${rows}.csv`);
  await resampleCsv(adult, real, rows, 1);
  await resampleCsv(adultTest, synthetic, rows, 2);
  return { real, synthetic };
}

if (process.argv[1]?.endsWith("scale-data.ts")) {
  const rows = Number(process.argv[2] ?? 1_000_000);
  const dir = process.argv[3] ?? "/tmp/synthgraph-scale";
  const shared = process.argv[4] ?? new URL("../../shared/datasets/", import.meta.url).pathname;
  const f = await scaleFiles(dir, rows, join(shared, "adult.csv"), join(shared, "adult_test.csv"));
  process.stdout.write(`${f.real}\n${f.synthetic}\n`);
}
