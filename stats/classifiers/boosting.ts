/**
 * Gradient-boosted trees with XGBoost's second-order objective (Chen & Guestrin 2016), as xgboost with
 * tree_method="exact", grow_policy="depthwise", no row or column subsampling, no missing values:
 *   margin ŷ⁰ = base score: logit(ȳ) for "binary:logistic", ȳ for "reg:squarederror" (xgboost ≥ 2 estimates
 *   the intercept; these are its values for unweighted rows);
 *   round t: g_i, h_i = first and second derivative of the loss at ŷ_i:
 *     binary:logistic   p = σ(ŷ), g = p − y, h = max(p(1 − p), 1e−16);   reg:squarederror   g = ŷ − y, h = 1;
 *   a tree grown level by level to depth ≤ maxDepth: a node with sums (G, H) takes the split (feature j,
 *   threshold t, rows with x_j < t left) of largest
 *     loss_chg = G_L²/(H_L + λ) + G_R²/(H_R + λ) − G²/(H + λ)    with H_L, H_R ≥ min_child_weight,
 *   over thresholds t = midpoints of consecutive distinct values of x_j in the node (computed and compared in
 *   float32, as xgboost stores features and split values), and splits only when
 *   loss_chg > 1e−6 (xgboost's kRtEps; min_split_loss γ = 0); a leaf holds η · (−G/(H + λ)) (0 when
 *   H < min_child_weight), added to the margin of its rows.
 * Gains are compared in float32, as xgboost stores them; ties keep the lower feature index, then the lower
 * threshold (xgboost's SplitEntry).
 * xgboost's default tree_method "hist" (since 2.0) searches the same splits when a feature has at most 256
 * distinct training values, but sends a value between two training values to the side of the upper one.
 * Gradients, sums and leaves are float64 (xgboost's are float32: margins agree to ≈ 1e−6 relative).
 */
import type { Dense } from "../primitives/matrix.ts";

export type BoosterObjective = "binary:logistic" | "reg:squarederror";

export interface BoosterOptions {
  readonly objective: BoosterObjective;
  /** Boosting rounds (xgboost n_estimators). Default 100. */
  readonly rounds?: number;
  /** Shrinkage η (xgboost learning_rate / eta). Default 0.3 (xgboost's). */
  readonly learningRate?: number;
  /** Default 6 (xgboost's). */
  readonly maxDepth?: number;
  /** L2 penalty on leaf weights (xgboost reg_lambda). Default 1. */
  readonly lambda?: number;
  /** Minimum hessian sum per child (xgboost min_child_weight). Default 1. */
  readonly minChildWeight?: number;
}

/** One tree: node v splits on feature[v] at threshold[v] (x < t goes left), or is a leaf (feature −1). */
export interface BoostedTree {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly value: Float64Array;
}

export interface Booster {
  readonly objective: BoosterObjective;
  readonly nFeatures: number;
  /** Starting margin: logit(base score) or the base score itself. */
  readonly baseMargin: number;
  readonly trees: readonly BoostedTree[];
}

const RT_EPS = 1e-6;

/** Fits the booster; y ∈ {0, 1} for binary:logistic (both classes present), any finite numbers otherwise. */
export function fitBooster(X: Dense, y: ArrayLike<number>, options: BoosterOptions): Booster {
  const { nRows: n, nCols: d, data } = X;
  if (y.length !== n) throw new Error(`fitBooster: ${y.length} targets for ${n} rows`);
  if (n === 0) throw new Error("fitBooster: no training rows");
  for (let e = 0; e < data.length; e++)
    if (!Number.isFinite(data[e]))
      throw new Error(`fitBooster: feature value at row ${Math.floor(e / d)} is not finite`);
  const logistic = options.objective === "binary:logistic";
  const rounds = options.rounds ?? 100;
  const eta = options.learningRate ?? 0.3;
  const maxDepth = options.maxDepth ?? 6;
  const lambda = options.lambda ?? 1;
  const mcw = options.minChildWeight ?? 1;

  let mean = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(y[i])) throw new Error(`fitBooster: target of row ${i} is not finite`);
    if (logistic && y[i] !== 0 && y[i] !== 1) throw new Error(`fitBooster: label of row ${i} is not 0 or 1`);
    mean += y[i];
  }
  mean /= n;
  if (logistic && (mean === 0 || mean === 1))
    throw new Error("fitBooster: both classes must occur in the training labels");
  const baseMargin = logistic ? Math.log(mean / (1 - mean)) : mean;

  // Row order of each feature, ascending by value (stable), computed once.
  const order: Int32Array[] = [];
  for (let j = 0; j < d; j++) {
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    idx.sort((a, b) => data[a * d + j] - data[b * d + j] || a - b);
    order.push(idx);
  }

  const margin = new Float64Array(n).fill(baseMargin);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const trees: BoostedTree[] = [];
  for (let t = 0; t < rounds; t++) {
    for (let i = 0; i < n; i++) {
      if (logistic) {
        const p = 1 / (1 + Math.exp(-margin[i]));
        g[i] = p - y[i];
        h[i] = Math.max(p * (1 - p), 1e-16);
      } else {
        g[i] = margin[i] - y[i];
        h[i] = 1;
      }
    }
    const tree = growTree(data, n, d, order, g, h, maxDepth, lambda, mcw, eta);
    trees.push(tree);
    for (let i = 0; i < n; i++) margin[i] += leafValue(tree, data, i * d);
  }
  return { objective: options.objective, nFeatures: d, baseMargin, trees };
}

function leafValue(tree: BoostedTree, x: Float64Array, off: number): number {
  let v = 0;
  while (tree.feature[v] >= 0)
    v = Math.fround(x[off + tree.feature[v]]) < tree.threshold[v] ? tree.left[v] : tree.right[v];
  return tree.value[v];
}

const gain = (G: number, H: number, lambda: number): number => (G * G) / (H + lambda);

function growTree(
  data: Float64Array,
  n: number,
  d: number,
  order: readonly Int32Array[],
  g: Float64Array,
  h: Float64Array,
  maxDepth: number,
  lambda: number,
  mcw: number,
  eta: number,
): BoostedTree {
  const feature: number[] = [-1];
  const threshold: number[] = [0];
  const left: number[] = [-1];
  const right: number[] = [-1];
  const value: number[] = [0];
  // node of every row; the nodes being expanded at the current level, with their sums.
  const pos = new Int32Array(n);
  let level = [0];
  let sumG = [0];
  let sumH = [0];
  for (let i = 0; i < n; i++) {
    sumG[0] += g[i];
    sumH[0] += h[i];
  }
  for (let depth = 0; level.length > 0; depth++) {
    const m = level.length;
    // Slot of each row's node among the level's nodes (−1: the row's node is already a leaf).
    const slotOfNode = new Map<number, number>(level.map((v, k) => [v, k]));
    const rowSlot = new Int32Array(n);
    for (let i = 0; i < n; i++) rowSlot[i] = slotOfNode.get(pos[i]) ?? -1;
    const bestLoss = new Float64Array(m).fill(Number.NEGATIVE_INFINITY);
    const bestFeature = new Int32Array(m).fill(-1);
    const bestThreshold = new Float64Array(m);
    if (depth < maxDepth) {
      const root = level.map((_, k) => gain(sumG[k], sumH[k], lambda));
      const gl = new Float64Array(m);
      const hl = new Float64Array(m);
      const last = new Float64Array(m);
      const seen = new Uint8Array(m);
      for (let j = 0; j < d; j++) {
        gl.fill(0);
        hl.fill(0);
        seen.fill(0);
        const ord = order[j];
        for (let e = 0; e < n; e++) {
          const i = ord[e];
          const k = rowSlot[i];
          if (k < 0) continue;
          const x = data[i * d + j];
          if (seen[k] === 1 && x !== last[k] && hl[k] >= mcw) {
            const hr = sumH[k] - hl[k];
            if (hr >= mcw) {
              // xgboost keeps a split's loss_chg as float32: candidates whose gains differ only by rounding
              // (complementary one-hot columns, a numeric split making the same partition) tie, and the tie
              // goes to the lower feature index.
              const loss = Math.fround(
                gain(gl[k], hl[k], lambda) + gain(sumG[k] - gl[k], hr, lambda) - root[k],
              );
              if (loss > bestLoss[k]) {
                bestLoss[k] = loss;
                bestFeature[k] = j;
                // In float32, as xgboost: (fvalue + last_fvalue) * 0.5f. A test value equal to a midpoint
                // in decimal (26.7 between 26.695 and 26.705) goes the way xgboost sends it.
                bestThreshold[k] = Math.fround(Math.fround(Math.fround(x) + Math.fround(last[k])) * 0.5);
              }
            }
          }
          gl[k] += g[i];
          hl[k] += h[i];
          last[k] = x;
          seen[k] = 1;
        }
      }
    }
    const next: number[] = [];
    const nextG: number[] = [];
    const nextH: number[] = [];
    const childOf = new Map<number, [number, number, number]>(); // node → (feature, left, right)
    for (let k = 0; k < m; k++) {
      const v = level[k];
      if (bestFeature[k] >= 0 && bestLoss[k] > RT_EPS) {
        const l = feature.length;
        const r = l + 1;
        feature.push(-1, -1);
        threshold.push(0, 0);
        left.push(-1, -1);
        right.push(-1, -1);
        value.push(0, 0);
        feature[v] = bestFeature[k];
        threshold[v] = bestThreshold[k];
        left[v] = l;
        right[v] = r;
        childOf.set(v, [bestFeature[k], l, r]);
        next.push(l, r);
        nextG.push(0, 0);
        nextH.push(0, 0);
      } else {
        value[v] = sumH[k] < mcw ? 0 : (eta * -sumG[k]) / (sumH[k] + lambda);
      }
    }
    if (next.length === 0) break;
    const nextSlot = new Map<number, number>(next.map((v, k) => [v, k]));
    for (let i = 0; i < n; i++) {
      const c = childOf.get(pos[i]);
      if (!c) continue;
      const v = pos[i];
      pos[i] = Math.fround(data[i * d + c[0]]) < threshold[v] ? c[1] : c[2];
      const k = nextSlot.get(pos[i]) as number;
      nextG[k] += g[i];
      nextH[k] += h[i];
    }
    level = next;
    sumG = nextG;
    sumH = nextH;
  }
  return {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float64Array.from(value),
  };
}

/** ŷ = base margin + Σ leaf values, per row (xgboost predict with output_margin=True). */
export function boosterMargin(b: Booster, X: Dense): Float64Array {
  const { nRows: n, nCols: d, data } = X;
  if (d !== b.nFeatures)
    throw new Error(`boosterMargin: ${d} features, the booster was fitted on ${b.nFeatures}`);
  const out = new Float64Array(n).fill(b.baseMargin);
  for (const tree of b.trees) for (let i = 0; i < n; i++) out[i] += leafValue(tree, data, i * d);
  return out;
}

/** binary:logistic: P(y = 1) = σ(margin); reg:squarederror: the prediction (= margin). */
export function boosterPredict(b: Booster, X: Dense): Float64Array {
  const m = boosterMargin(b, X);
  if (b.objective === "binary:logistic") for (let i = 0; i < m.length; i++) m[i] = 1 / (1 + Math.exp(-m[i]));
  return m;
}
