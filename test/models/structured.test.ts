/**
 * callStructured through the real ChatOllama and ChatOpenAI clients against the loopback server:
 * provider-side structured output, the tolerant fallback, item-by-item validation, re-asks that quote
 * the validation errors, and accounting equal to the tokens the server reported.
 */
import { HumanMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Accounting } from "../../models/accounting.ts";
import { ModelContextOverflowError } from "../../models/errors.ts";
import {
  callStructured,
  callText,
  checkPromptBudget,
  MAX_CHARS_PER_TOKEN,
  normaliseItems,
  quoteReply,
  REASK_QUOTE_HEAD,
  REASK_QUOTE_TAIL,
  reaskConversation,
  StructuredOutputError,
  schemaToJsonSchema,
} from "../../models/structured.ts";
import { useLlmServer } from "../support/harness.ts";
import { endpointFor, FAST_RETRY, PROVIDERS } from "../support/llm-endpoints.ts";
import { countCompletionTokens, countPromptTokens, reply } from "../support/llm-server.ts";

const Person = z.object({ age: z.number(), name: z.string() });
const People = z.array(Person);
const Rows = z.object({ rows: z.array(Person) });

const server = useLlmServer();

const ask = [
  { role: "system" as const, content: "You generate people." },
  { role: "user" as const, content: "Give one person as JSON." },
];

describe.each(PROVIDERS)("%s", (provider) => {
  it("sends the schema provider-side and accepts a conforming reply", async () => {
    server.script('{"age": 41, "name": "Ann"}');
    const r = await callStructured({
      role: "generator",
      endpoint: endpointFor(server, provider),
      messages: ask,
      schema: Person,
    });
    expect(r.value).toEqual({ age: 41, name: "Ann" });
    expect(r.report).toEqual({
      accepted: 1,
      repaired: 0,
      dropped: 0,
      reasons: [],
      repairs: [],
      itemRepairs: [],
    });
    expect(r.attempts).toBe(1);
    const [req] = server.chatRequests();
    expect(req.messages).toEqual([
      { role: "system", content: "You generate people." },
      { role: "user", content: "Give one person as JSON." },
    ]);
    expect(req.temperature).toBe(0.5);
    if (provider === "ollama") {
      // Ollama `format` carries the JSON Schema as zod emits it; num_ctx is always explicit.
      expect(req.format).toEqual(schemaToJsonSchema(Person));
      expect(req.options?.num_ctx).toBe(8192);
    } else {
      expect(req.responseFormat).toEqual({
        type: "json_schema",
        json_schema: {
          name: "response",
          strict: true,
          schema: {
            type: "object",
            properties: { age: { type: "number" }, name: { type: "string" } },
            required: ["age", "name"],
            additionalProperties: false,
          },
        },
      });
      expect(req.body?.stream_options).toEqual({ include_usage: true });
    }
  });

  it("strips numeric bounds OpenAI strict mode rejects, keeping them in the zod check", async () => {
    const Aged = z.object({ age: z.number().int().min(18).max(90) });
    server.script('{"age": 17}', '{"age": 30}');
    const r = await callStructured({
      role: "generator",
      endpoint: endpointFor(server, provider),
      messages: ask,
      schema: Aged,
      retry: FAST_RETRY,
    });
    expect(r.value).toEqual({ age: 30 });
    expect(r.attempts).toBe(2);
    const sent = JSON.stringify(
      provider === "ollama" ? server.chatRequests()[0].format : server.chatRequests()[0].responseFormat,
    );
    if (provider === "openai") expect(sent).not.toMatch(/minimum|maximum/);
    else expect(sent).toMatch(/"minimum":18/);
  });

  it.each([
    ["a fenced block", '```json\n{"age": 7, "name": "Cy"}\n```', "fence"],
    ["a python dict", "{'age': 7, 'name': 'Cy'}", "single-quoted"],
    ["trailing text", '{"age": 7, "name": "Cy"}\nHope this helps!', ""],
  ])("falls back to tolerant extraction for %s", async (_label, text, repairWord) => {
    server.script(text);
    const r = await callStructured({
      role: "generator",
      endpoint: endpointFor(server, provider),
      messages: ask,
      schema: Person,
    });
    expect(r.value).toEqual({ age: 7, name: "Cy" });
    expect(r.attempts).toBe(1);
    expect(r.report.repairs.length).toBeGreaterThan(0);
    expect(r.report.repairs.join(" ")).toContain(repairWord);
  });

  it("keeps the complete items of a truncated array", async () => {
    server.script('[{"age": 1, "name": "a"}, {"age": 2, "name": "b"}, {"age": 3, "na');
    const r = await callStructured({
      role: "generator",
      endpoint: endpointFor(server, provider),
      messages: ask,
      schema: People,
    });
    expect(r.value).toEqual([
      { age: 1, name: "a" },
      { age: 2, name: "b" },
    ]);
    expect(r.report.accepted).toBe(2);
    expect(r.report.repairs.join(" ")).toMatch(/truncat/);
  });

  it("re-asks with the validation errors quoted when types are wrong", async () => {
    const bad = { age: "forty", name: "Ann" };
    server.script(JSON.stringify(bad), '{"age": 40, "name": "Ann"}');
    const r = await callStructured({
      role: "generator",
      endpoint: endpointFor(server, provider),
      messages: ask,
      schema: Person,
    });
    expect(r.value).toEqual({ age: 40, name: "Ann" });
    expect(r.attempts).toBe(2);
    const zodMessage = Person.safeParse(bad).error!.issues[0].message;
    expect(r.report.reasons).toEqual([`attempt 1: age: ${zodMessage}`]);
    const second = server.chatRequests()[1];
    // The follow-up replays the first prompt, the model's bad reply (short: quoted whole), then the errors.
    expect(second.messages.slice(0, 2)).toEqual(server.chatRequests()[0].messages);
    expect(second.messages[2]).toEqual({ role: "assistant", content: JSON.stringify(bad) });
    expect(second.messages[3].role).toBe("user");
    expect(second.messages[3].content).toContain(`- age: ${zodMessage}`);
  });

  it("keeps re-asks bounded however long the bad reply is: first prompt plus a capped quote", async () => {
    // Three unusable replies of very different lengths; every re-ask request must stay the same size bound.
    const sizes: number[][] = [];
    for (const badLength of [2_000, 40_000]) {
      server.reset();
      const bad = `{"age": "${"x".repeat(badLength)}", "name": "Ann"}`;
      server.script(bad, bad, bad);
      await expect(
        callStructured({
          role: "generator",
          endpoint: endpointFor(server, provider),
          messages: ask,
          schema: Person,
          maxReasks: 2,
          retry: FAST_RETRY,
        }),
      ).rejects.toThrow(StructuredOutputError);
      const reqs = server.chatRequests();
      expect(reqs).toHaveLength(3);
      const chars = reqs.map((r) => r.messages.reduce((n, m) => n + m.content.length, 0));
      sizes.push(chars);
      const first = chars[0];
      for (const r of reqs.slice(1)) {
        // Never a growing transcript: the first prompt, one quoted reply, one list of errors.
        expect(r.messages).toHaveLength(ask.length + 2);
        expect(r.messages.slice(0, ask.length)).toEqual(reqs[0].messages);
        expect(r.messages[ask.length].content.length).toBeLessThanOrEqual(
          REASK_QUOTE_HEAD + REASK_QUOTE_TAIL + 80,
        );
      }
      // The third request is no larger than the second: nothing accumulates across attempts.
      expect(chars[2]).toBeLessThanOrEqual(chars[1]);
      expect(chars[1] - first).toBeLessThan(REASK_QUOTE_HEAD + REASK_QUOTE_TAIL + 12 * 260 + 400);
    }
    // A bad reply 20 times longer gives re-ask requests of (about) the same size.
    expect(Math.abs(sizes[1][1] - sizes[0][1])).toBeLessThan(200);
  });

  it("replaces a re-ask that would not fit the context with a fresh call of the first prompt", () => {
    const long = "y".repeat(3_000);
    const fits = reaskConversation(ask, long, ["age: expected number"], 8192);
    expect(fits).toHaveLength(ask.length + 2);
    expect(reaskConversation(ask, long, ["age: expected number"], 100)).toEqual(ask);
    expect(quoteReply(long)).toContain("characters of this reply not shown");
    expect(quoteReply("short")).toBe("short");
  });

  it("validates items one by one: keeps good ones, drops bad ones with reasons", async () => {
    server.script(
      JSON.stringify({
        rows: [
          { age: 1, name: "a" },
          { age: "x", name: "b" },
          { age: 300, name: "c" },
          { age: 4, name: "d" },
        ],
      }),
    );
    const r = await callStructured({
      role: "generator",
      endpoint: endpointFor(server, provider),
      messages: ask,
      schema: Rows,
      itemValidator: (item) => {
        const p = item as { age: number; name: string };
        if (p.age > 120) return { ok: false, reason: `age ${p.age} is above the maximum 120` };
        if (p.name === "d") return { ok: true, value: { ...p, name: "D" }, repaired: true };
        return { ok: true };
      },
    });
    expect(r.value).toEqual({
      rows: [
        { age: 1, name: "a" },
        { age: 4, name: "D" },
      ],
    });
    expect(r.report.accepted).toBe(2);
    expect(r.report.dropped).toBe(2);
    expect(r.report.repaired).toBe(1);
    expect(r.report.reasons).toHaveLength(2);
    expect(r.report.reasons[0]).toMatch(/^attempt 1: item 1\.age: /);
    expect(r.report.reasons[1]).toBe("attempt 1: item 2: age 300 is above the maximum 120");
    expect(r.attempts).toBe(1);
  });

  it.each([
    ["a bare array", '[{"age": 1, "name": "a"}, {"age": 2, "name": "b"}]', 'read a bare array as "rows"'],
    ["JSON Lines", '{"age": 1, "name": "a"}\n{"age": 2, "name": "b"}', 'read a bare array as "rows"'],
    [
      "another key",
      '{"result": [{"age": 1, "name": "a"}, {"age": 2, "name": "b"}]}',
      'read the array at "result" as "rows"',
    ],
    [
      "a wrapper",
      '{"data": {"rows": [{"age": 1, "name": "a"}, {"age": 2, "name": "b"}]}}',
      'read the array at "data"."rows" as "rows"',
    ],
    [
      "rows in rows",
      '{"rows": {"rows": [{"age": 1, "name": "a"}, {"age": 2, "name": "b"}]}}',
      'read the array at "rows"."rows" as "rows"',
    ],
  ])(
    "reshapes items given as %s to the schema's {rows: [...]}, validating them one by one",
    async (_l, text, note) => {
      server.script(text);
      const r = await callStructured({
        role: "generator",
        endpoint: endpointFor(server, provider),
        messages: ask,
        schema: Rows,
        maxReasks: 0,
        itemValidator: (item) =>
          (item as { name: string }).name === "b"
            ? { ok: true, value: { age: 2, name: "B" }, repairs: ['name: "b" read as "B"'] }
            : { ok: true },
      });
      expect(r.value).toEqual({
        rows: [
          { age: 1, name: "a" },
          { age: 2, name: "B" },
        ],
      });
      expect(r.report.accepted).toBe(2);
      expect(r.report.repaired).toBe(1);
      expect(r.report.itemRepairs).toEqual(['item 1: name: "b" read as "B"']);
      expect(r.report.repairs.at(-1)).toBe(note);
      expect(r.report.reasons).toEqual([]);
    },
  );

  it("re-asks when every item is bad, and fails with the reasons after maxReasks", async () => {
    server.script("[1, 2]", "not json at all", '[{"age": "?"}]');
    const err = await callStructured({
      role: "generator",
      endpoint: endpointFor(server, provider),
      messages: ask,
      schema: People,
      maxReasks: 2,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StructuredOutputError);
    const e = err as StructuredOutputError;
    expect(server.chatRequests()).toHaveLength(3);
    expect(e.reasons.some((x) => x.startsWith("attempt 1: item 0"))).toBe(true);
    expect(e.reasons.some((x) => x.startsWith("attempt 2: the reply is not valid JSON"))).toBe(true);
    expect(e.reasons.some((x) => x.startsWith("attempt 3: item 0"))).toBe(true);
    expect(e.lastReply).toBe('[{"age": "?"}]');
    expect(e.hint).toBeTruthy();
  });

  it("uses tool-call arguments when the model answers with a tool call", async () => {
    server.script(reply.toolCall("emit", { age: 5, name: "T" }));
    const r = await callStructured({
      role: "generator",
      endpoint: endpointFor(server, provider),
      messages: ask,
      schema: Person,
    });
    expect(r.value).toEqual({ age: 5, name: "T" });
  });

  it("accounts exactly the tokens the server reported, per role, across re-asks", async () => {
    const before = { ...server.stats };
    const acc = new Accounting();
    server.script('{"age": "x", "name": 1}', '{"age": 2, "name": "b"}', '{"age": 3, "name": "c"}');
    const ep = endpointFor(server, provider);
    const a = await callStructured({
      role: "generator",
      endpoint: ep,
      messages: ask,
      schema: Person,
      accounting: acc,
    });
    const b = await callStructured({
      role: "discriminator",
      endpoint: ep,
      messages: ask,
      schema: Person,
      accounting: acc,
    });
    const snap = acc.snapshot();
    expect(snap.calls).toBe(3);
    expect(snap.prompt_tokens).toBe(server.stats.promptTokens - before.promptTokens);
    expect(snap.completion_tokens).toBe(server.stats.completionTokens - before.completionTokens);
    expect(snap.estimated).toBe(false);
    expect(snap.by_role.generator.calls).toBe(2);
    expect(snap.by_role.discriminator.calls).toBe(1);
    expect(a.usage.prompt_tokens + b.usage.prompt_tokens).toBe(snap.prompt_tokens);
    // The server's own count of the first request (hand-checkable: ⌈chars/4⌉).
    expect(countPromptTokens(server.chatRequests()[0].messages)).toBe(Math.ceil((20 + 24) / 4));
    expect(snap.by_role.discriminator.completion_tokens).toBe(
      countCompletionTokens('{"age": 3, "name": "c"}'),
    );
  });

  it("estimates and flags usage when the server reports none", async () => {
    server.script(reply.text('{"age": 9, "name": "N"}', { noUsage: true }));
    const acc = new Accounting();
    await callStructured({
      role: "metadata",
      endpoint: endpointFor(server, provider),
      messages: ask,
      schema: Person,
      accounting: acc,
    });
    const snap = acc.snapshot();
    expect(snap.estimated).toBe(true);
    // ⌈chars/4⌉ of the prompt text (both messages joined by a newline) and of the reply.
    expect(snap.prompt_tokens).toBe(Math.ceil((20 + 1 + 24) / 4));
    expect(snap.completion_tokens).toBe(Math.ceil(23 / 4));
  });
});

describe("callText", () => {
  it("flags a prompt that filled Ollama's num_ctx (silent truncation) as a context overflow", async () => {
    server.script(reply.text("ok", { promptTokens: 2048 }));
    const err = await callText({
      role: "generator",
      endpoint: endpointFor(server, "ollama", { numCtx: 2048 }),
      messages: ask,
    }).catch((e: unknown) => e);
    expect((err as { kind?: string }).kind).toBe("context_overflow");
    expect((err as { hint?: string }).hint).toMatch(/--probe-rows|num_ctx/);
  });

  it("returns plain text for free-text roles", async () => {
    server.script("The synthetic ages are too young.");
    const r = await callText({
      role: "discriminator",
      endpoint: endpointFor(server, "openai"),
      messages: ask,
    });
    expect(r.text).toBe("The synthetic ages are too young.");
    expect(server.chatRequests()[0].responseFormat).toBeUndefined();
  });
});

describe("normaliseItems", () => {
  const a = [{ x: 1 }, { x: 2 }];
  it("leaves the expected shape alone", () => {
    expect(normaliseItems({ rows: a, note: "n" }, "rows")).toEqual({ value: { rows: a, note: "n" } });
    expect(normaliseItems(a, null)).toEqual({ value: a });
  });
  it("wraps a bare array under the key", () => {
    expect(normaliseItems(a, "rows")).toEqual({ value: { rows: a }, repair: 'read a bare array as "rows"' });
  });
  it("renames the sole array of an object, keeping its siblings", () => {
    expect(normaliseItems({ result: a, count: 2 }, "rows")).toEqual({
      value: { count: 2, rows: a },
      repair: 'read the array at "result" as "rows"',
    });
    expect(normaliseItems({ people: a }, null)).toEqual({
      value: a,
      repair: 'read the array at "people" as the reply',
    });
  });
  it("unwraps one level: a single-key wrapper, or an object at the key", () => {
    expect(normaliseItems({ data: { rows: a } }, "rows")).toEqual({
      value: { rows: a },
      repair: 'read the array at "data"."rows" as "rows"',
    });
    expect(normaliseItems({ rows: { items: a, n: 2 }, ok: true }, "rows")).toEqual({
      value: { ok: true, n: 2, rows: a },
      repair: 'read the array at "rows"."items" as "rows"',
    });
    expect(normaliseItems({ data: { people: a } }, null)).toEqual({
      value: a,
      repair: 'read the array at "data"."people" as the reply',
    });
  });
  it("leaves ambiguous or unrelated shapes for validation to report", () => {
    // Two arrays, a scalar at the key, two levels deep, no array at all, a non-object.
    for (const v of [{ a, b: a }, { rows: 3, data: a }, { x: { y: { rows: a } } }, { x: 1 }, "text", null]) {
      expect(normaliseItems(v, "rows")).toEqual({ value: v });
    }
    expect(normaliseItems({ data: { a, b: a } }, null)).toEqual({ value: { data: { a, b: a } } });
  });
});

describe("the prompt budget is checked before sending", () => {
  it("a prompt that cannot fit num_ctx is refused without a request, naming --num-ctx", async () => {
    // 1,024 tokens of context; 8,200 characters are at least 8,200 / 8 = 1,025 tokens.
    expect(MAX_CHARS_PER_TOKEN).toBe(8);
    const big = [{ role: "user" as const, content: "x".repeat(8_200) }];
    const before = server.stats.requests;
    const err = await callStructured({
      role: "generator",
      endpoint: endpointFor(server, "ollama", { numCtx: 1024 }),
      messages: big,
      schema: Person,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelContextOverflowError);
    expect((err as ModelContextOverflowError).message).toContain(
      "the prompt has 8,200 characters, so at least 1,025 tokens, and num_ctx is 1,024 tokens; it was not sent",
    );
    expect((err as ModelContextOverflowError).hint).toContain("--num-ctx");
    expect(server.stats.requests).toBe(before);
  });
  it("a prompt at the bound, or with no known context, passes", () => {
    // 8,192 characters: at least 1,024 tokens, which fits a context of 1,024.
    const edge = [new HumanMessage("x".repeat(8_192))];
    expect(() => checkPromptBudget(edge, 1024)).not.toThrow();
    expect(() => checkPromptBudget([new HumanMessage("x".repeat(100_000))], undefined)).not.toThrow();
  });
});
