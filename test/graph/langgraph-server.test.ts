/**
 * langgraph.json served by the LangGraph dev server (`langgraphjs dev` from @langchain/langgraph-cli),
 * driven through @langchain/langgraph-sdk: create a thread, stream a SYNTHIA run against the loopback
 * model server, read the thread's state. The CLI is a devDependency; the test is skipped (with the reason
 * printed) only when it is not installed. SYNTHGRAPH_LANGGRAPH_CLI may name the `langgraphjs` binary of
 * another install.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { afterAll, describe, expect, it } from "vitest";
import { csvRows, useLlmServer, useRunFiles } from "../support/harness.ts";
import { unusedPort } from "../support/llm-server.ts";
import { responder, testConfig } from "../support/synthia.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const CLI = process.env.SYNTHGRAPH_LANGGRAPH_CLI ?? join(ROOT, "node_modules/.bin/langgraphjs");
const HAVE_CLI = existsSync(CLI);
if (!HAVE_CLI) {
  process.stderr.write(
    `langgraph-server.test.ts skipped: ${CLI} is missing (npm install -E -D @langchain/langgraph-cli@1.5.1 @langchain/langgraph-api@1.5.1)\n`,
  );
}

const server = useLlmServer();
const files = useRunFiles("langgraph-server-");
let child: ChildProcess | undefined;

/** Starts the dev server on a free loopback port; resolves with its URL once it serves. */
async function startDevServer(): Promise<string> {
  const port = await unusedPort();
  child = spawn(CLI, ["dev", "--port", String(port), "--host", "127.0.0.1", "--no-browser", "--no-reload"], {
    cwd: ROOT,
    env: { ...process.env, LANGSMITH_TRACING: "false", LANGCHAIN_TRACING_V2: "false" },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`dev server did not start in 120 s:\n${log}`)), 120_000);
    const onData = (d: Buffer): void => {
      log += d.toString();
      if (/Server running at/.test(log)) {
        clearTimeout(timer);
        done(`http://127.0.0.1:${port}`);
      }
    };
    child?.stdout?.on("data", onData);
    child?.stderr?.on("data", onData);
    child?.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`dev server exited with ${code}:\n${log}`));
    });
  });
}

afterAll(() => {
  // The dev server runs workers in its process group: end that group (ours alone, started above).
  if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
});

describe.skipIf(!HAVE_CLI)("LangGraph dev server", () => {
  it("serves every engine and runs SYNTHIA to the end through the SDK", async () => {
    server.setDefault(responder());
    const url = await startDevServer();
    const client = new Client({ apiUrl: url });
    const assistants = await client.assistants.search({ limit: 10 });
    expect(assistants.map((a) => a.graph_id).sort()).toEqual(["llmsynthor", "mallm-gan", "synthia"]);

    const p = files.paths();
    const config = testConfig(server, "ollama", { input: files.input, out: p.out, rows: 30 });
    const thread = await client.threads.create();
    const nodes: string[] = [];
    for await (const chunk of client.runs.stream(thread.thread_id, "synthia", {
      input: { runDir: p.runDir, config },
      streamMode: "updates",
      config: { recursion_limit: 1000 },
    })) {
      if (chunk.event === "error") throw new Error(`run failed: ${JSON.stringify(chunk.data)}`);
      if (chunk.event === "updates") nodes.push(...Object.keys(chunk.data as object));
    }
    // SYNTHIA's loop (one probe, the loopback discriminator answers Real) then the final generation.
    for (const n of [
      "init",
      "generate",
      "analyze",
      "discriminate",
      "plan_round",
      "batch",
      "collect",
      "write",
    ]) {
      expect(nodes).toContain(n);
    }
    const state = await client.threads.getState<{ phase: string; output: { path: string; rows: number } }>(
      thread.thread_id,
    );
    expect(state.values.phase).toBe("done");
    expect(state.values.output).toEqual({ path: p.out, rows: 30 });
    expect(csvRows(p.out)).toHaveLength(30);
  }, 240_000);
});
