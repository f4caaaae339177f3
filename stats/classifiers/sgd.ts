/**
 * Incremental logistic regression, as MALLM-GAN's official discriminator uses it: sklearn
 * SGDClassifier(loss="log_loss", penalty="l2", alpha=1e-4, learning_rate="optimal", warm_start=True)
 * updated with partial_fit, i.e. one shuffled pass over each new batch, weights and step counter carried
 * over. Hand-written: no installed JS library offers warm-started SGD with sklearn's schedule.
 * Labels: real = 1, synthetic = 0 (the official code's `real_identifier`).
 */
import { z } from "zod";
import { getColumn, isNumeric } from "../../data/build.ts";
import type { Table } from "../../data/types.ts";
import { columnMean, type OneHotSpec, oneHotSpec, oneHotWidth, writeOneHot } from "../metrics/rows/encode.ts";
import type { Dense } from "../primitives/matrix.ts";
import { createRng, permutation } from "../primitives/rng.ts";

/** Weights kept as w = wscale·v so the L2 shrink costs O(1) per sample (sklearn WeightVector). */
export interface SgdState {
  readonly weights: Float64Array;
  intercept: number;
  /** sklearn `t_`: 1 + samples seen so far; drives the learning-rate schedule across calls. */
  t: number;
  readonly alpha: number;
}

export function createSgdState(nFeatures: number, alpha = 1e-4): SgdState {
  return { weights: new Float64Array(nFeatures), intercept: 0, t: 1, alpha };
}

// dloss/dp of log(1 + e^{−yp}), y ∈ {−1, 1}, with sklearn's ±18 cut-offs (sklearn _sgd_fast Log.dloss).
function logDloss(p: number, y: number): number {
  const z = p * y;
  if (z > 18) return Math.exp(-z) * -y;
  if (z < -18) return -y;
  return -y / (Math.exp(z) + 1);
}

// η_t = 1/(α·(t0 + t − 1)), t0 = 1/(η0·α), η0 = sqrt(1/sqrt(α)) (sklearn learning_rate="optimal", Bottou's heuristic).
function optimalInit(alpha: number): number {
  const typw = Math.sqrt(1 / Math.sqrt(alpha));
  const eta0 = typw / Math.max(1, logDloss(-typw, 1));
  return 1 / (eta0 * alpha);
}

/**
 * One pass of plain SGD over the rows of X in `order` (sklearn _plain_sgd, one epoch): per sample
 * w ← (1 − ηα)·w − η·ℓ'(p, y)·x, b ← b − η·ℓ'(p, y).
 */
export function sgdEpoch(state: SgdState, X: Dense, y: Uint8Array, order: ArrayLike<number>): void {
  const d = X.nCols;
  const w = state.weights;
  const alpha = state.alpha;
  const t0 = optimalInit(alpha);
  let wscale = 1;
  let b = state.intercept;
  let t = state.t;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const off = i * d;
    let dot = 0;
    for (let j = 0; j < d; j++) dot += w[j] * X.data[off + j];
    const p = dot * wscale + b;
    const eta = 1 / (alpha * (t0 + t - 1));
    let dloss = logDloss(p, y[i] === 1 ? 1 : -1);
    if (dloss < -1e12) dloss = -1e12;
    else if (dloss > 1e12) dloss = 1e12;
    const update = -eta * dloss;
    wscale *= Math.max(0, 1 - eta * alpha);
    if (wscale < 1e-9) {
      for (let j = 0; j < d; j++) w[j] *= wscale;
      wscale = 1;
    }
    if (update !== 0) {
      const c = update / wscale;
      for (let j = 0; j < d; j++) w[j] += c * X.data[off + j];
      b += update;
    }
    t++;
  }
  for (let j = 0; j < d; j++) w[j] *= wscale;
  state.intercept = b;
  state.t = t;
}

/** z_i = w·x_i + b. */
export function sgdDecision(state: SgdState, X: Dense): Float64Array {
  const d = X.nCols;
  const out = new Float64Array(X.nRows);
  for (let i = 0; i < X.nRows; i++) {
    let z = state.intercept;
    for (let j = 0; j < d; j++) z += state.weights[j] * X.data[i * d + j];
    out[i] = z;
  }
  return out;
}

export interface DiscriminatorOptions {
  /** L2 strength (sklearn `alpha`). Default 1e-4. */
  readonly alpha?: number;
  /** z-standardise numerical features with the real table's mean and std (ddof 0). Default true; the official code feeds raw numbers. */
  readonly standardize?: boolean;
  /** Passes over each batch per partialFit (sklearn partial_fit makes 1). Default 1. */
  readonly epochsPerFit?: number;
}

/**
 * Feature layout fitted on the real table: numerical columns (missing → real mean, then (x − center)/scale),
 * then one one-hot block per categorical/boolean column (stats/metrics/rows/encode.ts oneHotSpec order).
 */
export interface DiscriminatorFeatures {
  readonly numeric: ReadonlyArray<{
    readonly name: string;
    readonly mean: number;
    readonly center: number;
    readonly scale: number;
  }>;
  readonly oneHot: ReadonlyArray<{
    readonly name: string;
    readonly levels: readonly string[];
    readonly missing: boolean;
  }>;
}

/** Everything needed to rebuild a discriminator: plain JSON. */
export interface DiscriminatorSnapshot {
  readonly version: 1;
  readonly features: DiscriminatorFeatures;
  readonly weights: number[];
  readonly intercept: number;
  readonly t: number;
  readonly alpha: number;
  readonly epochsPerFit: number;
}

export const discriminatorSnapshotSchema = z.object({
  version: z.literal(1),
  features: z.object({
    numeric: z.array(z.object({ name: z.string(), mean: z.number(), center: z.number(), scale: z.number() })),
    oneHot: z.array(z.object({ name: z.string(), levels: z.array(z.string()), missing: z.boolean() })),
  }),
  weights: z.array(z.number()),
  intercept: z.number(),
  t: z.number().min(1),
  alpha: z.number().positive(),
  epochsPerFit: z.number().int().min(1),
});

/** `S`: the snapshot type (engines/mallm/classifiers.ts has refitting discriminators with their own snapshots). */
export interface IncrementalDiscriminator<S = DiscriminatorSnapshot> {
  /** One partial_fit on real rows (label 1) and synthetic rows (label 0), shuffled with `seed`. */
  partialFit(real: Table, synthetic: Table, seed: number): void;
  /** Share of rows of both tables classified correctly (real ⇔ decision > 0, sklearn predict). */
  accuracy(real: Table, synthetic: Table): number;
  /** P(real | row) = 1/(1 + e^{−z}) for each row of `t`. */
  predictProba(t: Table): Float64Array;
  snapshot(): S;
  restore(snapshot: unknown): void;
}

// StandardScaler per numerical column after mean imputation: center = mean, scale = sqrt(Σ(x − mean)²/n), < 10·eps → 1.
export function fitDiscriminatorFeatures(real: Table, standardize = true): DiscriminatorFeatures {
  const numeric: Array<{ name: string; mean: number; center: number; scale: number }> = [];
  const oneHot: Array<{ name: string; levels: readonly string[]; missing: boolean }> = [];
  for (const col of real.columns) {
    if (col.kind === "id") continue;
    if (isNumeric(col)) {
      const m0 = columnMean(col.values);
      const mean = Number.isNaN(m0) ? 0 : m0;
      let ss = 0;
      for (let i = 0; i < col.values.length; i++) {
        const v = col.values[i];
        const t = (Number.isNaN(v) ? mean : v) - mean;
        ss += t * t;
      }
      const sd = col.values.length === 0 ? 1 : Math.sqrt(ss / col.values.length);
      numeric.push(
        standardize
          ? { name: col.name, mean, center: mean, scale: sd < 10 * Number.EPSILON ? 1 : sd }
          : { name: col.name, mean, center: 0, scale: 1 },
      );
    } else {
      const spec = oneHotSpec(col);
      oneHot.push({ name: col.name, levels: spec.levels, missing: spec.missing });
    }
  }
  return { numeric, oneHot };
}

export function featureWidth(f: DiscriminatorFeatures): number {
  return f.oneHot.reduce((w, b) => w + oneHotWidth(b), f.numeric.length);
}

/** Encodes `t`; categories unseen in the real table give an all-zero block (get_dummies + column alignment). */
export function encodeFeatures(f: DiscriminatorFeatures, t: Table): Dense {
  const d = featureWidth(f);
  const n = t.nRows;
  const data = new Float64Array(n * d);
  let j = 0;
  for (const { name, mean, center, scale } of f.numeric) {
    const col = getColumn(t, name);
    if (!isNumeric(col))
      throw new Error(`discriminator: column "${name}" is ${col.kind} here but numerical in the real table`);
    for (let i = 0; i < n; i++) {
      const v = col.values[i];
      data[i * d + j] = ((Number.isNaN(v) ? mean : v) - center) / scale;
    }
    j++;
  }
  for (const b of f.oneHot) {
    const col = getColumn(t, b.name);
    if (isNumeric(col))
      throw new Error(
        `discriminator: column "${b.name}" is ${col.kind} here but categorical in the real table`,
      );
    const spec: OneHotSpec = { levels: b.levels, missing: b.missing };
    writeOneHot(col, spec, data, d, j);
    j += oneHotWidth(spec);
  }
  return { nRows: n, nCols: d, data };
}

/**
 * A discriminator whose features are fitted on `real` once: numerical columns mean-imputed and
 * standardised, categorical/boolean one-hot over the real levels (unseen levels → all-zero block, as the
 * official code's get_dummies + column alignment), id columns dropped.
 */
export function createIncrementalDiscriminator(
  real: Table,
  opts: DiscriminatorOptions = {},
): IncrementalDiscriminator {
  let features = fitDiscriminatorFeatures(real, opts.standardize ?? true);
  let epochsPerFit = opts.epochsPerFit ?? 1;
  let state = createSgdState(featureWidth(features), opts.alpha ?? 1e-4);
  const encode = (t: Table): Dense => encodeFeatures(features, t);
  const stack = (a: Table, b: Table): { X: Dense; y: Uint8Array } => {
    const A = encode(a);
    const B = encode(b);
    const data = new Float64Array((A.nRows + B.nRows) * A.nCols);
    data.set(A.data);
    data.set(B.data, A.data.length);
    const y = new Uint8Array(A.nRows + B.nRows);
    y.fill(1, 0, A.nRows);
    return { X: { nRows: A.nRows + B.nRows, nCols: A.nCols, data }, y };
  };

  return {
    partialFit(r, s, seed) {
      const { X, y } = stack(r, s);
      const rng = createRng(seed);
      for (let e = 0; e < epochsPerFit; e++) sgdEpoch(state, X, y, permutation(X.nRows, rng));
    },
    accuracy(r, s) {
      const { X, y } = stack(r, s);
      if (X.nRows === 0) return Number.NaN;
      const z = sgdDecision(state, X);
      let correct = 0;
      for (let i = 0; i < z.length; i++) if ((z[i] > 0 ? 1 : 0) === y[i]) correct++;
      return correct / z.length;
    },
    predictProba(t) {
      const z = sgdDecision(state, encode(t));
      for (let i = 0; i < z.length; i++) z[i] = 1 / (1 + Math.exp(-z[i]));
      return z;
    },
    snapshot() {
      return {
        version: 1,
        features: structuredClone(features),
        weights: Array.from(state.weights),
        intercept: state.intercept,
        t: state.t,
        alpha: state.alpha,
        epochsPerFit,
      };
    },
    restore(raw) {
      const s = discriminatorSnapshotSchema.parse(raw);
      const width = featureWidth(s.features);
      if (s.weights.length !== width) {
        throw new Error(`discriminator snapshot: ${s.weights.length} weights for ${width} features`);
      }
      features = s.features;
      epochsPerFit = s.epochsPerFit;
      state = { weights: Float64Array.from(s.weights), intercept: s.intercept, t: s.t, alpha: s.alpha };
    },
  };
}
