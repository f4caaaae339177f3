/**
 * Directed acyclic graphs over column names: validation, topological order, the two text forms MALLM-GAN
 * uses (the Python list of tuples of its listings, `[('A', 'B'), ...]`, and a JSON parents map) and the
 * distances between two DAGs. Pure; errors are DagError with a reason an LLM can be re-asked with.
 */
import { z } from "zod";
import { SynthgraphError } from "../../data/errors.ts";

/** A DAG: `edges` are [cause, effect] pairs over `nodes` (column order is kept for tie-breaking). */
export interface Dag {
  readonly nodes: readonly string[];
  readonly edges: ReadonlyArray<readonly [string, string]>;
}

/** A graph that is not a valid DAG over the given columns, or text that cannot be read as one. */
export class DagError extends SynthgraphError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: 2 });
    this.name = "DagError";
  }
}

/** Validates nodes and edges (known columns, no self-loop, acyclic) and drops duplicate edges. */
export function dagOf(nodes: readonly string[], edges: ReadonlyArray<readonly [string, string]>): Dag {
  const index = nodeIndex(nodes);
  const seen = new Set<string>();
  const out: Array<[string, string]> = [];
  for (const [a, b] of edges) {
    for (const x of [a, b]) {
      if (!index.has(x)) throw unknownColumn(x, nodes);
    }
    if (a === b) throw new DagError(`edge ('${a}', '${a}') is a self-loop`, "a variable cannot cause itself");
    const key = `${index.get(a)}>${index.get(b)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([a, b]);
  }
  const dag: Dag = { nodes: [...nodes], edges: out };
  const cycle = findCycle(dag);
  if (cycle) {
    throw new DagError(
      `the graph has a cycle: ${cycle.join(" -> ")}`,
      "remove or reverse one edge of the cycle",
    );
  }
  return dag;
}

function nodeIndex(nodes: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (index.has(n)) throw new DagError(`duplicate node "${n}"`);
    index.set(n, i);
  });
  return index;
}

function unknownColumn(name: string, nodes: readonly string[]): DagError {
  return new DagError(`unknown column "${name}"`, `use only these columns: ${nodes.join(", ")}`);
}

/** Adjacency lists by node index (children), in edge order. */
function children(dag: Dag): number[][] {
  const index = nodeIndex(dag.nodes);
  const out: number[][] = dag.nodes.map(() => []);
  for (const [a, b] of dag.edges) {
    const ia = index.get(a);
    const ib = index.get(b);
    if (ia === undefined) throw unknownColumn(a, dag.nodes);
    if (ib === undefined) throw unknownColumn(b, dag.nodes);
    out[ia].push(ib);
  }
  return out;
}

/** One directed cycle as a closed node path [a, b, ..., a], or null when the graph is acyclic (DFS colours). */
export function findCycle(dag: Dag): string[] | null {
  const ch = children(dag);
  const n = dag.nodes.length;
  const colour = new Uint8Array(n); // 0 new, 1 on the stack, 2 done
  const parent = new Int32Array(n).fill(-1);
  for (let s = 0; s < n; s++) {
    if (colour[s] !== 0) continue;
    const stack: Array<[number, number]> = [[s, 0]];
    colour[s] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const [u, k] = top;
      if (k < ch[u].length) {
        top[1] = k + 1;
        const v = ch[u][k];
        if (colour[v] === 1) {
          // v is a DFS ancestor of u: walk the tree back from u to v, then close the loop.
          const chain: string[] = [];
          for (let w = u; w !== v; w = parent[w]) chain.push(dag.nodes[w]);
          chain.push(dag.nodes[v]);
          chain.reverse();
          chain.push(dag.nodes[v]);
          return chain;
        }
        if (colour[v] === 0) {
          colour[v] = 1;
          parent[v] = u;
          stack.push([v, 0]);
        }
      } else {
        colour[u] = 2;
        stack.pop();
      }
    }
  }
  return null;
}

// Kahn's algorithm; among ready nodes the earliest in column order goes first, so the order is unique.
export function topologicalOrder(dag: Dag): string[] {
  const ch = children(dag);
  const n = dag.nodes.length;
  const indeg = new Int32Array(n);
  for (const c of ch) for (const v of c) indeg[v]++;
  const done = new Uint8Array(n);
  const out: string[] = [];
  for (let step = 0; step < n; step++) {
    let next = -1;
    for (let i = 0; i < n; i++) {
      if (!done[i] && indeg[i] === 0) {
        next = i;
        break;
      }
    }
    if (next < 0) {
      const cycle = findCycle(dag);
      throw new DagError(`the graph has a cycle: ${cycle ? cycle.join(" -> ") : "(unknown)"}`);
    }
    done[next] = 1;
    out.push(dag.nodes[next]);
    for (const v of ch[next]) indeg[v]--;
  }
  return out;
}

/** Parents of every node, each list in column order: the JSON parents-map form. */
export function parentsMap(dag: Dag): Record<string, string[]> {
  const index = nodeIndex(dag.nodes);
  const out: Record<string, string[]> = {};
  for (const n of dag.nodes) out[n] = [];
  for (const [a, b] of dag.edges) out[b].push(a);
  for (const n of dag.nodes) out[n].sort((x, y) => (index.get(x) ?? 0) - (index.get(y) ?? 0));
  return out;
}

const parentsMapSchema = z.record(z.string(), z.array(z.string()));

/**
 * A DAG from a JSON parents map ({"child": ["parent", ...]}; nodes missing from the map have no parents).
 * Nodes are `nodes` when given (keys must be among them), else the map's keys then any new parents.
 */
export function dagFromParentsMap(map: unknown, nodes?: readonly string[]): Dag {
  const parsed = parentsMapSchema.safeParse(map);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DagError(
      `the parents map is not an object of string arrays: ${issue.path.join(".") || "(root)"}: ${issue.message}`,
      'write {"child": ["parent1", "parent2"], ...}',
    );
  }
  const names: string[] = nodes ? [...nodes] : [];
  if (!nodes) {
    const seen = new Set<string>();
    const add = (x: string): void => {
      if (!seen.has(x)) {
        seen.add(x);
        names.push(x);
      }
    };
    for (const [child, ps] of Object.entries(parsed.data)) {
      add(child);
      for (const p of ps) add(p);
    }
  }
  const edges: Array<[string, string]> = [];
  for (const [child, ps] of Object.entries(parsed.data)) for (const p of ps) edges.push([p, child]);
  if (nodes) {
    for (const child of Object.keys(parsed.data))
      if (!nodes.includes(child)) throw unknownColumn(child, nodes);
  }
  return dagOf(names, edges);
}

/** Python's repr of a str: single quotes unless the text has ' and no ", with backslash escapes. */
function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let body = "";
  for (const ch of s) {
    if (ch === "\\") body += "\\\\";
    else if (ch === quote) body += `\\${quote}`;
    else if (ch === "\n") body += "\\n";
    else if (ch === "\t") body += "\\t";
    else if (ch === "\r") body += "\\r";
    else body += ch;
  }
  return quote + body + quote;
}

/** The paper's edge list: `[('A', 'B'), ('C', 'D')]`, as Python prints bnlearn's `model_edges`. */
export function formatEdgeList(dag: Dag): string {
  return `[${dag.edges.map(([a, b]) => `(${pyRepr(a)}, ${pyRepr(b)})`).join(", ")}]`;
}

/** One "A -> B" line per edge (a readable form; parseEdgeList reads it too). */
export function formatArrows(dag: Dag): string {
  return dag.edges.map(([a, b]) => `${a} -> ${b}`).join("\n");
}

/**
 * Reads edges from text: the tuple list `[('A', 'B'), ("C", 'D')]` (anywhere in the text; quotes ' or ")
 * or, when the text holds no tuple, "A -> B" lines. Names are matched exactly, then after trimming spaces
 * (PDF-wrapped listings carry stray ones). Returns a validated DAG over `nodes`.
 */
export function parseEdgeList(text: string, nodes: readonly string[]): Dag {
  const pairs = /\(\s*['"]/.test(text)
    ? parseTuples(text)
    : /^\s*(\[\s*\])?\s*$/.test(text)
      ? []
      : parseArrows(text);
  const trimmed = new Map<string, string>();
  for (const n of nodes) trimmed.set(n.trim(), n);
  const resolve = (name: string): string => {
    if (nodes.includes(name)) return name;
    const t = trimmed.get(name.trim());
    if (t !== undefined) return t;
    throw unknownColumn(name, nodes);
  };
  return dagOf(
    nodes,
    pairs.map(([a, b]) => [resolve(a), resolve(b)]),
  );
}

function parseArrows(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const s = line.trim();
    if (s === "") return;
    const m = /^(.+?)\s*(?:->|→)\s*(.+)$/.exec(s);
    if (!m)
      throw new DagError(
        `line ${i + 1} is not "A -> B": ${JSON.stringify(s)}`,
        "write one edge per line as A -> B",
      );
    out.push([m[1].trim(), m[2].trim()]);
  });
  return out;
}

/** Scans `( 'a' , 'b' )` tuples with a small tokenizer; any other tuple content is an error with its offset. */
function parseTuples(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  const n = text.length;
  const skipSpace = (): void => {
    while (i < n && /\s/.test(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new DagError(
      `edge list: ${what} at character ${i + 1}: ${JSON.stringify(text.slice(Math.max(0, i - 10), i + 20))}`,
      "write the causal structure as a list of tuples such as [('A', 'B'), ('B', 'C')]",
    );
  };
  const readString = (): string => {
    skipSpace();
    const q = text[i];
    if (q !== "'" && q !== '"') fail("expected a quoted column name");
    i++;
    let s = "";
    while (i < n && text[i] !== q) {
      if (text[i] === "\\" && i + 1 < n) {
        const e = text[i + 1];
        s += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e;
        i += 2;
      } else s += text[i++];
    }
    if (i >= n) fail("unterminated string");
    i++;
    return s;
  };
  i = text.search(/\(\s*['"]/);
  const inList = text.lastIndexOf("[", i) >= 0;
  while (i >= 0 && i < n) {
    i++; // past "("
    const a = readString();
    skipSpace();
    if (text[i] !== ",") fail("expected ',' inside the tuple");
    i++;
    const b = readString();
    skipSpace();
    if (text[i] === ",") {
      i++;
      skipSpace();
    }
    if (text[i] !== ")") fail("expected ')' closing a 2-tuple");
    i++;
    out.push([a, b]);
    skipSpace();
    if (text[i] === ",") {
      i++;
      skipSpace();
    }
    if (i >= n || text[i] === "]") break;
    if (text[i] !== "(") {
      if (inList) fail("expected ',' or ']' after a tuple");
      break;
    }
  }
  return out;
}

/** Edge counts behind the distances: truth/learned roles matter only for naming (missing vs extra). */
export interface DagDifference {
  /** Pairs adjacent in `a` but not in `b`. */
  readonly missing: number;
  /** Pairs adjacent in `b` but not in `a`. */
  readonly extra: number;
  /** Pairs adjacent in both with opposite directions. */
  readonly reversed: number;
}

function edgeKeySets(dag: Dag): { directed: Set<string>; undirected: Set<string> } {
  const directed = new Set<string>();
  const undirected = new Set<string>();
  for (const [a, b] of dag.edges) {
    directed.add(JSON.stringify([a, b]));
    undirected.add(JSON.stringify(a < b ? [a, b] : [b, a]));
  }
  return { directed, undirected };
}

/** Missing, extra and reversed adjacencies of `b` against the reference `a` (node names matched). */
export function dagDifference(a: Dag, b: Dag): DagDifference {
  const ea = edgeKeySets(a);
  const eb = edgeKeySets(b);
  let missing = 0;
  let extra = 0;
  let reversed = 0;
  for (const k of ea.undirected) if (!eb.undirected.has(k)) missing++;
  for (const k of eb.undirected) if (!ea.undirected.has(k)) extra++;
  for (const [x, y] of a.edges) if (eb.directed.has(JSON.stringify([y, x]))) reversed++;
  return { missing, extra, reversed };
}

// SHD = missing + extra + reversed, each adjacency counted once (Tsamardinos et al. 2006 on DAGs; cdt SHD, double_for_anticausal=False).
export function structuralHammingDistance(a: Dag, b: Dag): number {
  const d = dagDifference(a, b);
  return d.missing + d.extra + d.reversed;
}

// Skeleton distance = |undirected edges of a Δ undirected edges of b| (direction ignored).
export function skeletonDistance(a: Dag, b: Dag): number {
  const d = dagDifference(a, b);
  return d.missing + d.extra;
}

// GED = |V_a Δ V_b| + |E_a Δ E_b| over directed edges, unit costs: networkx graph_edit_distance with nodes matched by name (a reversal = delete + insert = 2).
export function graphEditDistance(a: Dag, b: Dag): number {
  const va = new Set(a.nodes);
  const vb = new Set(b.nodes);
  let nodes = 0;
  for (const x of va) if (!vb.has(x)) nodes++;
  for (const x of vb) if (!va.has(x)) nodes++;
  const ea = edgeKeySets(a).directed;
  const eb = edgeKeySets(b).directed;
  let edges = 0;
  for (const k of ea) if (!eb.has(k)) edges++;
  for (const k of eb) if (!ea.has(k)) edges++;
  return nodes + edges;
}
