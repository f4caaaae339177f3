/**
 * MALLM-GAN (the paper's §3.2 with its official code's schedule) as a LangGraph state machine.
 *
 *   init → generate → score → optimize → pause ─(steps left)→ generate
 *                                              └─(loop done | steering stop)→ choose → plan_round → wave ─Send×W→ batch → collect …
 *
 * One step = one batch of real rows: generate with theta ("batches in a batch", k examples in, k rows out per
 * call) → score with the discriminator (classifiers.ts, `--discriminator`; partial fit on 80%, accuracy on the
 * 20% held out; frozen epochs: accuracy on the whole batch, no update) → store theta when enough rows were
 * valid and re-score all stored pairs with the latest discriminator → the optimizer proposes the next theta
 * from the top-k pairs. After the frozen epoch the lowest-scoring theta of the last epoch generates the N final
 * rows through the shared final generation (graph/finalize.ts: Send fan-out, privacy guard, exactly N rows).
 *
 * pause is the pause point after each optimizer step (graph/pause.ts): it interrupts when asked and applies
 * steering on resume (feedback goes to the optimizer's input; after the last step, into the final theta).
 *
 * Wiring only: nodes in nodes.ts (the score node's caches in score-cache.ts), routers in routers.ts, schedule,
 * keys and state in state.ts, scoring in score.ts and classifiers.ts, model calls in generator.ts and
 * optimizer.ts. Every model call is memoised in the artifact store under a key derived from the step (or round,
 * batch), so a re-run after a crash returns the stored result without calling the model.
 */
import { START, StateGraph } from "@langchain/langgraph";
import { addFinalGeneration } from "../../graph/finalize.ts";
import type { EngineRuntime } from "../../graph/runtime.ts";
import { choose, finalGeneration, generate, init, optimize, pause, score } from "./nodes.ts";
import { afterOptimize } from "./routers.ts";
import { MallmScoreCache } from "./score-cache.ts";
import { MallmState } from "./state.ts";

export function buildMallmGraph(rt: EngineRuntime) {
  return addFinalGeneration(new StateGraph(MallmState), finalGeneration(rt))
    .addNode("init", init(rt))
    .addNode("generate", generate(rt))
    .addNode("score", score(rt, new MallmScoreCache(rt)))
    .addNode("optimize", optimize(rt))
    .addNode("pause", pause(rt))
    .addNode("choose", choose(rt))
    .addEdge(START, "init")
    .addEdge("init", "generate")
    .addEdge("generate", "score")
    .addEdge("score", "optimize")
    .addEdge("optimize", "pause")
    .addConditionalEdges("pause", afterOptimize, ["generate", "choose"])
    .addEdge("choose", "plan_round");
}
