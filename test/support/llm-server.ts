/**
 * TEST DOUBLE. A loopback HTTP server (127.0.0.1, random port) that speaks the Ollama and OpenAI chat APIs
 * with the exact wire shapes the real ChatOllama / ChatOpenAI clients send and expect (checked against ChatOllama 1.3 and ChatOpenAI 1.5).
 * It replays scripted replies (a queue, or functions of the request), injects latency and faults (429 with
 * Retry-After, 5xx, hangs, dropped connections, malformed and truncated bodies), and records every request
 * and token count so tests can assert on prompts. Never imported by non-test code, never a default.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type WireProvider = "ollama" | "openai";

export interface RecordedMessage {
  role: string;
  content: string;
}

export interface RecordedRequest {
  /** 0-based order of arrival among all requests. */
  id: number;
  /** performance.now() when the body had arrived. */
  receivedAt: number;
  provider: WireProvider | "other";
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON body, or undefined. */
  body: Record<string, unknown> | undefined;
  model: string | undefined;
  stream: boolean;
  messages: RecordedMessage[];
  /** Ollama `format` (a JSON Schema or "json"). */
  format: unknown;
  /** OpenAI `response_format`. */
  responseFormat: unknown;
  tools: unknown;
  /** Ollama `options` (temperature, num_ctx, seed, ...). */
  options: Record<string, unknown> | undefined;
  temperature: number | undefined;
}

export interface ToolCallReply {
  name: string;
  args: Record<string, unknown>;
}

export type Reply =
  | {
      kind: "text";
      content: string;
      toolCalls?: ToolCallReply[];
      /** Reported usage; default derived from the text (see countPromptTokens / countCompletionTokens). */
      promptTokens?: number;
      completionTokens?: number;
      /** Leave usage out of the response (Ollama: no eval counts; OpenAI: no `usage`). */
      noUsage?: boolean;
      /** Pieces a streamed reply is split into (default 3). */
      chunks?: number;
      chunkDelayMs?: number;
      delayMs?: number;
      finishReason?: string;
    }
  | { kind: "error"; status: number; message: string; code?: string; retryAfter?: string; delayMs?: number }
  /** Accepts the request and never answers. */
  | { kind: "hang" }
  /** Destroys the socket: before any byte ("before-headers") or after part of the body ("mid-body"). */
  | { kind: "drop"; when: "before-headers" | "mid-body"; delayMs?: number }
  /** 200 with this raw body (content-type as the real server would send). */
  | { kind: "malformed"; body: string; delayMs?: number }
  /** A reply cut short: a stream without its final line, or half a JSON body. */
  | { kind: "truncated"; content: string; delayMs?: number };

export type ScriptEntry =
  Reply | string | ((req: RecordedRequest) => Reply | string | Promise<Reply | string>);

/** Shorthands for scripted replies. */
export const reply = {
  text: (content: string, extra: Omit<Extract<Reply, { kind: "text" }>, "kind" | "content"> = {}): Reply => ({
    kind: "text",
    content,
    ...extra,
  }),
  toolCall: (name: string, args: Record<string, unknown>): Reply => ({
    kind: "text",
    content: "",
    toolCalls: [{ name, args }],
  }),
  error: (
    status: number,
    message: string,
    extra: { code?: string; retryAfter?: string; delayMs?: number } = {},
  ): Reply => ({
    kind: "error",
    status,
    message,
    ...extra,
  }),
  rateLimit: (retryAfter?: string): Reply => ({
    kind: "error",
    status: 429,
    message: "Rate limit reached for requests",
    code: "rate_limit_exceeded",
    ...(retryAfter === undefined ? {} : { retryAfter }),
  }),
  hang: (): Reply => ({ kind: "hang" }),
  drop: (when: "before-headers" | "mid-body" = "before-headers"): Reply => ({ kind: "drop", when }),
  malformed: (body: string): Reply => ({ kind: "malformed", body }),
  truncated: (content: string): Reply => ({ kind: "truncated", content }),
};

/** Server-side token counts: ⌈chars/4⌉ over message contents (deterministic; real tokenizers differ). */
export function countPromptTokens(messages: readonly RecordedMessage[]): number {
  let chars = 0;
  for (const m of messages) chars += m.content.length;
  return Math.max(1, Math.ceil(chars / 4));
}
export function countCompletionTokens(content: string, toolCalls?: readonly ToolCallReply[]): number {
  const text = content + (toolCalls ? JSON.stringify(toolCalls) : "");
  return Math.max(1, Math.ceil(text.length / 4));
}

export interface LlmServerOptions {
  /** Model names the server serves; a request for any other gets the provider's 404. */
  models?: string[];
  /** If set, OpenAI routes require `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
}

export interface LlmServerStats {
  /** Chat requests received. */
  requests: number;
  /** Chat completions answered with a reply (text or tool calls). */
  completions: number;
  promptTokens: number;
  completionTokens: number;
  inFlight: number;
  maxInFlight: number;
}

export interface LlmServer {
  url: string;
  ollamaUrl: string;
  openaiUrl: string;
  /** Queue replies for the next chat requests, in order. */
  script(...entries: ScriptEntry[]): void;
  /** Reply used when the queue is empty (default: a 418 saying nothing was scripted). */
  setDefault(entry: ScriptEntry | undefined): void;
  /** Empties the script queue, the default reply and the request log (stats are cumulative). */
  reset(): void;
  /** Every request received (chat and listing routes), in arrival order. */
  requests: RecordedRequest[];
  /** Chat requests only. */
  chatRequests(): RecordedRequest[];
  stats: LlmServerStats;
  models: string[];
  close(): Promise<void>;
}

function contentText(c: unknown): string {
  if (typeof c === "string") return c;
  if (Array.isArray(c)) {
    return c
      .map((p) =>
        p && typeof p === "object" && typeof (p as { text?: unknown }).text === "string"
          ? (p as { text: string }).text
          : "",
      )
      .join("");
  }
  return "";
}

function record(id: number, req: IncomingMessage, rawBody: string): RecordedRequest {
  const path = (req.url ?? "/").split("?")[0];
  let body: Record<string, unknown> | undefined;
  try {
    const v: unknown = rawBody ? JSON.parse(rawBody) : undefined;
    if (v && typeof v === "object" && !Array.isArray(v)) body = v as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  const provider: RecordedRequest["provider"] = path.startsWith("/api/")
    ? "ollama"
    : path.startsWith("/v1/")
      ? "openai"
      : "other";
  const msgs = Array.isArray(body?.messages) ? (body.messages as Array<Record<string, unknown>>) : [];
  const options =
    body?.options && typeof body.options === "object" ? (body.options as Record<string, unknown>) : undefined;
  const temperature =
    typeof body?.temperature === "number"
      ? body.temperature
      : typeof options?.temperature === "number"
        ? options.temperature
        : undefined;
  return {
    id,
    receivedAt: performance.now(),
    provider,
    method: req.method ?? "GET",
    path,
    headers: req.headers,
    rawBody,
    body,
    model: typeof body?.model === "string" ? body.model : undefined,
    // Ollama streams unless told otherwise; OpenAI only when asked.
    stream: provider === "ollama" ? body?.stream !== false : body?.stream === true,
    messages: msgs.map((m) => ({ role: String(m.role), content: contentText(m.content) })),
    format: body?.format,
    responseFormat: body?.response_format,
    tools: body?.tools,
    options,
    temperature,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function split(text: string, n: number): string[] {
  if (text === "") return [""];
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, n)));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export async function startLlmServer(options: LlmServerOptions = {}): Promise<LlmServer> {
  const models = options.models ?? ["llama3.1:8b", "gpt-4o"];
  const queue: ScriptEntry[] = [];
  let fallback: ScriptEntry | undefined;
  const requests: RecordedRequest[] = [];
  const stats: LlmServerStats = {
    requests: 0,
    completions: 0,
    promptTokens: 0,
    completionTokens: 0,
    inFlight: 0,
    maxInFlight: 0,
  };
  const sockets = new Set<Socket>();
  const created = Math.floor(Date.now() / 1000);

  const json = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };

  const providerError = (
    res: ServerResponse,
    provider: WireProvider,
    status: number,
    message: string,
    code?: string,
    headers: Record<string, string> = {},
  ): void => {
    if (provider === "ollama") json(res, status, { error: message }, headers);
    else
      json(
        res,
        status,
        {
          error: {
            message,
            type: status === 429 ? "requests" : "invalid_request_error",
            param: null,
            code: code ?? null,
          },
        },
        headers,
      );
  };

  async function nextReply(rec: RecordedRequest): Promise<Reply> {
    const entry = queue.length > 0 ? queue.shift() : fallback;
    if (entry === undefined) {
      return {
        kind: "error",
        status: 418,
        message: `llm-server: nothing scripted for request ${rec.id} (${rec.path})`,
      };
    }
    const r = typeof entry === "function" ? await entry(rec) : entry;
    return typeof r === "string" ? { kind: "text", content: r } : r;
  }

  async function chat(rec: RecordedRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const provider = rec.provider as WireProvider;
    if (provider === "openai" && options.apiKey !== undefined) {
      const auth = String(req.headers.authorization ?? "");
      if (auth !== `Bearer ${options.apiKey}`) {
        // Echoes the key it got, as some compatible servers do: callers must never print it.
        providerError(
          res,
          provider,
          401,
          `Incorrect API key provided: ${auth.replace(/^Bearer /, "")}.`,
          "invalid_api_key",
        );
        return;
      }
    }
    if (rec.model === undefined || !models.includes(rec.model)) {
      if (provider === "ollama")
        providerError(res, provider, 404, `model '${rec.model}' not found, try pulling it first`);
      else
        providerError(
          res,
          provider,
          404,
          `The model \`${rec.model}\` does not exist or you do not have access to it.`,
          "model_not_found",
        );
      return;
    }
    const r = await nextReply(rec);
    if ("delayMs" in r && r.delayMs) await sleep(r.delayMs);
    if (res.destroyed) return;
    switch (r.kind) {
      case "hang":
        return new Promise<void>((resolve) => res.on("close", () => resolve()));
      case "drop":
        if (r.when === "mid-body") {
          res.writeHead(200, {
            "content-type":
              provider === "ollama"
                ? "application/x-ndjson"
                : rec.stream
                  ? "text/event-stream"
                  : "application/json",
          });
          res.write(
            provider === "ollama"
              ? '{"model":"x","message":{"role":"assistant","content":"{\\"a'
              : '{"id":"chatcmpl-1","choi',
          );
          await sleep(5);
        }
        req.socket.destroy();
        return;
      case "error":
        providerError(
          res,
          provider,
          r.status,
          r.message,
          r.code,
          r.retryAfter === undefined ? {} : { "retry-after": r.retryAfter },
        );
        return;
      case "malformed":
        res.writeHead(200, {
          "content-type": !rec.stream
            ? "application/json"
            : provider === "ollama"
              ? "application/x-ndjson"
              : "text/event-stream",
        });
        res.end(r.body);
        return;
      case "truncated":
        truncated(rec, res, r.content);
        return;
      case "text":
        await completion(rec, res, r);
        return;
    }
  }

  function truncated(rec: RecordedRequest, res: ServerResponse, content: string): void {
    const provider = rec.provider as WireProvider;
    if (rec.stream) {
      const head = split(content, 2)[0];
      if (provider === "ollama") {
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        res.end(
          `${JSON.stringify({ model: rec.model, created_at: new Date().toISOString(), message: { role: "assistant", content: head }, done: false })}\n`,
        );
      } else {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(
          `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created, model: rec.model, choices: [{ index: 0, delta: { role: "assistant", content: head }, finish_reason: null }] })}\n\n`,
        );
      }
      return;
    }
    const full = JSON.stringify({ model: rec.model, message: { role: "assistant", content }, done: true });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(full.slice(0, Math.floor(full.length / 2)));
  }

  async function completion(
    rec: RecordedRequest,
    res: ServerResponse,
    r: Extract<Reply, { kind: "text" }>,
  ): Promise<void> {
    const provider = rec.provider as WireProvider;
    const promptTokens = r.promptTokens ?? countPromptTokens(rec.messages);
    const completionTokens = r.completionTokens ?? countCompletionTokens(r.content, r.toolCalls);
    const pieces = split(r.content, r.chunks ?? 3);
    const finish = r.finishReason ?? (r.toolCalls?.length ? "tool_calls" : "stop");
    const write = async (line: string): Promise<boolean> => {
      if (res.destroyed) return false;
      res.write(line);
      if (r.chunkDelayMs) await sleep(r.chunkDelayMs);
      return !res.destroyed;
    };
    // Tokens count as served once the server commits to a reply.
    const count = (): void => {
      stats.completions++;
      if (!r.noUsage) {
        stats.promptTokens += promptTokens;
        stats.completionTokens += completionTokens;
      }
    };
    if (provider === "ollama") {
      const at = new Date().toISOString();
      const toolCalls = r.toolCalls?.map((t) => ({ function: { name: t.name, arguments: t.args } }));
      const usage = r.noUsage ? {} : { prompt_eval_count: promptTokens, eval_count: completionTokens };
      const final = {
        model: rec.model,
        created_at: at,
        message: { role: "assistant", content: "" },
        done: true,
        done_reason: finish === "tool_calls" ? "stop" : finish,
        total_duration: 1,
        load_duration: 1,
        prompt_eval_duration: 1,
        eval_duration: 1,
        ...usage,
      };
      if (!rec.stream) {
        count();
        json(res, 200, {
          ...final,
          message: { role: "assistant", content: r.content, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
        });
        return;
      }
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      count();
      for (const p of pieces) {
        if (
          !(await write(
            `${JSON.stringify({ model: rec.model, created_at: at, message: { role: "assistant", content: p }, done: false })}\n`,
          ))
        )
          return;
      }
      if (
        toolCalls &&
        !(await write(
          `${JSON.stringify({ model: rec.model, created_at: at, message: { role: "assistant", content: "", tool_calls: toolCalls }, done: false })}\n`,
        ))
      )
        return;
      res.end(`${JSON.stringify(final)}\n`);
      return;
    }
    const toolCalls = r.toolCalls?.map((t, i) => ({
      id: `call_${i + 1}`,
      type: "function",
      function: { name: t.name, arguments: JSON.stringify(t.args) },
    }));
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    if (!rec.stream) {
      count();
      const message = {
        role: "assistant",
        content: toolCalls ? null : r.content,
        refusal: null,
        ...(toolCalls ? { tool_calls: toolCalls } : {}),
      };
      json(res, 200, {
        id: "chatcmpl-1",
        object: "chat.completion",
        created,
        model: rec.model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
        ...(r.noUsage ? {} : { usage }),
      });
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    count();
    const chunk = (delta: Record<string, unknown>, finishReason: string | null): string =>
      `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created, model: rec.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
    const first = pieces.shift() ?? "";
    if (!(await write(chunk({ role: "assistant", content: first }, null)))) return;
    for (const p of pieces) if (!(await write(chunk({ content: p }, null)))) return;
    if (toolCalls) {
      const delta = { tool_calls: toolCalls.map((t, index) => ({ index, ...t })) };
      if (!(await write(chunk(delta, null)))) return;
    }
    if (!(await write(chunk({}, finish)))) return;
    const streamOptions = rec.body?.stream_options as { include_usage?: boolean } | undefined;
    if (streamOptions?.include_usage && !r.noUsage) {
      const u = {
        id: "chatcmpl-1",
        object: "chat.completion.chunk",
        created,
        model: rec.model,
        choices: [],
        usage,
      };
      if (!(await write(`data: ${JSON.stringify(u)}\n\n`))) return;
    }
    res.end("data: [DONE]\n\n");
  }

  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (b: Buffer) => parts.push(b));
    req.on("end", () => {
      const rec = record(requests.length, req, Buffer.concat(parts).toString("utf8"));
      requests.push(rec);
      const isChat =
        rec.method === "POST" && (rec.path === "/api/chat" || rec.path === "/v1/chat/completions");
      if (!isChat) {
        route(rec, req, res);
        return;
      }
      stats.requests++;
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        stats.inFlight--;
      };
      res.on("close", finish);
      chat(rec, req, res).catch((err: unknown) => {
        if (!res.headersSent) json(res, 500, { error: `llm-server: ${String(err)}` });
        else res.destroy();
      });
    });
  });

  function route(rec: RecordedRequest, req: IncomingMessage, res: ServerResponse): void {
    const get = rec.method === "GET";
    if (get && rec.path === "/api/version") {
      json(res, 200, { version: "0.6.5" });
    } else if (get && rec.path === "/api/tags") {
      json(res, 200, {
        models: models.map((name) => ({
          name,
          model: name,
          modified_at: new Date(0).toISOString(),
          size: 4_920_753_328,
          digest: "0".repeat(64),
          details: { format: "gguf", family: "llama" },
        })),
      });
    } else if (get && rec.path === "/v1/models") {
      if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
        providerError(res, "openai", 401, "Incorrect API key provided.", "invalid_api_key");
      } else {
        json(res, 200, {
          object: "list",
          data: models.map((id) => ({ id, object: "model", created, owned_by: "llm-server" })),
        });
      }
    } else if (rec.provider === "openai") {
      providerError(res, "openai", 404, `Unknown route ${rec.path}`);
    } else {
      json(res, 404, { error: "404 page not found" });
    }
  }

  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    ollamaUrl: url,
    openaiUrl: `${url}/v1`,
    script: (...entries) => {
      queue.push(...entries);
    },
    setDefault: (entry) => {
      fallback = entry;
    },
    reset: () => {
      queue.length = 0;
      fallback = undefined;
      requests.length = 0;
    },
    requests,
    chatRequests: () => requests.filter((r) => r.path === "/api/chat" || r.path === "/v1/chat/completions"),
    stats,
    models,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function unusedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
