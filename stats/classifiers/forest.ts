/**
 * Binary random forest with sklearn RandomForestClassifier's defaults (docs/metrics.md §3.8): bootstrap rows, ⌊√d⌋
 * features drawn per split, Gini, trees grown until pure; P(positive) = mean over trees of the leaf's positive
 * share. Hand-written: ml-random-forest needs over 10 minutes on Adult (every feature at every split, number[][]
 * rows); splits here scan integer value ranks by counting, so a 100-tree forest on 16k rows takes seconds.
 * Seeded (stats/primitives/rng.ts); sklearn's own RNG stream cannot be reproduced, so values are informational.
 */
import { lowerBound } from "../primitives/binning.ts";
import type { Dense } from "../primitives/matrix.ts";
import { createRng, type Rng } from "../primitives/rng.ts";

export interface ForestOptions {
  /** Number of trees (sklearn n_estimators). Default 100. */
  readonly nTrees?: number;
  /** Features drawn per split; default ⌊√d⌋ (sklearn max_features="sqrt"). */
  readonly maxFeatures?: number;
  /** Deepest level of a split, the root being depth 0 (sklearn max_depth); default unlimited. */
  readonly maxDepth?: number;
  readonly seed?: number;
}

/** One tree: node v splits on feature[v] at threshold[v] (x ≤ t goes left), or is a leaf (feature −1). */
interface Tree {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** P(positive) at a leaf. */
  readonly value: Float64Array;
}

export interface Forest {
  readonly nFeatures: number;
  readonly trees: readonly Tree[];
}

/** Each feature's ascending distinct values and every row's rank among them (column-major ranks). */
interface Ranked {
  readonly values: Float64Array[];
  readonly rank: Int32Array;
  /** The same ranks as bytes (exact for two-valued features, which the hot path reads: 4x less memory). */
  readonly bits: Uint8Array;
}

function rankFeatures(X: Dense): Ranked {
  const { nRows: n, nCols: d } = X;
  const rank = new Int32Array(n * d);
  const values: Float64Array[] = [];
  const col = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) col[i] = X.data[i * d + j];
    const sorted = col.slice().sort();
    let k = 0;
    for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[k++] = sorted[i];
    const distinct = sorted.slice(0, k);
    values.push(distinct);
    for (let i = 0; i < n; i++) rank[j * n + i] = lowerBound(distinct, col[i]);
  }
  const bits = new Uint8Array(n * d);
  for (let e = 0; e < n * d; e++) bits[e] = rank[e] & 255;
  return { values, rank, bits };
}

/** Scratch shared by all nodes of all trees: per-rank weighted counts and the node's rank list. */
interface Scratch {
  readonly pos: Float64Array;
  readonly tot: Float64Array;
  readonly keys: Float64Array;
  readonly right: Int32Array;
}

/** Fits the forest on X (rows × features) with labels y ∈ {0, 1}. */
export function fitForest(X: Dense, y: Uint8Array, options: ForestOptions = {}): Forest {
  const { nRows: n, nCols: d } = X;
  const nTrees = options.nTrees ?? 100;
  const mtry = Math.max(1, Math.min(d, options.maxFeatures ?? Math.floor(Math.sqrt(d))));
  const ranked = rankFeatures(X);
  let maxK = 1;
  for (const v of ranked.values) maxK = Math.max(maxK, v.length);
  const scratch: Scratch = {
    pos: new Float64Array(maxK),
    tot: new Float64Array(maxK),
    keys: new Float64Array(n),
    right: new Int32Array(n),
  };
  const rng = createRng(options.seed ?? 0);
  const trees: Tree[] = [];
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  for (let t = 0; t < nTrees; t++)
    trees.push(growTree(ranked, y, n, d, mtry, maxDepth, rng.fork(t), scratch));
  return { nFeatures: d, trees };
}

/** P(positive) per row of X: the mean over trees of the reached leaf's positive share. */
export function forestProba(f: Forest, X: Dense): Float64Array {
  const { nRows: n, nCols: d } = X;
  if (d !== f.nFeatures)
    throw new Error(`forestProba: ${d} features, the forest was fitted on ${f.nFeatures}`);
  const out = new Float64Array(n);
  for (const tree of f.trees) {
    for (let i = 0; i < n; i++) {
      let v = 0;
      while (tree.feature[v] >= 0)
        v = X.data[i * d + tree.feature[v]] <= tree.threshold[v] ? tree.left[v] : tree.right[v];
      out[i] += tree.value[v];
    }
  }
  for (let i = 0; i < n; i++) out[i] /= f.trees.length;
  return out;
}

/** Best split of one feature over the node's rows: Gini proxy, rank boundary (left = ranks ≤ it), or null. */
interface Split {
  proxy: number;
  feature: number;
  lastLeftRank: number;
  firstRightRank: number;
}

function growTree(
  r: Ranked,
  y: Uint8Array,
  n: number,
  d: number,
  mtry: number,
  maxDepth: number,
  rng: Rng,
  s: Scratch,
): Tree {
  // Bootstrap: n draws with replacement become integer row weights (sklearn's sample_weight = counts).
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) w[rng.int(n)]++;
  let m = 0;
  for (let i = 0; i < n; i++) if (w[i] > 0) m++;
  const idx = new Int32Array(m);
  m = 0;
  for (let i = 0; i < n; i++) if (w[i] > 0) idx[m++] = i;
  // Positive weight per row, so that class counts accumulate without a branch on the label.
  const wp = new Float64Array(n);
  for (let i = 0; i < n; i++) wp[i] = y[i] === 1 ? w[i] : 0;

  const cap = 2 * m + 1;
  const feature = new Int32Array(cap).fill(-1);
  const threshold = new Float64Array(cap);
  const left = new Int32Array(cap);
  const right = new Int32Array(cap);
  const value = new Float64Array(cap);
  let nNodes = 1;
  // Pending nodes: (node, start, end) over idx, with their feature order: the first `nConst` are known to be
  // constant on the node (constant on the parent ⇒ constant on the child), so draws skip them (as sklearn).
  const stack: number[] = [0, 0, m, 0];
  const orders: Int32Array[] = [Int32Array.from({ length: d }, (_, j) => j)];
  const depths: number[] = [0];
  const best: Split = { proxy: 0, feature: -1, lastLeftRank: 0, firstRightRank: 0 };
  while (stack.length > 0) {
    const nConst = stack.pop() as number;
    const end = stack.pop() as number;
    const start = stack.pop() as number;
    const node = stack.pop() as number;
    const feats = orders.pop() as Int32Array;
    const depth = depths.pop() as number;
    let wPos = 0;
    let wTot = 0;
    for (let e = start; e < end; e++) {
      const i = idx[e];
      wTot += w[i];
      if (y[i] === 1) wPos += w[i];
    }
    value[node] = wPos / wTot;
    if (wPos === 0 || wPos === wTot || end - start < 2 || depth >= maxDepth) continue;
    const known = bestSplit(r, y, w, wp, idx, start, end, wPos, wTot, feats, nConst, mtry, rng, s, best);
    if (known < 0) continue;
    const j = best.feature;
    const vals = r.values[j];
    const lo = vals[best.lastLeftRank];
    const hi = vals[best.firstRightRank];
    let thr = (lo + hi) / 2;
    if (thr === hi || !Number.isFinite(thr)) thr = lo; // sklearn: a midpoint that rounds up to hi becomes lo
    // Stable partition of idx[start, end): ranks ≤ lastLeftRank first. Rows stay ascending, so the feature
    // scans below walk each column forwards (cache lines are reused instead of missed).
    const ranks = r.rank;
    const off = j * n;
    const spill = s.right;
    let a = start;
    let nr = 0;
    for (let e = start; e < end; e++) {
      const i = idx[e];
      if (ranks[off + i] <= best.lastLeftRank) idx[a++] = i;
      else spill[nr++] = i;
    }
    idx.set(spill.subarray(0, nr), a);
    feature[node] = j;
    threshold[node] = thr;
    const l = nNodes++;
    const rr = nNodes++;
    left[node] = l;
    right[node] = rr;
    stack.push(rr, a, end, known, l, start, a, known);
    orders.push(feats, feats.slice());
    depths.push(depth + 1, depth + 1);
  }
  return {
    feature: feature.slice(0, nNodes),
    threshold: threshold.slice(0, nNodes),
    left: left.slice(0, nNodes),
    right: right.slice(0, nNodes),
    value: value.slice(0, nNodes),
  };
}

/**
 * Draws features without replacement from feats[nConst..] until mtry non-constant ones have been scanned (or
 * none is left, as sklearn does) and keeps the split maximising Σ_side (w_pos² + w_neg²)/w_side (sklearn's Gini
 * proxy). Features found constant move to the front of `feats`; returns the new known-constant count, or −1
 * when no split exists.
 */
function bestSplit(
  r: Ranked,
  y: Uint8Array,
  w: Float64Array,
  wp: Float64Array,
  idx: Int32Array,
  start: number,
  end: number,
  wPos: number,
  wTot: number,
  feats: Int32Array,
  nConst: number,
  mtry: number,
  rng: Rng,
  s: Scratch,
  out: Split,
): number {
  const d = feats.length;
  const m = end - start;
  const n = y.length;
  let found = false;
  let scanned = 0;
  let known = nConst;
  for (let drawn = nConst; drawn < d && scanned < mtry; drawn++) {
    const pick = drawn + rng.int(d - drawn);
    const j = feats[pick];
    feats[pick] = feats[drawn];
    feats[drawn] = j;
    const K = r.values[j].length;
    if (K < 2) {
      feats[drawn] = feats[known];
      feats[known++] = j;
      continue;
    }
    const off = j * n;
    const ranks = r.rank;
    // Weighted counts per rank: by counting when the feature has few values, else by sorting the node's ranks.
    let minR = K;
    let maxR = -1;
    let nonConstant = false;
    if (K === 2) {
      // Two values (one-hot columns): the weight and positive weight of rank 1 decide everything.
      const bits = r.bits;
      let t1 = 0;
      let p1 = 0;
      for (let e = start; e < end; e++) {
        const i = idx[e];
        const k = bits[off + i];
        t1 += k * w[i];
        p1 += k * wp[i];
      }
      nonConstant = t1 > 0 && t1 < wTot;
      if (nonConstant) found = consider(wPos - p1, wTot - t1, wPos, wTot, j, 0, 1, out, found);
    } else if (K <= 4 * m) {
      const pos = s.pos;
      const tot = s.tot;
      for (let e = start; e < end; e++) {
        const i = idx[e];
        const k = ranks[off + i];
        if (k < minR) minR = k;
        if (k > maxR) maxR = k;
        tot[k] += w[i];
        pos[k] += wp[i];
      }
      nonConstant = maxR > minR;
      if (nonConstant) {
        let lPos = 0;
        let lTot = 0;
        let last = -1;
        for (let k = minR; k <= maxR; k++) {
          if (tot[k] === 0) continue;
          if (last >= 0) found = consider(lPos, lTot, wPos, wTot, j, last, k, out, found);
          lPos += pos[k];
          lTot += tot[k];
          last = k;
        }
      }
      for (let k = minR; k <= maxR; k++) {
        pos[k] = 0;
        tot[k] = 0;
      }
    } else {
      // key = rank·2n + 2·(row) + label keeps rows of one rank together; sorted as doubles (exact below 2^53).
      const keys = s.keys;
      for (let e = 0; e < m; e++) {
        const i = idx[start + e];
        keys[e] = ranks[off + i] * 2 * n + 2 * i + y[i];
      }
      const sorted = keys.subarray(0, m).sort();
      minR = Math.floor(sorted[0] / (2 * n));
      maxR = Math.floor(sorted[m - 1] / (2 * n));
      nonConstant = maxR > minR;
      if (nonConstant) {
        let lPos = 0;
        let lTot = 0;
        let last = -1;
        for (let e = 0; e < m;) {
          const k = Math.floor(sorted[e] / (2 * n));
          if (last >= 0) found = consider(lPos, lTot, wPos, wTot, j, last, k, out, found);
          for (; e < m && Math.floor(sorted[e] / (2 * n)) === k; e++) {
            const i = Math.floor((sorted[e] - k * 2 * n) / 2);
            lTot += w[i];
            lPos += wp[i];
          }
          last = k;
        }
      }
    }
    if (nonConstant) scanned++;
    else {
      feats[drawn] = feats[known];
      feats[known++] = j;
    }
  }
  return found ? known : -1;
}

/** Records the split (left = ranks ≤ last) if its Gini proxy beats the best so far. */
function consider(
  lPos: number,
  lTot: number,
  wPos: number,
  wTot: number,
  feature: number,
  last: number,
  next: number,
  out: Split,
  found: boolean,
): boolean {
  const lNeg = lTot - lPos;
  const rPos = wPos - lPos;
  const rTot = wTot - lTot;
  const rNeg = rTot - rPos;
  const proxy = (lPos * lPos + lNeg * lNeg) / lTot + (rPos * rPos + rNeg * rNeg) / rTot;
  if (found && !(proxy > out.proxy)) return true;
  out.proxy = proxy;
  out.feature = feature;
  out.lastLeftRank = last;
  out.firstRightRank = next;
  return true;
}
