/**
 * `synthgraph generate` / `resume` / `runs` through their action functions (env-configured models on the
 * loopback server, both providers): SUMMARY.json, live progress, run listing, option errors, and an
 * unreachable model (actionable error, run kept, `resume` finishes once the model is up).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CliIo, runGenerate, runResume, runRuns } from "../cli/generate.ts";
import { SynthgraphError } from "../data/errors.ts";
import { readRunFile } from "../state/run-dir.ts";
import { PROVIDERS, type TestProvider } from "./support/llm-endpoints.ts";
import { type LlmServer, startLlmServer, unusedPort } from "./support/llm-server.ts";
import { responder, writeRealCsv } from "./support/synthia.ts";

let server: LlmServer;
let dir: string;
let input: string;

beforeAll(async () => {
  server = await startLlmServer();
  dir = mkdtempSync(join(tmpdir(), "synthia-cli-"));
  input = writeRealCsv(dir);
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => server.reset());

function io(env: Record<string, string>): CliIo & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env,
    out: () => out,
    err: () => err,
  };
}

function envFor(provider: TestProvider, url: { ollama: string; openai: string }): Record<string, string> {
  return provider === "ollama"
    ? { OLLAMA_HOST: url.ollama }
    : { OPENAI_BASE_URL: url.openai, OPENAI_API_KEY: "sk-dummy-0000" };
}
const modelFor = (p: TestProvider): string => (p === "ollama" ? "ollama:llama3.1:8b" : "openai:gpt-4o");

describe.each(PROVIDERS)("generate over %s", (provider) => {
  it("writes OUT.csv and SUMMARY.json, prints progress, and lists the run", async () => {
    server.setDefault(responder());
    const root = join(dir, `runs-${provider}`);
    const runDir = join(root, "r1");
    const out = join(dir, `out-${provider}.csv`);
    const json = join(dir, `summary-${provider}.json`);
    const t = io(envFor(provider, { ollama: server.ollamaUrl, openai: server.openaiUrl }));
    const before = { ...server.stats };
    await runGenerate(
      {
        data: input,
        rows: "40",
        out,
        json,
        runDir,
        model: modelFor(provider),
        seed: "3",
        probeRows: "20",
        batchRows: "10",
        examples: "8",
      },
      t,
    );
    const summary = JSON.parse(readFileSync(json, "utf8"));
    expect(summary.rows).toBe(40);
    expect(summary.run_dir).toBe(runDir);
    expect(summary.stopped_because).toBe("converged");
    expect(summary.iterations).toHaveLength(1);
    expect(summary.iterations[0]).toMatchObject({
      iteration: 1,
      verdict: "Real",
      overruled: false,
      feedback: null,
      valid_rows: 20,
    });
    expect(summary.iterations[0].scores.similarity).toBeGreaterThan(0.5);
    expect(summary.final_prompt).toContain("Reply with exactly 10 rows");
    // Usage equals what the server served (it reports usage for every reply).
    expect(summary.usage.calls).toBe(server.stats.completions - before.completions);
    expect(summary.usage.prompt_tokens).toBe(server.stats.promptTokens - before.promptTokens);
    expect(summary.usage.completion_tokens).toBe(server.stats.completionTokens - before.completionTokens);
    expect(summary.privacy).toEqual({ guard: true, exact_copies_removed: 0 });
    expect(summary.evaluate.summary.rows).toEqual({ real: 40, synthetic: 40, holdout: null });
    expect(summary.evaluate.quality_report.overall).toBeGreaterThan(0.5);
    expect(readFileSync(out, "utf8").trimEnd().split("\n")).toHaveLength(41);

    const err = t.err();
    expect(err).toContain("loaded 40 real rows × 4 columns");
    expect(err).toMatch(
      /iteration 1\/6: probe 20\/20 valid \(100%\); similarity \d\.\d\d, coverage \d\.\d\d, divergence \d\.\d\d; verdict Real/,
    );
    expect(err).toMatch(/rows 40\/40; valid 100%/);
    expect(err).toMatch(/\d+ calls, \d+ tokens/);
    expect(t.out()).toContain(`done: 40 rows in ${out}`);

    const listing = io({});
    const runs = await runRuns({ root }, listing);
    expect(runs).toEqual([
      expect.objectContaining({
        id: "r1",
        engine: "synthia",
        status: "done",
        rows_done: 40,
        rows_requested: 40,
        iterations: 1,
      }),
    ]);
    expect(listing.out()).toMatch(
      /^id\s+engine\s+status\s+rows\s+iterations\s+updated\nr1\s+synthia\s+done\s+40\/40\s+1\s/,
    );
  });
});

describe("generate errors", () => {
  it("rejects bad options with exit code 2", async () => {
    const t = io({});
    const err = await runGenerate({ data: input, rows: "0", out: join(dir, "x.csv") }, t).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SynthgraphError);
    expect((err as SynthgraphError).exitCode).toBe(2);
    expect((err as SynthgraphError).message).toContain("--rows must be at least 1");
  });

  it("fails with an actionable message when the model is unreachable, keeps the run, and resumes once it is up", async () => {
    server.setDefault(responder());
    const port = await unusedPort();
    const runDir = join(dir, "unreachable");
    const out = join(dir, "unreachable.csv");
    const t = io({ OLLAMA_HOST: `127.0.0.1:${port}` });
    const err = await runGenerate(
      { data: input, rows: "20", out, runDir, ...{ probeRows: "20", batchRows: "10", examples: "8" } },
      t,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynthgraphError);
    const e = err as SynthgraphError;
    expect(e.exitCode).not.toBe(0);
    expect(e.message).toBe(`Ollama is not reachable at http://127.0.0.1:${port}`);
    expect(e.hint).toContain("ollama serve");
    expect(e.hint).toContain(`synthgraph resume ${runDir}`);
    const run = await readRunFile(runDir);
    expect(run.status).toBe("failed");
    expect(run.error?.message).toContain("not reachable");

    // "Start the model": a proxy to the loopback server on the port the run was configured with.
    const target = new URL(server.ollamaUrl);
    const proxy = createServer((req, res) => {
      const up = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(port, "127.0.0.1", r));
    try {
      const summary = await runResume({ dir: runDir }, io({ OLLAMA_HOST: `127.0.0.1:${port}` }));
      expect(summary.rows).toBe(20);
      expect((await readRunFile(runDir)).status).toBe("done");
      expect(readFileSync(out, "utf8").trimEnd().split("\n")).toHaveLength(21);
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});
