/** Model specs, per-role config resolution (defaults < file < flags), and the factory's wiring. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { SynthgraphError } from "../../data/errors.ts";
import {
  Accounting,
  emptySnapshot,
  estimateTokens,
  mergeSnapshots,
  usageFrom,
} from "../../models/accounting.ts";
import {
  createChatModel,
  createEndpoint,
  createRoleEndpoints,
  normalizeOllamaHost,
} from "../../models/factory.ts";
import {
  DEFAULT_TEMPERATURES,
  parseModelSpec,
  parseRoleAssignments,
  ROLES,
  resolveRoleConfigs,
} from "../../models/spec.ts";
import { callStructured, openAiResponseFormat, schemaToJsonSchema } from "../../models/structured.ts";
import { type LlmServer, startLlmServer } from "../support/llm-server.ts";

const dir = mkdtempSync(join(tmpdir(), "synthgraph-models-"));
const writeJson = (name: string, v: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, typeof v === "string" ? v : JSON.stringify(v));
  return p;
};

describe("parseModelSpec", () => {
  it("splits provider and model at the first colon", () => {
    expect(parseModelSpec("ollama:llama3.1:8b")).toEqual({ provider: "ollama", model: "llama3.1:8b" });
    expect(parseModelSpec("openai:gpt-4o")).toEqual({ provider: "openai", model: "gpt-4o" });
    expect(parseModelSpec(" openai:Qwen/Qwen2.5-7B-Instruct ")).toEqual({
      provider: "openai",
      model: "Qwen/Qwen2.5-7B-Instruct",
    });
  });
  it.each(["llama3.1:8b", "ollama:", "anthropic:claude", ""])("rejects %j with a hint", (s) => {
    const e = (() => {
      try {
        parseModelSpec(s);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(SynthgraphError);
    expect((e as SynthgraphError).hint).toContain("ollama:");
    expect((e as SynthgraphError).exitCode).toBe(2);
  });
});

describe("resolveRoleConfigs", () => {
  it("defaults: ollama:llama3.1:8b, num_ctx 8192, paper temperatures", () => {
    const c = resolveRoleConfigs();
    expect(Object.keys(c)).toEqual([...ROLES]);
    for (const r of ROLES) {
      expect(c[r].spec).toBe("ollama:llama3.1:8b");
      expect(c[r].numCtx).toBe(8192);
      expect(c[r].temperature).toBe(DEFAULT_TEMPERATURES[r]);
    }
    // MALLM-GAN C.2: generator 0.5, optimizer 1.0.
    expect(c.generator.temperature).toBe(0.5);
    expect(c.optimizer.temperature).toBe(1.0);
  });

  it("layers defaults < file default < file role < --model < per-role flags", () => {
    const file = writeJson("cfg.json", {
      default: { model: "openai:gpt-4o-mini", baseUrl: "http://127.0.0.1:8000/v1", numCtx: 4096 },
      roles: {
        generator: { model: "ollama:qwen2.5:7b", temperature: 0.3 },
        optimizer: { temperature: 1.2, maxConcurrency: 1 },
      },
    });
    const fromFile = resolveRoleConfigs({ configFile: file });
    expect(fromFile.generator).toMatchObject({
      spec: "ollama:qwen2.5:7b",
      temperature: 0.3,
      numCtx: 4096,
      baseUrl: "http://127.0.0.1:8000/v1",
    });
    expect(fromFile.optimizer).toMatchObject({
      spec: "openai:gpt-4o-mini",
      temperature: 1.2,
      maxConcurrency: 1,
    });
    expect(fromFile.discriminator.temperature).toBe(0.7);

    const flagged = resolveRoleConfigs({
      configFile: file,
      flags: {
        model: "openai:gpt-4o",
        roleModels: { copula: "ollama:llama3.1:8b" },
        temperatures: { generator: 0.9 },
        numCtx: 16384,
      },
    });
    expect(flagged.generator).toMatchObject({ spec: "openai:gpt-4o", temperature: 0.9, numCtx: 16384 });
    expect(flagged.copula.spec).toBe("ollama:llama3.1:8b");
    expect(flagged.optimizer.temperature).toBe(1.2);
  });

  it("rejects invalid config files with the path and what is wrong", () => {
    const bad = writeJson("bad.json", { roles: { generater: { temperature: 0.5 } } });
    expect(() => resolveRoleConfigs({ configFile: bad })).toThrow(/bad\.json is invalid/);
    const badSpec = writeJson("badspec.json", { default: { model: "gpt-4o" } });
    expect(() => resolveRoleConfigs({ configFile: badSpec })).toThrow(
      /ollama:llama3\.1:8b, openai:gpt-4o or llamacpp:/,
    );
    const notJson = writeJson("nj.json", "{ model: ");
    expect(() => resolveRoleConfigs({ configFile: notJson })).toThrow(/not valid JSON/);
    expect(() => resolveRoleConfigs({ configFile: join(dir, "missing.json") })).toThrow(
      /cannot read model config/,
    );
    expect(() => resolveRoleConfigs({ flags: { temperatures: { generator: 3 } } })).toThrow(
      /between 0 and 2/,
    );
    expect(() => resolveRoleConfigs({ flags: { model: "gpt4" } })).toThrow(SynthgraphError);
  });

  it("parses role=value flags", () => {
    expect(parseRoleAssignments(["generator=0.4", "optimizer = 1.1"], Number, "--temperature")).toEqual({
      generator: 0.4,
      optimizer: 1.1,
    });
    expect(() => parseRoleAssignments(["writer=0.4"], Number, "--temperature")).toThrow(
      /--temperature expects role=value/,
    );
  });
});

describe("factory", () => {
  let server: LlmServer;
  beforeAll(async () => {
    server = await startLlmServer({ models: ["llama3.1:8b", "qwen2.5:7b", "gpt-4o"] });
  });
  afterAll(async () => {
    await server.close();
  });

  it("normalises OLLAMA_HOST the way Ollama does", () => {
    expect(normalizeOllamaHost(undefined)).toBe("http://127.0.0.1:11434");
    expect(normalizeOllamaHost("0.0.0.0")).toBe("http://127.0.0.1:11434");
    expect(normalizeOllamaHost("0.0.0.0:8080")).toBe("http://127.0.0.1:8080");
    expect(normalizeOllamaHost(":9999")).toBe("http://127.0.0.1:9999");
    expect(normalizeOllamaHost("gpu-box")).toBe("http://gpu-box:11434");
    expect(normalizeOllamaHost("https://ollama.example.com/")).toBe("https://ollama.example.com");
    expect(normalizeOllamaHost("http://ollama.lan")).toBe("http://ollama.lan");
    expect(normalizeOllamaHost("http://10.0.0.2:11434/")).toBe("http://10.0.0.2:11434");
  });

  it("builds ChatOllama from OLLAMA_HOST with explicit num_ctx, temperature and seed", async () => {
    const ep = createEndpoint(
      { spec: "ollama:qwen2.5:7b", temperature: 0.3, numCtx: 4096, timeoutMs: 2000, seed: 11 },
      { OLLAMA_HOST: server.url },
    );
    expect(ep).toMatchObject({
      provider: "ollama",
      model: "qwen2.5:7b",
      baseUrl: server.url,
      maxConcurrency: 2,
      numCtx: 4096,
    });
    server.script('{"a": 1}');
    await callStructured({
      role: "generator",
      endpoint: ep,
      messages: [{ role: "user", content: "x" }],
      schema: z.object({ a: z.number() }),
    });
    const req = server.chatRequests().at(-1)!;
    expect(req.path).toBe("/api/chat");
    expect(req.model).toBe("qwen2.5:7b");
    expect(req.options).toMatchObject({ num_ctx: 4096, temperature: 0.3, seed: 11 });
  });

  it("builds ChatOpenAI for OPENAI_BASE_URL servers, with or without a key", async () => {
    const ep = createEndpoint(
      { spec: "openai:gpt-4o", temperature: 0.7, numCtx: 8192, timeoutMs: 2000 },
      { OPENAI_BASE_URL: server.openaiUrl },
    );
    expect(ep).toMatchObject({
      provider: "openai",
      baseUrl: server.openaiUrl,
      apiKeySet: false,
      maxConcurrency: 4,
    });
    server.script('{"a": 2}');
    const r = await callStructured({
      role: "optimizer",
      endpoint: ep,
      messages: [{ role: "user", content: "x" }],
      schema: z.object({ a: z.number() }),
    });
    expect(r.value).toEqual({ a: 2 });
    const req = server.chatRequests().at(-1)!;
    expect(req.path).toBe("/v1/chat/completions");
    expect(req.temperature).toBe(0.7);
  });

  it("asks for OPENAI_API_KEY when pointing at api.openai.com without one", () => {
    expect(() =>
      createEndpoint({ spec: "openai:gpt-4o", temperature: 0.7, numCtx: 8192, timeoutMs: 1000 }, {}),
    ).toThrow(/OPENAI_API_KEY is not set/);
    const ep = createChatModel("openai:gpt-4o", {}, { OPENAI_API_KEY: "sk-abcdef123456" });
    expect(ep.baseUrl).toBe("https://api.openai.com/v1");
    expect(JSON.stringify({ ...ep, chat: undefined })).not.toContain("sk-abcdef123456");
    expect(ep.secrets).toEqual(["sk-abcdef123456"]);
  });

  it("creates one endpoint per role", () => {
    const eps = createRoleEndpoints(
      resolveRoleConfigs({ flags: { roleModels: { optimizer: "openai:gpt-4o" } } }),
      { OPENAI_API_KEY: "sk-x1234" },
    );
    expect(eps.generator.provider).toBe("ollama");
    expect(eps.generator.temperature).toBe(0.5);
    expect(eps.optimizer).toMatchObject({ provider: "openai", role: "optimizer", temperature: 1 });
  });
});

describe("provider JSON Schema", () => {
  it("marks OpenAI json_schema strict only when every property is required", () => {
    const strict = openAiResponseFormat(
      schemaToJsonSchema(z.object({ a: z.number().nullable(), b: z.string() })),
      "row",
    );
    expect(strict?.json_schema.strict).toBe(true);
    const loose = openAiResponseFormat(schemaToJsonSchema(z.object({ a: z.number().optional() })), "row");
    expect(loose?.json_schema.strict).toBe(false);
    expect(openAiResponseFormat(schemaToJsonSchema(z.array(z.number())), "rows")).toBeUndefined();
    // A field named like a keyword survives the keyword stripping.
    const named = openAiResponseFormat(schemaToJsonSchema(z.object({ minimum: z.number().min(0) })), "row");
    expect(named?.json_schema.schema).toEqual({
      type: "object",
      properties: { minimum: { type: "number" } },
      required: ["minimum"],
      additionalProperties: false,
    });
  });
});

describe("accounting", () => {
  it("uses provider usage when present and ⌈chars/4⌉ otherwise", () => {
    expect(usageFrom({ input_tokens: 10, output_tokens: 3 }, "abc", "def")).toEqual({
      prompt_tokens: 10,
      completion_tokens: 3,
      estimated: false,
    });
    expect(usageFrom({ input_tokens: 0, output_tokens: 0 }, "12345", "123")).toEqual({
      prompt_tokens: 2,
      completion_tokens: 1,
      estimated: true,
    });
    expect(usageFrom(undefined, "", "")).toEqual({ prompt_tokens: 0, completion_tokens: 0, estimated: true });
    expect(estimateTokens("x".repeat(9))).toBe(3);
  });

  it("totals per role and merges snapshots role by role", () => {
    const a = new Accounting();
    a.record("generator", { prompt_tokens: 10, completion_tokens: 5, estimated: false }, 100);
    a.record("optimizer", { prompt_tokens: 1, completion_tokens: 2, estimated: true }, 50);
    a.recordFailures("generator", 2);
    const s = a.snapshot();
    expect(s).toEqual({
      calls: 2,
      failed_calls: 2,
      prompt_tokens: 11,
      completion_tokens: 7,
      estimated: true,
      latency_ms: 150,
      by_role: {
        generator: {
          calls: 1,
          failed_calls: 2,
          prompt_tokens: 10,
          completion_tokens: 5,
          estimated: false,
          latency_ms: 100,
        },
        optimizer: {
          calls: 1,
          failed_calls: 0,
          prompt_tokens: 1,
          completion_tokens: 2,
          estimated: true,
          latency_ms: 50,
        },
      },
    });
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    const m = mergeSnapshots(s, s);
    expect(m.prompt_tokens).toBe(22);
    expect(m.by_role.generator.failed_calls).toBe(4);
    expect(mergeSnapshots(emptySnapshot(), s)).toEqual(s);
  });
});
