/**
 * Exact nearest-neighbour kernels over row-major Float64Array matrices (docs/metrics.md §0, §3).
 * Distances are summed term by term in column order (no ‖a‖² − 2a·b + ‖b‖² shortcut) so that ties and
 * zeros are exact, and every result is bit for bit the brute-force scan's; ties go to the lowest index.
 *
 * Encoded tables are a few dense columns (numbers) followed by one-hot or code columns that mostly hold one
 * value. Columns past the dense prefix are stored per row as exceptions to their majority value, and the
 * candidate rows sit in a trie of those exception lists. A query walks the trie summing only the non-zero
 * tail terms, in column order, and drops a subtree once that partial sum reaches the best distance so far:
 * terms are non-negative, so any float sum containing that subsequence is at least as large. Rows reached are
 * summed in full (dense prefix, then the tail terms in column order), so skipped terms are exact zeros only.
 * With a tight best this visits only rows sharing (almost) the query's categories: Adult's 16k × 16k row-level
 * metrics drop from minutes to seconds. The inner loops allocate nothing.
 */
import { lowerBound } from "../../primitives/binning.ts";

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

// ---------------------------------------------------------------- exception lists and the trie

/** How a dense-prefix column or a tail column contributes: |a − b|, (a − b)², or 1[a ≠ b] (label codes). */
const ABS = 0;
const SQUARE = 1;
const MISMATCH = 2;
type Term = typeof ABS | typeof SQUARE | typeof MISMATCH;

function term(kind: Term, a: number, b: number): number {
  if (kind === SQUARE) {
    const t = a - b;
    return t * t;
  }
  if (kind === ABS) return Math.abs(a - b);
  return a !== b ? 1 : 0;
}

/** Row-major values of the tail columns: entry (i, k) is `data[i·width + offset + k]`, k < `count`. */
interface TailSource {
  readonly data: Float64Array | Int32Array;
  readonly rows: number;
  readonly width: number;
  readonly offset: number;
}

/** Per row, the tail columns whose value differs from the column default, ascending (CSR). */
interface Exceptions {
  readonly start: Int32Array;
  readonly col: Int32Array;
  readonly val: Float64Array;
}

/**
 * Majority value of every tail column over all given sources (Boyer–Moore vote, then a count), or NaN where
 * no finite value fills more than half: any finite default keeps the sums exact; the majority keeps lists short.
 */
function columnDefaults(sources: readonly TailSource[], count: number): Float64Array {
  const def = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    let cand = 0;
    let votes = 0;
    let total = 0;
    for (const s of sources) {
      for (let i = 0; i < s.rows; i++) {
        const v = s.data[i * s.width + s.offset + k];
        if (votes === 0) {
          cand = v;
          votes = 1;
        } else if (v === cand) votes++;
        else votes--;
      }
      total += s.rows;
    }
    let hits = 0;
    for (const s of sources)
      for (let i = 0; i < s.rows; i++) if (s.data[i * s.width + s.offset + k] === cand) hits++;
    def[k] = Number.isFinite(cand) && 2 * hits > total ? cand : Number.NaN;
  }
  return def;
}

function exceptions(s: TailSource, count: number, def: Float64Array): Exceptions {
  const start = new Int32Array(s.rows + 1);
  let n = 0;
  for (let i = 0; i < s.rows; i++) {
    for (let k = 0; k < count; k++) if (s.data[i * s.width + s.offset + k] !== def[k]) n++;
    start[i + 1] = n;
  }
  const col = new Int32Array(n);
  const val = new Float64Array(n);
  let e = 0;
  for (let i = 0; i < s.rows; i++) {
    for (let k = 0; k < count; k++) {
      const v = s.data[i * s.width + s.offset + k];
      if (v !== def[k]) {
        col[e] = k;
        val[e++] = v;
      }
    }
  }
  return { start, col, val };
}

/** Prefix tree of the candidates' exception lists; node 0 is the root, children ascend by (column, value). */
interface Trie {
  readonly col: Int32Array;
  readonly val: Float64Array;
  readonly child: Int32Array;
  readonly sibling: Int32Array;
  /** Rows whose list ends at node v: rows[rowStart[v] .. rowStart[v+1]), ascending. */
  readonly rowStart: Int32Array;
  readonly rows: Int32Array;
  /** Longest exception list. */
  readonly depth: number;
}

function buildTrie(ex: Exceptions, nRows: number): Trie {
  const col: number[] = [-1];
  const val: number[] = [0];
  const child: number[] = [-1];
  const sibling: number[] = [-1];
  const end = new Int32Array(nRows);
  let depth = 0;
  for (let i = 0; i < nRows; i++) {
    let node = 0;
    depth = Math.max(depth, ex.start[i + 1] - ex.start[i]);
    for (let e = ex.start[i]; e < ex.start[i + 1]; e++) {
      const c = ex.col[e];
      const v = ex.val[e];
      // Find or insert the child (c, v); sibling order only steers the search (NaNs share one node, as do ±0).
      let prev = -1;
      let k = child[node];
      while (k !== -1 && (col[k] < c || (col[k] === c && val[k] < v))) {
        prev = k;
        k = sibling[k];
      }
      if (k === -1 || col[k] !== c || !(val[k] === v || Object.is(val[k], v))) {
        const fresh = col.length;
        col.push(c);
        val.push(v);
        child.push(-1);
        sibling.push(k);
        if (prev === -1) child[node] = fresh;
        else sibling[prev] = fresh;
        k = fresh;
      }
      node = k;
    }
    end[i] = node;
  }
  const nNodes = col.length;
  const rowStart = new Int32Array(nNodes + 1);
  for (let i = 0; i < nRows; i++) rowStart[end[i] + 1]++;
  for (let v = 0; v < nNodes; v++) rowStart[v + 1] += rowStart[v];
  const fill = rowStart.slice(0, nNodes);
  const rows = new Int32Array(nRows);
  for (let i = 0; i < nRows; i++) rows[fill[end[i]]++] = i;
  return {
    col: Int32Array.from(col),
    val: Float64Array.from(val),
    child: Int32Array.from(child),
    sibling: Int32Array.from(sibling),
    rowStart,
    rows,
    depth,
  };
}

// ---------------------------------------------------------------- the search

/** Smallest distance (values only). */
const MIN = 0;
/** Two smallest distances. */
const TWO = 1;
/** Smallest distance and its lowest row index, comparing square roots (nearestL2). */
const ARGMIN = 2;
type Mode = typeof MIN | typeof TWO | typeof ARGMIN;

/** Whole rows for the plain scan in index order: `Q`/`X` dense (`width` columns), then label codes if any. */
interface FullRows {
  readonly Q: Float64Array;
  readonly X: Float64Array;
  readonly width: number;
  readonly nX: number;
  /** Label codes after the dense columns (`nCodes` per row; empty when there are none). */
  readonly qCodes: Int32Array;
  readonly xCodes: Int32Array;
  readonly nCodes: number;
}

/** Candidates sorted by one column, for the scan: rows, codes and keys in that order, perm = original index. */
interface SortedCandidates {
  readonly key: Float64Array;
  readonly col: number;
  readonly perm: Int32Array;
  readonly X: Float64Array;
  readonly codes: Int32Array;
}

/** Queries answered through the trie before choosing: trie steps above TRIE_SHARE·n_X per query → plain scan. */
const SAMPLE_QUERIES = 128;
const TRIE_SHARE = 0.8;

/** An exact search of every query row against every candidate row, pruned through the candidates' trie. */
class TrieSearch {
  private qOff = 0;
  private qFrom = 0;
  private qTo = 0;
  private self = -1;
  best1 = Number.POSITIVE_INFINITY;
  best2 = Number.POSITIVE_INFINITY;
  bestD = Number.POSITIVE_INFINITY;
  bestK = -1;
  /** A sum at or above `cut` cannot change the answer. */
  private cut = Number.POSITIVE_INFINITY;
  private readonly stack: Float64Array;
  /** Nodes whose rows the probe already took for the current query (`stamp[v] === query`). */
  private readonly stamp: Int32Array;
  private query = 0;
  /** Trie children and rows examined so far (the cost the plain scan is compared with). */
  private work = 0;

  constructor(
    private readonly mode: Mode,
    private readonly dense: Term,
    private readonly tail: Term,
    /** Query rows; the dense prefix is their first p columns. */
    private readonly Q: Float64Array,
    private readonly qWidth: number,
    private readonly p: number,
    private readonly qEx: Exceptions,
    private readonly def: Float64Array,
    private readonly trie: Trie,
    /** Candidates' dense prefixes in trie row order (p per row): the rows of a node are contiguous. */
    private readonly xp: Float64Array,
    private readonly full: FullRows,
  ) {
    // Every tail term of a pair: the query's exceptions plus the candidate's, at most.
    let qMax = 0;
    for (let i = 0; i + 1 < qEx.start.length; i++) qMax = Math.max(qMax, qEx.start[i + 1] - qEx.start[i]);
    this.stack = new Float64Array(qMax + trie.depth + 1);
    this.stamp = new Int32Array(trie.col.length).fill(-1);
  }

  /**
   * Answers every query row, calling `take(i)` after row i. `within`: query i skips candidate i. The first
   * SAMPLE_QUERIES rows go through the trie; if it pruned too little there, the rest use the sorted scan.
   */
  runAll(nQ: number, within: boolean, take: (i: number) => void): void {
    const sample = Math.min(nQ, SAMPLE_QUERIES);
    let useTrie = true;
    for (let i = 0; i < nQ; i++) {
      if (i === sample) useTrie = this.work <= TRIE_SHARE * sample * this.full.nX;
      this.qOff = i * this.qWidth;
      this.qFrom = this.qEx.start[i];
      this.qTo = this.qEx.start[i + 1];
      this.self = within ? i : -1;
      this.best1 = Number.POSITIVE_INFINITY;
      this.best2 = Number.POSITIVE_INFINITY;
      this.bestD = Number.POSITIVE_INFINITY;
      this.bestK = -1;
      this.cut = Number.POSITIVE_INFINITY;
      this.query = i;
      if (useTrie) {
        this.probe();
        this.visit(0, this.qFrom, 0, 0);
      } else this.scan();
      take(i);
    }
  }

  /**
   * The scan for data the trie cannot prune: candidates sorted by their widest column, walked outwards from the
   * query's value on both sides. A side stops once that column's term alone reaches the cut (a float sum of
   * non-negative terms is at least any one of them), so dense data dominated by one column visits few rows.
   */
  private scan(): void {
    const so = this.sorted ?? this.sortCandidates();
    const { Q, width, nX, qCodes, nCodes } = this.full;
    const { key, col, perm, X, codes } = so;
    const qOff = this.qOff;
    const self = this.self;
    const square = this.dense === SQUARE;
    const qc = this.query * nCodes;
    const qv = col >= 0 ? Q[qOff + col] : 0;
    let hi = lowerBound(key, qv);
    let lo = hi - 1;
    while (lo >= 0 || hi < nX) {
      const up = hi < nX && (lo < 0 || key[hi] - qv <= qv - key[lo]);
      const e = up ? hi++ : lo--;
      const cut = this.cut;
      if (term(this.dense, qv, key[e]) >= cut) {
        if (up) hi = nX;
        else lo = -1;
        continue;
      }
      const r = perm[e];
      if (r === self) continue;
      let s = square ? sqUpTo(Q, qOff, X, e * width, width, cut) : l1UpTo(Q, qOff, X, e * width, width, cut);
      const xc = e * nCodes;
      for (let k = 0; k < nCodes && s < cut; k++) if (qCodes[qc + k] !== codes[xc + k]) s += 1;
      if (s < cut) this.consider(r, s);
    }
  }

  private sorted: SortedCandidates | undefined;

  /** Candidates reordered by the column with the widest finite range (ties by index); NaN keys sort last. */
  private sortCandidates(): SortedCandidates {
    const { X, width, nX, xCodes, nCodes } = this.full;
    let col = 0;
    let widest = -1;
    for (let j = 0; j < width; j++) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      let nan = false;
      for (let r = 0; r < nX; r++) {
        const v = X[r * width + j];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if (Number.isNaN(v)) nan = true;
      }
      const span = hi - lo;
      if (!nan && span > widest) {
        widest = span;
        col = j;
      }
    }
    const perm = new Int32Array(nX);
    for (let r = 0; r < nX; r++) perm[r] = r;
    if (widest >= 0) perm.sort((a, b) => X[a * width + col] - X[b * width + col] || a - b);
    const sx = new Float64Array(nX * width);
    const codes = new Int32Array(nX * nCodes);
    const key = new Float64Array(nX);
    for (let e = 0; e < nX; e++) {
      const r = perm[e];
      sx.set(X.subarray(r * width, (r + 1) * width), e * width);
      codes.set(xCodes.subarray(r * nCodes, (r + 1) * nCodes), e * nCodes);
      // Without a usable column (no columns, or NaN everywhere) every key is 0: no side ever stops early.
      key[e] = widest >= 0 ? X[r * width + col] : 0;
    }
    this.sorted = { key, col: widest >= 0 ? col : -1, perm, X: sx, codes };
    return this.sorted;
  }

  /** Seeds a tight best: rows whose exceptions are a prefix of the query's (zero terms along the way). */
  private probe(): void {
    const t = this.trie;
    let node = 0;
    let k = this.qFrom;
    for (;;) {
      if (t.rowStart[node + 1] > t.rowStart[node]) {
        this.terminal(node, k, 0, 0);
        this.stamp[node] = this.query;
      }
      if (k >= this.qTo) return;
      const c = this.qEx.col[k];
      const v = this.qEx.val[k];
      let ch = t.child[node];
      while (ch !== -1 && !(t.col[ch] === c && t.val[ch] === v)) ch = t.sibling[ch];
      if (ch === -1) return;
      node = ch;
      k++;
    }
  }

  /** At `node` with query exceptions from k on still unmatched, tail sum `lb` and `depth` terms stacked. */
  private visit(node: number, k: number, lb: number, depth: number): void {
    const t = this.trie;
    // A probed node gets the same (k, lb, terms) here, and TWO must not count its rows twice.
    if (t.rowStart[node + 1] > t.rowStart[node] && this.stamp[node] !== this.query)
      this.terminal(node, k, lb, depth);
    const qEx = this.qEx;
    const stack = this.stack;
    for (let ch = t.child[node]; ch !== -1; ch = t.sibling[ch]) {
      this.work++;
      const c = t.col[ch];
      let d = depth;
      let s = lb;
      let q = k;
      // Query exceptions before column c face the candidate's default.
      for (; q < this.qTo && qEx.col[q] < c; q++) {
        const x = term(this.tail, qEx.val[q], this.def[qEx.col[q]]);
        if (x !== 0) {
          stack[d++] = x;
          s += x;
        }
      }
      const x =
        q < this.qTo && qEx.col[q] === c
          ? term(this.tail, qEx.val[q++], t.val[ch])
          : term(this.tail, this.def[c], t.val[ch]);
      if (x !== 0) {
        stack[d++] = x;
        s += x;
      }
      if (s >= this.cut) continue;
      this.visit(ch, q, s, d);
    }
  }

  /** Rows ending at `node`: the query's remaining exceptions face defaults; then each row in full. */
  private terminal(node: number, k: number, lb: number, depth: number): void {
    const qEx = this.qEx;
    const stack = this.stack;
    let d = depth;
    let s = lb;
    for (let q = k; q < this.qTo; q++) {
      const x = term(this.tail, qEx.val[q], this.def[qEx.col[q]]);
      if (x !== 0) {
        stack[d++] = x;
        s += x;
      }
    }
    if (s >= this.cut) return;
    const t = this.trie;
    const p = this.p;
    const end = t.rowStart[node + 1];
    this.work += end - t.rowStart[node];
    for (let e = t.rowStart[node]; e < end; e++) {
      const r = t.rows[e];
      if (r === this.self) continue;
      let sum =
        this.dense === SQUARE
          ? sqUpTo(this.Q, this.qOff, this.xp, e * p, p, this.cut)
          : l1UpTo(this.Q, this.qOff, this.xp, e * p, p, this.cut);
      if (sum >= this.cut) continue;
      for (let i = 0; i < d; i++) sum += stack[i];
      this.consider(r, sum);
    }
  }

  private consider(r: number, s: number): void {
    if (this.mode === MIN) {
      if (s < this.best1) this.best1 = this.cut = s;
    } else if (this.mode === TWO) {
      if (s < this.best1) {
        this.best2 = this.best1;
        this.best1 = s;
      } else if (s < this.best2) this.best2 = s;
      this.cut = this.best2;
    } else {
      // Compare square roots: two sums one ulp apart can share a root, and then the lower index must win.
      const d = Math.sqrt(s);
      if (d < this.bestD || (d === this.bestD && r < this.bestK)) {
        this.bestD = d;
        this.best1 = s;
        this.bestK = r;
        // Rows are not visited in index order, so keep every sum whose root could still tie: s ≥ cut has a
        // root above bestD (2^-48 relative is ≥ 2 ulps of the root; subnormal sums get a wider margin).
        this.cut = s < 1e-290 ? 2 * s + Number.MIN_VALUE : s * (1 + 2 ** -48);
      }
    }
  }
}

/** The first p columns of X's rows, in the trie's row order. */
function prefixInTrieOrder(X: Float64Array, width: number, p: number, trie: Trie): Float64Array {
  const out = new Float64Array(trie.rows.length * p);
  for (let e = 0; e < trie.rows.length; e++)
    out.set(X.subarray(trie.rows[e] * width, trie.rows[e] * width + p), e * p);
  return out;
}

/** Search of Q's rows against X's (row-major, `cols` wide): dense prefix, then tail columns with a majority value. */
function floatSearch(mode: Mode, metric: Term, Q: Float64Array, X: Float64Array, cols: number): TrieSearch {
  const nQ = Q.length / cols;
  const nX = X.length / cols;
  const all: TailSource[] = [
    { data: Q, rows: nQ, width: cols, offset: 0 },
    { data: X, rows: nX, width: cols, offset: 0 },
  ];
  const colDef = columnDefaults(all, cols);
  let p = cols;
  while (p > 0 && !Number.isNaN(colDef[p - 1])) p--;
  const def = colDef.slice(p);
  const qEx = exceptions({ data: Q, rows: nQ, width: cols, offset: p }, cols - p, def);
  const trie = buildTrie(exceptions({ data: X, rows: nX, width: cols, offset: p }, cols - p, def), nX);
  const none = new Int32Array(0);
  const full: FullRows = { Q, X, width: cols, nX, qCodes: none, xCodes: none, nCodes: 0 };
  return new TrieSearch(
    mode,
    metric,
    metric,
    Q,
    cols,
    p,
    qEx,
    def,
    trie,
    prefixInTrieOrder(X, cols, p, trie),
    full,
  );
}

// ---------------------------------------------------------------- kernels

// DCR_i = min_r Σ_j |S_ij − R_rj| (L1; TabSyn eval_dcr / MALLM-GAN DCR), one value per row of S.
export function dcrL1(S: Float64Array, R: Float64Array, cols: number): Float64Array {
  if (!(cols >= 1)) throw new RangeError("dcrL1: cols must be at least 1");
  const nS = S.length / cols;
  const nR = R.length / cols;
  const out = new Float64Array(nS);
  if (nR === 0) return out.fill(Number.NaN);
  const search = floatSearch(MIN, ABS, S, R, cols);
  search.runAll(nS, false, (i) => {
    out[i] = search.best1;
  });
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
  if (nR === 0) return out.fill(Number.NaN);
  const sCodes: TailSource = { data: Scat, rows: nS, width: nCat, offset: 0 };
  const rCodes: TailSource = { data: Rcat, rows: nR, width: nCat, offset: 0 };
  // Codes are integers: a column without a majority takes default −2, a code no row has (any value is exact).
  const def = columnDefaults([sCodes, rCodes], nCat).map((v) => (Number.isNaN(v) ? -2 : v));
  const trie = buildTrie(exceptions(rCodes, nCat, def), nR);
  const full: FullRows = { Q: Snum, X: Rnum, width: nNum, nX: nR, qCodes: Scat, xCodes: Rcat, nCodes: nCat };
  const xp = prefixInTrieOrder(Rnum, nNum, nNum, trie);
  const qEx = exceptions(sCodes, nCat, def);
  const search = new TrieSearch(MIN, ABS, MISMATCH, Snum, nNum, nNum, qEx, def, trie, xp, full);
  search.runAll(nS, false, (i) => {
    out[i] = search.best1;
  });
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
  if (nQ === 0 || nX === 0) return { dist, index };
  const search = floatSearch(ARGMIN, SQUARE, Q, X, cols);
  search.runAll(nQ, false, (i) => {
    if (search.bestK >= 0) {
      dist[i] = search.bestD;
      index[i] = search.bestK;
    }
  });
  return { dist, index };
}

// d1 ≤ d2 = the two smallest sqrt(Σ_j (q_j − x_j)²) over rows x of X (NaN where X has fewer rows).
export function twoNearestL2(Q: Float64Array, X: Float64Array, cols: number): [Float64Array, Float64Array] {
  const nQ = cols === 0 ? 0 : Q.length / cols;
  const nX = cols === 0 ? 0 : X.length / cols;
  const d1 = new Float64Array(nQ).fill(Number.NaN);
  const d2 = new Float64Array(nQ).fill(Number.NaN);
  if (nQ === 0 || nX === 0) return [d1, d2];
  const search = floatSearch(TWO, SQUARE, Q, X, cols);
  search.runAll(nQ, false, (i) => {
    d1[i] = Math.sqrt(search.best1);
    if (nX >= 2) d2[i] = Math.sqrt(search.best2);
  });
  return [d1, d2];
}

// rr_i = min_{k≠i} sqrt(Σ_j (X_ij − X_kj)²): distance to the nearest OTHER row (0 for duplicates).
export function nearestOtherL2(X: Float64Array, cols: number): Float64Array {
  const n = cols === 0 ? 0 : X.length / cols;
  const out = new Float64Array(n).fill(Number.NaN);
  if (n < 2) return out;
  const search = floatSearch(MIN, SQUARE, X, X, cols);
  search.runAll(n, true, (i) => {
    out[i] = Math.sqrt(search.best1);
  });
  return out;
}

// D_ab = Σ_j (X_aj − X_bj)² for every pair a < b, in order (0,1), (0,2), …, (1,2), …: the brute-force sums bit
// for bit, with the majority-valued tail columns merged from exception lists (skipped terms are exact zeros).
export function pairwiseSquaredL2(X: Float64Array, cols: number): Float64Array {
  const n = cols === 0 ? 0 : X.length / cols;
  const out = new Float64Array(n > 1 ? (n * (n - 1)) / 2 : 0);
  if (n < 2) return out;
  const colDef = columnDefaults([{ data: X, rows: n, width: cols, offset: 0 }], cols);
  let p = cols;
  while (p > 0 && !Number.isNaN(colDef[p - 1])) p--;
  const def = colDef.slice(p);
  const { start, col, val } = exceptions({ data: X, rows: n, width: cols, offset: p }, cols - p, def);
  let o = 0;
  for (let a = 0; a < n; a++) {
    const ao = a * cols;
    const aFrom = start[a];
    const aTo = start[a + 1];
    for (let b = a + 1; b < n; b++) {
      const bo = b * cols;
      let s = 0;
      for (let j = 0; j < p; j++) {
        const t = X[ao + j] - X[bo + j];
        s += t * t;
      }
      let i = aFrom;
      let k = start[b];
      const kTo = start[b + 1];
      while (i < aTo || k < kTo) {
        let t: number;
        if (k >= kTo || (i < aTo && col[i] < col[k])) t = val[i++] - def[col[i - 1]];
        else if (i >= aTo || col[k] < col[i]) t = def[col[k]] - val[k++];
        else t = val[i++] - val[k++];
        s += t * t;
      }
      out[o++] = s;
    }
  }
  return out;
}
