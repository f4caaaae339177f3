/**
 * The pruned nearest-neighbour kernels (stats/metrics/rows/neighbors.ts) against plain brute-force scans written here: every
 * pair's Σ(a−b)² (or Σ|a−b|, plus 1 per differing code) summed in column order, then sqrt; the lowest index on
 * ties. Results must be identical bit for bit (Object.is on every distance and index).
 *
 * Data: seeded matrices of 1..300 rows and 1..20 columns mixing continuous columns, small integers (many ties),
 * one-hot blocks and sparse columns with a majority value (the exception-list trie's tail columns), and rows
 * drawn from a small pool (exact duplicates). Both search paths are covered: the trie for the first 128 queries
 * and whenever it prunes, and the sorted scan the kernels switch to after 128 queries when the trie visited more
 * than 0.8·n_X rows per query (dense continuous data; SAMPLE_QUERIES / TRIE_SHARE in stats/metrics/rows/neighbors.ts).
 */
import { describe, expect, it } from "vitest";
import {
  dcrL1,
  dcrMixed,
  nearestL2,
  nearestOtherL2,
  pairwiseSquaredL2,
  twoNearestL2,
} from "../../../../stats/metrics/rows/neighbors.ts";
import { createRng, type Rng } from "../../../../stats/primitives/rng.ts";

// ---------------------------------------------------------------- brute force

function sqDist(A: Float64Array, a: number, B: Float64Array, b: number, cols: number): number {
  let s = 0;
  for (let j = 0; j < cols; j++) {
    const t = A[a * cols + j] - B[b * cols + j];
    s += t * t;
  }
  return s;
}

function l1Dist(A: Float64Array, a: number, B: Float64Array, b: number, cols: number): number {
  let s = 0;
  for (let j = 0; j < cols; j++) s += Math.abs(A[a * cols + j] - B[b * cols + j]);
  return s;
}

function bruteDcrL1(S: Float64Array, R: Float64Array, cols: number): Float64Array {
  const nS = S.length / cols;
  const nR = R.length / cols;
  return Float64Array.from({ length: nS }, (_, i) => {
    if (nR === 0) return Number.NaN;
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < nR; r++) best = Math.min(best, l1Dist(S, i, R, r, cols));
    return best;
  });
}

function bruteDcrMixed(
  Snum: Float64Array,
  Rnum: Float64Array,
  nNum: number,
  Scat: Int32Array,
  Rcat: Int32Array,
  nCat: number,
  nS: number,
  nR: number,
): Float64Array {
  return Float64Array.from({ length: nS }, (_, i) => {
    if (nR === 0) return Number.NaN;
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < nR; r++) {
      let s = l1Dist(Snum, i, Rnum, r, nNum);
      for (let k = 0; k < nCat; k++) if (Scat[i * nCat + k] !== Rcat[r * nCat + k]) s += 1;
      best = Math.min(best, s);
    }
    return best;
  });
}

function bruteNearestL2(
  Q: Float64Array,
  X: Float64Array,
  cols: number,
): { dist: Float64Array; index: Int32Array } {
  const nQ = Q.length / cols;
  const nX = X.length / cols;
  const dist = new Float64Array(nQ).fill(Number.NaN);
  const index = new Int32Array(nQ).fill(-1);
  for (let i = 0; i < nQ; i++) {
    for (let r = 0; r < nX; r++) {
      const d = Math.sqrt(sqDist(Q, i, X, r, cols));
      if (index[i] < 0 || d < dist[i]) {
        dist[i] = d;
        index[i] = r;
      }
    }
  }
  return { dist, index };
}

function bruteTwoNearestL2(Q: Float64Array, X: Float64Array, cols: number): [Float64Array, Float64Array] {
  const nQ = Q.length / cols;
  const nX = X.length / cols;
  const d1 = new Float64Array(nQ).fill(Number.NaN);
  const d2 = new Float64Array(nQ).fill(Number.NaN);
  for (let i = 0; i < nQ; i++) {
    const all = Array.from({ length: nX }, (_, r) => Math.sqrt(sqDist(Q, i, X, r, cols))).sort(
      (a, b) => a - b,
    );
    if (nX >= 1) d1[i] = all[0];
    if (nX >= 2) d2[i] = all[1];
  }
  return [d1, d2];
}

function bruteNearestOtherL2(X: Float64Array, cols: number): Float64Array {
  const n = X.length / cols;
  return Float64Array.from({ length: n }, (_, i) => {
    if (n < 2) return Number.NaN;
    let best = Number.POSITIVE_INFINITY;
    for (let k = 0; k < n; k++) if (k !== i) best = Math.min(best, Math.sqrt(sqDist(X, i, X, k, cols)));
    return best;
  });
}

function brutePairwise(X: Float64Array, cols: number): Float64Array {
  const n = X.length / cols;
  const out: number[] = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) out.push(sqDist(X, a, X, b, cols));
  return Float64Array.from(out);
}

/** Positions where the arrays differ bit for bit (Object.is), as "i: got vs want", at most 5; length too. */
function mismatches(got: ArrayLike<number>, want: ArrayLike<number>): string[] {
  const out: string[] = [];
  if (got.length !== want.length) out.push(`length ${got.length} vs ${want.length}`);
  for (let i = 0; i < Math.min(got.length, want.length) && out.length < 5; i++)
    if (!Object.is(got[i], want[i])) out.push(`${i}: ${got[i]} vs ${want[i]}`);
  return out;
}

// ---------------------------------------------------------------- seeded data

/**
 * How a column is drawn: continuous normal; small integers 0..2 (ties, no majority: a dense column); sparse
 * (a majority value, else 1..3: a trie tail column); one-hot (part of a block of `width` 0/1 columns).
 */
type ColumnKind = "continuous" | "integer" | "sparse" | "onehot";

interface Layout {
  readonly kinds: readonly ColumnKind[];
  /** One-hot block starts (a block runs until the next start or a non-one-hot column). */
  readonly blockStart: readonly boolean[];
}

/** Dense kinds first, then tail kinds, as encoders lay tables out; `mix` picks from which kinds. */
function layout(cols: number, mix: readonly ColumnKind[], rng: Rng): Layout {
  const kinds: ColumnKind[] = Array.from({ length: cols }, () => mix[rng.int(mix.length)]);
  const rank = (k: ColumnKind) => (k === "continuous" || k === "integer" ? 0 : 1);
  kinds.sort((a, b) => rank(a) - rank(b));
  const blockStart = kinds.map(
    (k, j) => k === "onehot" && (j === 0 || kinds[j - 1] !== "onehot" || rng.next() < 0.35),
  );
  return { kinds, blockStart };
}

function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * `rows` rows of the layout; `pool` > 0 draws every row from that many distinct rows (exact duplicates);
 * `shift` moves continuous values and the sparse majority (queries unlike the candidates).
 */
function matrix(rows: number, lay: Layout, rng: Rng, pool = 0, shift = 0): Float64Array {
  const cols = lay.kinds.length;
  const fresh = (): Float64Array => {
    const row = new Float64Array(cols);
    let blockEnd = -1;
    for (let j = 0; j < cols; j++) {
      const kind = lay.kinds[j];
      if (kind === "continuous") row[j] = shift + 2.5 * normal(rng);
      else if (kind === "integer") row[j] = rng.int(3);
      else if (kind === "sparse") row[j] = rng.next() < 0.8 - 0.3 * shift ? 5 : 1 + rng.int(3);
      else if (lay.blockStart[j]) {
        blockEnd = j + 1;
        while (blockEnd < cols && lay.kinds[blockEnd] === "onehot" && !lay.blockStart[blockEnd]) blockEnd++;
        // A skewed level distribution: level 0 holds the majority, like a real categorical column.
        const width = blockEnd - j;
        const level = rng.next() < 0.6 ? 0 : rng.int(width);
        row[j + level] = 1;
      }
    }
    return row;
  };
  const distinct = Array.from({ length: pool > 0 ? pool : rows }, fresh);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) out.set(pool > 0 ? distinct[rng.int(pool)] : distinct[i], i * cols);
  return out;
}

interface Case {
  readonly name: string;
  readonly nQ: number;
  readonly nX: number;
  readonly cols: number;
  readonly Q: Float64Array;
  readonly X: Float64Array;
}

const MIXES: Record<string, readonly ColumnKind[]> = {
  continuous: ["continuous"],
  integer: ["integer"],
  encoded: ["continuous", "onehot", "onehot", "sparse"],
  categorical: ["onehot", "sparse"],
  tiesEverywhere: ["integer", "sparse", "onehot"],
};

function makeCase(name: string, nQ: number, nX: number, cols: number, mix: string, seed: number): Case {
  const rng = createRng(seed);
  const lay = layout(cols, MIXES[mix], rng);
  // Every third case draws rows from a small pool (duplicates); every fourth shifts the queries.
  const pool = seed % 3 === 0 ? 1 + rng.int(12) : 0;
  const shift = seed % 4 === 1 ? 1 : 0;
  return {
    name: `${name}: ${nQ}×${nX} rows, ${cols} cols, ${mix}${pool ? `, pool ${pool}` : ""}${shift ? ", shifted" : ""}`,
    nQ,
    nX,
    cols,
    Q: matrix(nQ, lay, rng, pool, shift),
    X: matrix(nX, lay, rng, pool),
  };
}

const ROWS = [1, 2, 3, 5, 17, 64, 127, 128, 129, 200, 300];
const cases: Case[] = [];
{
  const pick = createRng(99);
  const mixes = Object.keys(MIXES);
  for (let c = 0; c < 60; c++) {
    const nQ = ROWS[pick.int(ROWS.length)];
    const nX = ROWS[pick.int(ROWS.length)];
    const cols = 1 + pick.int(20);
    cases.push(makeCase(`random ${c}`, nQ, nX, cols, mixes[c % mixes.length], 1000 + c));
  }
  // More than 128 queries on dense data: the trie visits every row, so the rest of the queries use the scan.
  for (const [k, cols] of [1, 2, 7, 20].entries()) {
    cases.push(makeCase("scan", 300, 250, cols, "continuous", 2001 + 4 * k));
    cases.push(makeCase("scan", 200, 300, cols, "integer", 2002 + 4 * k));
  }
  // More than 128 queries where the trie prunes (it stays on), and with duplicates.
  cases.push(makeCase("trie", 300, 300, 20, "categorical", 3001));
  cases.push(makeCase("trie", 300, 300, 20, "encoded", 3002));
  cases.push(makeCase("trie", 300, 300, 12, "encoded", 3003));
  cases.push(makeCase("trie", 300, 300, 16, "tiesEverywhere", 3006));
}

// ---------------------------------------------------------------- the kernels

describe.each(cases)("$name", ({ nQ, nX, cols, Q, X }) => {
  it("dcrL1 equals the brute-force L1 minimum", () => {
    expect(mismatches(dcrL1(Q, X, cols), bruteDcrL1(Q, X, cols))).toEqual([]);
  });

  it("nearestL2 equals the brute-force argmin (distance and lowest index)", () => {
    const got = nearestL2(Q, X, cols);
    const want = bruteNearestL2(Q, X, cols);
    expect(mismatches(got.dist, want.dist)).toEqual([]);
    expect(mismatches(got.index, want.index)).toEqual([]);
  });

  it("twoNearestL2 equals the brute-force two smallest distances", () => {
    const [d1, d2] = twoNearestL2(Q, X, cols);
    const [w1, w2] = bruteTwoNearestL2(Q, X, cols);
    expect(mismatches(d1, w1)).toEqual([]);
    expect(mismatches(d2, w2)).toEqual([]);
  });

  it("nearestOtherL2 equals the brute-force nearest other row (of Q and of X)", () => {
    expect(mismatches(nearestOtherL2(Q, cols), bruteNearestOtherL2(Q, cols))).toEqual([]);
    expect(mismatches(nearestOtherL2(X, cols), bruteNearestOtherL2(X, cols))).toEqual([]);
  });

  it("pairwiseSquaredL2 equals every brute-force pair sum", () => {
    expect(mismatches(pairwiseSquaredL2(X, cols), brutePairwise(X, cols))).toEqual([]);
  });

  it("dcrMixed equals the brute-force L1 + label-mismatch minimum", () => {
    // Integer-valued columns become label codes, the others stay numeric (the split dcrMixed takes).
    const codeCols: number[] = [];
    const numCols: number[] = [];
    for (let j = 0; j < cols; j++) {
      let integral = true;
      for (let i = 0; i < nX && integral; i++) integral = Number.isInteger(X[i * cols + j]);
      (integral ? codeCols : numCols).push(j);
    }
    const split = (M: Float64Array, n: number) => ({
      num: Float64Array.from({ length: n * numCols.length }, (_, e) => {
        const i = Math.floor(e / numCols.length);
        return M[i * cols + numCols[e % numCols.length]];
      }),
      cat: Int32Array.from({ length: n * codeCols.length }, (_, e) => {
        const i = Math.floor(e / codeCols.length);
        return M[i * cols + codeCols[e % codeCols.length]];
      }),
    });
    const s = split(Q, nQ);
    const r = split(X, nX);
    const nNum = numCols.length;
    const nCat = codeCols.length;
    const got = dcrMixed(s.num, r.num, nNum, s.cat, r.cat, nCat, nQ, nX);
    const want = bruteDcrMixed(s.num, r.num, nNum, s.cat, r.cat, nCat, nQ, nX);
    expect(mismatches(got, want)).toEqual([]);
  });
});

describe("edge shapes", () => {
  it("no candidate rows: NaN distances, index −1", () => {
    const Q = Float64Array.of(1, 2, 3, 4);
    const none = new Float64Array(0);
    expect(mismatches(dcrL1(Q, none, 2), [Number.NaN, Number.NaN])).toEqual([]);
    const near = nearestL2(Q, none, 2);
    expect(mismatches(near.dist, [Number.NaN, Number.NaN])).toEqual([]);
    expect(Array.from(near.index)).toEqual([-1, -1]);
    const [d1, d2] = twoNearestL2(Q, none, 2);
    expect(mismatches(d1, [Number.NaN, Number.NaN])).toEqual([]);
    expect(mismatches(d2, [Number.NaN, Number.NaN])).toEqual([]);
    expect(
      mismatches(dcrMixed(Q, none, 2, new Int32Array(0), new Int32Array(0), 0, 2, 0), [NaN, NaN]),
    ).toEqual([]);
  });

  it("one candidate row: the second distance is NaN; one row alone has no other row", () => {
    const X = Float64Array.of(0, 0);
    const [d1, d2] = twoNearestL2(Float64Array.of(3, 4), X, 2);
    expect([d1[0], d2[0]]).toEqual([5, Number.NaN]);
    expect(mismatches(nearestOtherL2(X, 2), [Number.NaN])).toEqual([]);
    expect(pairwiseSquaredL2(X, 2)).toHaveLength(0);
  });

  it("dcrMixed with label codes only, and with numbers only", () => {
    const Scat = Int32Array.of(0, 1, 2, 2);
    const Rcat = Int32Array.of(0, 0, 2, 1, 1, 1);
    const none = new Float64Array(0);
    const noCodes = new Int32Array(0);
    // S rows (0,1), (2,2) vs R rows (0,0), (2,1), (1,1): mismatches 1,1,1 → 1; 2,1,2 → 1.
    expect(Array.from(dcrMixed(none, none, 0, Scat, Rcat, 2, 2, 3))).toEqual([1, 1]);
    // |0.5 − 2| = 1.5, |0.5 − (−1)| = 1.5, |4 − 2| = 2: minima 1.5 and 2.
    expect(
      Array.from(dcrMixed(Float64Array.of(0.5, 4), Float64Array.of(2, -1), 1, noCodes, noCodes, 0, 2, 2)),
    ).toEqual([1.5, 2]);
  });
});
