/**
 * The discrete Bayesian-network engine (PrivBayes without noise: fit.ts, cpt.ts, sample.ts) as a LangGraph
 * state machine: the shared graph of the engines that sample by code (graph/code-sampling-graph.ts, its
 * diagram there) over the network's state and sampler (sampler.ts). No model call anywhere.
 */
import { buildCodeSamplingGraph, type CodeSamplingRuntime } from "../../graph/code-sampling-graph.ts";
import { bayesnetSampler } from "./sampler.ts";
import { BayesnetState } from "./state.ts";

export function buildBayesnetGraph(rt: CodeSamplingRuntime) {
  return buildCodeSamplingGraph(BayesnetState, bayesnetSampler, rt);
}
