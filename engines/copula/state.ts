/**
 * The copula engine's graph state: the state of every engine that samples by code
 * (graph/code-sampling-graph.ts) with the copula's fit summary. Rows live in the artifact store as chunks.
 */
import { codeSamplingState } from "../../graph/code-sampling-graph.ts";
import { CopulaFitSummarySchema } from "./fit-summary.ts";

export const CopulaState = codeSamplingState(CopulaFitSummarySchema);

export type CopulaStateT = typeof CopulaState.State;
export type CopulaUpdate = typeof CopulaState.Update;
