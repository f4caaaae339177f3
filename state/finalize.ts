/**
 * Graph-state fields of the final generation every engine shares (graph/finalize.ts): rounds of batches fanned
 * out with Send until N rows are accepted, the counters the parallel batch nodes add to, the output and the
 * usage. Functions, not constants: each StateSchema needs its own reducer instances.
 */
import { ReducedValue } from "@langchain/langgraph";
import { z } from "zod";
import { type AccountingSnapshot, emptySnapshot, mergeSnapshots } from "../models/accounting.ts";
import { AccountingSnapshotSchema } from "./schemas.ts";

const sum = (a: number, b: number): number => a + b;
const counter = () => new ReducedValue(z.number().default(0), { inputSchema: z.number(), reducer: sum });

/** Payload of one final batch (a Send). */
export interface BatchTask {
  round: number;
  batch: number;
  nRows: number;
  /** Conditional runs only: the group of config.conditions the batch generates for (graph/conditions.ts). */
  group?: number;
}

/** Usage, row counters and output: the fields of graph/engine.ts EngineStateBase every engine's state has. */
export function outputFields() {
  return {
    usage: new ReducedValue(
      AccountingSnapshotSchema.default(() => emptySnapshot()),
      {
        inputSchema: AccountingSnapshotSchema,
        reducer: (a: AccountingSnapshot, b: AccountingSnapshot) => mergeSnapshots(a, b),
      },
    ),
    /** Accepted output rows (validated, exact copies removed), summed over the nodes that add them. */
    accepted: counter(),
    invalidRows: counter(),
    exactCopiesRemoved: counter(),
    output: z.object({ path: z.string(), rows: z.number().int() }).nullable().default(null),
  };
}

/** outputFields plus the round and wave bookkeeping of the Send fan-out. */
export function finalizeFields() {
  return {
    ...outputFields(),
    /** Final rounds: rows planned per round (index = round − 1). Bounded by config.maxRounds. */
    roundRows: z.array(z.number().int()).default(() => []),
    /** Next batch of the current round to dispatch, and the end of the wave in flight. */
    nextBatch: z.number().int().default(0),
    waveEnd: z.number().int().default(0),
    batchesDone: counter(),
    /**
     * Exact duplicates among synthetic rows left out of the output (runs that dedupe: graph/finalize.ts),
     * added by plan_round; `accepted` already excludes them.
     */
    duplicatesRemoved: counter(),
  };
}

/** Number of batches for `rows` rows at `batchRows` per batch. */
export function batchCount(rows: number, batchRows: number): number {
  return Math.ceil(rows / batchRows);
}

/** Rows requested by batch b (0-based) of a round that plans `roundRows` rows: full batches, then the rest. */
export function batchSize(roundRows: number, batchRows: number, b: number): number {
  return Math.min(batchRows, roundRows - b * batchRows);
}

/**
 * Batches dispatched per fan-out wave: a constant multiple of the concurrency, so the pending Sends in a
 * checkpoint stay bounded however many rows are requested.
 */
export function waveSize(concurrency: number): number {
  return Math.max(1, concurrency) * 4;
}
