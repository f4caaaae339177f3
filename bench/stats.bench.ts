/**
 * `npm run bench:stats`: speed of the stats kernels against numpy/scipy, and of the full evaluate on Adult.
 *
 * Kernels: seeded inputs (stats/primitives/rng.ts, seed SEED) are written as raw little-endian float64 files to a temp dir;
 * OUR kernel and the shared bench folder's python_reference.py (numpy/scipy, environment left as is) each run 3 times on
 * the same files and report the median wall time; ours gets one untimed warm-up call first (V8 compiles hot
 * functions during the first call, and its deoptimise/reoptimise cycles would otherwise land in the timing).
 * The reference's `check` values must match ours, or the run fails before anything is written.
 * - ks: scipy.stats.ks_2samp vs ksTwoSample, 1e6 vs 1e6 (A ~ N(0,1), B ~ 1.001·N(0,1) + 0.002; method auto =
 *   asymptotic). Both sides sort the raw samples inside the timed call.
 * - wasserstein: scipy.stats.wasserstein_distance vs wasserstein1 on the same two files.
 * - pearson: np.corrcoef(X, rowvar=False) vs pearsonMatrix, 100,000 x 20 (x_j = z_j + (j/20)·z_0). Ours takes
 *   columns (the Table layout): the row-major file is split into columns once, outside the timed call.
 * - dcr: brute-force L1 distance to closest record (numpy, chunks of 1000) vs dcrL1, 10,000 x 10,000 x 14 (6
 *   uniform columns and 8 Bernoulli(0.3) 0/1 columns, the shape of an encoded mixed table).
 * Evaluate: evaluateTables on the UCI Adult training split (adult.csv, real) against its test split (adult_test.csv, synthetic), target
 * "income", random forest included. Holdout: adult.csv is split by a seeded permutation (seed SEED) into a
 * 16,281-row real table (as many rows as adult_test, so alpha-precision/beta-recall, which needs n_R = n_S,
 * is computed too) and the other 16,280 rows as holdout; both keep file order. It runs in a child process
 * (this file with --evaluate-adult) so that process.resourceUsage().maxRSS is the evaluate's own peak RSS;
 * `seconds` covers readTable of both files, the split and evaluateTables.
 * Writes bench/results/stats.json and prints a table. Targets: every kernel ≤ 1.0x the reference; evaluate
 * < 30 s and < 2 GB. A missed target is printed and makes the exit code 1 (the results are still written).
 * `--kernels-only` prints the kernel timings and writes nothing.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { endianness, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { isNumeric } from "../data/build.ts";
import { readTable } from "../data/read.ts";
import type { Column, Table } from "../data/types.ts";
import { pearsonMatrix } from "../stats/metrics/pairs/correlation.ts";
import { evaluateTables } from "../stats/metrics/evaluate.ts";
import { dcrL1 } from "../stats/metrics/rows/neighbors.ts";
import { createRng, permutation, type Rng } from "../stats/primitives/rng.ts";
import { ksTwoSample, wasserstein1 } from "../stats/metrics/column/shapes.ts";

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, "..");
const SHARED = resolve(ROOT, "../shared");
const PY_REF = join(SHARED, "bench/python_reference.py");
const ADULT = join(SHARED, "datasets/adult.csv");
const ADULT_TEST = join(SHARED, "datasets/adult_test.csv");
const OUT = join(here, "results/stats.json");
const SEED = 20240601;
const RUNS = 3;
const CHILD_FLAG = "--evaluate-adult";
const TARGET = { ratio: 1.0, evaluateSeconds: 30, peakRssMb: 2048 };

const KS_N = 1_000_000;
const PEARSON = { rows: 100_000, cols: 20 };
const DCR = { rows: 10_000, cols: 14, continuous: 6 };

interface KernelTiming {
  ours_s: number;
  reference_s: number;
  ratio: number;
}

interface EvaluateTiming {
  seconds: number;
  peak_rss_mb: number;
  read_s: number;
  evaluate_s: number;
  rows: { real: number; synthetic: number; holdout: number };
  holdout: string;
  notes: string[];
}

const ReferenceOutput = z.object({
  kernel: z.string(),
  median_s: z.number(),
  runs_s: z.array(z.number()),
  check: z.record(z.string(), z.number()),
});
type ReferenceOutput = z.infer<typeof ReferenceOutput>;

const ChildOutput = z.object({
  seconds: z.number(),
  read_s: z.number(),
  evaluate_s: z.number(),
  peak_rss_mb: z.number(),
  rows: z.object({ real: z.number(), synthetic: z.number(), holdout: z.number() }),
  notes: z.array(z.string()),
});

// ---------------------------------------------------------------- inputs

/** Standard normal by Box–Muller (one value per pair of uniforms; 1 − u keeps the log finite). */
function normals(n: number, rng: Rng): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
    out[i] = r * Math.cos(2 * Math.PI * rng.next());
  }
  return out;
}

function writeF64(path: string, x: Float64Array): void {
  writeFileSync(path, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
}

/** Reads a raw float64 file back (the machine is little-endian, checked in main). */
function readF64(path: string): Float64Array {
  const b = readFileSync(path);
  const out = new Float64Array(b.byteLength / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

// ---------------------------------------------------------------- timing

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Median wall seconds of RUNS calls after one untimed warm-up call (JIT compilation), and the last result. */
function timed<T>(fn: () => T): { seconds: number; value: T } {
  const times: number[] = [];
  let value: T | undefined = fn();
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    value = fn();
    times.push((performance.now() - t0) / 1000);
  }
  return { seconds: median(times), value: value as T };
}

function reference(args: string[]): ReferenceOutput {
  const res = spawnSync("python3", [PY_REF, ...args], { encoding: "utf8", maxBuffer: 1 << 24 });
  if (res.status !== 0) {
    throw new Error(
      `python reference ${args[0]} failed (${res.status}): ${res.stderr || res.error?.message}`,
    );
  }
  const line = res.stdout.trim().split("\n").pop() ?? "";
  return ReferenceOutput.parse(JSON.parse(line));
}

/** Throws unless |ours − ref| ≤ tol·max(1, |ref|) for every check key. */
function agree(kernel: string, ours: Record<string, number>, ref: Record<string, number>, tol: number): void {
  for (const [k, v] of Object.entries(ref)) {
    const o = ours[k];
    if (o === undefined || !(Math.abs(o - v) <= tol * Math.max(1, Math.abs(v)))) {
      throw new Error(`${kernel}: check "${k}" differs: ours ${o}, numpy/scipy ${v} (tolerance ${tol})`);
    }
  }
}

function kernelTiming(ours: number, ref: number): KernelTiming {
  return { ours_s: round(ours, 4), reference_s: round(ref, 4), ratio: round(ours / ref, 3) };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// ---------------------------------------------------------------- kernels

function benchKs(dir: string, rng: Rng): { ks: KernelTiming; wasserstein: KernelTiming } {
  const fa = join(dir, "ks_a.f64");
  const fb = join(dir, "ks_b.f64");
  writeF64(fa, normals(KS_N, rng.fork(0)));
  const b = normals(KS_N, rng.fork(1));
  for (let i = 0; i < b.length; i++) b[i] = 1.001 * b[i] + 0.002;
  writeF64(fb, b);
  const A = readF64(fa);
  const B = readF64(fb);

  const ks = timed(() => ksTwoSample(A, B));
  const ksRef = reference(["ks", fa, fb]);
  agree("ks", { statistic: ks.value.statistic, pvalue: ks.value.pvalue }, ksRef.check, 1e-9);

  const w = timed(() => wasserstein1(A, B));
  const wRef = reference(["wasserstein", fa, fb]);
  agree("wasserstein", { distance: w.value }, wRef.check, 1e-9);
  return {
    ks: kernelTiming(ks.seconds, ksRef.median_s),
    wasserstein: kernelTiming(w.seconds, wRef.median_s),
  };
}

function benchPearson(dir: string, rng: Rng): KernelTiming {
  const { rows, cols } = PEARSON;
  const z = normals(rows * (cols + 1), rng);
  const X = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const z0 = z[i * (cols + 1)];
    for (let j = 0; j < cols; j++) X[i * cols + j] = z[i * (cols + 1) + j + 1] + (j / cols) * z0;
  }
  const f = join(dir, "pearson.f64");
  writeF64(f, X);
  const Xr = readF64(f);
  const columns = Array.from({ length: cols }, (_, j) => {
    const c = new Float64Array(rows);
    for (let i = 0; i < rows; i++) c[i] = Xr[i * cols + j];
    return c;
  });
  const ours = timed(() => pearsonMatrix(columns));
  let sum = 0;
  for (const row of ours.value) for (const v of row) if (!Number.isNaN(v)) sum += v;
  const ref = reference(["pearson", f, String(rows), String(cols)]);
  agree("pearson", { r01: ours.value[0][1], sum }, ref.check, 1e-9);
  return kernelTiming(ours.seconds, ref.median_s);
}

function benchDcr(dir: string, rng: Rng): KernelTiming {
  const { rows, cols, continuous } = DCR;
  const make = (r: Rng): Float64Array => {
    const m = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) m[i * cols + j] = j < continuous ? r.next() : r.next() < 0.3 ? 1 : 0;
    return m;
  };
  const fs = join(dir, "dcr_s.f64");
  const fr = join(dir, "dcr_r.f64");
  writeF64(fs, make(rng.fork(0)));
  writeF64(fr, make(rng.fork(1)));
  const S = readF64(fs);
  const R = readF64(fr);
  const ours = timed(() => dcrL1(S, R, cols));
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  for (const v of ours.value) {
    sum += v;
    if (v < min) min = v;
  }
  const ref = reference(["dcr", fs, fr, String(cols)]);
  agree("dcr", { mean: sum / ours.value.length, min }, ref.check, 1e-9);
  return kernelTiming(ours.seconds, ref.median_s);
}

// ---------------------------------------------------------------- evaluate on Adult

function takeRows(t: Table, idx: Int32Array): Table {
  const columns = t.columns.map((c): Column => {
    if (isNumeric(c)) {
      const values = new Float64Array(idx.length);
      for (let k = 0; k < idx.length; k++) values[k] = c.values[idx[k]];
      return { kind: c.kind, name: c.name, values };
    }
    const codes = new Int32Array(idx.length);
    for (let k = 0; k < idx.length; k++) codes[k] = c.codes[idx[k]];
    return { kind: c.kind, name: c.name, codes, levels: c.levels };
  });
  return { nRows: idx.length, columns };
}

/** Child process: read, split, evaluate; prints one JSON line with the timings and this process's peak RSS. */
async function childEvaluate(): Promise<void> {
  const t0 = performance.now();
  const { table: adult } = await readTable(ADULT, { target: "income" });
  const { table: synthetic } = await readTable(ADULT_TEST, { target: "income" });
  const perm = permutation(adult.nRows, createRng(SEED));
  const real = takeRows(adult, perm.slice(0, synthetic.nRows).sort());
  const holdout = takeRows(adult, perm.slice(synthetic.nRows).sort());
  const t1 = performance.now();
  const result = evaluateTables(real, synthetic, holdout, { target: "income", seed: SEED });
  const t2 = performance.now();
  const out: z.infer<typeof ChildOutput> = {
    seconds: (t2 - t0) / 1000,
    read_s: (t1 - t0) / 1000,
    evaluate_s: (t2 - t1) / 1000,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    rows: { real: real.nRows, synthetic: synthetic.nRows, holdout: holdout.nRows },
    notes: result.summary.notes,
  };
  console.log(JSON.stringify(out));
}

function benchEvaluate(): EvaluateTiming {
  const self = fileURLToPath(import.meta.url);
  const res = spawnSync(process.execPath, ["--import", "tsx", self, CHILD_FLAG], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  if (res.status !== 0) throw new Error(`evaluate child failed (${res.status}): ${res.stderr}`);
  const c = ChildOutput.parse(JSON.parse(res.stdout.trim().split("\n").pop() ?? ""));
  return {
    seconds: round(c.seconds, 2),
    peak_rss_mb: round(c.peak_rss_mb, 1),
    read_s: round(c.read_s, 2),
    evaluate_s: round(c.evaluate_s, 2),
    rows: c.rows,
    holdout:
      `seeded split of adult.csv (seed ${SEED}): real = ${c.rows.real} rows, ` +
      `holdout = the other ${c.rows.holdout}`,
    notes: c.notes,
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (endianness() !== "LE") throw new Error("the float64 files are little-endian; this machine is not");
  const dir = mkdtempSync(join(tmpdir(), "synthgraph-bench-"));
  const rng = createRng(SEED);
  let kernels: Record<string, KernelTiming>;
  try {
    const { ks, wasserstein } = benchKs(dir, rng.fork(0));
    const pearson = benchPearson(dir, rng.fork(1));
    const dcr = benchDcr(dir, rng.fork(2));
    kernels = { ks, wasserstein, pearson, dcr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (process.argv.includes("--kernels-only")) {
    console.log(JSON.stringify(kernels, null, 2));
    return;
  }
  const evaluate_adult = benchEvaluate();

  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify({ kernels, evaluate_adult }, null, 2)}\n`);

  const misses: string[] = [];
  const rows = Object.entries(kernels).map(([k, t]) => {
    if (t.ratio > TARGET.ratio) misses.push(`${k}: ${t.ratio}x the reference`);
    return [k, t.ours_s.toFixed(4), t.reference_s.toFixed(4), `${t.ratio.toFixed(3)}x`];
  });
  const header = ["kernel", "ours_s", "numpy_s", "ratio"];
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ");
  console.log(`stats kernels vs numpy/scipy (median of ${RUNS}, seed ${SEED})`);
  console.log(fmt(header));
  for (const r of rows) console.log(fmt(r));
  const e = evaluate_adult;
  console.log(
    `evaluate adult (real ${e.rows.real}, synthetic ${e.rows.synthetic}, holdout ${e.rows.holdout}): ` +
      `${e.seconds.toFixed(2)} s (read ${e.read_s.toFixed(2)} s), peak RSS ${e.peak_rss_mb.toFixed(0)} MB`,
  );
  for (const n of e.notes) console.log(`  note: ${n}`);
  console.log(`wrote ${OUT}`);

  if (e.seconds >= TARGET.evaluateSeconds) misses.push(`evaluate adult: ${e.seconds} s`);
  if (e.peak_rss_mb >= TARGET.peakRssMb) misses.push(`evaluate adult: ${e.peak_rss_mb} MB`);
  if (misses.length > 0) {
    console.error(`over target: ${misses.join("; ")}`);
    process.exitCode = 1;
  }
}

const run = process.argv.includes(CHILD_FLAG) ? childEvaluate : main;
run().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
