/**
 * Causal structure learning for MALLM-GAN's initial theta: greedy hill climbing over DAGs (add, delete and
 * reverse one edge) maximising the BIC score of discrete multinomial CPTs, as pgmpy's HillClimbSearch with
 * BicScore does (what the official code calls through bnlearn). Hand-written: no JS library learns BNs.
 * Pure; deterministic (ties go to the earlier column pair; restarts take a seed).
 */
import { isNumeric } from "../../data/build.ts";
import type { Table } from "../../data/types.ts";
import { dropNaN, quantileSorted, sortedCopy } from "../primitives/binning.ts";
import { type Dag, dagOf } from "./dag.ts";
import { createRng } from "../primitives/rng.ts";

/** Discrete codes 0..card−1 per column (row-aligned), the sufficient statistics' input. */
export interface Discretised {
  readonly names: readonly string[];
  readonly codes: readonly Int32Array[];
  readonly cards: Int32Array;
  readonly nRows: number;
}

// Numerical/datetime → right-closed quantile bins on the unique edges q_{k/B}, k = 1..B−1 (pandas.qcut, duplicates="drop"); missing → own level; id columns dropped; unused levels removed.
export function discretiseTable(t: Table, bins = 5): Discretised {
  const names: string[] = [];
  const codes: Int32Array[] = [];
  const cards: number[] = [];
  for (const col of t.columns) {
    if (col.kind === "id") continue;
    const raw = new Int32Array(t.nRows);
    if (isNumeric(col)) {
      const sorted = sortedCopy(dropNaN(col.values));
      const edges: number[] = [];
      for (let k = 1; k < bins; k++) {
        const e = quantileSorted(sorted, k / bins);
        if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
      }
      for (let i = 0; i < t.nRows; i++) {
        const v = col.values[i];
        if (v !== v) {
          raw[i] = -1;
          continue;
        }
        let b = 0;
        while (b < edges.length && edges[b] < v) b++;
        raw[i] = b;
      }
    } else {
      raw.set(col.codes);
    }
    const [compact, card] = compactCodes(raw);
    names.push(col.name);
    codes.push(compact);
    cards.push(card);
  }
  return { names, codes, cards: Int32Array.from(cards), nRows: t.nRows };
}

/** Renumbers codes (−1 = missing) to 0..card−1 in order of the old code, missing last, dropping unused ones. */
function compactCodes(raw: Int32Array): [Int32Array, number] {
  let max = -1;
  for (let i = 0; i < raw.length; i++) if (raw[i] > max) max = raw[i];
  const used = new Uint8Array(max + 2); // slot max+1 = missing
  for (let i = 0; i < raw.length; i++) used[raw[i] < 0 ? max + 1 : raw[i]] = 1;
  const map = new Int32Array(max + 2);
  let card = 0;
  for (let k = 0; k < max + 2; k++) map[k] = used[k] ? card++ : -1;
  const out = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = map[raw[i] < 0 ? max + 1 : raw[i]];
  return [out, Math.max(card, 1)];
}

// Parent configuration ids per row; re-compacted through a Map once the product of cardinalities outgrows n.
function parentConfigs(d: Discretised, parents: readonly number[], ids: Int32Array): number {
  ids.fill(0);
  let nIds = 1;
  const limit = Math.max(d.nRows, 4096);
  for (const p of parents) {
    const card = d.cards[p];
    const codes = d.codes[p];
    if (nIds * card > limit) nIds = compactIds(ids);
    for (let i = 0; i < ids.length; i++) ids[i] = ids[i] * card + codes[i];
    nIds *= card;
  }
  return nIds > limit ? compactIds(ids) : nIds;
}

/** Renumbers ids in place to 0..m−1 in first-appearance order; returns m. */
function compactIds(ids: Int32Array): number {
  const map = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) {
    let c = map.get(ids[i]);
    if (c === undefined) {
      c = map.size;
      map.set(ids[i], c);
    }
    ids[i] = c;
  }
  return map.size;
}

// BIC(X|Pa) = Σ_j Σ_k N_jk·ln(N_jk/N_j) − ½·ln(N)·q·(r−1), q = Π parent cardinalities (pgmpy BicScore.local_score, bnlearn "bic").
export function bicFamilyScore(
  d: Discretised,
  child: number,
  parents: readonly number[],
  work?: Int32Array,
): number {
  const n = d.nRows;
  const ids = work ?? new Int32Array(n);
  const nIds = parentConfigs(d, parents, ids);
  const r = d.cards[child];
  const x = d.codes[child];
  const counts = new Int32Array(nIds * r);
  for (let i = 0; i < n; i++) counts[ids[i] * r + x[i]]++;
  let ll = 0;
  for (let j = 0; j < nIds; j++) {
    let nj = 0;
    for (let k = 0; k < r; k++) {
      const c = counts[j * r + k];
      if (c > 0) {
        ll += c * Math.log(c);
        nj += c;
      }
    }
    if (nj > 0) ll -= nj * Math.log(nj);
  }
  let q = 1;
  for (const p of parents) q *= d.cards[p];
  return ll - 0.5 * Math.log(n) * q * (r - 1);
}

export interface StructureOptions {
  /** Quantile bins for numerical columns. Default 5. */
  readonly bins?: number;
  /** Most parents a node may have. Default unlimited. */
  readonly maxParents?: number;
  /** Recently applied moves whose inverse is forbidden (pgmpy tabu_length). Default 100. */
  readonly tabuLength?: number;
  /** Stop when the best move improves BIC by less than this (pgmpy epsilon). Default 1e-4. */
  readonly epsilon?: number;
  /** Cap on moves per climb. Default 1e6. */
  readonly maxIter?: number;
  /** Random restarts after the first climb (bnlearn R `restart`): perturb the best DAG, climb again. Default 0. */
  readonly restarts?: number;
  /** Random moves per restart (bnlearn R `perturb`). Default 1 + nodes/2. */
  readonly perturb?: number;
  /** Seed for the restarts' perturbations. Default 0. */
  readonly seed?: number;
}

export interface StructureResult {
  readonly dag: Dag;
  /** Total BIC of the returned DAG (natural log; higher is better). */
  readonly score: number;
  /** Moves applied over all climbs. */
  readonly moves: number;
  /** Distinct family scores computed (cache misses). */
  readonly familyScores: number;
}

/** Learns a DAG on `t` (id columns excluded) by BIC hill climbing from the empty graph. */
export function learnStructure(t: Table, opts: StructureOptions = {}): StructureResult {
  return learnDiscretised(discretiseTable(t, opts.bins ?? 5), opts);
}

/** Mutable DAG state: adjacency matrix and parent lists kept in column order. */
interface Graph {
  readonly n: number;
  readonly adj: Uint8Array;
  readonly parents: number[][];
}

function emptyGraph(n: number): Graph {
  return { n, adj: new Uint8Array(n * n), parents: Array.from({ length: n }, () => []) };
}

function cloneGraph(g: Graph): Graph {
  return { n: g.n, adj: Uint8Array.from(g.adj), parents: g.parents.map((p) => [...p]) };
}

function addEdge(g: Graph, u: number, v: number): void {
  g.adj[u * g.n + v] = 1;
  const p = g.parents[v];
  p.push(u);
  p.sort((a, b) => a - b);
}

function removeEdge(g: Graph, u: number, v: number): void {
  g.adj[u * g.n + v] = 0;
  const p = g.parents[v];
  p.splice(p.indexOf(u), 1);
}

/** reach[u·n+v] = 1 when a directed path of length ≥ 1 leads from u to v (Warshall's closure). */
function closure(g: Graph, reach: Uint8Array): void {
  const n = g.n;
  reach.set(g.adj);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      if (!reach[i * n + k]) continue;
      for (let j = 0; j < n; j++) if (reach[k * n + j]) reach[i * n + j] = 1;
    }
  }
}

// Equivalent DAGs have equal BIC only up to rounding; a move must beat the best by more than that to win a tie.
function better(delta: number, best: number): boolean {
  return best === Number.NEGATIVE_INFINITY || delta > best + 1e-9 * Math.max(1, Math.abs(best));
}

const ADD = 0;
const REMOVE = 1;
const REVERSE = 2;

/** Hill climbing on already-discretised data (exposed for benches and tests). */
export function learnDiscretised(d: Discretised, opts: StructureOptions = {}): StructureResult {
  const n = d.names.length;
  const maxParents = opts.maxParents ?? Number.POSITIVE_INFINITY;
  const tabuLength = opts.tabuLength ?? 100;
  const epsilon = opts.epsilon ?? 1e-4;
  const maxIter = opts.maxIter ?? 1e6;
  const cache = new Map<string, number>();
  const work = new Int32Array(d.nRows);
  const family = (child: number, parents: readonly number[]): number => {
    const key = `${child}|${parents.join(",")}`;
    let s = cache.get(key);
    if (s === undefined) {
      s = bicFamilyScore(d, child, parents, work);
      cache.set(key, s);
    }
    return s;
  };
  const without = (ps: readonly number[], x: number): number[] => ps.filter((p) => p !== x);
  const withOne = (ps: readonly number[], x: number): number[] => [...ps, x].sort((a, b) => a - b);
  const total = (g: Graph): number => {
    let s = 0;
    for (let v = 0; v < n; v++) s += family(v, g.parents[v]);
    return s;
  };
  let moves = 0;
  const reach = new Uint8Array(n * n);

  const climb = (g: Graph): void => {
    // Tabu entries are applied moves encoded as type·n² + u·n + v; the inverse of each is forbidden.
    const tabu: number[] = [];
    const isTabu = (code: number): boolean => tabu.includes(code);
    for (let iter = 0; iter < maxIter; iter++) {
      closure(g, reach);
      let bestDelta = Number.NEGATIVE_INFINITY;
      let bestType = -1;
      let bestU = -1;
      let bestV = -1;
      for (let u = 0; u < n; u++) {
        for (let v = 0; v < n; v++) {
          if (u === v) continue;
          const pv = g.parents[v];
          if (g.adj[u * n + v]) {
            // Delete u→v.
            if (!isTabu(ADD * n * n + u * n + v)) {
              const delta = family(v, without(pv, u)) - family(v, pv);
              if (better(delta, bestDelta)) {
                bestDelta = delta;
                bestType = REMOVE;
                bestU = u;
                bestV = v;
              }
            }
            // Reverse u→v into v→u: legal when no other path u⇝v exists (checked through u's other children).
            if (g.parents[u].length < maxParents && !isTabu(REVERSE * n * n + v * n + u)) {
              let other = false;
              for (let w = 0; w < n && !other; w++) {
                if (w !== v && g.adj[u * n + w] && reach[w * n + v]) other = true;
              }
              if (!other) {
                const pu = g.parents[u];
                const delta =
                  family(v, without(pv, u)) - family(v, pv) + family(u, withOne(pu, v)) - family(u, pu);
                if (better(delta, bestDelta)) {
                  bestDelta = delta;
                  bestType = REVERSE;
                  bestU = u;
                  bestV = v;
                }
              }
            }
          } else if (!g.adj[v * n + u] && !reach[v * n + u] && pv.length < maxParents) {
            // Add u→v: legal when v does not already reach u.
            if (!isTabu(REMOVE * n * n + u * n + v)) {
              const delta = family(v, withOne(pv, u)) - family(v, pv);
              if (better(delta, bestDelta)) {
                bestDelta = delta;
                bestType = ADD;
                bestU = u;
                bestV = v;
              }
            }
          }
        }
      }
      if (bestType < 0 || bestDelta < epsilon) return;
      if (bestType === ADD) addEdge(g, bestU, bestV);
      else if (bestType === REMOVE) removeEdge(g, bestU, bestV);
      else {
        removeEdge(g, bestU, bestV);
        addEdge(g, bestV, bestU);
      }
      moves++;
      tabu.push(bestType * n * n + bestU * n + bestV);
      if (tabu.length > tabuLength) tabu.shift();
    }
  };

  let best = emptyGraph(n);
  climb(best);
  let bestScore = total(best);
  const restarts = opts.restarts ?? 0;
  if (restarts > 0) {
    const rng = createRng(opts.seed ?? 0);
    const perturb = opts.perturb ?? 1 + Math.floor(n / 2);
    for (let r = 0; r < restarts; r++) {
      const g = cloneGraph(best);
      for (let k = 0; k < perturb; k++) randomMove(g, rng.int(n * n), rng.int(3), reach, maxParents);
      climb(g);
      const s = total(g);
      if (s > bestScore + epsilon) {
        best = g;
        bestScore = s;
      }
    }
  }

  const edges: Array<[string, string]> = [];
  for (let u = 0; u < n; u++)
    for (let v = 0; v < n; v++) if (best.adj[u * n + v]) edges.push([d.names[u], d.names[v]]);
  return { dag: dagOf(d.names, edges), score: bestScore, moves, familyScores: cache.size };
}

/** Applies the first legal move of kind `kind` at or after pair index `start` (a seeded perturbation). */
function randomMove(g: Graph, start: number, kind: number, reach: Uint8Array, maxParents: number): void {
  const n = g.n;
  closure(g, reach);
  for (let s = 0; s < n * n; s++) {
    const idx = (start + s) % (n * n);
    const u = Math.floor(idx / n);
    const v = idx % n;
    if (u === v) continue;
    if (kind === ADD) {
      if (!g.adj[u * n + v] && !g.adj[v * n + u] && !reach[v * n + u] && g.parents[v].length < maxParents) {
        addEdge(g, u, v);
        return;
      }
    } else if (g.adj[u * n + v]) {
      if (kind === REMOVE) {
        removeEdge(g, u, v);
        return;
      }
      let other = false;
      for (let w = 0; w < n && !other; w++) if (w !== v && g.adj[u * n + w] && reach[w * n + v]) other = true;
      if (!other && g.parents[u].length < maxParents) {
        removeEdge(g, u, v);
        addEdge(g, v, u);
        return;
      }
    }
  }
}

/** Total BIC of a DAG on `t` (same discretisation as learnStructure). */
export function bicScore(t: Table, dag: Dag, bins = 5): number {
  const d = discretiseTable(t, bins);
  const index = new Map(d.names.map((name, i) => [name, i]));
  const parents: number[][] = d.names.map(() => []);
  for (const [a, b] of dag.edges) {
    const ia = index.get(a);
    const ib = index.get(b);
    if (ia === undefined || ib === undefined)
      throw new Error(`edge (${a}, ${b}) names a column not in the table`);
    parents[ib].push(ia);
  }
  let s = 0;
  const work = new Int32Array(d.nRows);
  for (let v = 0; v < d.names.length; v++)
    s += bicFamilyScore(
      d,
      v,
      parents[v].sort((x, y) => x - y),
      work,
    );
  return s;
}
