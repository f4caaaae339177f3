/**
 * SynLLM (docs/papers.md, SynLLM: Algorithm 1) as a LangGraph state machine: single pass, no refinement loop.
 *
 *   init → plan_round ─(rows missing)→ wave ─Send×W→ batch → collect ─(more batches)→ wave
 *               │                                                 └─(round done)→ plan_round
 *               └─(N rows accepted)→ write → END
 *
 * init profiles the real table, calibrates the rules and picks the example rows (nodes.ts); every batch
 * (mini-batches of config.synllm.batchRows, 20) builds its prompt, calls the generator, validates and applies
 * the hard rules; rounds top up until exactly N rows are accepted (graph/finalize.ts).
 */
import { START, StateGraph } from "@langchain/langgraph";
import { addFinalGeneration } from "../../graph/finalize.ts";
import type { EngineRuntime } from "../../graph/runtime.ts";
import { finalGeneration, init } from "./nodes.ts";
import { SynllmState } from "./state.ts";

export function buildSynllmGraph(rt: EngineRuntime) {
  return addFinalGeneration(new StateGraph(SynllmState), finalGeneration(rt))
    .addNode("init", init(rt))
    .addEdge(START, "init")
    .addEdge("init", "plan_round");
}
