/**
 * `synthgraph mcp` through the official SDK client: over stdio (a child process through bin/synthgraph.js)
 * and over streamable HTTP (in process): tools/list with output schemas, `evaluate` on two shared CSVs
 * (reference: the CLI's runEvaluate on the same files) with and without a condition, `sample` with an offline
 * engine (rows in structuredContent, one progress notification per group), `check_rows` with a condition,
 * steer_run / resume_run refusals, a path outside the root refused, a bad input a tool error, a missing or
 * wrong token refused with 401, a foreign Host refused, an oversized body refused; over HTTP also a run started
 * with start_run (offline engine) followed by run_status with progress notifications.
 */
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
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

async function reference(where?: string): Promise<unknown> {
  const r = await runEvaluate({
    real: join(MALLM, EVAL_ARGS.real),
    synthetic: join(MALLM, EVAL_ARGS.synthetic),
    target: "Income",
    randomForest: false,
    ...(where === undefined ? {} : { where }),
  });
  return JSON.parse(toJson(r.summary, 0));
}

/** A CSV of the shared folder as header-keyed rows of text cells (adult100 has no quoted cells). */
function csvObjects(file: string): Array<Record<string, string>> {
  const [head, ...lines] = readFileSync(join(MALLM, file), "utf8").trimEnd().split("\n");
  const names = head.split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, j) => [names[j], v])));
}

type Progress = { progress: number; total?: number };

const LATE = "Received a progress notification for an unknown token: ";

/**
 * The progress notifications of one call, in arrival order. SDK 1.32's client dispatches a notification a
 * microtask later than a response read in the same chunk, so a notification the server sent just before its
 * result can reach the client after the call's handler is gone (modelcontextprotocol/typescript-sdk#2580);
 * the client then reports it through onerror with the notification, and it is taken from there.
 */
function progressRecorder(client: Client): { onprogress: (p: Progress) => void; list: () => Progress[] } {
  const got: Progress[] = [];
  const previous = client.onerror;
  client.onerror = (e: Error) => {
    if (!e.message.startsWith(LATE)) return previous?.(e);
    const n = JSON.parse(e.message.slice(LATE.length)) as { params: Progress };
    got.push({ progress: n.params.progress, total: n.params.total });
  };
  return {
    onprogress: (p) => got.push({ progress: p.progress, total: p.total }),
    list: () => {
      client.onerror = previous;
      return got;
    },
  };
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

  // Conditional fidelity: only the women of both tables (brute-force count of the sex column).
  const women = 'sex == "Female"';
  const cond = await client.callTool({ name: "evaluate", arguments: { ...EVAL_ARGS, condition: women } });
  expect(cond.isError ?? false).toBe(false);
  const condOut = cond.structuredContent as { condition: string; summary: { rows: unknown } };
  expect(condOut.condition).toBe(women);
  expect(condOut.summary).toEqual(await reference(women));
  expect(condOut.summary.rows).toEqual({
    real: csvObjects(EVAL_ARGS.real).filter((r) => r.sex === "Female").length,
    synthetic: csvObjects(EVAL_ARGS.synthetic).filter((r) => r.sex === "Female").length,
    holdout: null,
  });

  // Offline conditional rows in the result, one progress notification per group.
  const progress = progressRecorder(client);
  const sampled = await client.callTool(
    {
      name: "sample",
      arguments: {
        data: EVAL_ARGS.real,
        engine: "bayesnet",
        where: women,
        conditions: [
          { where: "age < 40", rows: 4 },
          { where: "age >= 40", rows: 6 },
        ],
        seed: 1,
      },
    },
    undefined,
    { onprogress: progress.onprogress },
  );
  // A late notification is dispatched a microtask after the response: let microtasks run first.
  await new Promise((r) => setImmediate(r));
  expect(sampled.isError ?? false).toBe(false);
  const rows = (sampled.structuredContent as { mode: string; rows: Array<{ sex: string; age: number }> })
    .rows;
  expect((sampled.structuredContent as { mode: string }).mode).toBe("rows");
  expect(rows).toHaveLength(10);
  expect(rows.every((r) => r.sex === "Female")).toBe(true);
  expect(rows.slice(0, 4).every((r) => r.age < 40)).toBe(true);
  expect(rows.slice(4).every((r) => r.age >= 40)).toBe(true);
  expect(progress.list().map((p) => [p.progress, p.total])).toEqual([
    [4, 10],
    [10, 10],
  ]);
  const badSample = await client.callTool({
    name: "sample",
    arguments: { data: EVAL_ARGS.real, engine: "copula", where: "sexx == 'Female'", rows: 3 },
  });
  expect(badSample.isError).toBe(true);
  expect(textOf(badSample)).toMatch(/did you mean "sex"/);

  // check_rows with a condition: the first real row (a man) is valid on the metadata but not a woman.
  const first = csvObjects(EVAL_ARGS.real)[0];
  expect(first.sex).toBe("Male");
  const checked = await client.callTool({
    name: "check_rows",
    arguments: { real: EVAL_ARGS.real, where: women, rows: [first] },
  });
  expect(checked.isError ?? false).toBe(false);
  expect(checked.structuredContent).toMatchObject({
    valid: 0,
    invalid: 1,
    where: women,
    results: [
      {
        ok: false,
        condition_met: false,
        errors: [{ column: "sex", reason: 'does not satisfy sex == "Female" (sex = "Male")' }],
      },
    ],
  });

  // Steering tools: unknown runs and malformed actions are tool errors.
  const noRun = await client.callTool({
    name: "steer_run",
    arguments: { run_id: "20990101-000000-abcdef", actions: [{ type: "stop" }] },
  });
  expect(noRun.isError).toBe(true);
  expect(textOf(noRun)).toMatch(/no run 20990101-000000-abcdef/);
  const badAction = await client.callTool({
    name: "steer_run",
    arguments: { run_id: "20990101-000000-abcdef", actions: [{ type: "explode" }] },
  });
  expect(badAction.isError).toBe(true);
  const noResume = await client.callTool({
    name: "resume_run",
    arguments: { run_id: "20990101-000000-abcdef" },
  });
  expect(noResume.isError).toBe(true);
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

  it("start_run returns at once; run_status waits for the run with progress notifications", async () => {
    // A root of its own: runs are written under it (the shared folder is read-only).
    const root = mkdtempSync(join(tmpdir(), "mcp-runs-"));
    copyFileSync(join(MALLM, EVAL_ARGS.real), join(root, "train.csv"));
    const server = await serveHttp(createToolContext({ root }), { port: 0, log: () => undefined });
    const client = await connect(server.url);
    try {
      const started = await client.callTool({
        name: "start_run",
        arguments: { data: "train.csv", rows: 50, out: "out.csv", engine: "copula", seed: 3 },
      });
      expect(started.isError ?? false).toBe(false);
      const id = (started.structuredContent as { run_id: string }).run_id;
      const progress = progressRecorder(client);
      let status = "running";
      for (let i = 0; i < 10 && status === "running"; i++) {
        const r = await client.callTool(
          { name: "run_status", arguments: { run_id: id, wait_seconds: 30 } },
          undefined,
          { onprogress: progress.onprogress },
        );
        status = (r.structuredContent as { status: string }).status;
      }
      await new Promise((r) => setImmediate(r));
      expect(status).toBe("done");
      const got = progress.list();
      expect(got.length).toBeGreaterThan(0);
      // Rows drawn never decrease; the last notification is the finished run's 50 of 50.
      expect(got.every((p, k) => k === 0 || p.progress >= got[k - 1].progress)).toBe(true);
      expect(got.at(-1)).toEqual({ progress: 50, total: 50 });
      expect(readFileSync(join(root, "out.csv"), "utf8").trimEnd().split("\n")).toHaveLength(51);
    } finally {
      await client.close();
      await server.close();
    }
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
