/** Test helpers: factory endpoints pointed at the loopback LLM server (test double). */
import { createEndpoint, type Endpoint } from "../../models/factory.ts";
import type { RetryPolicy } from "../../models/resilience.ts";
import type { LlmServer } from "./llm-server.ts";

export type TestProvider = "ollama" | "openai";
export const PROVIDERS: readonly TestProvider[] = ["ollama", "openai"];

/** Client-side key used by tests (the server accepts anything unless started with `apiKey`). */
export const TEST_KEY = "sk-test-client-key-0000";

/** Tiny retry delays so fault tests stay fast. */
export const FAST_RETRY: Partial<RetryPolicy> = { baseDelayMs: 1, maxDelayMs: 4 };

export function endpointFor(
  server: LlmServer,
  provider: TestProvider,
  opts: {
    model?: string;
    temperature?: number;
    timeoutMs?: number;
    maxConcurrency?: number;
    apiKey?: string;
    numCtx?: number;
  } = {},
): Endpoint {
  const model = opts.model ?? (provider === "ollama" ? "llama3.1:8b" : "gpt-4o");
  return createEndpoint(
    {
      spec: `${provider}:${model}`,
      temperature: opts.temperature ?? 0.5,
      baseUrl: provider === "ollama" ? server.ollamaUrl : server.openaiUrl,
      numCtx: opts.numCtx ?? 8192,
      timeoutMs: opts.timeoutMs ?? 5_000,
      ...(opts.maxConcurrency === undefined ? {} : { maxConcurrency: opts.maxConcurrency }),
    },
    { OPENAI_API_KEY: opts.apiKey ?? TEST_KEY },
  );
}
