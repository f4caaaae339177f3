/**
 * MALLM-GAN's data generation process theta (MALLM-GAN paper §3.2.1, eq. 1; docs/papers.md): [context][schema][causal structure][task
 * instruction]. Context and schema stay constant during optimization; the optimizer rewrites the causal
 * structure and the task instruction. The schema is not stored: engines/mallm/prompts.ts renders it from the
 * metadata (one source of truth, small checkpoints).
 *
 * The causal structure is an edge list (A, B) = "A causes B", serialised as the paper does:
 * `[('age', 'workclass'), ('education', 'Income')]` (Python tuple reprs). The optimizer also writes guidance
 * prose inside its causal-structure section (listing 2 lines 16-18); that prose is `causalNote`.
 *
 * Cycle detection and topological order come from stats/structure/dag.ts. The edge list is formatted here rather than
 * with stats/structure/dag.ts formatEdgeList because prompt text also needs `</` and U+2028/9 escaped (pyStr).
 */
import { z } from "zod";
import { DataError } from "../../data/errors.ts";
import { rowColumns } from "../../data/schema.ts";
import type { Metadata } from "../../data/types.ts";
import { findCycle, topologicalOrder } from "../../stats/structure/dag.ts";

/** Paper 001 Table 5, epoch 1: the initial task instruction. */
export const DEFAULT_TASK_INSTRUCTION =
  "The ultimate goal is to produce accurate and convincing synthetic data that dutifully represents these causal relationships given the user provided samples.";

/** Longest task instruction or causal note kept from an optimizer answer (characters). */
export const MAX_THETA_TEXT_CHARS = 2000;

export const EdgeSchema = z.tuple([z.string().min(1), z.string().min(1)]);
export type Edge = [string, string];

export const ThetaSchema = z.object({
  /** Context of data collection (user-provided, else a generic sentence from the metadata). */
  context: z.string(),
  /** Causal structure: (A, B) means A causes B. Acyclic, over the generated (non-id) columns. */
  causalEdges: z.array(EdgeSchema),
  /** Optimizer guidance that accompanies the graph inside the causal-structure section ("" when none). */
  causalNote: z.string().default(""),
  /** Task instruction. */
  taskInstruction: z.string().min(1),
});
export type Theta = z.output<typeof ThetaSchema>;

/** A (theta, score) pair: score = discriminator accuracy, lower is better. */
export const ThetaScoreSchema = z.object({ theta: ThetaSchema, score: z.number().min(0).max(1) });
export type ThetaScore = z.output<typeof ThetaScoreSchema>;

/** Generic context when the user gives none. */
export function defaultContext(metadata: Metadata): string {
  const n = rowColumns(metadata).length;
  const target = metadata.target === undefined ? "" : ` The target column is ${pyStr(metadata.target)}.`;
  return `The dataset is a real table of ${metadata.rowCount} rows and ${n} columns.${target}`;
}

/**
 * theta_0: context, a learned DAG (e.g. hill climbing) and the paper's default instruction. Throws DataError
 * when the edges name unknown columns or contain a cycle.
 */
export function initialTheta(a: {
  metadata: Metadata;
  edges: ReadonlyArray<readonly [string, string]>;
  context?: string;
  taskInstruction?: string;
}): Theta {
  const checked = validateCausalEdges(
    a.edges,
    rowColumns(a.metadata).map((c) => c.name),
    { allowEmpty: true },
  );
  if (!checked.ok) throw new DataError(`invalid initial causal structure: ${checked.problems.join("; ")}`);
  const context = a.context?.trim() ? a.context.trim() : defaultContext(a.metadata);
  const taskInstruction = a.taskInstruction?.trim() ? a.taskInstruction.trim() : DEFAULT_TASK_INSTRUCTION;
  return { context, causalEdges: checked.edges, causalNote: "", taskInstruction };
}

/** theta as JSON text (stable key order). */
export function serializeTheta(theta: Theta): string {
  const t = ThetaSchema.parse(theta);
  return JSON.stringify(
    {
      context: t.context,
      causalEdges: t.causalEdges,
      causalNote: t.causalNote,
      taskInstruction: t.taskInstruction,
    },
    null,
    2,
  );
}

/** theta from JSON text or a parsed value; throws DataError listing the schema violations. */
export function parseTheta(input: string | unknown): Theta {
  let value: unknown = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (e) {
      throw new DataError(`theta is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const r = ThetaSchema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new DataError(`invalid theta: ${issues.join("; ")}`);
  }
  return r.data;
}

// ---------------------------------------------------------------------------------------------------------
// The paper's serialisation

/**
 * A Python str repr (single quotes unless the text holds ' and no "), plus `</` written `<\/` and U+2028/9
 * escaped so a name can neither close a prompt section nor break a line. models/extract.ts reads it back.
 */
export function pyStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "\\" || ch === q) out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16)}`;
    else out += ch;
  }
  return (out + q).replace(/<\//g, "<\\/");
}

/** `[('A', 'B'), ('B', 'C')]`: the edge list as the paper prints it (listing 2 line 16). */
export function formatEdgeList(edges: ReadonlyArray<readonly [string, string]>): string {
  return `[${edges.map(([a, b]) => `(${pyStr(a)}, ${pyStr(b)})`).join(", ")}]`;
}

// ---------------------------------------------------------------------------------------------------------
// Validation and order

export type EdgeCheck =
  { ok: true; edges: Edge[]; problems: [] } | { ok: false; edges: Edge[]; problems: string[] };

/**
 * Checks a causal structure against the column names: every endpoint a known column (exact, else ignoring
 * surrounding spaces, else ignoring case and runs of spaces when that names one column), no self-loop, no
 * cycle, and (unless allowEmpty) at least one edge. Returns the edges with canonical names, duplicates removed.
 */
export function validateCausalEdges(
  edges: ReadonlyArray<readonly [string, string]>,
  columns: readonly string[],
  opts: { allowEmpty?: boolean } = {},
): EdgeCheck {
  const resolve = columnResolver(columns);
  const problems: string[] = [];
  const out: Edge[] = [];
  const seen = new Set<string>();
  for (const [a, b] of edges) {
    const ca = resolve(a);
    const cb = resolve(b);
    const label = `(${JSON.stringify(a)}, ${JSON.stringify(b)})`;
    if (ca === undefined) problems.push(`unknown column ${JSON.stringify(a)} in edge ${label}`);
    if (cb === undefined) problems.push(`unknown column ${JSON.stringify(b)} in edge ${label}`);
    if (ca === undefined || cb === undefined) continue;
    if (ca === cb) {
      problems.push(`edge ${label} is a self-loop`);
      continue;
    }
    const key = JSON.stringify([ca, cb]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([ca, cb]);
  }
  if (problems.length === 0) {
    const cycle = findCycle({ nodes: columns, edges: out });
    if (cycle !== null) problems.push(`the causal structure has a cycle: ${cycle.join(" → ")}`);
  }
  if (edges.length === 0 && !opts.allowEmpty) problems.push("the causal structure lists no edges");
  return problems.length === 0 ? { ok: true, edges: out, problems: [] } : { ok: false, edges: out, problems };
}

function columnResolver(columns: readonly string[]): (name: string) => string | undefined {
  const exact = new Set(columns);
  const trimmed = new Map<string, string>();
  const loose = new Map<string, string | null>();
  for (const c of columns) {
    const t = c.trim();
    if (!trimmed.has(t)) trimmed.set(t, c);
    const l = looseName(c);
    loose.set(l, loose.has(l) && loose.get(l) !== c ? null : c);
  }
  return (name) => {
    if (exact.has(name)) return name;
    const t = trimmed.get(name.trim());
    if (t !== undefined) return t;
    return loose.get(looseName(name)) ?? undefined;
  };
}

function looseName(s: string): string {
  return s.trim().replace(/\s+/g, " ").toLowerCase();
}

/**
 * The metadata with its generated columns in the causal order of `edges` (causes before effects; the
 * official code's JSON-DAG variant), id columns after them.
 */
export function causallyOrderedMetadata(
  metadata: Metadata,
  edges: ReadonlyArray<readonly [string, string]>,
): Metadata {
  const gen = rowColumns(metadata);
  const byName = new Map(gen.map((c) => [c.name, c]));
  // Kahn's order, ties broken by column order (stats/structure/dag.ts); DagError on a cycle.
  const order = topologicalOrder({
    nodes: gen.map((c) => c.name),
    edges: edges.filter(([a, b]) => byName.has(a) && byName.has(b)),
  });
  const ids = metadata.columns.filter((c) => !byName.has(c.name));
  return { ...metadata, columns: [...order.map((n) => byName.get(n) as (typeof gen)[number]), ...ids] };
}
