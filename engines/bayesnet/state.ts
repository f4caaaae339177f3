/**
 * The Bayesian-network engine's graph state: the shared head, the fitted network's artifact key and its
 * summary, the sampling rounds (graph/code-sampling.ts) and the output fields. Rows live in the artifact
 * store as chunks.
 */
import { StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import { samplingFields } from "../../graph/code-sampling.ts";
import { engineStateHead } from "../../state/engine-state.ts";
import { outputFields } from "../../state/finalize.ts";
import { BayesnetFitSummarySchema } from "./fit-summary.ts";

export const BAYESNET_PHASES = ["init", "fit", "sample", "write", "done"] as const;

/** The fitted network (engines/bayesnet/model.ts), stored once per run. */
export const BAYESNET_MODEL_KEY = "bayesnet/model";

export const BayesnetState = new StateSchema({
  ...engineStateHead(BAYESNET_PHASES),
  /** No refinement loop: stays 0 (run.json's iterations). */
  iteration: z.number().int().default(0),
  modelKey: z.string().nullable().default(null),
  fitSummary: BayesnetFitSummarySchema.nullable().default(null),
  ...samplingFields(),
  // accepted = rows kept after the privacy guard; invalidRows stays 0 (every value is a real level or a real
  // value of its bin); usage stays empty (no model call).
  ...outputFields(),
});

export type BayesnetStateT = typeof BayesnetState.State;
export type BayesnetUpdate = typeof BayesnetState.Update;
