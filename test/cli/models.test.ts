/** `synthgraph models`: role table, reachability probes, served models, and the failure when none answers. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { collectModels, modelsCommand, runModels } from "../../cli/models.ts";
import { SynthgraphError } from "../../data/errors.ts";
import { ROLES } from "../../models/spec.ts";
import { type LlmServer, startLlmServer, unusedPort } from "../support/llm-server.ts";

const dir = mkdtempSync(join(tmpdir(), "synthgraph-cli-models-"));
let ollama: LlmServer;
let openai: LlmServer;
beforeAll(async () => {
  ollama = await startLlmServer({ models: ["llama3.1:8b", "qwen2.5:7b"] });
  openai = await startLlmServer({ models: ["gpt-4o"], apiKey: "sk-good-key-1234" });
});
afterAll(async () => {
  await ollama.close();
  await openai.close();
});

function config(v: unknown): string {
  const p = join(dir, `cfg-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, JSON.stringify(v));
  return p;
}

describe("synthgraph models", () => {
  it("lists every role, probes each endpoint once, and reports served models", async () => {
    const file = config({
      default: { model: "ollama:llama3.1:8b", baseUrl: ollama.url },
      roles: { optimizer: { model: "openai:gpt-4o", baseUrl: openai.openaiUrl } },
    });
    let out = "";
    const report = await runModels(
      { config: file, json: true },
      { env: { OPENAI_API_KEY: "sk-good-key-1234" }, write: (s) => (out += s) },
    );
    expect(JSON.parse(out)).toEqual(report);
    expect(report.roles.map((r) => r.role)).toEqual([...ROLES]);
    expect(report.roles.every((r) => r.available)).toBe(true);
    expect(report.roles.find((r) => r.role === "optimizer")).toMatchObject({
      spec: "openai:gpt-4o",
      temperature: 1,
      baseUrl: openai.openaiUrl,
    });
    expect(report.endpoints).toHaveLength(2);
    const [o, a] = report.endpoints;
    expect(o).toMatchObject({
      provider: "ollama",
      reachable: true,
      version: "0.6.5",
      served: ["llama3.1:8b", "qwen2.5:7b"],
      missing: [],
    });
    expect(o.roles).toEqual(ROLES.filter((r) => r !== "optimizer"));
    expect(a).toMatchObject({
      provider: "openai",
      reachable: true,
      served: ["gpt-4o"],
      roles: ["optimizer"],
    });
    expect(ollama.requests.map((r) => r.path)).toEqual(["/api/version", "/api/tags"]);
    expect(openai.requests.map((r) => `${r.path} ${r.headers.authorization}`)).toEqual([
      "/v1/models Bearer sk-good-key-1234",
    ]);
  });

  it("says `ollama pull` for a configured model the server does not have", async () => {
    let out = "";
    const report = await runModels(
      { model: "ollama:mistral:7b" },
      { env: { OLLAMA_HOST: ollama.url }, write: (s) => (out += s) },
    );
    expect(report.endpoints[0].missing).toEqual(["mistral:7b"]);
    expect(report.roles.every((r) => !r.available)).toBe(true);
    expect(out).toContain("what to do: ollama pull mistral:7b");
    expect(out).toMatch(/^generator\s+ollama:mistral:7b\s+0\.5\s+unavailable$/m);
  });

  it("reports a refused key without printing it", async () => {
    const report = await collectModels(
      { model: "openai:gpt-4o" },
      { OPENAI_BASE_URL: openai.openaiUrl, OPENAI_API_KEY: "sk-bad-key-5678" },
    );
    expect(report.endpoints[0]).toMatchObject({
      reachable: true,
      error: "the server rejected the credentials (HTTP 401)",
    });
    expect(JSON.stringify(report)).not.toContain("sk-bad-key-5678");
  });

  it("fails with how to start Ollama when no endpoint is reachable, after printing the table", async () => {
    const port = await unusedPort();
    let out = "";
    const err = await runModels(
      {},
      { env: { OLLAMA_HOST: `127.0.0.1:${port}` }, write: (s) => (out += s) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynthgraphError);
    const e = err as SynthgraphError;
    expect(e.message).toContain(`http://127.0.0.1:${port}`);
    expect(e.hint).toContain("ollama serve");
    expect(e.exitCode).not.toBe(0);
    expect(out).toContain("not reachable (ECONNREFUSED)");
  });

  it("registers with commander and runs from argv", async () => {
    const program = new Command("synthgraph").exitOverride();
    modelsCommand.register(program);
    const file = config({ default: { model: "ollama:qwen2.5:7b", baseUrl: ollama.url } });
    const writes: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
      writes.push(String(s));
      return true;
    });
    try {
      await program.parseAsync(["models", "--config", file, "--json"], { from: "user" });
    } finally {
      spy.mockRestore();
    }
    const report = JSON.parse(writes.join(""));
    expect(report.roles[0]).toMatchObject({ role: "generator", spec: "ollama:qwen2.5:7b", available: true });
  });
});
