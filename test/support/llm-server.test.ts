/**
 * The loopback LLM server (test double) speaks the wire formats the real clients expect: checked by driving
 * ChatOllama and ChatOpenAI directly (streaming and not, tool calls, usage) and by raw HTTP for the rest.
 */
import { tool } from "@langchain/core/tools";
import { ChatOllama } from "@langchain/ollama";
import { ChatOpenAI } from "@langchain/openai";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { useLlmServer } from "./harness.ts";
import { countCompletionTokens, countPromptTokens, reply } from "./llm-server.ts";

const server = useLlmServer();

const ollama = (): ChatOllama => new ChatOllama({ model: "llama3.1:8b", baseUrl: server.ollamaUrl });
const openai = (streaming = false): ChatOpenAI =>
  new ChatOpenAI({
    model: "gpt-4o",
    apiKey: "sk-test",
    maxRetries: 0,
    streaming,
    configuration: { baseURL: server.openaiUrl },
  });
const emitRow = tool(async (row) => JSON.stringify(row), {
  name: "emit_row",
  description: "emit a row",
  schema: z.object({ age: z.number() }),
});

describe("Ollama wire format", () => {
  it("streams NDJSON ending with done:true and usage counts", async () => {
    server.script(reply.text("hello world", { chunks: 4 }));
    const m = await ollama().invoke("hi there");
    expect(m.content).toBe("hello world");
    expect(m.usage_metadata).toMatchObject({
      input_tokens: countPromptTokens([{ role: "user", content: "hi there" }]),
      output_tokens: countCompletionTokens("hello world"),
    });
    expect(server.chatRequests()[0].body?.stream).toBe(true);
  });

  it("answers stream:false with one JSON object", async () => {
    server.script("plain");
    const res = await fetch(`${server.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({
        model: "llama3.1:8b",
        stream: false,
        messages: [{ role: "user", content: "abcd" }],
      }),
    });
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = await res.json();
    expect(body).toMatchObject({
      model: "llama3.1:8b",
      message: { role: "assistant", content: "plain" },
      done: true,
      prompt_eval_count: 1,
      eval_count: 2,
    });
  });

  it("returns tool calls with object arguments", async () => {
    server.script(reply.toolCall("emit_row", { age: 41 }));
    const m = await ollama().bindTools([emitRow]).invoke("row please");
    expect(m.tool_calls?.map((t) => [t.name, t.args])).toEqual([["emit_row", { age: 41 }]]);
    expect((server.chatRequests()[0].tools as Array<{ function: { name: string } }>)[0].function.name).toBe(
      "emit_row",
    );
  });

  it("serves /api/tags and /api/version, and 404s unknown models in Ollama's shape", async () => {
    const tags = await (await fetch(`${server.url}/api/tags`)).json();
    expect(tags.models.map((m: { name: string }) => m.name)).toEqual(server.models);
    expect(await (await fetch(`${server.url}/api/version`)).json()).toEqual({ version: "0.6.5" });
    const res = await fetch(`${server.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "nope", messages: [] }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "model 'nope' not found, try pulling it first" });
  });
});

describe("OpenAI wire format", () => {
  it("answers non-streaming completions with usage", async () => {
    server.script("bonjour");
    const m = await openai().invoke("salut");
    expect(m.content).toBe("bonjour");
    expect(m.usage_metadata).toMatchObject({ input_tokens: 2, output_tokens: 2, total_tokens: 4 });
    expect(server.chatRequests()[0].stream).toBe(false);
  });

  it("streams SSE chunks with include_usage and [DONE]", async () => {
    server.script(reply.text("one two three", { chunks: 3 }));
    const chunks: string[] = [];
    let usage: unknown;
    for await (const c of await openai(true).stream("count")) {
      chunks.push(String(c.content));
      usage ??= c.usage_metadata;
    }
    expect(chunks.join("")).toBe("one two three");
    expect(chunks.filter((c) => c !== "").length).toBe(3);
    expect(usage).toMatchObject({ input_tokens: 2, output_tokens: 4 });
    expect(server.chatRequests()[0].body?.stream_options).toEqual({ include_usage: true });
  });

  it("returns tool calls with string arguments (parsed by the client)", async () => {
    server.script(reply.toolCall("emit_row", { age: 7 }));
    const m = await openai().bindTools([emitRow], { tool_choice: "emit_row" }).invoke("row");
    expect(m.tool_calls?.map((t) => [t.name, t.args])).toEqual([["emit_row", { age: 7 }]]);
    expect(server.chatRequests()[0].body?.tool_choice).toEqual({
      type: "function",
      function: { name: "emit_row" },
    });
  });

  it("serves /v1/models and answers errors in OpenAI's shape with Retry-After", async () => {
    const models = await (await fetch(`${server.openaiUrl}/models`)).json();
    expect(models.data.map((m: { id: string }) => m.id)).toEqual(server.models);
    server.script(reply.rateLimit("7"));
    const res = await fetch(`${server.openaiUrl}/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "gpt-4o", messages: [] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect((await res.json()).error).toMatchObject({
      message: "Rate limit reached for requests",
      code: "rate_limit_exceeded",
    });
  });

  it("cuts a non-streamed body in half when truncated", async () => {
    server.script(reply.truncated("abc"));
    const text = await (
      await fetch(`${server.openaiUrl}/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "gpt-4o", messages: [] }),
      })
    ).text();
    expect(() => JSON.parse(text)).toThrow();
  });
});

describe("scripting", () => {
  it("replays a queue, then functions of the request, then the default; records every request", async () => {
    server.script("first", (req) => `echo ${req.messages[0].content}`);
    server.setDefault(reply.text("default"));
    const m = ollama();
    expect((await m.invoke("a")).content).toBe("first");
    expect((await m.invoke("b")).content).toBe("echo b");
    expect((await m.invoke("c")).content).toBe("default");
    expect(server.chatRequests().map((r) => r.messages[0].content)).toEqual(["a", "b", "c"]);
  });

  it("answers 418 when nothing is scripted, so a missing script is obvious", async () => {
    const res = await fetch(`${server.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "llama3.1:8b", messages: [] }),
    });
    expect(res.status).toBe(418);
    expect((await res.json()).error).toMatch(/nothing scripted/);
  });
});
