/**
 * SYNTHIA (Algorithm 1 and appendix A of the SYNTHIA paper) as a LangGraph state machine.
 *
 *   init → generate → analyze → discriminate → pause ─(Real, guard silent | t ≥ maxIterations | stop)→ plan_round
 *                ↑                                   └─(Synthetic | Real overruled by the guard)→ refine ─┘
 *   pause: the pause point (graph/pause.ts): interrupts when asked, applies steering on resume
 *   plan_round ─(rows missing)→ wave ─Send×W→ batch → collect ─(more batches)→ wave
 *        │                                               └─(round done)→ plan_round
 *        └─(N rows accepted)→ write → END
 *
 * Wiring only: the nodes are in nodes.ts, the conditional edge in routers.ts, decisions in decisions.ts,
 * statistics in analyzer.ts, prompts in prompts.ts, model calls in agents/ and discriminator.ts. Every node
 * that calls a model stores its result in the artifact store under a key derived from (iteration) or
 * (round, batch) before returning and, when re-run after a crash, returns the stored result without calling
 * the model again.
 */
import { START, StateGraph } from "@langchain/langgraph";
import { addFinalGeneration } from "../../graph/finalize.ts";
import type { EngineRuntime } from "../../graph/runtime.ts";
import {
  analyzeProbe,
  discriminateProbe,
  finalGeneration,
  generateProbe,
  init,
  pause,
  planFinalRound,
  refinePrompt,
} from "./nodes.ts";
import { afterDiscriminate } from "./routers.ts";
import { SynthiaState } from "./state.ts";

export function buildSynthiaGraph(rt: EngineRuntime) {
  return addFinalGeneration(new StateGraph(SynthiaState), finalGeneration(rt), {
    planRound: planFinalRound(rt),
  })
    .addNode("init", init(rt))
    .addNode("generate", generateProbe(rt))
    .addNode("analyze", analyzeProbe(rt))
    .addNode("discriminate", discriminateProbe(rt))
    .addNode("pause", pause(rt))
    .addNode("refine", refinePrompt(rt))
    .addEdge(START, "init")
    .addEdge("init", "generate")
    .addEdge("generate", "analyze")
    .addEdge("analyze", "discriminate")
    .addEdge("discriminate", "pause")
    .addConditionalEdges("pause", afterDiscriminate, ["plan_round", "refine"])
    .addEdge("refine", "generate");
}
