/**
 * Actionable model errors: each says what went wrong and, in `hint`, what to do. None of them ever
 * contains an API key (messages that echo server text go through `redact`).
 */
import { SynthgraphError } from "../data/errors.ts";
import type { Provider } from "./spec.ts";

export type FailureKind =
  | "rate_limit"
  | "server"
  | "connection"
  | "unreachable"
  | "timeout"
  | "aborted"
  | "auth"
  | "model_not_found"
  | "context_overflow"
  | "malformed"
  | "client"
  | "unknown";

export class ModelError extends SynthgraphError {
  readonly kind: FailureKind;
  readonly status: number | undefined;
  readonly attempts: number;
  constructor(
    kind: FailureKind,
    message: string,
    options: { hint?: string; status?: number; attempts?: number; cause?: unknown; exitCode?: number } = {},
  ) {
    super(message, { hint: options.hint, cause: options.cause, exitCode: options.exitCode ?? 3 });
    this.name = "ModelError";
    this.kind = kind;
    this.status = options.status;
    this.attempts = options.attempts ?? 1;
  }
}

/** The one command that makes a model available without any server. */
export const PULL_HINT =
  "or run `synthgraph models pull` once to download a small local model that runs inside synthgraph (no server needed)";

export function unreachableHint(provider: Provider, baseUrl: string): string {
  if (provider === "llamacpp")
    return `check the GGUF path ${baseUrl.replace(/^llamacpp:/, "")}; ${PULL_HINT}`;
  return provider === "ollama"
    ? `start it with \`ollama serve\`, then \`ollama pull llama3.1:8b\` (or set OLLAMA_HOST if it listens elsewhere than ${baseUrl}); or set OPENAI_API_KEY and pass --model openai:gpt-4o; or pass --model openai:<model> with OPENAI_BASE_URL for a vLLM / LM Studio / llama.cpp server; ${PULL_HINT}`
    : `check that the server at ${baseUrl} is running and that OPENAI_BASE_URL (or baseUrl in the model config) points at its /v1 endpoint; or use a local model with --model ollama:llama3.1:8b; ${PULL_HINT}`;
}

export class ModelUnreachableError extends ModelError {
  constructor(provider: Provider, baseUrl: string, options: { cause?: unknown; attempts?: number } = {}) {
    const who = provider === "ollama" ? "Ollama" : "the OpenAI-compatible server";
    super("unreachable", `${who} is not reachable at ${baseUrl}`, {
      hint: unreachableHint(provider, baseUrl),
      ...options,
    });
    this.name = "ModelUnreachableError";
  }
}

export class ModelNotFoundError extends ModelError {
  constructor(provider: Provider, model: string, baseUrl: string, options: { cause?: unknown } = {}) {
    super("model_not_found", `model "${model}" is not available at ${baseUrl}`, {
      status: 404,
      hint:
        provider === "ollama"
          ? `run \`ollama pull ${model}\` (or pick a model you have: \`ollama list\`)`
          : provider === "llamacpp"
            ? `check that ${model} exists and is a GGUF file; \`synthgraph models pull\` downloads a default one and prints its path`
            : `check the model name; \`synthgraph models\` lists the models the server at ${baseUrl} serves`,
      ...options,
    });
    this.name = "ModelNotFoundError";
  }
}

export class ModelAuthError extends ModelError {
  constructor(status: number, baseUrl: string, keySet: boolean) {
    super("auth", `the server at ${baseUrl} rejected the credentials (HTTP ${status})`, {
      status,
      hint: keySet
        ? "check OPENAI_API_KEY: it is set but was refused (wrong key, revoked, or no access to this model); the key is not printed"
        : "set OPENAI_API_KEY to a valid key for this server",
    });
    this.name = "ModelAuthError";
  }
}

export class ModelContextOverflowError extends ModelError {
  constructor(detail: string, options: { status?: number; cause?: unknown } = {}) {
    super("context_overflow", `the prompt does not fit the model's context window: ${detail}`, {
      hint: "shrink the prompt (fewer --probe-rows, fewer examples per prompt, fewer rows per batch) or raise num_ctx (numCtx in the model config / --num-ctx) if the model supports it",
      ...options,
    });
    this.name = "ModelContextOverflowError";
  }
}

export class ModelTimeoutError extends ModelError {
  constructor(timeoutMs: number, baseUrl: string, attempts: number) {
    super("timeout", `no answer from ${baseUrl} within ${timeoutMs} ms (${attempts} attempt(s))`, {
      attempts,
      hint: "the model may be loading or overloaded: raise timeoutMs in the model config, lower the batch size, or lower maxConcurrency",
    });
    this.name = "ModelTimeoutError";
  }
}

export class ModelAbortedError extends ModelError {
  constructor(reason: unknown) {
    super("aborted", "the model call was cancelled", { cause: reason, exitCode: 130 });
    this.name = "ModelAbortedError";
  }
}

/** Masks API keys (the configured one and anything shaped like `sk-...`) in text that came from a server. */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("[redacted]");
  return out.replace(/\bsk-[A-Za-z0-9_*-]{3,}/g, "sk-[redacted]");
}
