/**
 * Options of the llamacpp provider without a model. Seeds: each call and each re-ask samples with its own
 * seed (models/structured.ts attemptSeed, models/llamacpp.ts callSeed); a seeded llama.cpp sampler repeats
 * its reply for the same prompt and seed, so a re-ask of the first prompt with the first attempt's seed, or
 * two final batches with one prompt and one seed, would get the same reply again. The free-text reply cap.
 */
import type { BaseMessage } from "@langchain/core/messages";
import { AIMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ChatLlamaCpp,
  callSeed,
  evaluationThreads,
  freeTextCap,
  LLAMACPP_DEFAULTS,
} from "../../models/llamacpp.ts";
import { attemptSeed, callStructured, reaskConversation } from "../../models/structured.ts";
import { createRng } from "../../stats/primitives/rng.ts";

describe("attemptSeed", () => {
  it("is the call's seed on the first attempt and a seed of its own on every re-ask", () => {
    expect(attemptSeed(42, 1)).toBe(42);
    // Reference: the same derivation written out (a fork of the call's stream per attempt).
    expect(attemptSeed(42, 2)).toBe(createRng(42).fork(2).int(0x7fffffff));
    const seeds = [1, 2, 3, 4].map((a) => attemptSeed(42, a));
    expect(new Set(seeds).size).toBe(4);
    expect(attemptSeed(43, 2)).not.toBe(attemptSeed(42, 2));
    for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 31).toBe(true);
  });
});

describe("callSeed", () => {
  it("mixes the call's seed with the configured one, uses whichever is set, else draws one", () => {
    expect(callSeed(undefined, 7)).toBe(7);
    expect(callSeed(5, undefined)).toBe(5);
    const both = callSeed(5, 7);
    expect(both).toBe(createRng(5).fork(7).int(0x7fffffff));
    expect(both).not.toBe(callSeed(6, 7)); // the configured seed changes the reply
    expect(both).not.toBe(callSeed(5, 8)); // so does the call's
    // Unseeded calls draw from 2^31 values: 20 draws all equal would mean a constant.
    const drawn = Array.from({ length: 20 }, () => callSeed(undefined, undefined));
    expect(new Set(drawn).size).toBeGreaterThan(1);
    for (const s of drawn) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 31).toBe(true);
  });
});

describe("freeTextCap", () => {
  it("is SYNTHGRAPH_LLAMACPP_MAX_TOKENS when it is a positive integer, else the default", () => {
    expect(LLAMACPP_DEFAULTS.freeTextMaxTokens).toBe(768);
    expect(freeTextCap({})).toBe(768);
    expect(freeTextCap({ SYNTHGRAPH_LLAMACPP_MAX_TOKENS: "200" })).toBe(200);
    expect(freeTextCap({ SYNTHGRAPH_LLAMACPP_MAX_TOKENS: "0" })).toBe(768);
    expect(freeTextCap({ SYNTHGRAPH_LLAMACPP_MAX_TOKENS: "1.5" })).toBe(768);
    expect(freeTextCap({ SYNTHGRAPH_LLAMACPP_MAX_TOKENS: "many" })).toBe(768);
  });
});

/** ChatLlamaCpp with generation replaced: records each call's seed option and replies from a script. */
class ScriptedLlamaCpp extends ChatLlamaCpp {
  readonly seeds: Array<number | undefined> = [];
  readonly conversations: string[][] = [];
  constructor(private readonly replies: string[]) {
    super({ modelPath: "/nonexistent/model.gguf", temperature: 0.7 });
  }
  override async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    this.seeds.push(options.seed);
    this.conversations.push(messages.map((m) => String(m.content)));
    const text = this.replies[this.seeds.length - 1] ?? "";
    return { generations: [{ text, message: new AIMessage(text) }] };
  }
}

describe("callStructured re-asks with the llamacpp provider", () => {
  const schema = z.object({ n: z.number().int() });
  const messages = [{ role: "user" as const, content: 'Reply {"n": <integer>}.' }];

  it("sends the call's seed first and a new seed with every re-ask", async () => {
    const chat = new ScriptedLlamaCpp(["not json", '{"n": "x"}', '{"n": 3}']);
    const r = await callStructured({ role: "generator", endpoint: chat, schema, messages, seed: 1234 });
    expect(r.value).toEqual({ n: 3 });
    expect(r.attempts).toBe(3);
    expect(chat.seeds).toEqual([1234, attemptSeed(1234, 2), attemptSeed(1234, 3)]);
    expect(new Set(chat.seeds).size).toBe(3);
  });

  it("gives a re-ask that falls back to the first prompt a different seed than the first attempt", async () => {
    // A context too small for the quoted reply: the re-ask is the first prompt again (reaskConversation).
    expect(reaskConversation(messages, "x".repeat(600), ["bad"], 100)).toEqual(messages);
    const chat = new ScriptedLlamaCpp(["x".repeat(600), '{"n": 1}']);
    await callStructured({
      role: "generator",
      endpoint: { ...endpointOf(chat), numCtx: 100 },
      schema,
      messages,
      seed: 9,
    });
    expect(chat.conversations[1]).toEqual(chat.conversations[0]);
    expect(chat.seeds[1]).not.toBe(chat.seeds[0]);
  });

  it("sends no seed when the call has none (the provider then draws one per call)", async () => {
    const chat = new ScriptedLlamaCpp(['{"n": 1}']);
    await callStructured({ role: "generator", endpoint: chat, schema, messages });
    expect(chat.seeds).toEqual([undefined]);
  });
});

function endpointOf(chat: ChatLlamaCpp) {
  return {
    provider: "llamacpp" as const,
    model: chat.modelPath,
    baseUrl: `llamacpp:${chat.modelPath}`,
    maxConcurrency: 1,
    temperature: chat.sampling.temperature,
    timeoutMs: 60_000,
    chat,
  };
}

describe("evaluationThreads", () => {
  it("shares the cores among the sequences (at least one thread each); the environment variable wins", () => {
    expect(evaluationThreads(2, 2, {})).toBe(1);
    expect(evaluationThreads(2, 8, {})).toBe(4);
    expect(evaluationThreads(3, 8, {})).toBe(2);
    expect(evaluationThreads(1, 2, {})).toBe(2);
    expect(evaluationThreads(4, 2, {})).toBe(1);
    expect(evaluationThreads(2, 2, { SYNTHGRAPH_LLAMACPP_THREADS: "3" })).toBe(3);
    // Not a positive whole number: ignored.
    expect(evaluationThreads(2, 8, { SYNTHGRAPH_LLAMACPP_THREADS: "0" })).toBe(4);
    expect(evaluationThreads(2, 8, { SYNTHGRAPH_LLAMACPP_THREADS: "two" })).toBe(4);
    expect(evaluationThreads(2, 8, { SYNTHGRAPH_LLAMACPP_THREADS: "1.5" })).toBe(4);
  });
});
