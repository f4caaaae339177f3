/**
 * The SYNTHIA graph state. Everything here is small: tables and row batches live in the artifact store
 * (state/artifacts.ts) and the state holds their keys, so a checkpoint does not grow with the number of rows
 * (test/engines/synthia/durable.test.ts measures it). Fields written by parallel batch nodes have reducers.
 */
import { StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import { engineStateHead } from "../../state/engine-state.ts";
import { finalizeFields } from "../../state/finalize.ts";
import { DiagnosticsSchema, IterationRecordSchema, VerdictSchema } from "../../state/schemas.ts";

export const PHASES = ["init", "iterate", "finalize", "write", "done"] as const;

export const SynthiaState = new StateSchema({
  ...engineStateHead(PHASES),
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
      reason: z.enum(["converged", "max_iterations", "stopped"]),
      iteration: z.number().int(),
      feedback: z.array(z.string()),
    })
    .nullable()
    .default(null),
  ...finalizeFields(),
});

export type SynthiaStateT = typeof SynthiaState.State;
export type SynthiaUpdate = typeof SynthiaState.Update;
