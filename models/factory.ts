/**
 * Builds LangChain chat models from a role config: ChatOllama for `ollama:`, ChatOpenAI for `openai:`
 * (OpenAI itself or any OpenAI-compatible server), ChatLlamaCpp for `llamacpp:` (a GGUF file in-process;
 * every role on the same file shares one loaded model). SDK retries are off (maxRetries: 0): resilience.ts
 * owns retries, and every client fetches through `trackedFetch` so timeouts and cancellation reach the socket.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { ChatOllama } from "@langchain/ollama";
import { ChatOpenAI } from "@langchain/openai";
import { SynthgraphError } from "../data/errors.ts";
import { ChatLlamaCpp, expandModelPath, type LlamaSampling } from "./llamacpp.ts";
import type { EndpointInfo } from "./resilience.ts";
import { trackedFetch } from "./resilience.ts";
import type { UnusableReplyBudget } from "./unusable-budget.ts";
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_NUM_CTX,
  DEFAULT_OLLAMA_HOST,
  DEFAULT_TIMEOUT_MS,
  LLAMACPP_TIMEOUT_MS,
  type Provider,
  parseModelSpec,
  type Role,
  type RoleConfig,
  type RoleConfigMap,
} from "./spec.ts";

/** A ready chat model plus what the call layer needs to know about where it points. */
export interface Endpoint extends EndpointInfo {
  chat: BaseChatModel;
  temperature: number;
  timeoutMs: number;
  /** Ollama only: the num_ctx sent with every request. */
  numCtx?: number;
  role?: Role;
  /** Several servers for the role (models/pool.ts): one endpoint per base URL; this one is the first. */
  pool?: readonly Endpoint[];
  /** The run's budget of consecutive unusable replies (callStructured reports every call's outcome to it). */
  unusableBudget?: UnusableReplyBudget;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Placeholder key for OpenAI-compatible servers that need none (the SDK refuses an empty key). */
const NO_KEY = "sk-no-key-required";

/**
 * OLLAMA_HOST may be `host`, `host:port`, `:port` or a URL (Ollama's own convention); 0.0.0.0 is a bind
 * address, so clients use 127.0.0.1.
 */
export function normalizeOllamaHost(host: string | undefined): string {
  if (!host || host.trim() === "") return DEFAULT_OLLAMA_HOST;
  let h = host.trim();
  if (h.startsWith(":")) h = `127.0.0.1${h}`;
  const schemeGiven = /^https?:\/\//i.test(h);
  if (!schemeGiven) h = `http://${h}`;
  const url = new URL(h);
  if (url.hostname === "0.0.0.0") url.hostname = "127.0.0.1";
  // A bare host means Ollama's port; a URL without a port means the scheme's default (as ollama-js does).
  if (!schemeGiven && !/^http:\/\/[^/]+:\d+/i.test(h)) url.port = "11434";
  return url.toString().replace(/\/+$/, "");
}

/** For `llamacpp:` the "base URL" is `llamacpp:<absolute path>`: the key that groups calls to one model. */
export function resolveBaseUrl(
  provider: Provider,
  cfg: { baseUrl?: string; spec?: string },
  env: Env,
): string {
  if (provider === "llamacpp") return `llamacpp:${expandModelPath(parseModelSpec(cfg.spec ?? "").model)}`;
  if (provider === "ollama") return normalizeOllamaHost(cfg.baseUrl ?? env.OLLAMA_HOST);
  const url = cfg.baseUrl ?? env.OPENAI_BASE_URL ?? "https://api.openai.com/v1";
  return url.replace(/\/+$/, "");
}

/**
 * Creates the chat model for one role config. Reads OLLAMA_HOST, OPENAI_API_KEY, OPENAI_BASE_URL from `env`.
 * The llamacpp provider also takes the sampling fields topP, topK, repeatPenalty and maxTokens when the
 * config carries them.
 */
export function createEndpoint(
  cfg: RoleConfig & Omit<LlamaSampling, "temperature" | "seed"> & { role?: Role },
  env: Env = process.env,
): Endpoint {
  const { provider, model } = parseModelSpec(cfg.spec);
  if (cfg.baseUrls !== undefined && cfg.baseUrls.length > 0 && provider !== "llamacpp") {
    const { baseUrls, ...one } = cfg;
    const members = baseUrls.map((u) => createEndpoint({ ...one, baseUrl: u }, env));
    return { ...members[0], pool: members };
  }
  const baseUrl = resolveBaseUrl(provider, cfg, env);
  const maxConcurrency = cfg.maxConcurrency ?? DEFAULT_CONCURRENCY[provider];
  const timeoutMs = cfg.timeoutMs ?? (provider === "llamacpp" ? LLAMACPP_TIMEOUT_MS : DEFAULT_TIMEOUT_MS);
  const role = cfg.role === undefined ? {} : { role: cfg.role };
  // Fields every endpoint carries, whichever client it wraps.
  const common = {
    provider,
    model,
    baseUrl,
    maxConcurrency,
    temperature: cfg.temperature,
    timeoutMs,
    ...role,
  };
  if (provider === "llamacpp") {
    const chat = new ChatLlamaCpp({
      modelPath: model,
      temperature: cfg.temperature,
      numCtx: cfg.numCtx ?? DEFAULT_NUM_CTX,
      sequences: maxConcurrency,
      ...(cfg.seed === undefined ? {} : { seed: cfg.seed }),
      ...(cfg.topP === undefined ? {} : { topP: cfg.topP }),
      ...(cfg.topK === undefined ? {} : { topK: cfg.topK }),
      ...(cfg.repeatPenalty === undefined ? {} : { repeatPenalty: cfg.repeatPenalty }),
      ...(cfg.maxTokens === undefined ? {} : { maxTokens: cfg.maxTokens }),
    });
    return { ...common, model: chat.modelPath, chat };
  }
  if (provider === "ollama") {
    const numCtx = cfg.numCtx ?? DEFAULT_NUM_CTX;
    const chat = new ChatOllama({
      model,
      baseUrl,
      temperature: cfg.temperature,
      numCtx,
      ...(cfg.topP === undefined ? {} : { topP: cfg.topP }),
      ...(cfg.topK === undefined ? {} : { topK: cfg.topK }),
      ...(cfg.repeatPenalty === undefined ? {} : { repeatPenalty: cfg.repeatPenalty }),
      ...(cfg.maxTokens === undefined ? {} : { numPredict: cfg.maxTokens }),
      ...(cfg.seed === undefined ? {} : { seed: cfg.seed }),
      fetch: trackedFetch,
    });
    return { ...common, chat, numCtx };
  }
  const key = env.OPENAI_API_KEY?.trim() || undefined;
  const custom = cfg.baseUrl !== undefined || env.OPENAI_BASE_URL !== undefined;
  if (!key && !custom) {
    throw new SynthgraphError(`OPENAI_API_KEY is not set (needed for ${cfg.spec})`, {
      hint: "export OPENAI_API_KEY=...; for a local OpenAI-compatible server set OPENAI_BASE_URL (e.g. http://127.0.0.1:8000/v1); or use --model ollama:llama3.1:8b",
      exitCode: 2,
    });
  }
  const apiKey = key ?? NO_KEY;
  // api.openai.com rejects top_k and repetition_penalty; OpenAI-compatible servers (vLLM, llama.cpp) take them.
  const extra: Record<string, number> = {};
  if (cfg.seed !== undefined) extra.seed = cfg.seed;
  if (custom && cfg.topK !== undefined) extra.top_k = cfg.topK;
  if (custom && cfg.repeatPenalty !== undefined) extra.repetition_penalty = cfg.repeatPenalty;
  const chat = new ChatOpenAI({
    model,
    temperature: cfg.temperature,
    apiKey,
    maxRetries: 0,
    ...(cfg.topP === undefined ? {} : { topP: cfg.topP }),
    ...(cfg.maxTokens === undefined ? {} : { maxTokens: cfg.maxTokens }),
    ...(Object.keys(extra).length === 0 ? {} : { modelKwargs: extra }),
    configuration: { baseURL: baseUrl, fetch: trackedFetch },
  });
  const ep: Endpoint = { ...common, chat, apiKeySet: key !== undefined };
  // Not enumerable, so logging or serialising an endpoint never shows the key.
  Object.defineProperty(ep, "secrets", { value: key ? [key] : [], enumerable: false });
  return ep;
}

/** One endpoint per role. */
export function createRoleEndpoints(configs: RoleConfigMap, env: Env = process.env): Record<Role, Endpoint> {
  const out = {} as Record<Role, Endpoint>;
  for (const role of Object.keys(configs) as Role[])
    out[role] = createEndpoint({ ...configs[role], role }, env);
  return out;
}

/** Shortcut: a spec string with defaults, e.g. `createChatModel("ollama:llama3.1:8b", { temperature: 0.5 })`. */
export function createChatModel(
  spec: string,
  options: Partial<Omit<RoleConfig, "spec">> = {},
  env: Env = process.env,
): Endpoint {
  return createEndpoint(
    {
      spec,
      temperature: options.temperature ?? 0.7,
      numCtx: options.numCtx ?? DEFAULT_NUM_CTX,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      ...options,
    },
    env,
  );
}
