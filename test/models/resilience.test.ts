/**
 * Faults through the real clients against the loopback server: 429 + Retry-After, 5xx, timeouts, dropped
 * connections, malformed bodies, 401, unknown model, nothing listening, cancellation, concurrency limits.
 * Plus unit checks of Retry-After parsing, full-jitter backoff, classification and the semaphore.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Accounting } from "../../models/accounting.ts";
import { ModelAbortedError, ModelError } from "../../models/errors.ts";
import { createEndpoint } from "../../models/factory.ts";
import { backoffDelay, classifyFailure, parseRetryAfter, Semaphore } from "../../models/resilience.ts";
import { callStructured, callText } from "../../models/structured.ts";
import { createRng } from "../../stats/primitives/rng.ts";
import { useLlmServer } from "../support/harness.ts";
import { endpointFor, FAST_RETRY, PROVIDERS, type TestProvider } from "../support/llm-endpoints.ts";
import { reply, startLlmServer, unusedPort } from "../support/llm-server.ts";

const Person = z.object({ age: z.number(), name: z.string() });
const ask = [{ role: "user" as const, content: "one person" }];
const OK = '{"age": 1, "name": "a"}';

const server = useLlmServer();

async function rejection(p: Promise<unknown>): Promise<ModelError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ModelError);
  return e as ModelError;
}

const waitFor = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
};

describe.each(PROVIDERS)("%s faults", (provider: TestProvider) => {
  const call = (
    opts: { retry?: object; timeoutMs?: number; signal?: AbortSignal; accounting?: Accounting } = {},
  ) =>
    callStructured({
      role: "generator",
      endpoint: endpointFor(
        server,
        provider,
        opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs },
      ),
      messages: ask,
      schema: Person,
      retry: { ...FAST_RETRY, ...opts.retry },
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.accounting ? { accounting: opts.accounting } : {}),
    });

  it("honours Retry-After on 429 (fractional seconds), then succeeds", async () => {
    server.script(reply.rateLimit("0.15"), OK);
    const r = await call();
    expect(r.value).toEqual({ age: 1, name: "a" });
    expect(r.requests).toBe(2);
    const [a, b] = server.chatRequests();
    // Backoff alone would wait at most 4 ms (FAST_RETRY); the gap is the server's 150 ms.
    expect(b.receivedAt - a.receivedAt).toBeGreaterThanOrEqual(145);
  });

  it("gives up at once when Retry-After exceeds the longest wait it accepts", async () => {
    server.script(reply.rateLimit("3600"));
    const e = await rejection(call({ retry: { maxRetryAfterMs: 1000 } }));
    expect(e.kind).toBe("rate_limit");
    expect(server.chatRequests()).toHaveLength(1);
    expect(e.hint).toMatch(/maxConcurrency/);
  });

  it("retries a 500 and counts the failed attempt", async () => {
    server.script(reply.error(500, "CUDA out of memory"), OK);
    const acc = new Accounting();
    const r = await call({ accounting: acc });
    expect(r.value).toEqual({ age: 1, name: "a" });
    expect(server.chatRequests()).toHaveLength(2);
    expect(acc.snapshot().failed_calls).toBe(1);
    expect(acc.snapshot().calls).toBe(1);
  });

  it("stops after maxRetries on a persistent 503", async () => {
    server.setDefault(reply.error(503, "loading model"));
    const e = await rejection(call({ retry: { maxRetries: 2 } }));
    expect(e.kind).toBe("server");
    expect(e.status).toBe(503);
    expect(e.attempts).toBe(3);
    expect(server.chatRequests()).toHaveLength(3);
  });

  it("times out a call that never answers, closes its socket, and retries", async () => {
    server.script(reply.hang(), OK);
    const r = await call({ timeoutMs: 120 });
    expect(r.value).toEqual({ age: 1, name: "a" });
    expect(server.chatRequests()).toHaveLength(2);
    await waitFor(() => server.stats.inFlight === 0);
    expect(server.stats.inFlight).toBe(0);
  });

  it("reports a timeout with a hint when every attempt hangs", async () => {
    server.setDefault(reply.hang());
    const e = await rejection(call({ timeoutMs: 60, retry: { maxRetries: 1 } }));
    expect(e.kind).toBe("timeout");
    expect(e.hint).toMatch(/timeoutMs/);
    expect(server.chatRequests()).toHaveLength(2);
  });

  it.each(["before-headers", "mid-body"] as const)("retries a connection dropped %s", async (when) => {
    server.script(reply.drop(when), OK);
    const r = await call();
    expect(r.value).toEqual({ age: 1, name: "a" });
    expect(server.chatRequests()).toHaveLength(2);
  });

  it("retries a malformed body, then reports it if it persists", async () => {
    server.script(
      reply.malformed(
        provider === "ollama" ? "<html>502 Bad Gateway</html>" : 'data: {"id": "chatcmpl-1", "choi\n\n',
      ),
      OK,
    );
    expect((await call()).value).toEqual({ age: 1, name: "a" });
    server.setDefault(reply.truncated('{"age": 1, "name": "a"}'));
    const e = await rejection(call({ retry: { maxRetries: 1 } }));
    expect(e.kind).toBe("malformed");
  });

  it("says `ollama pull` / lists models for an unknown model", async () => {
    const ep = endpointFor(server, provider, { model: "llama3.2:1b" });
    const e = await rejection(
      callText({ role: "generator", endpoint: ep, messages: ask, retry: FAST_RETRY }),
    );
    expect(e.kind).toBe("model_not_found");
    expect(server.chatRequests()).toHaveLength(1);
    if (provider === "ollama") expect(e.hint).toContain("ollama pull llama3.2:1b");
    else expect(e.hint).toContain("synthgraph models");
  });

  it("reports a context overflow with what to shrink, without retrying", async () => {
    server.script(
      reply.error(
        400,
        "This model's maximum context length is 8192 tokens. However, your messages resulted in 9100 tokens.",
        {
          code: "context_length_exceeded",
        },
      ),
    );
    const e = await rejection(call());
    expect(e.kind).toBe("context_overflow");
    expect(e.hint).toMatch(/--probe-rows.*num_ctx/);
    expect(server.chatRequests()).toHaveLength(1);
  });

  it("tells how to start the server when nothing listens on the port", async () => {
    const port = await unusedPort();
    const ep = createEndpoint(
      {
        spec: provider === "ollama" ? "ollama:llama3.1:8b" : "openai:gpt-4o",
        temperature: 0.5,
        numCtx: 8192,
        timeoutMs: 2000,
        baseUrl: provider === "ollama" ? `http://127.0.0.1:${port}` : `http://127.0.0.1:${port}/v1`,
      },
      { OPENAI_API_KEY: "sk-x" },
    );
    const t0 = performance.now();
    const e = await rejection(
      callText({ role: "generator", endpoint: ep, messages: ask, retry: { baseDelayMs: 200 } }),
    );
    expect(e.kind).toBe("unreachable");
    expect(e.attempts).toBe(1);
    expect(e.message).toContain(`127.0.0.1:${port}`);
    // Refused before the endpoint ever answered: no retries, no backoff.
    expect(performance.now() - t0).toBeLessThan(200);
    if (provider === "ollama")
      expect(e.hint).toMatch(/`ollama serve`.*`ollama pull llama3\.1:8b`.*OPENAI_API_KEY/);
    else expect(e.hint).toContain("OPENAI_BASE_URL");
  });

  it("cancels an in-flight call via AbortSignal and frees the server socket", async () => {
    server.setDefault(reply.hang());
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 40);
    const t0 = performance.now();
    const e = await rejection(call({ signal: ac.signal }));
    expect(e).toBeInstanceOf(ModelAbortedError);
    expect(performance.now() - t0).toBeLessThan(1000);
    await waitFor(() => server.stats.inFlight === 0);
    expect(server.stats.inFlight).toBe(0);
  });

  it("cancels during a backoff wait", async () => {
    server.setDefault(reply.rateLimit("5"));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 60);
    const t0 = performance.now();
    const e = await rejection(call({ signal: ac.signal }));
    expect(e.kind).toBe("aborted");
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(server.chatRequests()).toHaveLength(1);
  });

  it("respects the per-endpoint concurrency limit", async () => {
    const s = await startLlmServer();
    try {
      s.setDefault(reply.text(OK, { delayMs: 25 }));
      const ep = endpointFor(s, provider, { maxConcurrency: 2 });
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          callStructured({ role: "generator", endpoint: ep, messages: ask, schema: Person }),
        ),
      );
      expect(results.every((r) => r.value.age === 1)).toBe(true);
      expect(s.stats.requests).toBe(6);
      expect(s.stats.maxInFlight).toBe(2);
    } finally {
      await s.close();
    }
  });
});

describe("openai auth", () => {
  it("reports 401 without ever printing the key", async () => {
    const s = await startLlmServer({ apiKey: "sk-server-accepts-this" });
    try {
      const key = "sk-wrong-client-key-987654";
      const ep = createEndpoint(
        { spec: "openai:gpt-4o", temperature: 0.5, numCtx: 8192, timeoutMs: 2000, baseUrl: s.openaiUrl },
        { OPENAI_API_KEY: key },
      );
      const e = await rejection(
        callText({ role: "generator", endpoint: ep, messages: ask, retry: FAST_RETRY }),
      );
      expect(e.kind).toBe("auth");
      expect(e.status).toBe(401);
      expect(s.chatRequests()).toHaveLength(1);
      // The server echoed the key in its error body; none of it may reach the user.
      expect(s.chatRequests()[0].headers.authorization).toBe(`Bearer ${key}`);
      for (const text of [e.message, e.hint ?? "", String(e), JSON.stringify(e), JSON.stringify(ep)]) {
        expect(text).not.toContain(key);
        expect(text).not.toContain("987654");
      }
      expect(e.hint).toContain("OPENAI_API_KEY");
    } finally {
      await s.close();
    }
  });
});

describe("mid-run connection loss", () => {
  it("retries ECONNREFUSED after the endpoint had answered, then reports a lost connection", async () => {
    const s = await startLlmServer();
    s.script(OK);
    const ep = endpointFor(s, "ollama");
    await callText({ role: "generator", endpoint: ep, messages: ask });
    await s.close();
    const e = await rejection(
      callText({ role: "generator", endpoint: ep, messages: ask, retry: { ...FAST_RETRY, maxRetries: 2 } }),
    );
    expect(e.kind).toBe("connection");
    expect(e.attempts).toBe(3);
  });
});

describe("Retry-After parsing", () => {
  it("reads delay-seconds, fractions and HTTP dates (RFC 9110 §10.2.3)", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter("0.25")).toBe(250);
    const now = Date.parse("Wed, 21 Oct 2015 07:27:57 GMT");
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now)).toBe(3000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it("honours an HTTP-date Retry-After from the server", async () => {
    // HTTP dates have 1 s resolution: a date 1 s ahead waits between 0 and 1 s.
    const date = new Date(Math.floor(Date.now() / 1000) * 1000 + 1000).toUTCString();
    server.script(reply.rateLimit(date), OK);
    const expected = parseRetryAfter(date)!;
    const r = await callText({
      role: "generator",
      endpoint: endpointFor(server, "openai"),
      messages: ask,
      retry: FAST_RETRY,
    });
    expect(r.text).toBe(OK);
    const [a, b] = server.chatRequests();
    expect(b.receivedAt - a.receivedAt).toBeGreaterThanOrEqual(expected - 30);
  });
});

describe("backoff", () => {
  it("is full jitter: U(0, min(cap, base·2^attempt)) from the seeded RNG", () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
    const rng = createRng(7);
    const ref = createRng(7);
    for (let attempt = 0; attempt < 6; attempt++) {
      const d = backoffDelay(attempt, policy, rng);
      expect(d).toBe(ref.next() * Math.min(1000, 100 * 2 ** attempt));
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(Math.min(1000, 100 * 2 ** attempt));
    }
  });
});

describe("classifyFailure", () => {
  const none = { everAnswered: false };
  it("sorts statuses and messages", () => {
    expect(classifyFailure(Object.assign(new Error("x"), { status: 429 }), none)).toMatchObject({
      kind: "rate_limit",
      retryable: true,
    });
    expect(classifyFailure(new Error("boom"), { ...none, status: 502 })).toMatchObject({
      kind: "server",
      retryable: true,
    });
    expect(classifyFailure(Object.assign(new Error("bad"), { status_code: 401 }), none)).toMatchObject({
      kind: "auth",
      retryable: false,
    });
    expect(classifyFailure(Object.assign(new Error("no"), { status: 400 }), none)).toMatchObject({
      kind: "client",
      retryable: false,
    });
    expect(
      classifyFailure(
        Object.assign(new Error("This model's maximum context length is 8192 tokens"), { status: 400 }),
        none,
      ),
    ).toMatchObject({ kind: "context_overflow", retryable: false });
    const refused = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    });
    expect(classifyFailure(refused, none)).toMatchObject({ kind: "unreachable", retryable: false });
    expect(classifyFailure(refused, { everAnswered: true })).toMatchObject({
      kind: "connection",
      retryable: true,
    });
    const reset = new TypeError("fetch failed", {
      cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
    });
    expect(classifyFailure(reset, none)).toMatchObject({ kind: "connection", retryable: true });
    expect(classifyFailure(new SyntaxError("Unexpected token < in JSON"), none)).toMatchObject({
      kind: "malformed",
      retryable: true,
    });
    expect(classifyFailure(new Error("x"), { ...none, status: 429, retryAfter: "3" }).retryAfterMs).toBe(
      3000,
    );
  });
});

describe("Semaphore", () => {
  it("admits at most max holders, in FIFO order, and drops aborted waiters", async () => {
    const s = new Semaphore(2);
    const order: number[] = [];
    const r1 = await s.acquire();
    const r2 = await s.acquire();
    const ac = new AbortController();
    const p3 = s.acquire().then((rel) => {
      order.push(3);
      return rel;
    });
    const p4 = s.acquire(ac.signal).catch(() => "aborted");
    const p5 = s.acquire().then((rel) => {
      order.push(5);
      return rel;
    });
    expect(s.inFlight).toBe(2);
    ac.abort();
    expect(await p4).toBe("aborted");
    r1();
    const r3 = await p3;
    expect(s.inFlight).toBe(2);
    r2();
    const r5 = await p5;
    expect(order).toEqual([3, 5]);
    r3();
    r5();
    r5();
    expect(s.inFlight).toBe(0);
  });
});
