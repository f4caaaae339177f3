/**
 * Sampling settings per role: resolved with the engine's paper defaults below config files and flags, then
 * sent under each provider's own names (recorded by the loopback server), with top-k and the repetition penalty
 * left out for api.openai.com, which has neither.
 */
import { ChatOpenAI } from "@langchain/openai";
import { describe, expect, it } from "vitest";
import { runConfigFromOptions, GenerateOptionsSchema } from "../../cli/generate.ts";
import { createEndpoint } from "../../models/factory.ts";
import { resolveRoleConfigs } from "../../models/spec.ts";
import { callText } from "../../models/structured.ts";
import { useLlmServer } from "../support/harness.ts";

const server = useLlmServer();
const SAMPLING = { topP: 0.9, topK: 50, repeatPenalty: 1.1, maxTokens: 2048 };

describe("resolveRoleConfigs", () => {
  it("puts the engine's defaults under the config file and the flags", () => {
    const engineDefaults = { generator: { temperature: 0.7, ...SAMPLING } };
    const plain = resolveRoleConfigs({ engineDefaults });
    expect(plain.generator).toMatchObject({ temperature: 0.7, ...SAMPLING });
    // Other roles keep the built-in defaults and have no sampling settings.
    expect(plain.discriminator.topP).toBeUndefined();
    const file = resolveRoleConfigs({
      engineDefaults,
      configFile: { roles: { generator: { topP: 0.5, temperature: 0.2 } } },
    });
    expect(file.generator).toMatchObject({ temperature: 0.2, topP: 0.5, topK: 50 });
    const flags = resolveRoleConfigs({
      engineDefaults,
      configFile: { roles: { generator: { topP: 0.5 } } },
      flags: { temperatures: { generator: 0.1 }, sampling: { generator: { topP: 0.3, maxTokens: 100 } } },
    });
    expect(flags.generator).toMatchObject({ temperature: 0.1, topP: 0.3, topK: 50, maxTokens: 100 });
  });

  it("each engine's paper defaults reach run.json through generate's options", () => {
    const config = (engine: string, extra: Record<string, unknown> = {}) =>
      runConfigFromOptions(
        GenerateOptionsSchema.parse({ data: "in.csv", rows: 10, out: "out.csv", engine, ...extra }),
      );
    expect(config("synthia").models.generator).toMatchObject({ temperature: 0.7, ...SAMPLING });
    expect(config("mallm-gan").models.generator).toMatchObject({ temperature: 0.5 });
    expect(config("mallm-gan").models.optimizer).toMatchObject({ temperature: 1.0 });
    expect(config("llmsynthor").models.proposer).toMatchObject({ temperature: 0.8 });
    expect(config("llmsynthor").models.copula).toMatchObject({ temperature: 0.8 });
    const flagged = config("synthia", {
      topP: ["generator=0.5"],
      maxTokens: ["generator=64"],
      sampleTopK: ["optimizer=3"],
    });
    expect(flagged.models.generator).toMatchObject({ topP: 0.5, maxTokens: 64, topK: 50 });
    expect(flagged.models.optimizer.topK).toBe(3);
    expect(() => config("synthia", { topP: ["generator=abc"] })).toThrow(/top-p/);
  });
});

describe("provider option names", () => {
  it("Ollama gets top_p, top_k, repeat_penalty and num_predict", async () => {
    server.script("ok");
    const ep = createEndpoint({
      spec: "ollama:llama3.1:8b",
      temperature: 0.7,
      baseUrl: server.ollamaUrl,
      numCtx: 8192,
      timeoutMs: 5000,
      ...SAMPLING,
    });
    await callText({ role: "generator", endpoint: ep, messages: [{ role: "user", content: "hi" }] });
    const [req] = server.chatRequests();
    expect(req.body?.options).toMatchObject({
      top_p: 0.9,
      top_k: 50,
      repeat_penalty: 1.1,
      num_predict: 2048,
    });
  });

  it("an OpenAI-compatible server gets top_p, max tokens, top_k and repetition_penalty", async () => {
    server.script("ok");
    const ep = createEndpoint(
      {
        spec: "openai:gpt-4o",
        temperature: 0.7,
        baseUrl: server.openaiUrl,
        numCtx: 8192,
        timeoutMs: 5000,
        ...SAMPLING,
      },
      { OPENAI_API_KEY: "sk-test" },
    );
    await callText({ role: "generator", endpoint: ep, messages: [{ role: "user", content: "hi" }] });
    const [req] = server.chatRequests();
    expect(req.body).toMatchObject({ top_p: 0.9, top_k: 50, repetition_penalty: 1.1 });
    const maxTokens = req.body?.max_tokens ?? req.body?.max_completion_tokens;
    expect(maxTokens).toBe(2048);
  });

  it("api.openai.com is not sent top_k or repetition_penalty (it has neither)", () => {
    const ep = createEndpoint(
      { spec: "openai:gpt-4o", temperature: 0.7, numCtx: 8192, timeoutMs: 5000, ...SAMPLING },
      { OPENAI_API_KEY: "sk-test" },
    );
    const chat = ep.chat as ChatOpenAI;
    expect(chat.topP).toBe(0.9);
    expect(chat.modelKwargs?.top_k).toBeUndefined();
    expect(chat.modelKwargs?.repetition_penalty).toBeUndefined();
  });
});

describe("MALLM-GAN examples per call", () => {
  it("defaults to one example per call (the paper's ablation), five on request", () => {
    const parse = (extra: Record<string, unknown> = {}) =>
      runConfigFromOptions(
        GenerateOptionsSchema.parse({
          data: "in.csv",
          rows: 10,
          out: "o.csv",
          engine: "mallm-gan",
          ...extra,
        }),
      ).mallm.examplesPerCall;
    expect(parse()).toBe(1);
    expect(parse({ examplesPerCall: "5" })).toBe(5);
  });
});
