/**
 * The output of the engines that draw rows by code from a model they fitted (copula, bayesnet): no model call,
 * so none of graph/finalize.ts's Send fan-out of memoised model batches, but the same contract: exactly N rows
 * (N per group when conditional) after the privacy guard, every drawn chunk stored before its node returns,
 * nothing redrawn on resume. The graph that runs these steps is graph/code-sampling-graph.ts.
 *
 *   plan_round ─(rows missing)→ sample ⟲ (one chunk per step) ─(round drawn)→ plan_round ─(N rows)→ write
 *
 * A round plans the rows still missing and cuts them into chunks of `chunkRows`; chunk c of round r is drawn
 * with the seed chunkSeed(seed, stream, r, c), passed through the privacy guard (graph/privacy-guard.ts) and
 * stored columnar under chunkKey(engine, r, c) before the node returns, so a process killed mid-sampling
 * finds the chunks it stored and draws the next one with the seed it would have used: the resumed CSV is the
 * uninterrupted one. Rows the guard removes are made up by the next round (top-up), up to config.maxRounds.
 * Chunks use LLMSynthor's columnar pool format (engines/llmsynthor/state.ts), ids renumbered 1..N at write.
 *
 * Conditional runs (config.conditions, graph/conditions.ts), as graph/finalize.ts does for the model engines:
 * a round plans the rows each group still misses (`roundGroups`), its chunks are group 0's, then group 1's, ...
 * (graph/conditions.ts roundLayout); a chunk is drawn under its group's predicate by the engine's conditional
 * sampler (exactly where the model allows, by rejection otherwise), then every drawn row is checked against the
 * predicate by code (rows that miss it are dropped and counted as `unmet`) before the privacy guard; `write`
 * emits exactly the requested rows per group, group after group. A group never borrows another's rows.
 */
import { z } from "zod";
import { takeTableRows } from "../data/build.ts";
import { DataError, SynthgraphError } from "../data/errors.ts";
import { type Predicate, predicateMask } from "../data/predicate/index.ts";
import type { Metadata, Table } from "../data/types.ts";
import {
  concatTables,
  decodeChunk,
  encodeChunk,
  PoolChunkSchema,
  renumberIds,
} from "../engines/llmsynthor/state.ts";
import type { ArtifactStore } from "../state/artifacts.ts";
import type { RunConfig } from "../state/config.ts";
import { deriveSeed } from "../state/seeds.ts";
import { conditionOf, groupRows, type LayoutBatch, roundLayout } from "./conditions.ts";
import { writeOutput } from "./finalize.ts";
import { privacyFilterTable } from "./privacy-guard.ts";
import type { EngineRuntime } from "./runtime.ts";

/** A stored chunk: the rows kept by the privacy guard, how many were drawn and removed, and the seed. */
export const SampledChunkSchema = PoolChunkSchema;
export type SampledChunk = z.infer<typeof SampledChunkSchema>;

/** State fields of the sampling rounds (small: the chunk keys, never rows). */
export function samplingFields() {
  return {
    /** Rows planned per round (index = round − 1). */
    roundRows: z.array(z.number().int()).default(() => []),
    /** Conditional runs: rows planned per group in each round (index = round − 1); empty otherwise. */
    roundGroups: z.array(z.array(z.number().int())).default(() => []),
    /** Conditional runs: rows kept per group so far (after the condition check and the privacy guard). */
    groupAccepted: z.array(z.number().int()).default(() => []),
    /** Next chunk of the current round. */
    nextChunk: z.number().int().default(0),
    /** Stored chunk keys in output order. */
    chunks: z.array(z.string()).default(() => []),
  };
}

/** What the sampling nodes read from an engine's state. */
export interface SamplingView {
  config: RunConfig;
  roundRows: number[];
  roundGroups: number[][];
  groupAccepted: number[];
  nextChunk: number;
  chunks: string[];
  accepted: number;
  exactCopiesRemoved: number;
}

export interface SamplingUpdate {
  phase?: "sample" | "write" | "done";
  roundRows?: number[];
  roundGroups?: number[][];
  groupAccepted?: number[];
  nextChunk?: number;
  chunks?: string[];
  accepted?: number;
  exactCopiesRemoved?: number;
  output?: { path: string; rows: number };
}

const pad = (n: number, w: number): string => String(n).padStart(w, "0");

/** Artifact key of chunk c (0-based) of round r (1-based). */
export const chunkKey = (engine: string, round: number, chunk: number): string =>
  `${engine}/sample/r${pad(round, 3)}-c${pad(chunk, 5)}`;

/** Seed of chunk c of round r on the engine's sampling stream (state/seeds.ts SEED_STREAMS). */
export function chunkSeed(seed: number, stream: number, round: number, chunk: number): number {
  return deriveSeed(deriveSeed(seed, stream, round), stream, chunk);
}

const isConditional = (s: Pick<SamplingView, "config">): boolean => s.config.conditions !== undefined;

/**
 * The chunks of round r (1-based), in order: unconditional, the round's rows cut into chunks of `chunkRows`;
 * conditional, each group's planned rows cut the same way, group 0's chunks first.
 */
export function samplingLayout(
  s: Pick<SamplingView, "config" | "roundRows" | "roundGroups">,
  round: number,
  chunkRows: number,
): readonly LayoutBatch[] {
  const groups = isConditional(s) ? s.roundGroups[round - 1] : undefined;
  if (isConditional(s) && groups === undefined)
    throw new SynthgraphError(`internal: no group plan for round ${round}`);
  return roundLayout(s.roundRows[round - 1] ?? 0, groups, chunkRows);
}

/** Opens a round for the rows still missing (per group when conditional), or moves to write; throws after maxRounds rounds. */
export function planSamplingRound(s: SamplingView): SamplingUpdate {
  const c = s.config;
  if (!isConditional(s)) {
    const remaining = c.rows - s.accepted;
    if (remaining <= 0) return { phase: "write" };
    if (s.roundRows.length >= c.maxRounds) {
      throw new SynthgraphError(
        `after ${c.maxRounds} sampling rounds only ${s.accepted} of ${c.rows} rows passed the privacy guard (${s.exactCopiesRemoved} exact copies of real rows removed)`,
        { hint: tooFewHint },
      );
    }
    return { phase: "sample", roundRows: [...s.roundRows, remaining], nextChunk: 0 };
  }
  const wanted = groupRows(c);
  const missing = wanted.map((rows, g) => Math.max(0, rows - (s.groupAccepted[g] ?? 0)));
  const remaining = missing.reduce((a, b) => a + b, 0);
  if (remaining <= 0) return { phase: "write" };
  if (s.roundRows.length >= c.maxRounds) {
    const short = (c.conditions ?? [])
      .map((g, k) => ({ g, k }))
      .filter(({ k }) => missing[k] > 0)
      .map(({ g, k }) => `group ${k + 1} (${g.where}): ${s.groupAccepted[k] ?? 0} of ${g.rows}`);
    throw new SynthgraphError(
      `after ${c.maxRounds} sampling rounds some groups are short of rows that met their condition and passed the privacy guard: ${short.join("; ")} (${s.exactCopiesRemoved} exact copies of real rows removed)`,
      { hint: tooFewHint },
    );
  }
  return {
    phase: "sample",
    roundRows: [...s.roundRows, remaining],
    roundGroups: [...s.roundGroups, missing],
    nextChunk: 0,
  };
}

const tooFewHint =
  "the model keeps reproducing real rows (a small, mostly categorical table, or a narrow condition?): pass --no-privacy-guard if copies are acceptable, or raise the model's resolution (more bins)";

/**
 * Draws `nRows` rows with `seed` (the engine's model, fitted and loaded by the engine), each satisfying
 * `condition` when one is given, and reports how many rows the model drew to get them (rejected ones included).
 */
export type ChunkDraw = (
  nRows: number,
  seed: number,
  condition: Predicate | null,
) => Promise<{ table: Table; drawn: number }>;

/** The rows of `t` that satisfy `pred`, in order, and how many did not. */
function keepSatisfying(t: Table, pred: Predicate): { table: Table; unmet: number } {
  const mask = predicateMask(pred, t);
  const idx: number[] = [];
  for (let i = 0; i < t.nRows; i++) if (mask[i] === 1) idx.push(i);
  return idx.length === t.nRows
    ? { table: t, unmet: 0 }
    : { table: takeTableRows(t, idx), unmet: t.nRows - idx.length };
}

/**
 * Draws, checks, guards and stores the next chunk of the round (or returns the stored one), then advances.
 * A conditional chunk is drawn under its group's predicate, and every drawn row is checked against it by code
 * (whatever the sampler did) before the privacy guard.
 */
export async function sampleChunk(
  rt: Pick<EngineRuntime, "store" | "real">,
  s: SamplingView,
  a: { engine: string; stream: number; chunkRows: number; draw: ChunkDraw },
): Promise<SamplingUpdate> {
  const round = s.roundRows.length;
  const chunk = s.nextChunk;
  const real = await rt.real();
  const { group, nRows } = samplingLayout(s, round, a.chunkRows)[chunk];
  const cond = conditionOf(s.config, real.metadata, group);
  const key = chunkKey(a.engine, round, chunk);
  const seed = chunkSeed(s.config.seed, a.stream, round, chunk);
  const { value } = await rt.store.memo(key, SampledChunkSchema, async () => {
    const { table: drawn, drawn: drawnRows } = await a.draw(nRows, seed, cond?.predicate ?? null);
    if (drawn.nRows !== nRows) {
      throw new SynthgraphError(`internal: ${a.engine} drew ${drawn.nRows} rows for ${nRows} requested`);
    }
    const met = cond ? keepSatisfying(drawn, cond.predicate) : { table: drawn, unmet: 0 };
    const kept = s.config.privacyGuard
      ? privacyFilterTable(real, met.table)
      : { table: met.table, exactCopies: 0 };
    return encodeChunk(kept.table, {
      requested: nRows,
      exact_copies: kept.exactCopies,
      seed,
      ...(cond ? { group: cond.index, drawn: drawnRows, unmet: met.unmet } : {}),
    });
  });
  const perGroup =
    cond === undefined
      ? {}
      : {
          groupAccepted: groupRows(s.config).map(
            (_, g) => (s.groupAccepted[g] ?? 0) + (g === cond.index ? value.rows : 0),
          ),
        };
  return {
    chunks: [...s.chunks, key],
    accepted: value.rows,
    exactCopiesRemoved: value.exact_copies,
    nextChunk: chunk + 1,
    ...perGroup,
  };
}

/** After plan_round: draw the round's chunks, or write when N rows are in. */
export function afterPlanRound(s: { phase: string }): "sample" | "write" {
  return s.phase === "write" ? "write" : "sample";
}

/** After sample: the round's next chunk, or a new round (which writes when nothing is missing). */
export function afterSampleChunk(
  s: Pick<SamplingView, "config" | "roundRows" | "roundGroups" | "nextChunk">,
  chunkRows: number,
): "sample" | "plan_round" {
  const round = s.roundRows.length;
  if (round === 0) return "plan_round";
  return s.nextChunk < samplingLayout(s, round, chunkRows).length ? "sample" : "plan_round";
}

/**
 * Every stored chunk in order, stacked, ids renumbered 1..N, written as the output CSV; conditional runs:
 * exactly the requested rows per group, group after group, each group's rows in chunk order.
 */
export async function writeSampledOutput(
  rt: Pick<EngineRuntime, "store" | "real">,
  s: Pick<SamplingView, "config" | "chunks">,
): Promise<SamplingUpdate> {
  const { metadata } = await rt.real();
  if (s.config.conditions === undefined) {
    const tables: Table[] = [];
    for (const key of s.chunks) tables.push(decodeChunk(await rt.store.require(key, SampledChunkSchema)));
    return writeOutput(s.config, renumberIds(concatTables(tables, metadata)), metadata);
  }
  const wanted = groupRows(s.config);
  const perGroup: Table[][] = wanted.map(() => []);
  const have = wanted.map(() => 0);
  for (const key of s.chunks) {
    const chunk = await rt.store.require(key, SampledChunkSchema);
    const g = chunk.group;
    if (g === undefined || g < 0 || g >= wanted.length) {
      throw new SynthgraphError(`internal: chunk ${key} of a conditional run has no group`);
    }
    const take = Math.min(chunk.rows, wanted[g] - have[g]);
    if (take <= 0) continue;
    const t = decodeChunk(chunk);
    perGroup[g].push(
      take === t.nRows
        ? t
        : takeTableRows(
            t,
            Array.from({ length: take }, (_, i) => i),
          ),
    );
    have[g] += take;
  }
  return writeOutput(s.config, renumberIds(concatTables(perGroup.flat(), metadata)), metadata);
}

/** One group's record in SUMMARY.json of an engine that samples by code. */
export interface SampledConditionSummary {
  where: string;
  request?: string;
  rows: number;
  /**
   * Rows the model drew for the group and the conditional sampler examined, those it rejected included (an
   * exact sampler draws only the rows it returns).
   */
  drawn: number;
  /** Rows the sampler returned that the code's check found not to satisfy the condition (dropped). */
  unmet: number;
  /** (rows returned − unmet) / drawn: 1 when the model was conditioned exactly, P(condition) under rejection. */
  satisfied_share: number | null;
  /** Rows of the group the privacy guard removed. */
  exact_copies: number;
  chunks: number;
}

/** Per group: the predicate and what its chunks drew, kept and removed (read from the stored chunks). */
export async function sampledConditionsSummary(
  config: RunConfig,
  store: Pick<ArtifactStore, "require">,
  chunks: readonly string[],
): Promise<SampledConditionSummary[]> {
  if (config.conditions === undefined) return [];
  const out: SampledConditionSummary[] = config.conditions.map((g) => ({
    where: g.where,
    ...(g.request === undefined ? {} : { request: g.request }),
    rows: g.rows,
    drawn: 0,
    unmet: 0,
    satisfied_share: null,
    exact_copies: 0,
    chunks: 0,
  }));
  const returned = out.map(() => 0);
  for (const key of chunks) {
    const c = await store.require(key, SampledChunkSchema);
    const g = c.group ?? 0;
    out[g].drawn += c.drawn ?? c.requested;
    out[g].unmet += c.unmet ?? 0;
    out[g].exact_copies += c.exact_copies;
    out[g].chunks += 1;
    // The sampler returns exactly the rows requested; of those, `unmet` failed the code's check.
    returned[g] += c.requested;
  }
  for (const [g, s] of out.entries()) {
    s.satisfied_share = s.drawn > 0 ? (returned[g] - s.unmet) / s.drawn : null;
  }
  return out;
}

/** Rows one rejection attempt draws at most (beyond the rows asked for): bounds memory for unlikely conditions. */
export const MAX_ATTEMPT_ROWS = 65_536;

/**
 * n rows that satisfy `pred`, drawn by rejection: attempt k draws m_k rows with seed_k (seed_0 = `seed`, then
 * deriveSeed(seed, stream, k)), keeps those predicateMask accepts, in order, until n are kept. m_k is the rows
 * still missing over the acceptance rate seen so far (+25% and 16 rows of slack), so a likely condition costs
 * one attempt; an attempt draws at most max(n, MAX_ATTEMPT_ROWS) rows, so an unlikely one costs more attempts,
 * not the memory of millions of rows at once. Accepted rows of independent draws filtered by the predicate are
 * independent draws of the model conditioned on it, whatever superset of the condition `draw` already enforces
 * (evidence). Throws when more than `maxDrawsPerRow`·n rows were drawn. `onDrawn` hears, per attempt, the rows
 * examined until n were kept (so an exact sampler, all of whose rows satisfy the predicate, reports n).
 */
export function rejectionSample(a: {
  draw: (m: number, seed: number) => Table;
  pred: Predicate;
  n: number;
  seed: number;
  stream: number;
  metadata: Metadata;
  maxDrawsPerRow?: number;
  onDrawn?: (rows: number) => void;
}): Table {
  const limit = (a.maxDrawsPerRow ?? 10_000) * Math.max(a.n, 1);
  const cap = Math.max(a.n, MAX_ATTEMPT_ROWS);
  const kept: Table[] = [];
  let have = 0;
  let drawn = 0;
  for (let k = 0; have < a.n; k++) {
    const rate = drawn === 0 ? 1 : Math.max(have / drawn, 1 / (a.maxDrawsPerRow ?? 10_000));
    const m = Math.min(Math.ceil(((a.n - have) / rate) * 1.25) + 16, Math.max(limit - drawn, 1), cap);
    const t = a.draw(m, k === 0 ? a.seed : deriveSeed(a.seed, a.stream, k));
    drawn += m;
    const mask = predicateMask(a.pred, t);
    const idx: number[] = [];
    let i = 0;
    for (; i < m && have + idx.length < a.n; i++) if (mask[i] === 1) idx.push(i);
    // The rows examined: the attempt's surplus after the n-th accepted row was neither kept nor rejected.
    a.onDrawn?.(i);
    kept.push(takeTableRows(t, idx));
    have += idx.length;
    if (have < a.n && drawn >= limit) {
      throw new DataError(
        `the condition ${a.pred.toString()} is too unlikely under the fitted model: ${have} of ${drawn} drawn rows met it`,
        { hint: "widen the condition, or use an engine that generates at the source" },
      );
    }
  }
  return concatTables(kept, a.metadata);
}
