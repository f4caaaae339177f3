/**
 * The SYNTHIA graph state. Everything here is small: tables and row batches live in the artifact store
 * (state/artifacts.ts) and the state holds their keys, so a checkpoint does not grow with the number of rows
 * (test/synthia.durable.test.ts measures it). Fields written by parallel batch nodes have reducers.
 */
import { StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import type { Metadata } from "../../data/types.ts";
import { RunConfigSchema } from "../../state/config.ts";
import { finalizeFields } from "../../state/finalize.ts";
import { DiagnosticsSchema, IterationRecordSchema, VerdictSchema } from "../../state/schemas.ts";

export const DatasetRefSchema = z.object({
  path: z.string(),
  /** sha256 of the file bytes: resume refuses a changed input. */
  sha256: z.string(),
  rows: z.number().int(),
  columns: z.array(z.string()),
});
export type DatasetRef = z.infer<typeof DatasetRefSchema>;

export const PHASES = ["init", "iterate", "finalize", "write", "done"] as const;

export const SynthiaState = new StateSchema({
  runDir: z.string(),
  config: RunConfigSchema,
  phase: z.enum(PHASES).default("init"),
  dataset: DatasetRefSchema.nullable().default(null),
  /** M: the real table's metadata (per-column statistics: size independent of the row count). */
  metadata: z.custom<Metadata>().nullable().default(null),
  /** Column descriptions for the prompt (user-provided win over the metadata agent's). */
  descriptions: z.record(z.string(), z.string()).default(() => ({})),
  /** X_sub: row indices of the stratified real subsample. */
  xSub: z.array(z.number().int()).default(() => []),
  /** F_t: accumulated feedback the next prompt is built from. */
  feedback: z.array(z.string()).default(() => []),
  /** P_t: the current generator prompt (for the final batches: the prompt of batch size batchRows). */
  prompt: z.string().default(""),
  /** Probes generated so far (t). */
  iteration: z.number().int().default(0),
  /** Artifact key of the current probe batch. */
  probe: z.string().nullable().default(null),
  /** S_t of the current probe (null when it had no valid rows). */
  diagnostics: DiagnosticsSchema.nullable().default(null),
  verdict: VerdictSchema.nullable().default(null),
  guardReasons: z.array(z.string()).default(() => []),
  history: z.array(IterationRecordSchema).default(() => []),
  /** Why the loop ended and which iteration's feedback the final prompt uses. */
  finalChoice: z
    .object({
      reason: z.enum(["converged", "max_iterations"]),
      iteration: z.number().int(),
      feedback: z.array(z.string()),
    })
    .nullable()
    .default(null),
  ...finalizeFields(),
});

export type SynthiaStateT = typeof SynthiaState.State;
export type SynthiaUpdate = typeof SynthiaState.Update;
