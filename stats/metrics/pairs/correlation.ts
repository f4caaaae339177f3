/**
 * Pearson correlation with pairwise deletion (docs/metrics.md §2.1, §2.3): pandas `DataFrame.corr()` semantics.
 * An entry is NaN when fewer than 2 rows have both values or either column is constant on those rows.
 */
import { getColumn, isNumeric } from "../../../data/build.ts";
import type { NumericColumn, Table } from "../../../data/types.ts";
import { createSimdTiles, type SimdTiles } from "../../primitives/simd-tiles.ts";

/** Rows per block: k centred columns × BLOCK doubles stay in L2 cache while every pair is accumulated. */
const BLOCK = 1024;
/** Relative variance below which one-pass sums cannot tell a constant subset from rounding noise. */
const NEAR_ZERO = 1e-10;

/** Per-column facts the matrix needs once: whether any value is missing, the mean, and constancy. */
interface ColumnFacts {
  readonly hasMissing: boolean;
  readonly count: number;
  readonly mean: number;
  readonly constant: boolean;
}

function columnFacts(x: Float64Array): ColumnFacts {
  // Fast path: sums of 4 interleaved lanes per block of rows (no min/max, no NaN test per value); a finite total
  // means no NaN and no ±∞. Short calls per block let V8 optimise blockSum normally instead of on-stack mid-loop.
  const n = x.length;
  let total = 0;
  for (let start = 0; start < n; start += BLOCK) total += blockSum(x, start, Math.min(n, start + BLOCK));
  if (n > 0 && Number.isFinite(total)) {
    // Constant iff every value equals the first: non-constant data exits at the first difference.
    let i = 1;
    while (i < n && x[i] === x[0]) i++;
    return { hasMissing: false, count: n, mean: total / n, constant: i === n };
  }
  let count = 0;
  let sum = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (Number.isNaN(v)) continue;
    count++;
    sum += v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { hasMissing: count < n, count, mean: sum / count, constant: count > 0 && lo === hi };
}

/** Σ x[from..to) in four interleaved running sums. */
function blockSum(x: Float64Array, from: number, to: number): number {
  const end4 = to - ((to - from) & 3);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = from;
  for (; i < end4; i += 4) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
  }
  for (; i < to; i++) s0 += x[i];
  return s0 + s1 + s2 + s3;
}

/** blk[o + i] = x[start + i] − mean for i < len (one column of a block, centred). */
function centerInto(
  blk: Float64Array,
  o: number,
  x: Float64Array,
  start: number,
  len: number,
  mean: number,
): void {
  for (let i = 0; i < len; i++) blk[o + i] = x[start + i] - mean;
}

// r = Σ(x−x̄)(y−ȳ) / sqrt(Σ(x−x̄)² Σ(y−ȳ)²) over rows where both are present (pandas nancorr, two-pass).
export function pearsonPairwise(x: Float64Array, y: Float64Array): number {
  let n = 0;
  let sx = 0;
  let sy = 0;
  let xlo = Number.POSITIVE_INFINITY;
  let xhi = Number.NEGATIVE_INFINITY;
  let ylo = Number.POSITIVE_INFINITY;
  let yhi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    const b = y[i];
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    n++;
    sx += a;
    sy += b;
    if (a < xlo) xlo = a;
    if (a > xhi) xhi = a;
    if (b < ylo) ylo = b;
    if (b > yhi) yhi = b;
  }
  // Constancy is tested on the values, not on a rounded sum of squares that can miss 0 by an ulp.
  if (n < 2 || xlo === xhi || ylo === yhi) return Number.NaN;
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    const b = y[i];
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    const dx = a - mx;
    const dy = b - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return clampCorrelation(sxy / Math.sqrt(sxx * syy));
}

function clampCorrelation(r: number): number {
  // Rounding can push |r| a hair above 1 (pandas clips too).
  return Math.min(1, Math.max(-1, r));
}

export interface PearsonMatrixOptions {
  /** Use the scalar JS tiles even where WebAssembly SIMD is available (tests compare the two paths). */
  readonly scalar?: boolean;
}

/**
 * Pearson matrix of the given numeric columns (k×k, symmetric, NaN = undefined), in one blocked pass.
 * Columns are centred on their own mean; a pair without missing values is then a plain dot product, and a
 * pair with missing values accumulates shifted sums over its jointly present rows.
 */
export function pearsonMatrix(
  columns: readonly Float64Array[],
  options: PearsonMatrixOptions = {},
): number[][] {
  const simd = options.scalar === true ? undefined : simdKernel;
  const k = columns.length;
  const n = k === 0 ? 0 : columns[0].length;
  const facts = columns.map(columnFacts);
  const out: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(Number.NaN));

  // Usable columns, complete ones first: a constant or near-empty column only ever yields NaN.
  const use: number[] = [];
  for (let a = 0; a < k; a++)
    if (facts[a].count >= 2 && !facts[a].constant && !facts[a].hasMissing) use.push(a);
  const mc = use.length;
  for (let a = 0; a < k; a++)
    if (facts[a].count >= 2 && !facts[a].constant && facts[a].hasMissing) use.push(a);
  const m = use.length;
  for (const a of use) out[a][a] = 1;
  if (m < 2) return out;

  const dot = new Float64Array(m * m);
  // Per masked pair (p·m+q): count, Σa, Σb, Σa², Σb², Σab over jointly present rows.
  const cnt = new Float64Array(m * m);
  const sa = new Float64Array(m * m);
  const sb = new Float64Array(m * m);
  const saa = new Float64Array(m * m);
  const sbb = new Float64Array(m * m);
  const sab = new Float64Array(m * m);
  // With SIMD the block lives in the kernel's memory (tiles read it there); the 8 tile sums follow it.
  const blk = simd ? simd.block(m * BLOCK + 8) : new Float64Array(m * BLOCK);

  for (let start = 0; start < n; start += BLOCK) {
    const len = Math.min(BLOCK, n - start);
    for (let p = 0; p < m; p++) {
      const x = columns[use[p]];
      const mean = facts[use[p]].mean;
      const o = p * BLOCK;
      if (simd) {
        // Copy natively, centre in WebAssembly: JS stores into wasm memory pay checks the kernel does not.
        blk.set(x.subarray(start, start + len), o);
        simd.center(o * 8, (o + len + (len & 1)) * 8, mean);
      } else centerInto(blk, o, x, start, len, mean);
      if (len & 1) blk[o + len] = 0; // SIMD tiles read rows in pairs: the pad row adds 0
    }
    if (simd) simdDots(simd, blk, len, mc, m, dot);
    else completeDots(blk, len, mc, m, dot);
    // Pairs with a column that has missing values: pairwise deletion.
    for (let p = 0; p < m; p++) {
      const op = p * BLOCK;
      for (let q = Math.max(p + 1, mc); q < m; q++) {
        const oq = q * BLOCK;
        const r = p * m + q;
        let c = 0;
        let xa = 0;
        let xb = 0;
        let xaa = 0;
        let xbb = 0;
        let xab = 0;
        for (let i = 0; i < len; i++) {
          const a = blk[op + i];
          const b = blk[oq + i];
          if (Number.isNaN(a) || Number.isNaN(b)) continue;
          c++;
          xa += a;
          xb += b;
          xaa += a * a;
          xbb += b * b;
          xab += a * b;
        }
        cnt[r] += c;
        sa[r] += xa;
        sb[r] += xb;
        saa[r] += xaa;
        sbb[r] += xbb;
        sab[r] += xab;
      }
    }
  }

  for (let p = 0; p < m; p++) {
    for (let q = p + 1; q < m; q++) {
      const r = p * m + q;
      let rho: number;
      if (q < mc) {
        rho = dot[r] / Math.sqrt(dot[p * m + p] * dot[q * m + q]);
      } else if (cnt[r] < 2) {
        rho = Number.NaN;
      } else {
        // Shifted one-pass sums: columns are already centred on their own mean, so cancellation is small.
        const c = cnt[r];
        const cov = sab[r] - (sa[r] * sb[r]) / c;
        const va = saa[r] - (sa[r] * sa[r]) / c;
        const vb = sbb[r] - (sb[r] * sb[r]) / c;
        // A variance within rounding noise of 0 may be a constant subset: settle it exactly, two-pass.
        rho =
          va > NEAR_ZERO * saa[r] && vb > NEAR_ZERO * sbb[r]
            ? cov / Math.sqrt(va * vb)
            : pearsonPairwise(columns[use[p]], columns[use[q]]);
      }
      rho = clampCorrelation(rho);
      out[use[p]][use[q]] = rho;
      out[use[q]][use[p]] = rho;
    }
  }
  return out;
}

const simdKernel = createSimdTiles(BLOCK);

/** Whether this engine runs pearsonMatrix's WebAssembly SIMD tiles (false: only the scalar fallback). */
export const pearsonSimdAvailable: boolean = simdKernel !== undefined;

/** completeDots with the 2×4 tiles in WebAssembly; the tile sums land in blk[m·BLOCK ..+8). */
function simdDots(
  k: SimdTiles,
  blk: Float64Array,
  len: number,
  mc: number,
  m: number,
  dot: Float64Array,
): void {
  const bytes = (len + (len & 1)) * 8;
  const outAt = m * BLOCK;
  let p = 0;
  for (; p + 1 < mc; p += 2) {
    // Tiles start at a multiple of 4 at or below p (aligned columns leave fewer scalar leftovers); the products
    // left of the diagonal are computed and dropped.
    let q = p - (p & 3);
    for (; q + 3 < mc; q += 4) {
      k.tile(p * BLOCK * 8, (p + 1) * BLOCK * 8, q * BLOCK * 8, bytes, outAt * 8);
      for (let c = 0; c < 4; c++) {
        if (q + c >= p) dot[p * m + q + c] += blk[outAt + c];
        if (q + c >= p + 1) dot[(p + 1) * m + q + c] += blk[outAt + 4 + c];
      }
    }
    q = Math.max(q, p);
    for (; q < mc; q++) {
      const oq = q * BLOCK;
      const op = p * BLOCK;
      let s0 = 0;
      let t0 = 0;
      for (let i = 0; i < len; i++) {
        const b = blk[oq + i];
        s0 += blk[op + i] * b;
        t0 += blk[op + BLOCK + i] * b;
      }
      dot[p * m + q] += s0;
      if (q >= p + 1) dot[(p + 1) * m + q] += t0;
    }
  }
  for (; p < mc; p++) {
    for (let q = p; q < mc; q++) {
      let s0 = 0;
      for (let i = 0; i < len; i++) s0 += blk[p * BLOCK + i] * blk[q * BLOCK + i];
      dot[p * m + q] += s0;
    }
  }
}

/**
 * dot[p·m + q] += Σ_i blk[p·BLOCK + i]·blk[q·BLOCK + i] over the block's `len` rows for p ≤ q < mc (a separate
 * function so that V8 optimises it on its own type feedback instead of deoptimising the caller's OSR code).
 */
function completeDots(blk: Float64Array, len: number, mc: number, m: number, dot: Float64Array): void {
  // Complete × complete in 2×4 tiles: eight dot products per pass over two columns (6 loads per 8 products).
  // Each pair still sums its block in row order, so the result does not depend on the tiling.
  let p = 0;
  for (; p + 1 < mc; p += 2) {
    const op = p * BLOCK;
    const op1 = op + BLOCK;
    let q = p;
    for (; q + 3 < mc; q += 4) {
      const o0 = q * BLOCK;
      const o1 = o0 + BLOCK;
      const o2 = o1 + BLOCK;
      const o3 = o2 + BLOCK;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let i = 0; i < len; i++) {
        const a = blk[op + i];
        const c = blk[op1 + i];
        const b0 = blk[o0 + i];
        const b1 = blk[o1 + i];
        const b2 = blk[o2 + i];
        const b3 = blk[o3 + i];
        s0 += a * b0;
        s1 += a * b1;
        s2 += a * b2;
        s3 += a * b3;
        t0 += c * b0;
        t1 += c * b1;
        t2 += c * b2;
        t3 += c * b3;
      }
      const r = p * m + q;
      dot[r] += s0;
      dot[r + 1] += s1;
      dot[r + 2] += s2;
      dot[r + 3] += s3;
      // Row p+1 of the tile: entries left of the diagonal (q < p+1) are not needed.
      const r1 = r + m;
      if (q >= p + 1) dot[r1] += t0;
      if (q + 1 >= p + 1) dot[r1 + 1] += t1;
      dot[r1 + 2] += t2;
      dot[r1 + 3] += t3;
    }
    for (; q < mc; q++) {
      const oq = q * BLOCK;
      let s0 = 0;
      let t0 = 0;
      for (let i = 0; i < len; i++) {
        const b = blk[oq + i];
        s0 += blk[op + i] * b;
        t0 += blk[op1 + i] * b;
      }
      dot[p * m + q] += s0;
      if (q >= p + 1) dot[(p + 1) * m + q] += t0;
    }
  }
  for (; p < mc; p++) {
    const op = p * BLOCK;
    for (let q = p; q < mc; q++) {
      const oq = q * BLOCK;
      let s0 = 0;
      for (let i = 0; i < len; i++) s0 += blk[op + i] * blk[oq + i];
      dot[p * m + q] += s0;
    }
  }
}

export interface CorrelationMatrices {
  columns: string[];
  real: number[][];
  synthetic: number[][];
  frobenius_diff: number;
  n_defined_offdiag: number;
}

// ‖C_R − C_S‖_F over both triangles, skipping off-diagonal entries undefined in either (docs/metrics.md §2.3).
export function frobeniusDiff(
  real: readonly number[][],
  synthetic: readonly number[][],
): { diff: number; n: number } {
  let sum = 0;
  let n = 0;
  for (let a = 0; a < real.length; a++) {
    for (let b = 0; b < real.length; b++) {
      if (a === b) continue;
      const d = real[a][b] - synthetic[a][b];
      if (Number.isNaN(d)) continue;
      sum += d * d;
      n++;
    }
  }
  return { diff: Math.sqrt(sum), n };
}

/** Pearson matrices of the numeric columns (real's schema order) in both tables, and their Frobenius distance. */
export function correlationMatrices(real: Table, synthetic: Table): CorrelationMatrices {
  const cols = real.columns.filter(isNumeric);
  const names = cols.map((c) => c.name);
  const synCols = names.map((name) => {
    const c = getColumn(synthetic, name);
    if (!isNumeric(c)) throw new Error(`column "${name}" is numeric in real but ${c.kind} in synthetic`);
    return c;
  });
  const r = pearsonMatrix(cols.map((c: NumericColumn) => c.values));
  const s = pearsonMatrix(synCols.map((c) => c.values));
  const f = frobeniusDiff(r, s);
  return { columns: names, real: r, synthetic: s, frobenius_diff: f.diff, n_defined_offdiag: f.n };
}
