/**
 * `synthgraph mcp` through the official SDK client: over stdio (a child process through bin/synthgraph.js)
 * and over streamable HTTP (in process): tools/list with output schemas, `evaluate` on two shared CSVs
 * (reference: the CLI's runEvaluate on the same files), a path outside the root refused, a bad input a tool
 * error, a missing or wrong token refused with 401, a foreign Host refused, an oversized body refused.
 */
import { request } from "node:http";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEvaluate } from "../../cli/evaluate.ts";
import { toJson } from "../../stats/metrics/evaluate.ts";
import { createToolContext } from "../../tools/context.ts";
import { TOOL_SPECS } from "../../tools/index.ts";
import { type HttpServer, serveHttp, tokenMatches } from "../../tools/mcp/server.ts";
import { DATASETS } from "../support/fixtures.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const MALLM = join(DATASETS, "mallm-gan");
const EVAL_ARGS = { real: "adult100/train.csv", synthetic: "adult100/test.csv", target: "Income" };

type CallResult = Awaited<ReturnType<Client["callTool"]>>;
const textOf = (r: CallResult): string =>
  (r.content as Array<{ type: string; text?: string }>).map((c) => c.text ?? "").join("\n");

async function reference(): Promise<unknown> {
  const r = await runEvaluate({
    real: join(MALLM, EVAL_ARGS.real),
    synthetic: join(MALLM, EVAL_ARGS.synthetic),
    target: "Income",
    randomForest: false,
  });
  return JSON.parse(toJson(r.summary, 0));
}

/** The checks both transports must pass. */
async function protocolChecks(client: Client): Promise<void> {
  const listed = await client.listTools();
  expect(listed.tools.map((t) => t.name)).toEqual(TOOL_SPECS.map((s) => s.name));
  for (const t of listed.tools) {
    expect(t.inputSchema.type).toBe("object");
    expect(t.outputSchema?.type).toBe("object");
    expect(t.description?.length ?? 0).toBeGreaterThan(80);
  }
  const ok = await client.callTool({ name: "evaluate", arguments: EVAL_ARGS });
  expect(ok.isError ?? false).toBe(false);
  const structured = ok.structuredContent as { summary: { rows: unknown } };
  expect(structured.summary).toEqual(await reference());
  // adult100: train.csv has 100 rows, test.csv 200 (wc -l minus the header).
  expect(structured.summary.rows).toEqual({ real: 100, synthetic: 200, holdout: null });
  expect(JSON.parse(textOf(ok))).toEqual(structured);

  const outside = await client.callTool({
    name: "evaluate",
    arguments: { real: "../adult.csv", synthetic: EVAL_ARGS.synthetic },
  });
  expect(outside.isError).toBe(true);
  expect(textOf(outside)).toMatch(/\.\.\/adult\.csv is outside the root/);

  const bad = await client.callTool({ name: "structure", arguments: { data: EVAL_ARGS.real, bins: "five" } });
  expect(bad.isError).toBe(true);
  expect(textOf(bad)).toMatch(/bins/);
  const unknownRun = await client.callTool({ name: "run_status", arguments: { run_id: "../../etc" } });
  expect(unknownRun.isError).toBe(true);
}

describe("MCP over stdio", () => {
  let client: Client;
  let stderr = "";
  beforeAll(async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(ROOT, "bin/synthgraph.js"), "mcp", "--root", MALLM],
      cwd: ROOT,
      env: { ...(process.env as Record<string, string>), OPENAI_API_KEY: "sk-stdio-secret-000000000" },
      stderr: "pipe",
    });
    transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    client = new Client({ name: "synthgraph-test", version: "0.0.0" });
    await client.connect(transport);
  }, 60_000);
  afterAll(async () => {
    await client?.close();
  });

  it("lists the tools, evaluates two shared CSVs, refuses a path outside the root and bad input", async () => {
    await protocolChecks(client);
    expect(stderr).not.toContain("sk-stdio-secret");
  }, 60_000);
});

describe("MCP over streamable HTTP", () => {
  let open: HttpServer;
  let guarded: HttpServer;
  const TOKEN = "t0ken-for-tests-4f9a2c";
  const logs: string[] = [];
  beforeAll(async () => {
    open = await serveHttp(createToolContext({ root: MALLM }), { port: 0, log: (l) => logs.push(l) });
    guarded = await serveHttp(createToolContext({ root: MALLM, secrets: [TOKEN] }), {
      port: 0,
      token: TOKEN,
      bodyLimit: 64 * 1024,
      log: (l) => logs.push(l),
    });
  });
  afterAll(async () => {
    await open?.close();
    await guarded?.close();
  });

  const connect = async (url: string, headers?: Record<string, string>): Promise<Client> => {
    const client = new Client({ name: "synthgraph-test", version: "0.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url), headers ? { requestInit: { headers } } : undefined),
    );
    return client;
  };

  it("binds 127.0.0.1 by default and passes the protocol checks", async () => {
    expect(new URL(open.url).hostname).toBe("127.0.0.1");
    const client = await connect(open.url);
    await protocolChecks(client);
    await client.close();
  }, 60_000);

  it("refuses a missing or wrong token with 401 and accepts the right one", async () => {
    await expect(connect(guarded.url)).rejects.toThrow(/401|nauthorized/);
    await expect(connect(guarded.url, { authorization: "Bearer wrong" })).rejects.toThrow(/401|nauthorized/);
    const client = await connect(guarded.url, { authorization: `Bearer ${TOKEN}` });
    expect((await client.listTools()).tools).toHaveLength(TOOL_SPECS.length);
    await client.close();
    expect(logs.join("\n")).not.toContain(TOKEN);
  });

  it("refuses to bind a non-loopback address without a token", async () => {
    await expect(serveHttp(createToolContext({ root: MALLM }), { host: "0.0.0.0", port: 0 })).rejects.toThrow(
      /without a token/,
    );
  });

  const raw = (url: string, body: string, headers: Record<string, string>) =>
    new Promise<number>((done, fail) => {
      const u = new URL(url);
      const req = request(
        { host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers },
        (res) => {
          res.resume();
          done(res.statusCode ?? 0);
        },
      );
      req.on("error", fail);
      req.end(body);
    });

  it("refuses a body over the limit with 413 and a foreign Host with 403", async () => {
    const big = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "ping",
      params: { pad: "x".repeat(100_000) },
    });
    expect(
      await raw(guarded.url, big, {
        authorization: `Bearer ${TOKEN}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      }),
    ).toBe(413);
    const ping = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
    expect(await raw(open.url, ping, { host: "evil.example:80", "content-type": "application/json" })).toBe(
      403,
    );
  });

  it("compares tokens whatever their lengths", () => {
    expect(tokenMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(tokenMatches(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(tokenMatches(TOKEN, TOKEN)).toBe(false);
    expect(tokenMatches(undefined, TOKEN)).toBe(false);
  });
});
