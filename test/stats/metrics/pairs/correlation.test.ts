/**
 * pearsonMatrix (stats/metrics/pairs/correlation.ts) on seeded data with missing values, constant columns and ties, through its
 * WebAssembly SIMD tiles and its forced scalar fallback, against a plain two-pass pairwise-deletion Pearson
 * written here (pandas DataFrame.corr semantics, docs/metrics.md §2.1): within 1e-12 of it, and within 1e-13 of each
 * other. Sizes straddle the 1024-row block, odd row counts (the SIMD pad row) and the 2×4 tiles' leftovers.
 */
import { describe, expect, it } from "vitest";
import { pearsonMatrix, pearsonSimdAvailable } from "../../../../stats/metrics/pairs/correlation.ts";
import { createRng, type Rng } from "../../../../stats/primitives/rng.ts";

/** Two-pass Pearson over the rows where both are present; NaN when fewer than 2 or either is constant there. */
function referencePearson(x: Float64Array, y: Float64Array): number {
  const rows: number[] = [];
  for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i]) && !Number.isNaN(y[i])) rows.push(i);
  if (rows.length < 2) return Number.NaN;
  if (rows.every((i) => x[i] === x[rows[0]]) || rows.every((i) => y[i] === y[rows[0]])) return Number.NaN;
  let mx = 0;
  let my = 0;
  for (const i of rows) {
    mx += x[i];
    my += y[i];
  }
  mx /= rows.length;
  my /= rows.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const i of rows) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return Math.min(1, Math.max(-1, sxy / Math.sqrt(sxx * syy)));
}

function referenceMatrix(columns: readonly Float64Array[]): number[][] {
  return columns.map((a) => columns.map((b) => referencePearson(a, b)));
}

/** Standard normal (Box–Muller). */
function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

type Kind =
  | "normal"
  | "correlated"
  | "anti"
  | "offset"
  | "integer"
  | "constant"
  | "missing"
  | "missingInteger"
  | "mostlyMissing"
  | "allMissing"
  | "oneValue"
  | "constantWherePresent";
const KINDS: readonly Kind[] = [
  "normal",
  "correlated",
  "anti",
  "offset",
  "integer",
  "constant",
  "missing",
  "missingInteger",
  "mostlyMissing",
  "allMissing",
  "oneValue",
  "constantWherePresent",
];

/**
 * n rows of k columns of seeded kinds: `base` drives the correlated ones; "constantWherePresent" is 2 on a
 * seeded 70% of rows and varies on the rest (see withMask).
 */
function columnsOf(n: number, kinds: readonly Kind[], rng: Rng): Float64Array[] {
  const base = Float64Array.from({ length: n }, () => normal(rng));
  const mask = Float64Array.from({ length: n }, () => (rng.next() < 0.3 ? Number.NaN : 0));
  return kinds.map((kind) => {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const z = normal(rng);
      switch (kind) {
        case "normal":
          x[i] = 3 * z - 1;
          break;
        case "correlated":
          x[i] = base[i] + 0.3 * z;
          break;
        case "anti":
          x[i] = -2 * base[i] + 1e-3 * z;
          break;
        case "offset":
          x[i] = 1e6 + base[i] + z;
          break;
        case "integer":
          x[i] = rng.int(3);
          break;
        case "constant":
          x[i] = 7.25;
          break;
        case "missing":
          x[i] = rng.next() < 0.2 ? Number.NaN : base[i] - z;
          break;
        case "missingInteger":
          x[i] = rng.next() < 0.5 ? Number.NaN : rng.int(2);
          break;
        case "mostlyMissing":
          x[i] = rng.next() < 0.97 ? Number.NaN : z;
          break;
        case "allMissing":
          x[i] = Number.NaN;
          break;
        case "oneValue":
          x[i] = i === n >> 1 ? z : Number.NaN;
          break;
        case "constantWherePresent":
          x[i] = Number.isNaN(mask[i]) ? z : 2;
          break;
      }
    }
    return x;
  });
}

/** Appends a column that is missing exactly where "constantWherePresent" varies: constant only jointly. */
function withMask(columns: Float64Array[], kinds: readonly Kind[]): void {
  const varying = kinds.indexOf("constantWherePresent");
  if (varying < 0) return;
  const masked = new Float64Array(columns[0].length);
  for (let i = 0; i < masked.length; i++) {
    const v = columns[varying][i];
    masked[i] = v === 2 ? i % 5 : Number.NaN;
  }
  columns.push(masked);
}

/** Entries where `a` and `b` differ by more than `tol` (or in being NaN), as "[i][j] a vs b". */
function differences(a: number[][], b: number[][], tol: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a.length; j++) {
      const x = a[i][j];
      const y = b[i][j];
      const ok =
        Number.isNaN(x) || Number.isNaN(y) ? Number.isNaN(x) && Number.isNaN(y) : Math.abs(x - y) <= tol;
      if (!ok) out.push(`[${i}][${j}] ${x} vs ${y}`);
    }
  }
  return out;
}

interface Case {
  readonly n: number;
  readonly kinds: readonly Kind[];
  readonly seed: number;
}

const ROWS = [0, 1, 2, 3, 7, 64, 999, 1023, 1024, 1025, 2049, 3001];
const cases: Case[] = [];
{
  const pick = createRng(20240611);
  for (const [c, n] of ROWS.entries()) {
    // Column counts 1..14: the 2×4 tiles with every leftover of rows (p) and columns (q).
    for (const k of [1, 2, 5, 9, 14]) {
      const kinds = Array.from({ length: k }, () => KINDS[pick.int(KINDS.length)]);
      cases.push({ n, kinds, seed: 1000 * c + k });
    }
  }
  // Complete columns only (every pair through the tiles), and every kind at once.
  for (const n of [5, 1025, 2500]) {
    cases.push({
      n,
      kinds: Array.from({ length: 11 }, (_, j) => (j % 3 === 0 ? "normal" : "correlated")),
      seed: n,
    });
    cases.push({ n, kinds: KINDS, seed: n + 1 });
  }
}

describe("pearsonMatrix against a plain two-pass Pearson", () => {
  it("runs WebAssembly SIMD on this engine (so the default path below is the SIMD one)", () => {
    expect(pearsonSimdAvailable).toBe(true);
  });

  it.each(cases)("n=$n, $kinds.length columns (seed $seed)", ({ n, kinds, seed }) => {
    const columns = columnsOf(n, kinds, createRng(seed));
    withMask(columns, kinds);
    const reference = referenceMatrix(columns);
    const wasm = pearsonMatrix(columns);
    const scalar = pearsonMatrix(columns, { scalar: true });
    expect(differences(wasm, reference, 1e-12)).toEqual([]);
    expect(differences(scalar, reference, 1e-12)).toEqual([]);
    expect(differences(wasm, scalar, 1e-13)).toEqual([]);
    // Symmetric, and the diagonal is exactly 1 where defined.
    for (let i = 0; i < columns.length; i++) {
      for (let j = 0; j < columns.length; j++) {
        expect(Object.is(wasm[i][j], wasm[j][i])).toBe(true);
        expect(Object.is(scalar[i][j], scalar[j][i])).toBe(true);
      }
      if (!Number.isNaN(reference[i][i])) expect([wasm[i][i], scalar[i][i]]).toEqual([1, 1]);
    }
  });

  it("covers defined and undefined entries, and pairs that are constant only on their joint rows", () => {
    const kinds = KINDS;
    const columns = columnsOf(1500, kinds, createRng(7));
    withMask(columns, kinds);
    const m = pearsonMatrix(columns);
    const at = (a: Kind, b: Kind) => m[kinds.indexOf(a)][kinds.indexOf(b)];
    // Neither column is constant, but on the rows both have, "constantWherePresent" is 2 throughout.
    const masked = columns.length - 1;
    expect(m[kinds.indexOf("constantWherePresent")][masked]).toBeNaN();
    expect(at("constant", "normal")).toBeNaN();
    expect(at("allMissing", "normal")).toBeNaN();
    expect(at("oneValue", "normal")).toBeNaN();
    // base + 0.3·noise vs −2·base + 1e-3·noise: r = −1/√1.09 ≈ −0.958.
    expect(at("correlated", "anti")).toBeLessThan(-0.9);
    expect(at("normal", "missing")).not.toBeNaN();
  });

  it("returns an empty matrix for no columns and NaN entries for empty ones", () => {
    expect(pearsonMatrix([])).toEqual([]);
    expect(pearsonMatrix([], { scalar: true })).toEqual([]);
    const empty = [new Float64Array(0), new Float64Array(0)];
    expect(pearsonMatrix(empty)).toEqual(referenceMatrix(empty));
  });
});
