/**
 * Ancestral sampling of a fitted Bayesian network in topological order (stats/structure/dag.ts), with optional evidence.
 * A numeric state (bin) becomes one of the real values of that bin, drawn uniformly (seeded).
 *
 * Evidence restricts columns to allowed levels or to a [min, max] range. Each state s of an evidence node gets
 * the weight w_s ∈ [0, 1] of its allowed part (1/0 for a level; the share of the bin's real values inside the
 * range for a bin, inside which the value is then drawn among the allowed ones only). At an evidence node
 * with parent configuration j the sampler continues with probability Z_j = Σ_s P(s|j)·w_s, drawing s ∝ P(s|j)·w_s,
 * and otherwise discards the row and starts it again. That is rejection sampling of the ancestral draw against
 * the evidence, done node by node, so accepted rows are exact draws from the model conditioned on the evidence.
 * A root node's Z is the same for every row, so its rejection step is skipped (clamping: still exact).
 */
import { DataError } from "../../data/errors.ts";
import type { Column, Table } from "../../data/types.ts";
import { dagOf, topologicalOrder } from "../../stats/structure/dag.ts";
import { createRng, type Rng } from "../../stats/primitives/rng.ts";
import { type BayesNetModel, bayesNetModelSchema } from "./model.ts";

/** Allowed values of one column: levels (null = missing) for coded columns, a closed range for numeric ones. */
export type Evidence =
  { readonly values: ReadonlyArray<string | null> } | { readonly min?: number; readonly max?: number };

export interface SampleBayesNetOptions {
  readonly evidence?: Readonly<Record<string, Evidence>>;
  /** Give up when more than this many rows were rejected per accepted row on average. Default 10000. */
  readonly maxRejectionsPerRow?: number;
}

interface Node {
  readonly col: number; // index into model.columns
  readonly parents: Int32Array; // positions in the `order` array of sampled states
  readonly cards: Int32Array;
  readonly rows: Map<number, Float64Array>;
  readonly marginal: Float64Array;
  /** Evidence weight per state, or null. */
  readonly weight: Float64Array | null;
  /** Per numeric state: the allowed [lo, hi) slice of its sorted values. */
  readonly slice: Array<[number, number]> | null;
}

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function evidenceWeights(
  model: BayesNetModel,
  colIndex: number,
  ev: Evidence,
): { weight: Float64Array; slice: Array<[number, number]> | null } {
  const col = model.columns[colIndex];
  if (col.kind === "id") throw new DataError("evidence on an id column cannot be met", { column: col.name });
  if ("levels" in col) {
    if (!("values" in ev)) {
      throw new DataError("evidence on a categorical column lists allowed values", {
        column: col.name,
        hint: '{"values": ["a", "b"]}',
      });
    }
    const allowed = new Set(ev.values.map((v) => (v === null ? -1 : col.levels.indexOf(v))));
    for (const v of ev.values) {
      if (v !== null && !col.levels.includes(v)) {
        throw new DataError(`evidence value ${JSON.stringify(v)} is not a level of the column`, {
          column: col.name,
          hint: `levels: ${col.levels.slice(0, 20).join(", ")}`,
        });
      }
    }
    return { weight: Float64Array.from(col.states, (s) => (allowed.has(s) ? 1 : 0)), slice: null };
  }
  if ("values" in ev) {
    throw new DataError("evidence on a numeric column is a range", {
      column: col.name,
      hint: '{"min": 0, "max": 10}',
    });
  }
  const lo = ev.min ?? Number.NEGATIVE_INFINITY;
  const hi = ev.max ?? Number.POSITIVE_INFINITY;
  const slice: Array<[number, number]> = [];
  const weight = new Float64Array(col.states.length);
  col.states.forEach((vals, s) => {
    if (vals === null || vals.length === 0) {
      slice.push([0, 0]);
      return;
    }
    const a = lowerBound(vals, lo);
    const b = upperBound(vals, hi);
    slice.push([a, Math.max(a, b)]);
    weight[s] = Math.max(0, b - a) / vals.length;
  });
  return { weight, slice };
}

function draw(p: Float64Array, w: Float64Array | null, total: number, rng: Rng): number {
  let u = rng.next() * total;
  const last = p.length - 1;
  for (let k = 0; k < last; k++) {
    const m = w ? p[k] * w[k] : p[k];
    if (u < m) return k;
    u -= m;
  }
  // Rounding can leave u just above the last mass; fall back to the last state with mass.
  for (let k = last; k >= 0; k--) if ((w ? p[k] * w[k] : p[k]) > 0) return k;
  return last;
}

/** n rows from the network (exactly n, even under evidence), seeded. */
export function sampleBayesNet(
  modelIn: BayesNetModel,
  n: number,
  seed: number,
  opts: SampleBayesNetOptions = {},
): Table {
  const model = bayesNetModelSchema.parse(modelIn);
  if (!Number.isInteger(n) || n < 0)
    throw new DataError(`the row count must be a whole number >= 0, got ${n}`);
  const byName = new Map(model.columns.map((c, i) => [c.name, i] as const));
  const evidence = opts.evidence ?? {};
  for (const name of Object.keys(evidence)) {
    if (!byName.has(name))
      throw new DataError("evidence names a column the model does not have", { column: name });
  }
  const dag = dagOf(model.dag.nodes, model.dag.edges);
  const order = topologicalOrder(dag);
  const pos = new Map(order.map((n, i) => [n, i] as const));
  const cardOf = (name: string): number => {
    const c = model.columns[byName.get(name) as number];
    return c.kind === "id" ? 1 : c.states.length;
  };
  const nodes: Node[] = order.map((name) => {
    const cpt = model.cpts[name];
    if (!cpt) throw new DataError("the model has no CPT for the column (a damaged model?)", { column: name });
    const col = byName.get(name) as number;
    const ev = evidence[name];
    const { weight, slice } = ev ? evidenceWeights(model, col, ev) : { weight: null, slice: null };
    // No state has an allowed part (e.g. a value between two real values: the network draws real values
    // only): every row would be rejected, so say so now instead of after maxRejectionsPerRow·n tries.
    if (weight && weight.every((w) => w === 0)) {
      throw new DataError("no value the network can draw meets the evidence", {
        column: name,
        hint: "the network draws only the real values of a column (and its levels): widen the range or allowed values",
      });
    }
    const rows = new Map<number, Float64Array>();
    for (const [k, v] of Object.entries(cpt.rows)) rows.set(Number(k), Float64Array.from(v));
    return {
      col,
      parents: Int32Array.from(cpt.parents, (p) => pos.get(p) as number),
      cards: Int32Array.from(cpt.parents, cardOf),
      rows,
      marginal: Float64Array.from(cpt.marginal),
      weight,
      slice,
    };
  });
  const rng = createRng(seed);
  const states = new Int32Array(order.length);
  const sampled = order.map(() => new Int32Array(n));
  const limit = (opts.maxRejectionsPerRow ?? 10000) * Math.max(n, 1);
  let rejected = 0;
  for (let i = 0; i < n; i++) {
    let accepted = false;
    while (!accepted) {
      accepted = true;
      for (let t = 0; t < nodes.length; t++) {
        const node = nodes[t];
        let id = 0;
        for (let k = 0; k < node.parents.length; k++) id = id * node.cards[k] + states[node.parents[k]];
        const p = node.rows.get(id) ?? node.marginal;
        let total = 1;
        if (node.weight) {
          total = 0;
          for (let k = 0; k < p.length; k++) total += p[k] * node.weight[k];
          if (total <= 0 || (node.parents.length > 0 && rng.next() >= total)) {
            accepted = false;
            break;
          }
        }
        states[t] = draw(p, node.weight, total, rng);
      }
      if (!accepted && ++rejected > limit) {
        throw new DataError(
          `the evidence is too unlikely under the model: ${rejected} rows rejected for ${i} accepted`,
          { hint: "widen the allowed values or ranges" },
        );
      }
    }
    for (let t = 0; t < nodes.length; t++) sampled[t][i] = states[t];
  }
  const out: Column[] = model.columns.map((c): Column => {
    if (c.kind === "id") {
      const codes = new Int32Array(n);
      const levels: string[] = new Array(n);
      for (let i = 0; i < n; i++) {
        codes[i] = i;
        levels[i] = String(i);
      }
      return { kind: "id", name: c.name, codes, levels };
    }
    const t = pos.get(c.name) as number;
    const node = nodes[t];
    const s = sampled[t];
    if ("levels" in c) {
      return { kind: c.kind, name: c.name, codes: Int32Array.from(s, (k) => c.states[k]), levels: c.levels };
    }
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const pool = c.states[s[i]];
      if (pool === null) {
        values[i] = Number.NaN;
        continue;
      }
      const [a, b] = node.slice ? node.slice[s[i]] : [0, pool.length];
      values[i] = pool[a + Math.floor(rng.next() * (b - a))];
    }
    return { kind: c.kind, name: c.name, values };
  });
  return { nRows: n, columns: out };
}
