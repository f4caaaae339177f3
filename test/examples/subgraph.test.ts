/**
 * examples/subgraph.ts: a parent graph runs SYNTHIA as a subgraph (loopback model server) and reads its
 * result from the parent state. Reference: the analyzer run directly on the files the subgraph wrote.
 */
import { describe, expect, it } from "vitest";
import { buildAgentGraph } from "../../examples/subgraph.ts";
import { analyzeFiles } from "../../tools/analyze.ts";
import { csvRows, loopbackModels, useLlmServer, useRunFiles } from "../support/harness.ts";
import { responder } from "../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("subgraph-example-");

describe("engine graph as a subgraph", () => {
  it("the parent state holds the subgraph's output and the parent's review of it", async () => {
    server.setDefault(responder());
    const out = files.paths().out;
    const app = buildAgentGraph(loopbackModels(server, "ollama"), files.dir);
    const state = await app.invoke(
      { request: { data: files.input, rows: 25, out, seed: 11 } },
      { configurable: { thread_id: "agent-1" }, recursionLimit: 1000 },
    );
    expect(state.output).toEqual({ path: out, rows: 25 });
    expect(csvRows(out)).toHaveLength(25);
    const ref = await analyzeFiles(files.input, out);
    expect(state.quality).toEqual({
      similarity: ref.diagnostics.similarity,
      coverage: ref.diagnostics.coverage,
      rows: 25,
    });
    // The subgraph's own state was checkpointed under the parent's thread.
    const snapshot = await app.getState({ configurable: { thread_id: "agent-1" } }, { subgraphs: true });
    expect(snapshot.values.config?.rows).toBe(25);
  });
});
