/**
 * Graph-state fields of the final generation every engine shares (graph/finalize.ts): rounds of batches fanned
 * out with Send until N rows are accepted, the counters the parallel batch nodes add to, the output and the
 * usage. A function, not a constant: each StateSchema needs its own reducer instances.
 */
import { ReducedValue } from "@langchain/langgraph";
import { z } from "zod";
import { type AccountingSnapshot, emptySnapshot, mergeSnapshots } from "../models/accounting.ts";
import { AccountingSnapshotSchema } from "./schemas.ts";

const sum = (a: number, b: number): number => a + b;
const counter = () => new ReducedValue(z.number().default(0), { inputSchema: z.number(), reducer: sum });

export function finalizeFields() {
  return {
    usage: new ReducedValue(
      AccountingSnapshotSchema.default(() => emptySnapshot()),
      {
        inputSchema: AccountingSnapshotSchema,
        reducer: (a: AccountingSnapshot, b: AccountingSnapshot) => mergeSnapshots(a, b),
      },
    ),
    /** Final rounds: rows planned per round (index = round − 1). Bounded by config.maxRounds. */
    roundRows: z.array(z.number().int()).default(() => []),
    /** Next batch of the current round to dispatch, and the end of the wave in flight. */
    nextBatch: z.number().int().default(0),
    waveEnd: z.number().int().default(0),
    /** Accepted final rows (validated, exact copies removed), summed over batches. */
    accepted: counter(),
    invalidRows: counter(),
    exactCopiesRemoved: counter(),
    batchesDone: counter(),
    output: z.object({ path: z.string(), rows: z.number().int() }).nullable().default(null),
  };
}
