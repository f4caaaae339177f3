/**
 * LLMSynthor (Algorithm 1 of the LLMSynthor paper) as a LangGraph state machine.
 *
 *   load → copula → measure → pause ─(iterate)→ propose → sample ─(reinferGroups)→ copula
 *                     ↑   │                          └────────────────────→ measure
 *                     │   ├─(T done or pool discrepancy < tolerance, rows missing)→ fill ⟲ → write → END
 *                     │   └─(N rows)→ write
 *
 * pause is the pause point after each iteration (graph/pause.ts; after measure, so the pool's discrepancy is
 * fresh): it interrupts when asked and applies steering on resume (feedback joins the proposer's guidance).
 *
 * Wiring only: nodes in nodes.ts, routers in routers.ts, the loop's numbers and the pool format in state.ts,
 * discrepancy and sampling in discrepancy.ts and sampler.ts, prompts in prompts.ts, model calls in
 * copula-agent.ts and proposer.ts.
 *
 * Not the shared final generation (graph/finalize.ts addFinalGeneration): LLMSynthor's output is the pool the
 * loop built, and the rows still missing when the loop stops are drawn by code, without a model call, from the
 * mixture of the proposals the pool came from (state.ts says why). Those fill rows are pool chunks (columnar,
 * seeded by the fill stream, ids numbered after the pool), and `write` writes every chunk in pool order;
 * the shared rounds generate rows by model calls in Send-fanned batches stored as row batches, and their
 * `write` reads only those batches. Routing the fill through them would change the artifacts, the seeds and
 * so the CSV of every run, and add the fan-out's state fields for batches that are a single draw. The engine
 * therefore uses only outputFields() (usage, row counters, output) and writeOutput() from the shared code.
 */
import { END, START, StateGraph } from "@langchain/langgraph";
import type { EngineRuntime } from "../../graph/runtime.ts";
import { copula, fill, load, measure, pause, propose, sample, write } from "./nodes.ts";
import { afterFill, afterMeasure, afterSample } from "./routers.ts";
import { LlmsynthorState } from "./state.ts";

export function buildLlmsynthorGraph(rt: EngineRuntime) {
  return new StateGraph(LlmsynthorState)
    .addNode("load", load(rt))
    .addNode("copula", copula(rt))
    .addNode("measure", measure(rt))
    .addNode("pause", pause(rt))
    .addNode("propose", propose(rt))
    .addNode("sample", sample(rt))
    .addNode("fill", fill(rt))
    .addNode("write", write(rt))
    .addEdge(START, "load")
    .addEdge("load", "copula")
    .addEdge("copula", "measure")
    .addEdge("measure", "pause")
    .addConditionalEdges("pause", afterMeasure, ["propose", "fill", "write"])
    .addEdge("propose", "sample")
    .addConditionalEdges("sample", afterSample, ["copula", "measure"])
    .addConditionalEdges("fill", afterFill, ["write", "fill"])
    .addEdge("write", END);
}
