/**
 * The Gaussian copula engine (SDV GaussianCopulaSynthesizer semantics; fit.ts, sample.ts) as a LangGraph
 * state machine: the shared graph of the engines that sample by code (graph/code-sampling-graph.ts, its
 * diagram there) over the copula's state and sampler (sampler.ts). No model call anywhere.
 */
import { buildCodeSamplingGraph, type CodeSamplingRuntime } from "../../graph/code-sampling-graph.ts";
import { copulaSampler } from "./sampler.ts";
import { CopulaState } from "./state.ts";

export function buildCopulaGraph(rt: CodeSamplingRuntime) {
  return buildCodeSamplingGraph(CopulaState, copulaSampler, rt);
}
