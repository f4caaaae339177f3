/**
 * graph/export.ts: the exported (checkpointer-less) engine graphs build their runtime lazily from each
 * thread's input. Reference: the durable runner (graph/run.ts) on the same config writes the same CSV,
 * since every model call is seeded and the loopback responder answers as a function of the seed.
 */
import { readFileSync } from "node:fs";
import { MemorySaver } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { exportGraphs, synthia } from "../../graph/export.ts";
import { startRun } from "../../graph/run.ts";
import { ENGINES } from "../../state/config.ts";
import { csvRows, storedArtifacts, TEST_ENV, useLlmServer, useRunFiles } from "../support/harness.ts";
import { responder, testConfig } from "../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("graph-export-");

describe("exported engine graphs", () => {
  it("exports every engine, compiled without a checkpointer", () => {
    const graphs = exportGraphs();
    expect(Object.keys(graphs).sort()).toEqual([...ENGINES].sort());
    for (const g of Object.values(graphs)) {
      expect((g as unknown as { checkpointer?: unknown }).checkpointer ?? undefined).toBeUndefined();
    }
  });

  it("runs two threads at once, each with the runtime of its own input, as the runner would", async () => {
    server.setDefault(responder());
    Object.assign(process.env, { OPENAI_API_KEY: process.env.OPENAI_API_KEY ?? TEST_ENV.OPENAI_API_KEY });
    const a = files.paths();
    const b = files.paths();
    const ref = files.paths();
    const cfgA = testConfig(server, "ollama", { input: files.input, out: a.out, rows: 30, seed: 3 });
    const cfgB = testConfig(server, "ollama", { input: files.input, out: b.out, rows: 20, seed: 4 });
    // The server gives served graphs a checkpointer at run time; MemorySaver stands in for it here.
    const app = synthia.withConfig({}) as typeof synthia;
    (app as unknown as { checkpointer: MemorySaver }).checkpointer = new MemorySaver();
    const [sa, sb] = await Promise.all([
      app.invoke(
        { runDir: a.runDir, config: cfgA },
        { configurable: { thread_id: "a" }, recursionLimit: 1000 },
      ),
      app.invoke(
        { runDir: b.runDir, config: cfgB },
        { configurable: { thread_id: "b" }, recursionLimit: 1000 },
      ),
    ]);
    expect(sa.output).toEqual({ path: a.out, rows: 30 });
    expect(sb.output).toEqual({ path: b.out, rows: 20 });
    expect(csvRows(a.out)).toHaveLength(30);
    expect(csvRows(b.out)).toHaveLength(20);
    // Artifacts went to each thread's own run directory: 30 rows = 3 final batches of 10, 20 rows = 2.
    expect(storedArtifacts(a.runDir, "final")).toHaveLength(3);
    expect(storedArtifacts(b.runDir, "final")).toHaveLength(2);

    const refCfg = { ...cfgA, out: ref.out };
    await startRun(ref.runDir, refCfg, { env: { ...process.env } });
    expect(readFileSync(a.out, "utf8")).toBe(readFileSync(ref.out, "utf8"));
  });

  it("refuses a thread whose input names no run", async () => {
    await expect(synthia.invoke({} as never, { configurable: { thread_id: "none" } })).rejects.toThrow(
      /runDir|no run bound/,
    );
  });
});
