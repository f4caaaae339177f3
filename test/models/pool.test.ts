/**
 * A pool of servers for one role (models/pool.ts) through the real clients against loopback servers: calls
 * spread over the members within each member's own concurrency limit, a dead or failing server is failed over,
 * and a failure the request causes (unknown model) is not retried elsewhere.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { concurrencyOf } from "../../graph/run.ts";
import { ModelError } from "../../models/errors.ts";
import { createEndpoint } from "../../models/factory.ts";
import { resetPoolHealth } from "../../models/pool.ts";
import { resolveRoleConfigs } from "../../models/spec.ts";
import { callText } from "../../models/structured.ts";
import { RunConfigSchema } from "../../state/config.ts";
import { type LlmServer, reply, startLlmServer, unusedPort } from "../support/llm-server.ts";

const ask = [{ role: "user" as const, content: "hello" }];
let a: LlmServer;
let b: LlmServer;
beforeAll(async () => {
  a = await startLlmServer();
  b = await startLlmServer();
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});
beforeEach(() => {
  a.reset();
  b.reset();
  resetPoolHealth();
});

const pooled = (urls: string[], maxConcurrency: number) =>
  createEndpoint({
    spec: "ollama:llama3.1:8b",
    temperature: 0.5,
    numCtx: 8192,
    timeoutMs: 5000,
    maxConcurrency,
    baseUrls: urls,
  });

describe("endpoint pools", () => {
  it("spreads concurrent calls over the servers, each within its own limit", async () => {
    a.setDefault(reply.text("from a", { delayMs: 150 }));
    b.setDefault(reply.text("from b", { delayMs: 150 }));
    const ep = pooled([a.ollamaUrl, b.ollamaUrl], 1);
    expect(ep.pool).toHaveLength(2);
    const texts = await Promise.all(
      Array.from({ length: 6 }, () => callText({ role: "generator", endpoint: ep, messages: ask })),
    );
    expect(texts.map((t) => t.text).sort()).toEqual([
      "from a",
      "from a",
      "from a",
      "from b",
      "from b",
      "from b",
    ]);
    expect(a.stats.maxInFlight).toBe(1);
    expect(b.stats.maxInFlight).toBe(1);
  });

  it("fails over from a server nobody listens on, and skips it afterwards", async () => {
    const dead = `http://127.0.0.1:${await unusedPort()}`;
    a.setDefault(reply.text("alive"));
    const ep = pooled([dead, a.ollamaUrl], 2);
    for (let k = 0; k < 4; k++) {
      const t0 = performance.now();
      const r = await callText({ role: "generator", endpoint: ep, messages: ask });
      expect(r.text).toBe("alive");
      // A refused connection fails at once (no backoff), so even the first call is quick.
      expect(performance.now() - t0).toBeLessThan(2000);
    }
    expect(a.chatRequests()).toHaveLength(4);
  });

  it("moves a call to the next server when one answers 5xx after its retries", async () => {
    a.setDefault(reply.error(503, "overloaded"));
    b.setDefault(reply.text("from b"));
    const ep = pooled([a.ollamaUrl, b.ollamaUrl], 1);
    const r = await callText({
      role: "generator",
      endpoint: ep,
      messages: ask,
      retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 },
    });
    expect(r.text).toBe("from b");
    // The first member was tried (the turn starts at the first server) with its one retry.
    expect(a.chatRequests()).toHaveLength(2);
  });

  it("does not retry elsewhere what the request caused (an unknown model)", async () => {
    const c = await startLlmServer({ models: ["other:1b"] });
    try {
      b.setDefault(reply.text("from b"));
      const ep = pooled([c.ollamaUrl, b.ollamaUrl], 1);
      const e = await callText({ role: "generator", endpoint: ep, messages: ask }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(ModelError);
      expect((e as ModelError).kind).toBe("model_not_found");
      expect(b.chatRequests()).toHaveLength(0);
    } finally {
      await c.close();
    }
  });

  it("takes --endpoint for every role, and the run's default fan-out counts every server", () => {
    const models = resolveRoleConfigs({
      flags: {
        model: "ollama:llama3.1:8b",
        baseUrls: ["http://h1:11434", "http://h2:11434", "http://h3:11434"],
      },
    });
    expect(models.generator.baseUrls).toEqual(["http://h1:11434", "http://h2:11434", "http://h3:11434"]);
    expect(models.discriminator.baseUrls).toHaveLength(3);
    const one = RunConfigSchema.parse({
      input: "/in.csv",
      rows: 5,
      out: "/o.csv",
      models: resolveRoleConfigs({ flags: { model: "ollama:llama3.1:8b" } }),
    });
    const three = RunConfigSchema.parse({ ...one, models });
    // Three servers, each with the provider's default limit.
    expect(concurrencyOf(three)).toBe(3 * concurrencyOf(one));
  });
});
