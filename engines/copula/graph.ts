/**
 * The Gaussian copula engine (SDV GaussianCopulaSynthesizer semantics; fit.ts, sample.ts) as a LangGraph
 * state machine. No model call anywhere: the table is fitted once and sampled by code.
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
import { CopulaState } from "./state.ts";

export function buildCopulaGraph(rt: EngineRuntime) {
  return new StateGraph(CopulaState)
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
