/**
 * MALLM-GAN's discriminators behind `--discriminator` (issue 5): "sgd" is the paper's incremental logistic
 * regression (stats/classifiers/sgd.ts); "logistic" refits the converged L2 logistic regression (stats/classifiers/logistic.ts) on every
 * (real, synthetic) training row seen so far; "forest" refits stats/classifiers/forest.ts's random forest (seeded, sklearn
 * defaults, depth-limited) on a seeded bounded sample of them. All three have the IncrementalDiscriminator interface and stats/classifiers/sgd.ts's
 * features, so engines/mallm/score.ts scores and re-scores with any of them.
 *
 * Snapshots stay small (O(features + fits)): the rows seen are kept as content-addressed chunks (one per
 * partialFit) that the caller persists from `chunks()` and hands back through `options.chunks`; the snapshot
 * lists their ids and the last fit's seed, and `restore` refits from them. Refitting is exact (Newton for
 * logistic, the same sample and forest seed for forest), and cheaper to keep than a forest's ~100 kB JSON model.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Table } from "../../data/types.ts";
import { oneHotWidth } from "../../stats/metrics/rows/encode.ts";
import { type Forest, fitForest, forestProba } from "../../stats/classifiers/forest.ts";
import { decisionFunction, fitLogistic } from "../../stats/classifiers/logistic.ts";
import { type Dense, takeRows } from "../../stats/primitives/matrix.ts";
import { createRng, permutation } from "../../stats/primitives/rng.ts";
import {
  createIncrementalDiscriminator,
  type DiscriminatorFeatures,
  type DiscriminatorSnapshot,
  discriminatorSnapshotSchema,
  encodeFeatures,
  featureWidth,
  fitDiscriminatorFeatures,
  type IncrementalDiscriminator,
} from "../../stats/classifiers/sgd.ts";

export const DISCRIMINATOR_KINDS = ["sgd", "logistic", "forest"] as const;
export type DiscriminatorKind = (typeof DISCRIMINATOR_KINDS)[number];

/**
 * The training rows of one partialFit, real rows first, in the encoded feature space (plain JSON): `numeric` is
 * row-major nRows × (numerical features), already imputed and scaled; `hot` is row-major nRows × (one-hot
 * blocks), the block's hot slot or −1 for an all-zero block. As small as the raw rows, exact through JSON.
 */
export interface TrainingChunk {
  readonly real: number;
  readonly synthetic: number;
  readonly numeric: number[];
  readonly hot: number[];
}

export const trainingChunkSchema = z.object({
  real: z.number().int().min(0),
  synthetic: z.number().int().min(0),
  numeric: z.array(z.number()),
  hot: z.array(z.number().int().min(-1)),
});

const featuresSchema = discriminatorSnapshotSchema.shape.features;

/** Snapshot of a refitting discriminator: features, the chunks seen (by id) and the last fit's seed. */
export const refitSnapshotSchema = z.object({
  version: z.literal(1),
  kind: z.enum(["logistic", "forest"]),
  features: featuresSchema,
  chunks: z.array(z.string().regex(/^[0-9a-f]{16}$/)),
  /** Seed of the last partialFit (forest: bounded sample and forest seed); null before the first. */
  seed: z.number().int().nullable(),
  /** Logistic: inverse L2 strength. */
  C: z.number().positive(),
  /** Forest: trees, maximum depth, rows in the bounded sample. */
  nEstimators: z.number().int().positive(),
  maxDepth: z.number().int().positive(),
  maxSample: z.number().int().positive(),
});
export type RefitSnapshot = Omit<z.infer<typeof refitSnapshotSchema>, "features"> & {
  readonly features: DiscriminatorFeatures;
};

/** Any discriminator's snapshot: a refit one carries `kind`; the SGD one (stats/classifiers/sgd.ts) predates it and has none. */
export const anyDiscriminatorSnapshotSchema = z.union([refitSnapshotSchema, discriminatorSnapshotSchema]);
export type AnyDiscriminatorSnapshot = DiscriminatorSnapshot | RefitSnapshot;

export interface MallmDiscriminator extends IncrementalDiscriminator<AnyDiscriminatorSnapshot> {
  readonly kind: DiscriminatorKind;
  /** The chunks the current snapshot references, by id: persist them to restore later (sgd: none). */
  chunks(): ReadonlyMap<string, TrainingChunk>;
}

export interface DiscriminatorChoiceOptions {
  /** z-standardise numerical features with the real table's stats (stats/classifiers/sgd.ts). Default true. */
  readonly standardize?: boolean;
  /** Logistic: inverse L2 strength (sklearn `C`). Default 1. */
  readonly C?: number;
  /** Forest: trees. Default 50. */
  readonly nEstimators?: number;
  /** Forest: maximum tree depth. Default 5. */
  readonly maxDepth?: number;
  /** Forest: at most this many rows (a seeded sample of all rows seen) per refit. Default 256. */
  readonly maxSample?: number;
  /** Chunks of an earlier run by id (what `chunks()` returned), needed by `restore` of logistic and forest. */
  readonly chunks?: (id: string) => TrainingChunk | undefined;
}

/** The ids of the chunks a snapshot needs on restore (none for sgd). */
export function snapshotChunkIds(snapshot: AnyDiscriminatorSnapshot): readonly string[] {
  return "kind" in snapshot ? snapshot.chunks : [];
}

/** A discriminator of `kind` whose features are fitted on `real` (stats/classifiers/sgd.ts fitDiscriminatorFeatures). */
export function createDiscriminator(
  kind: DiscriminatorKind,
  real: Table,
  opts: DiscriminatorChoiceOptions = {},
): MallmDiscriminator {
  if (kind === "sgd") {
    const sgd = createIncrementalDiscriminator(real, { standardize: opts.standardize ?? true });
    return { ...sgd, kind, chunks: () => new Map() };
  }
  return createRefitDiscriminator(kind, real, opts);
}

/** id = first 16 hex digits of sha256 of the chunk's JSON (content-addressed: equal rows, equal id). */
function chunkId(chunk: TrainingChunk): string {
  const canonical = JSON.stringify([chunk.real, chunk.synthetic, chunk.numeric, chunk.hot]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

/** Encodes real then synthetic rows into a chunk: numerical block copied, one-hot blocks reduced to their hot slot. */
function toChunk(f: DiscriminatorFeatures, real: Table, synthetic: Table): TrainingChunk {
  const p = f.numeric.length;
  const q = f.oneHot.length;
  const numeric: number[] = [];
  const hot: number[] = [];
  for (const t of [real, synthetic]) {
    const X = encodeFeatures(f, t);
    const d = X.nCols;
    for (let i = 0; i < X.nRows; i++) {
      const off = i * d;
      for (let j = 0; j < p; j++) numeric.push(X.data[off + j]);
      let col = off + p;
      for (let b = 0; b < q; b++) {
        const w = oneHotWidth(f.oneHot[b]);
        let slot = -1;
        for (let s = 0; s < w; s++) if (X.data[col + s] === 1) slot = s;
        hot.push(slot);
        col += w;
      }
    }
  }
  return { real: real.nRows, synthetic: synthetic.nRows, numeric, hot };
}

/** The rows of `chunks` as one dense matrix with labels (real = 1); checks each chunk against the features. */
function decodeChunks(
  f: DiscriminatorFeatures,
  chunks: readonly TrainingChunk[],
): { X: Dense; y: Uint8Array } {
  const p = f.numeric.length;
  const q = f.oneHot.length;
  const d = featureWidth(f);
  const widths = f.oneHot.map((b) => oneHotWidth(b));
  let n = 0;
  for (const c of chunks) {
    const rows = c.real + c.synthetic;
    if (c.numeric.length !== rows * p || c.hot.length !== rows * q)
      throw new Error("discriminator chunk: its shape does not match the snapshot's features");
    n += rows;
  }
  const data = new Float64Array(n * d);
  const y = new Uint8Array(n);
  let i = 0;
  for (const c of chunks) {
    const rows = c.real + c.synthetic;
    for (let r = 0; r < rows; r++, i++) {
      const off = i * d;
      for (let j = 0; j < p; j++) data[off + j] = c.numeric[r * p + j];
      let col = off + p;
      for (let b = 0; b < q; b++) {
        const slot = c.hot[r * q + b];
        if (slot >= widths[b]) throw new Error("discriminator chunk: one-hot slot out of range");
        if (slot >= 0) data[col + slot] = 1;
        col += widths[b];
      }
      y[i] = r < c.real ? 1 : 0;
    }
  }
  return { X: { nRows: n, nCols: d, data }, y };
}

/** The fitted model: P(real | x) per row. */
type Model =
  | { readonly type: "constant"; readonly p: number }
  | { readonly type: "linear"; readonly weights: Float64Array; readonly intercept: number }
  | { readonly type: "forest"; readonly forest: Forest };

type Tree = Forest["trees"][number];

/**
 * The tree cut at `maxDepth` (sklearn max_depth): nodes at that depth become leaves with their own positive
 * share, which the grown tree already stores at every node. Splits above are chosen exactly as when grown.
 */
function truncateTree(tree: Tree, maxDepth: number): Tree {
  const feature = tree.feature.slice();
  const stack = [0, 0];
  while (stack.length > 0) {
    const depth = stack.pop() as number;
    const v = stack.pop() as number;
    if (feature[v] < 0) continue;
    if (depth >= maxDepth) feature[v] = -1;
    else stack.push(tree.left[v], depth + 1, tree.right[v], depth + 1);
  }
  return { ...tree, feature };
}

function probabilities(model: Model, X: Dense): Float64Array {
  const out = new Float64Array(X.nRows);
  if (model.type === "constant") return out.fill(model.p);
  if (model.type === "linear") {
    const z = decisionFunction({ ...model, iterations: 0, gradientMax: 0 }, X);
    for (let i = 0; i < z.length; i++) out[i] = 1 / (1 + Math.exp(-z[i]));
    return out;
  }
  // P(real) = mean over trees of the reached leaf's real share (sklearn predict_proba).
  return forestProba(model.forest, X);
}

function fitModel(
  kind: "logistic" | "forest",
  X: Dense,
  y: Uint8Array,
  seed: number,
  s: { C: number; nEstimators: number; maxDepth: number; maxSample: number },
): Model {
  let nReal = 0;
  for (let i = 0; i < y.length; i++) nReal += y[i];
  // One class only (or nothing): no boundary to learn; predict that class (0.5, i.e. synthetic, when empty).
  if (nReal === 0 || nReal === y.length)
    return { type: "constant", p: y.length === 0 ? 0.5 : nReal > 0 ? 1 : 0 };
  if (kind === "logistic") {
    const fit = fitLogistic(X, y, { C: s.C });
    return { type: "linear", weights: fit.weights, intercept: fit.intercept };
  }
  // Bounded sample (the first maxSample of a seeded permutation, in pool order): each refit costs the same
  // however many rows have been seen.
  let Xs = X;
  let ys = y;
  if (X.nRows > s.maxSample) {
    const rows = permutation(X.nRows, createRng(seed)).subarray(0, s.maxSample).sort();
    Xs = takeRows(X, rows);
    ys = Uint8Array.from(rows, (i) => y[i]);
  }
  const grown = fitForest(Xs, ys, { nTrees: s.nEstimators, seed });
  const forest: Forest = { ...grown, trees: grown.trees.map((t) => truncateTree(t, s.maxDepth)) };
  return { type: "forest", forest };
}

function createRefitDiscriminator(
  kind: "logistic" | "forest",
  real: Table,
  opts: DiscriminatorChoiceOptions,
): MallmDiscriminator {
  const source = opts.chunks ?? (() => undefined);
  let settings = {
    C: opts.C ?? 1,
    nEstimators: opts.nEstimators ?? 50,
    maxDepth: opts.maxDepth ?? 5,
    maxSample: opts.maxSample ?? 256,
  };
  let features = fitDiscriminatorFeatures(real, opts.standardize ?? true);
  let ids: string[] = [];
  let held = new Map<string, TrainingChunk>();
  let seed: number | null = null;
  let model: Model = { type: "constant", p: 0.5 };

  const refit = (): void => {
    if (seed === null) {
      model = { type: "constant", p: 0.5 };
      return;
    }
    const { X, y } = decodeChunks(
      features,
      ids.map((id) => held.get(id) as TrainingChunk),
    );
    model = fitModel(kind, X, y, seed, settings);
  };
  const proba = (t: Table): Float64Array => probabilities(model, encodeFeatures(features, t));

  return {
    kind,
    partialFit(r, s, fitSeed) {
      const chunk = toChunk(features, r, s);
      const id = chunkId(chunk);
      ids.push(id);
      held.set(id, chunk);
      seed = fitSeed;
      refit();
    },
    accuracy(r, s) {
      const n = r.nRows + s.nRows;
      if (n === 0) return Number.NaN;
      const pr = proba(r);
      const ps = proba(s);
      let correct = 0;
      // Real ⇔ P(real) > 0.5 (sklearn predict: a tie goes to the first class, synthetic = 0).
      for (let i = 0; i < pr.length; i++) if (pr[i] > 0.5) correct++;
      for (let i = 0; i < ps.length; i++) if (!(ps[i] > 0.5)) correct++;
      return correct / n;
    },
    predictProba: proba,
    snapshot() {
      return { version: 1, kind, features: structuredClone(features), chunks: [...ids], seed, ...settings };
    },
    restore(raw) {
      const snap = refitSnapshotSchema.parse(raw);
      if (snap.kind !== kind)
        throw new Error(`discriminator snapshot is a ${snap.kind} discriminator, not ${kind}`);
      const next = new Map<string, TrainingChunk>();
      for (const id of snap.chunks) {
        const c = held.get(id) ?? source(id);
        if (c === undefined) throw new Error(`discriminator snapshot: training chunk ${id} is not available`);
        const parsed = trainingChunkSchema.parse(c);
        if (chunkId(parsed) !== id)
          throw new Error(`discriminator snapshot: training chunk ${id} does not match its id`);
        next.set(id, parsed);
      }
      features = snap.features;
      settings = {
        C: snap.C,
        nEstimators: snap.nEstimators,
        maxDepth: snap.maxDepth,
        maxSample: snap.maxSample,
      };
      ids = [...snap.chunks];
      held = next;
      seed = snap.seed;
      refit();
    },
    chunks() {
      return new Map(ids.map((id) => [id, held.get(id) as TrainingChunk]));
    },
  };
}
