/**
 * The LLMSynthor run (LLMSynthor paper, Algorithm 1; docs/papers.md): graph state, artifact keys and shapes, and the pure decisions of
 * the loop. The state holds keys of pool artifacts and small numbers only; rows live in the artifact store as
 * columnar chunks, so a checkpoint does not grow with N.
 *
 * Choices where the paper is silent or ambiguous:
 * - Joint groups are inferred ONCE before the loop by default: the variable summaries s(D_real) the copula
 *   prompt sees do not change between iterations, so re-asking only re-samples the LLM. `reinferGroups`
 *   follows Algorithm 1 line 2 literally (a copula call every iteration).
 * - T defaults to min(10, ⌊N / 20⌋) (at least 1): ten iterations when every iteration gets at least 20 rows
 *   (4 per proposal at the paper's 5 proposals), fewer for small N. Iteration t asks for
 *   ⌈(N − pool) / (T − t + 1)⌉ rows, i.e. N / T when nothing is lost, and rows the privacy guard removes are
 *   made up by the later iterations. The LLM calls are T (+1 copula) whatever N: tokens per row fall as 1 / N.
 * - Total discrepancy = mean TVD over the structure units (every marginal and every joint group), the units
 *   of Theorem 1. The loop stops after T iterations, or at the start of an iteration when the pool's total
 *   discrepancy is below `tolerance`.
 * - The pool is the output: rows are appended, never removed. When the loop ends with fewer than N rows (early
 *   stop, or exact copies removed in the last iteration), the rest is drawn WITHOUT an LLM call from the
 *   mixture of every accepted proposal so far, weighted by the rows it contributed: that mixture is the
 *   distribution the pool was drawn from, so filling from it keeps the discrepancy the pool reached (the last
 *   iteration's proposals alone correct residual gaps and would re-open them). Fill rounds repeat, each with
 *   the privacy guard, up to `maxRounds`.
 */
import { takeTableRows } from "../../data/build.ts";
import { StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import type { Column, Metadata, Table } from "../../data/types.ts";
import type { JointDiscrepancy, MarginalDiscrepancy } from "./discrepancy.ts";
import type { Proposal } from "./proposals.ts";
import { engineStateHead } from "../../state/engine-state.ts";
import { outputFields } from "../../state/finalize.ts";
import { AccountingSnapshotSchema } from "../../state/schemas.ts";

export const DEFAULT_ITERATIONS = 10;
export const MIN_ROWS_PER_ITERATION = 20;

/** T: the configured iterations, else min(10, ⌊N / 20⌋), at least 1. */
export function plannedIterations(rows: number, configured?: number): number {
  if (configured !== undefined) return configured;
  return Math.max(1, Math.min(DEFAULT_ITERATIONS, Math.floor(rows / MIN_ROWS_PER_ITERATION)));
}

/** n_t = ⌈(N − pool) / (T − t + 1)⌉ for iteration t (1-based); the last iteration asks for everything left. */
export function rowsForIteration(rows: number, pool: number, t: number, iterations: number): number {
  const left = Math.max(0, rows - pool);
  return Math.ceil(left / Math.max(1, iterations - t + 1));
}

/** Mean TVD over the structure units (marginals and joint groups); 0 when there are none. */
export function totalDiscrepancy(
  marginals: readonly Pick<MarginalDiscrepancy, "tvd">[],
  joints: readonly Pick<JointDiscrepancy, "tvd">[],
): number {
  const n = marginals.length + joints.length;
  if (n === 0) return 0;
  let s = 0;
  for (const m of marginals) s += m.tvd;
  for (const j of joints) s += j.tvd;
  return s / n;
}

const pad = (n: number, w: number): string => String(n).padStart(w, "0");
/** Key suffix of condition group g (conditional runs, conditions.ts); none when unconditional. */
const groupPart = (g: number | undefined): string => (g === undefined ? "" : `-g${pad(g + 1, 3)}`);
/** Groups inferred before iteration t (0 = once, before the loop). */
export const copulaKey = (t: number): string => `llmsynthor/copula/it-${pad(t, 3)}`;
export const proposalsKey = (t: number, g?: number): string =>
  `llmsynthor/proposals/it-${pad(t, 3)}${groupPart(g)}`;
export const poolKey = (t: number, g?: number): string => `llmsynthor/pool/it-${pad(t, 3)}${groupPart(g)}`;
export const fillKey = (round: number, g?: number): string =>
  `llmsynthor/pool/fill-${pad(round, 3)}${groupPart(g)}`;
export const guidanceKey = (t: number, g?: number): string =>
  `llmsynthor/guidance/it-${pad(t, 3)}${groupPart(g)}`;

// --- artifact shapes -------------------------------------------------------------------------------------------

const PartSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("category"), value: z.string() }),
  z.object({ kind: z.literal("range"), min: z.number(), max: z.number() }),
  z.object({ kind: z.literal("missing") }),
  z.object({ kind: z.literal("marginal") }),
]);
export const ProposalSchema: z.ZodType<Proposal> = z.object({
  parts: z.record(z.string(), PartSchema),
  count: z.number().int().min(0),
  reason: z.string(),
});

/** The copula call's result as stored, without its usage (graph/model-call.ts adds the usage). */
export const CopulaCallSchema = z.object({
  groups: z.array(z.array(z.string())),
  reasons: z.array(z.string()),
  attempts: z.number().int(),
  seed: z.number().int(),
});
export const CopulaRecordSchema = CopulaCallSchema.extend({ usage: AccountingSnapshotSchema });
export type CopulaRecord = z.infer<typeof CopulaRecordSchema>;

/** The proposer call's result as stored, without its usage (graph/model-call.ts adds the usage). */
export const ProposalsCallSchema = z.object({
  iteration: z.number().int(),
  n_samples: z.number().int(),
  proposals: z.array(ProposalSchema),
  report: z.object({
    received: z.number().int(),
    accepted: z.number().int(),
    repaired: z.number().int(),
    dropped: z.number().int(),
    issues: z.array(
      z.object({ proposal: z.number().int(), action: z.enum(["repaired", "dropped"]), reason: z.string() }),
    ),
    rejected: z.array(z.string()),
    attempts: z.number().int(),
  }),
  seed: z.number().int(),
});
export const ProposalsRecordSchema = ProposalsCallSchema.extend({ usage: AccountingSnapshotSchema });
export type ProposalsRecord = z.infer<typeof ProposalsRecordSchema>;

export const GuidanceRecordSchema = z.object({ joint: z.string(), marginal: z.string() });

/** A columnar table as JSON: numbers with null for missing; coded columns as codes (−1 = missing) and levels. */
const ChunkColumnSchema = z.union([
  z.object({
    name: z.string(),
    kind: z.enum(["numerical", "datetime"]),
    values: z.array(z.number().nullable()),
  }),
  z.object({
    name: z.string(),
    kind: z.enum(["categorical", "boolean", "id"]),
    codes: z.array(z.number().int()),
    levels: z.array(z.string()),
  }),
]);

/** Rows one iteration (or fill round) added to the pool, after the privacy guard. */
export const PoolChunkSchema = z.object({
  requested: z.number().int().min(0),
  rows: z.number().int().min(0),
  exact_copies: z.number().int().min(0),
  seed: z.number().int(),
  /** Conditional runs: the chunk's group, the rows drawn and those the condition check dropped (conditions.ts). */
  group: z.number().int().optional(),
  drawn: z.number().int().optional(),
  unmet: z.number().int().optional(),
  columns: z.array(ChunkColumnSchema),
});
export type PoolChunk = z.infer<typeof PoolChunkSchema>;

export function encodeChunk(
  t: Table,
  a: {
    requested: number;
    exact_copies: number;
    seed: number;
    group?: number;
    drawn?: number;
    unmet?: number;
  },
): PoolChunk {
  return {
    ...a,
    rows: t.nRows,
    columns: t.columns.map((c) =>
      "values" in c
        ? { name: c.name, kind: c.kind, values: Array.from(c.values, (v) => (Number.isNaN(v) ? null : v)) }
        : { name: c.name, kind: c.kind, codes: Array.from(c.codes), levels: [...c.levels] },
    ),
  };
}

export function decodeChunk(chunk: PoolChunk): Table {
  const columns: Column[] = chunk.columns.map((c) =>
    "values" in c
      ? {
          name: c.name,
          kind: c.kind,
          values: Float64Array.from(c.values, (v) => (v === null ? Number.NaN : v)),
        }
      : { name: c.name, kind: c.kind, codes: Int32Array.from(c.codes), levels: c.levels },
  );
  return { nRows: chunk.rows, columns };
}

/** The rows of `t` where keep[i] = 1. */
export function keepRows(t: Table, keep: Uint8Array): Table {
  let n = 0;
  for (let i = 0; i < keep.length; i++) n += keep[i];
  const idx = new Int32Array(n);
  for (let i = 0, k = 0; i < keep.length; i++) if (keep[i] === 1) idx[k++] = i;
  return takeTableRows(t, idx);
}

/** Tables with the same column names in the same order, stacked; coded columns get the union of levels. */
export function concatTables(tables: readonly Table[], metadata: Metadata): Table {
  const n = tables.reduce((s, t) => s + t.nRows, 0);
  const columns: Column[] = metadata.columns.map((meta, j) => {
    const first = tables[0]?.columns[j];
    const numeric = meta.sdtype === "numerical" || meta.sdtype === "datetime";
    if (numeric) {
      const values = new Float64Array(n);
      let at = 0;
      for (const t of tables) {
        const c = t.columns[j];
        if (!("values" in c) || c.name !== meta.name)
          throw new Error(`pool column ${j} is not "${meta.name}"`);
        values.set(c.values, at);
        at += t.nRows;
      }
      return { name: meta.name, kind: meta.sdtype === "datetime" ? "datetime" : "numerical", values };
    }
    const levels: string[] = first && "levels" in first ? [...first.levels] : [];
    const index = new Map(levels.map((l, k) => [l, k]));
    const codes = new Int32Array(n);
    let at = 0;
    for (const t of tables) {
      const c = t.columns[j];
      if (!("codes" in c) || c.name !== meta.name) throw new Error(`pool column ${j} is not "${meta.name}"`);
      const map = c.levels.map((l) => {
        let k = index.get(l);
        if (k === undefined) {
          k = levels.length;
          levels.push(l);
          index.set(l, k);
        }
        return k;
      });
      for (let i = 0; i < t.nRows; i++) codes[at + i] = c.codes[i] < 0 ? -1 : map[c.codes[i]];
      at += t.nRows;
    }
    const kind = meta.sdtype === "boolean" ? "boolean" : meta.sdtype === "id" ? "id" : "categorical";
    return { name: meta.name, kind, codes, levels };
  });
  return { nRows: n, columns };
}

/** Ids 1..n for id columns (chunks number their ids independently; the output renumbers them in pool order). */
export function renumberIds(t: Table): Table {
  return {
    nRows: t.nRows,
    columns: t.columns.map((c) =>
      c.kind === "id"
        ? {
            name: c.name,
            kind: "id",
            codes: Int32Array.from({ length: t.nRows }, (_, i) => i),
            levels: Array.from({ length: t.nRows }, (_, i) => String(i + 1)),
          }
        : c,
    ),
  };
}

// --- graph state ----------------------------------------------------------------------------------------------

/** One iteration as recorded for SUMMARY.json: the discrepancy it was grounded on and what it added. */
export const LsIterationSchema = z.object({
  iteration: z.number().int(),
  /** Conditional runs: one record per group and iteration (conditions.ts); absent when unconditional. */
  group: z.number().int().optional(),
  /** Pool rows the discrepancy was measured on (before this iteration's rows). */
  pool_rows: z.number().int(),
  discrepancy: z.object({
    marginal: z.record(z.string(), z.number()),
    joint: z.array(z.object({ columns: z.array(z.string()), tvd: z.number() })),
    total: z.number(),
  }),
  groups: z.array(z.array(z.string())),
  /** Filled in by propose / sample. */
  requested: z.number().int().default(0),
  proposals_key: z.string().nullable().default(null),
  pool_key: z.string().nullable().default(null),
  accepted: z.number().int().default(0),
  exact_copies: z.number().int().default(0),
  /** Conditional runs: drawn rows the condition check dropped. */
  unmet: z.number().int().optional(),
});
export type LsIteration = z.infer<typeof LsIterationSchema>;

export const LS_PHASES = ["init", "iterate", "fill", "write", "done"] as const;

export const LlmsynthorState = new StateSchema({
  ...engineStateHead(LS_PHASES),
  /** T for this run. */
  iterations: z.number().int().default(0),
  /** Iterations started (t). */
  iteration: z.number().int().default(0),
  /** C: the joint groups in use. */
  groups: z.array(z.array(z.string())).default(() => []),
  /** Copula artifact keys, in order (one unless reinferGroups). */
  copulaKeys: z.array(z.string()).default(() => []),
  history: z.array(LsIterationSchema).default(() => []),
  stoppedBecause: z.enum(["iterations", "tolerance", "stopped"]).nullable().default(null),
  /** The pool's discrepancy when the loop stopped (before any fill). */
  finalDiscrepancy: LsIterationSchema.shape.discrepancy.nullable().default(null),
  /** Fill rounds done (rows drawn from the proposals' mixture after the loop). */
  fillRounds: z.number().int().default(0),
  /** Pool chunk keys in pool order. */
  chunks: z.array(z.string()).default(() => []),
  /** Conditional runs: pool rows per group (index = group), after the condition check and the guard. */
  groupAccepted: z.array(z.number().int()).default(() => []),
  // accepted = pool rows after the privacy guard; invalidRows stays 0 (code samples the rows, so none is
  // invalid; dropped proposals are in each iteration's report).
  ...outputFields(),
});

export type LlmsynthorStateT = typeof LlmsynthorState.State;
export type LlmsynthorUpdate = typeof LlmsynthorState.Update;
