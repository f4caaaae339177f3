/**
 * The Bayesian-network engine's graph state: the state of every engine that samples by code
 * (graph/code-sampling-graph.ts) with the network's fit summary. Rows live in the artifact store as chunks.
 */
import { codeSamplingState } from "../../graph/code-sampling-graph.ts";
import { BayesnetFitSummarySchema } from "./fit-summary.ts";

export const BayesnetState = codeSamplingState(BayesnetFitSummarySchema);

export type BayesnetStateT = typeof BayesnetState.State;
export type BayesnetUpdate = typeof BayesnetState.Update;
