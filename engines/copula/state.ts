/**
 * The copula engine's graph state: the shared head, the fitted model's artifact key and its summary, the
 * sampling rounds (graph/code-sampling.ts) and the output fields. Rows live in the artifact store as chunks.
 */
import { StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import { samplingFields } from "../../graph/code-sampling.ts";
import { engineStateHead } from "../../state/engine-state.ts";
import { outputFields } from "../../state/finalize.ts";
import { CopulaFitSummarySchema } from "./fit-summary.ts";

export const COPULA_PHASES = ["init", "fit", "sample", "write", "done"] as const;

/** The fitted model (engines/copula/model.ts), stored once per run. */
export const COPULA_MODEL_KEY = "copula/model";

export const CopulaState = new StateSchema({
  ...engineStateHead(COPULA_PHASES),
  /** No refinement loop: stays 0 (run.json's iterations). */
  iteration: z.number().int().default(0),
  modelKey: z.string().nullable().default(null),
  fitSummary: CopulaFitSummarySchema.nullable().default(null),
  ...samplingFields(),
  // accepted = rows kept after the privacy guard; invalidRows stays 0 (rows are drawn inside the real ranges
  // and levels by construction); usage stays empty (no model call).
  ...outputFields(),
});

export type CopulaStateT = typeof CopulaState.State;
export type CopulaUpdate = typeof CopulaState.Update;
