/**
 * The output of the engines that draw rows by code from a model they fitted (copula, bayesnet): no model call,
 * so none of graph/finalize.ts's Send fan-out of memoised model batches, but the same contract: exactly N rows
 * after the privacy guard, every drawn chunk stored before its node returns, nothing redrawn on resume.
 *
 *   plan_round ─(rows missing)→ sample ⟲ (one chunk per step) ─(round drawn)→ plan_round ─(N rows)→ write
 *
 * A round plans the rows still missing and cuts them into chunks of `chunkRows`; chunk c of round r is drawn
 * with the seed chunkSeed(seed, stream, r, c), passed through the privacy guard (graph/privacy-guard.ts) and
 * stored columnar under chunkKey(engine, r, c) before the node returns, so a process killed mid-sampling
 * finds the chunks it stored and draws the next one with the seed it would have used: the resumed CSV is the
 * uninterrupted one. Rows the guard removes are made up by the next round (top-up), up to config.maxRounds.
 * Chunks use LLMSynthor's columnar pool format (engines/llmsynthor/state.ts), ids renumbered 1..N at write.
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
import type { RunConfig } from "../state/config.ts";
import { batchCount, batchSize } from "../state/finalize.ts";
import { deriveSeed } from "../state/seeds.ts";
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
  nextChunk: number;
  chunks: string[];
  accepted: number;
  exactCopiesRemoved: number;
}

export interface SamplingUpdate {
  phase?: "sample" | "write" | "done";
  roundRows?: number[];
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

/** Opens a round for the rows still missing, or moves to write; throws after maxRounds rounds. */
export function planSamplingRound(s: SamplingView): SamplingUpdate {
  const c = s.config;
  const remaining = c.rows - s.accepted;
  if (remaining <= 0) return { phase: "write" };
  if (s.roundRows.length >= c.maxRounds) {
    throw new SynthgraphError(
      `after ${c.maxRounds} sampling rounds only ${s.accepted} of ${c.rows} rows passed the privacy guard (${s.exactCopiesRemoved} exact copies of real rows removed)`,
      {
        hint: "the model keeps reproducing real rows (a small, mostly categorical table?): pass --no-privacy-guard if copies are acceptable, or raise the model's resolution (more bins)",
      },
    );
  }
  return { phase: "sample", roundRows: [...s.roundRows, remaining], nextChunk: 0 };
}

/** Draws `nRows` rows with `seed` (the engine's model, fitted and loaded by the engine). */
export type ChunkDraw = (nRows: number, seed: number) => Promise<Table>;

/** Draws, guards and stores the next chunk of the round (or returns the stored one), then advances. */
export async function sampleChunk(
  rt: Pick<EngineRuntime, "config" | "store" | "real">,
  s: SamplingView,
  a: { engine: string; stream: number; chunkRows: number; draw: ChunkDraw },
): Promise<SamplingUpdate> {
  const round = s.roundRows.length;
  const roundRows = s.roundRows[round - 1];
  const chunk = s.nextChunk;
  const nRows = batchSize(roundRows, a.chunkRows, chunk);
  const key = chunkKey(a.engine, round, chunk);
  const seed = chunkSeed(s.config.seed, a.stream, round, chunk);
  const { value } = await rt.store.memo(key, SampledChunkSchema, async () => {
    const drawn = await a.draw(nRows, seed);
    if (drawn.nRows !== nRows) {
      throw new SynthgraphError(`internal: ${a.engine} drew ${drawn.nRows} rows for ${nRows} requested`);
    }
    const kept = s.config.privacyGuard
      ? privacyFilterTable(await rt.real(), drawn)
      : { table: drawn, exactCopies: 0 };
    return encodeChunk(kept.table, { requested: nRows, exact_copies: kept.exactCopies, seed });
  });
  return {
    chunks: [...s.chunks, key],
    accepted: value.rows,
    exactCopiesRemoved: value.exact_copies,
    nextChunk: chunk + 1,
  };
}

/** After plan_round: draw the round's chunks, or write when N rows are in. */
export function afterPlanRound(s: { phase: string }): "sample" | "write" {
  return s.phase === "write" ? "write" : "sample";
}

/** After sample: the round's next chunk, or a new round (which writes when nothing is missing). */
export function afterSampleChunk(
  s: Pick<SamplingView, "roundRows" | "nextChunk">,
  chunkRows: number,
): "sample" | "plan_round" {
  const roundRows = s.roundRows[s.roundRows.length - 1] ?? 0;
  return s.nextChunk < batchCount(roundRows, chunkRows) ? "sample" : "plan_round";
}

/** Every stored chunk in order, stacked, ids renumbered 1..N, written as the output CSV. */
export async function writeSampledOutput(
  rt: Pick<EngineRuntime, "store" | "real">,
  s: Pick<SamplingView, "config" | "chunks">,
): Promise<SamplingUpdate> {
  const { metadata } = await rt.real();
  const tables: Table[] = [];
  for (const key of s.chunks) tables.push(decodeChunk(await rt.store.require(key, SampledChunkSchema)));
  return writeOutput(s.config, renumberIds(concatTables(tables, metadata)), metadata);
}

/**
 * n rows that satisfy `pred`, drawn by rejection: attempt k draws m_k rows with seed_k (seed_0 = `seed`, then
 * deriveSeed(seed, stream, k)), keeps those predicateMask accepts, in order, until n are kept. m_k is the rows
 * still missing over the acceptance rate seen so far (+25% and 16 rows of slack), so a likely condition costs
 * one attempt. Accepted rows of independent draws filtered by the predicate are independent draws of the
 * model conditioned on it, whatever superset of the condition `draw` already enforces (evidence). Throws when
 * more than `maxDrawsPerRow`·n rows were drawn.
 */
export function rejectionSample(a: {
  draw: (m: number, seed: number) => Table;
  pred: Predicate;
  n: number;
  seed: number;
  stream: number;
  metadata: Metadata;
  maxDrawsPerRow?: number;
}): Table {
  const limit = (a.maxDrawsPerRow ?? 10_000) * Math.max(a.n, 1);
  const kept: Table[] = [];
  let have = 0;
  let drawn = 0;
  for (let k = 0; have < a.n; k++) {
    const rate = drawn === 0 ? 1 : Math.max(have / drawn, 1 / (a.maxDrawsPerRow ?? 10_000));
    const m = Math.min(Math.ceil(((a.n - have) / rate) * 1.25) + 16, Math.max(limit - drawn, 1));
    const t = a.draw(m, k === 0 ? a.seed : deriveSeed(a.seed, a.stream, k));
    drawn += m;
    const mask = predicateMask(a.pred, t);
    const idx: number[] = [];
    for (let i = 0; i < m && have + idx.length < a.n; i++) if (mask[i] === 1) idx.push(i);
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
