/**
 * Depth-limited CART decision tree (Breiman et al. 1984), as sklearn's DecisionTreeClassifier /
 * DecisionTreeRegressor with splitter="best", max_features=None: a node with rows S splits on the feature f and
 * threshold t that minimise the children's weighted impurity N_L·I(L) + N_R·I(R), where
 *   classification  I = Gini = 1 − Σ_k p_k²   ⇔ maximise Σ_k l_k²/N_L + Σ_k r_k²/N_R (class counts l, r),
 *   regression      I = variance (squared error) ⇔ maximise (Σ_L y)²/N_L + (Σ_R y)²/N_R.
 * Thresholds are midpoints between consecutive distinct values (x ≤ t goes left). A node is a leaf at max depth,
 * below min_samples_split, when it is pure (impurity ≤ machine epsilon), or when no feature varies. Leaves hold
 * class shares (predict_proba; predict = first class of highest share) or the mean target.
 * Ties: sklearn visits features in a random order and keeps the first strictly better split; here features are
 * visited in column order, so the two agree whenever no two splits tie exactly (the fixture checks this).
 * Rows are presorted once per feature and stably partitioned down the tree (no sorting per node).
 */
import type { Dense } from "../primitives/matrix.ts";

export interface TreeOptions {
  /** Deepest level of a split; the root is depth 0 (sklearn max_depth). Default 5; Infinity grows fully. */
  readonly maxDepth?: number;
  /** A node with fewer rows is a leaf (sklearn min_samples_split). Default 2. */
  readonly minSamplesSplit?: number;
  /** Each child keeps at least this many rows (sklearn min_samples_leaf). Default 1. */
  readonly minSamplesLeaf?: number;
}

export interface DecisionTree {
  readonly kind: "classifier" | "regressor";
  readonly nFeatures: number;
  /** Number of classes (classifier) or 1 (regressor): the width of each node's `value` block. */
  readonly width: number;
  /** Node v splits on feature[v] at threshold[v] (x ≤ t goes left to left[v]); feature −1 marks a leaf. */
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** width values per node: class shares, or the mean target. */
  readonly value: Float64Array;
  /** Training rows per node. */
  readonly samples: Int32Array;
}

/** sklearn treats values closer than this as equal when it looks for split points (FEATURE_THRESHOLD). */
const FEATURE_THRESHOLD = 1e-7;
const EPSILON = 2.220446049250313e-16;

/** Fits a Gini classification tree; y holds class indices 0..nClasses−1 (default max(y)+1). */
export function fitTreeClassifier(
  X: Dense,
  y: ArrayLike<number>,
  options: TreeOptions = {},
  nClasses?: number,
): DecisionTree {
  let k = nClasses ?? 0;
  if (nClasses === undefined) for (let i = 0; i < y.length; i++) k = Math.max(k, y[i] + 1);
  for (let i = 0; i < y.length; i++)
    if (!Number.isInteger(y[i]) || y[i] < 0 || y[i] >= k)
      throw new RangeError(
        `fitTreeClassifier: label ${y[i]} of row ${i} is not a class index in 0..${k - 1}`,
      );
  return grow(X, Float64Array.from(y), Math.max(k, 1), options);
}

/** Fits a squared-error regression tree. */
export function fitTreeRegressor(X: Dense, y: ArrayLike<number>, options: TreeOptions = {}): DecisionTree {
  for (let i = 0; i < y.length; i++)
    if (!Number.isFinite(y[i]))
      throw new RangeError(`fitTreeRegressor: target of row ${i} is not a finite number`);
  return grow(X, Float64Array.from(y), 0, options);
}

/** The leaf each row of X reaches. */
export function treeApply(tree: DecisionTree, X: Dense): Int32Array {
  if (X.nCols !== tree.nFeatures)
    throw new RangeError(`tree expects ${tree.nFeatures} features, got ${X.nCols}`);
  const out = new Int32Array(X.nRows);
  for (let i = 0; i < X.nRows; i++) {
    let v = 0;
    while (tree.feature[v] >= 0)
      v = X.data[i * X.nCols + tree.feature[v]] <= tree.threshold[v] ? tree.left[v] : tree.right[v];
    out[i] = v;
  }
  return out;
}

/** Class shares per row (rows × classes, row-major) of a classification tree. */
export function treePredictProba(tree: DecisionTree, X: Dense): Float64Array {
  if (tree.kind !== "classifier") throw new Error("treePredictProba needs a classification tree");
  const leaves = treeApply(tree, X);
  const k = tree.width;
  const out = new Float64Array(X.nRows * k);
  for (let i = 0; i < leaves.length; i++)
    out.set(tree.value.subarray(leaves[i] * k, leaves[i] * k + k), i * k);
  return out;
}

/** Predicted class (first class of highest share, as numpy argmax) or predicted value per row. */
export function treePredict(tree: DecisionTree, X: Dense): Float64Array {
  const leaves = treeApply(tree, X);
  const k = tree.width;
  const out = new Float64Array(X.nRows);
  for (let i = 0; i < leaves.length; i++) {
    const o = leaves[i] * k;
    if (tree.kind === "regressor") out[i] = tree.value[o];
    else {
      let best = 0;
      for (let c = 1; c < k; c++) if (tree.value[o + c] > tree.value[o + best]) best = c;
      out[i] = best;
    }
  }
  return out;
}

/** Depth of the deepest leaf (0 for a single leaf). */
export function treeDepth(tree: DecisionTree): number {
  const depth = new Int32Array(tree.feature.length);
  let max = 0;
  for (let v = 0; v < tree.feature.length; v++) {
    if (tree.feature[v] < 0) continue;
    depth[tree.left[v]] = depth[tree.right[v]] = depth[v] + 1;
    max = Math.max(max, depth[v] + 1);
  }
  return max;
}

/** nClasses = 0 grows a regression tree. */
function grow(X: Dense, y: Float64Array, nClasses: number, options: TreeOptions): DecisionTree {
  const { nRows: n, nCols: d, data } = X;
  if (y.length !== n) throw new RangeError(`tree: ${n} rows but ${y.length} targets`);
  if (n === 0) throw new RangeError("tree: no training rows");
  if (d === 0) throw new RangeError("tree: no feature columns");
  const maxDepth = options.maxDepth ?? 5;
  const minSplit = Math.max(2, options.minSamplesSplit ?? 2);
  const minLeaf = Math.max(1, options.minSamplesLeaf ?? 1);
  const classifier = nClasses > 0;
  const width = classifier ? nClasses : 1;

  // order[f·n + s]: row indices sorted by feature f; a node owns positions [start, end) of every feature's list.
  const order = new Int32Array(n * d);
  const col = new Float64Array(n);
  for (let f = 0; f < d; f++) {
    for (let i = 0; i < n; i++) col[i] = data[i * d + f];
    const idx = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => col[a] - col[b] || a - b);
    order.set(idx, f * n);
  }
  const goLeft = new Uint8Array(n);
  const buffer = new Int32Array(n);
  const cl = new Float64Array(width);
  const cr = new Float64Array(width);

  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const samples: number[] = [];

  const build = (start: number, end: number, depth: number): number => {
    const v = feature.length;
    const m = end - start;
    feature.push(-1);
    threshold.push(Number.NaN);
    left.push(-1);
    right.push(-1);
    samples.push(m);
    // Node value and impurity from the rows of feature 0's list (any list holds the node's rows).
    cl.fill(0);
    let sum = 0;
    let sumSq = 0;
    for (let s = start; s < end; s++) {
      const t = y[order[s]];
      if (classifier) cl[t]++;
      else {
        sum += t;
        sumSq += t * t;
      }
    }
    let impurity: number;
    if (classifier) {
      let g = 1;
      for (let c = 0; c < width; c++) {
        value.push(cl[c] / m);
        g -= (cl[c] / m) ** 2;
      }
      impurity = g;
    } else {
      value.push(sum / m);
      impurity = sumSq / m - (sum / m) ** 2;
    }
    if (depth >= maxDepth || m < minSplit || m < 2 * minLeaf || impurity <= EPSILON) return v;

    let bestProxy = Number.NEGATIVE_INFINITY;
    let bestF = -1;
    let bestPos = -1;
    let bestT = Number.NaN;
    for (let f = 0; f < d; f++) {
      const o = f * n;
      const first = data[order[o + start] * d + f];
      const last = data[order[o + end - 1] * d + f];
      if (last <= first + FEATURE_THRESHOLD) continue; // constant in this node
      // Move rows from right to left one at a time; evaluate where the value changes.
      let sqL = 0;
      let sqR = 0;
      let sL = 0;
      let sR = sum;
      if (classifier) {
        cr.set(cl);
        cl.fill(0);
        for (let c = 0; c < width; c++) sqR += cr[c] * cr[c];
      }
      for (let p = 1; p < m; p++) {
        const row = order[o + start + p - 1];
        const t = y[row];
        if (classifier) {
          sqL += 2 * cl[t] + 1;
          cl[t]++;
          sqR -= 2 * cr[t] - 1;
          cr[t]--;
        } else {
          sL += t;
          sR -= t;
        }
        const a = data[row * d + f];
        const b = data[order[o + start + p] * d + f];
        if (b <= a + FEATURE_THRESHOLD) continue;
        if (p < minLeaf || m - p < minLeaf) continue;
        const proxy = classifier ? sqL / p + sqR / (m - p) : (sL * sL) / p + (sR * sR) / (m - p);
        if (proxy > bestProxy) {
          bestProxy = proxy;
          bestF = f;
          bestPos = p;
          let t2 = a / 2 + b / 2;
          if (t2 === b || !Number.isFinite(t2)) t2 = a;
          bestT = t2;
        }
      }
      if (classifier) {
        // Restore the node's class counts for the next feature.
        for (let c = 0; c < width; c++) cl[c] += cr[c];
      }
    }
    if (bestF < 0) return v;

    // Stable partition of every feature's list by the chosen split.
    const of = bestF * n;
    for (let s = start; s < end; s++) goLeft[order[of + s]] = s - start < bestPos ? 1 : 0;
    for (let f = 0; f < d; f++) {
      const o = f * n;
      let l = start;
      let r = 0;
      for (let s = start; s < end; s++) {
        const row = order[o + s];
        if (goLeft[row]) order[o + l++] = row;
        else buffer[r++] = row;
      }
      order.set(buffer.subarray(0, r), o + l);
    }
    feature[v] = bestF;
    threshold[v] = bestT;
    const mid = start + bestPos;
    left[v] = build(start, mid, depth + 1);
    right[v] = build(mid, end, depth + 1);
    return v;
  };
  build(0, n, 0);
  return {
    kind: classifier ? "classifier" : "regressor",
    nFeatures: d,
    width,
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float64Array.from(value),
    samples: Int32Array.from(samples),
  };
}
