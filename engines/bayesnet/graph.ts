/**
 * The discrete Bayesian-network engine (PrivBayes without noise: fit.ts, cpt.ts, sample.ts) as a LangGraph
 * state machine. No model call anywhere: the DAG is learned and the CPTs fitted once, rows are drawn by code.
 *
 *   load → fit → plan_round ─(rows missing)→ sample ⟲ (a chunk per step, privacy guard inside)
 *                   ↑                           │
 *                   └──────(round drawn)────────┘
 *              plan_round ─(N rows kept)→ write → END
 *
 * Wiring only: nodes in nodes.ts, routers in routers.ts, the rounds in graph/code-sampling.ts.
 */
import { END, START, StateGraph } from "@langchain/langgraph";
import type { EngineRuntime } from "../../graph/runtime.ts";
import { fit, load, planRound, sample, write } from "./nodes.ts";
import { afterPlan, afterSample } from "./routers.ts";
import { BayesnetState } from "./state.ts";

export function buildBayesnetGraph(rt: EngineRuntime) {
  return new StateGraph(BayesnetState)
    .addNode("load", load(rt))
    .addNode("fit", fit(rt))
    .addNode("plan_round", planRound(rt))
    .addNode("sample", sample(rt))
    .addNode("write", write(rt))
    .addEdge(START, "load")
    .addEdge("load", "fit")
    .addEdge("fit", "plan_round")
    .addConditionalEdges("plan_round", afterPlan, ["sample", "write"])
    .addConditionalEdges("sample", afterSample, ["sample", "plan_round"])
    .addEdge("write", END);
}
