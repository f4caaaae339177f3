/**
 * Resilience for model calls: retries with exponential backoff and full jitter, Retry-After, per-call
 * timeout, a concurrency limit per endpoint, cancellation, and classification of failures into actionable
 * errors. LangChain's own retries are switched off (maxRetries: 0) so there is exactly one retry policy.
 *
 * The factory gives every client `trackedFetch`, which (through AsyncLocalStorage) ties each HTTP request
 * to the current call: it aborts the request when the call is cancelled or times out (ChatOllama ignores
 * AbortSignal, ollama-js never passes one to fetch) and records the HTTP status and Retry-After header
 * the SDKs would otherwise hide or drop.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createRng, type Rng } from "../stats/primitives/rng.ts";
import {
  type FailureKind,
  ModelAbortedError,
  ModelAuthError,
  ModelContextOverflowError,
  ModelError,
  ModelNotFoundError,
  ModelTimeoutError,
  ModelUnreachableError,
  redact,
} from "./errors.ts";
import type { Provider } from "./spec.ts";

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the call fails with a rate-limit error. */
  maxRetryAfterMs: number;
  timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxRetries: 4,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 120_000,
  timeoutMs: 180_000,
};

/** What the retry layer needs to know about the endpoint it talks to. */
export interface EndpointInfo {
  provider: Provider;
  model: string;
  baseUrl: string;
  maxConcurrency: number;
  /** Strings to mask in error messages (the API key). */
  secrets?: readonly string[];
  apiKeySet?: boolean;
}

export interface Failure {
  kind: FailureKind;
  retryable: boolean;
  message: string;
  status?: number;
  retryAfterMs?: number;
  cause: unknown;
}

// ---------------------------------------------------------------------------------------------------------
// Per-call context and the fetch that honours it.

interface CallContext {
  signal: AbortSignal;
  status?: number;
  retryAfter?: string | null;
  fetchError?: unknown;
}

const callContext = new AsyncLocalStorage<CallContext>();

/** fetch for the SDK clients: joins the current call's AbortSignal and records status / Retry-After. */
export async function trackedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const ctx = callContext.getStore();
  if (!ctx) return fetch(input, init);
  const signal = init?.signal ? AbortSignal.any([init.signal, ctx.signal]) : ctx.signal;
  try {
    const res = await fetch(input, { ...init, signal });
    ctx.status = res.status;
    ctx.retryAfter = res.headers.get("retry-after");
    return res;
  } catch (err) {
    ctx.fetchError = err;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Concurrency: one small FIFO semaphore per base URL, shared by every role that talks to it.

export class Semaphore {
  private limit: number;
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  constructor(max: number) {
    this.limit = Math.max(1, max);
  }
  get inFlight(): number {
    return this.active;
  }
  get max(): number {
    return this.limit;
  }
  set max(value: number) {
    this.limit = Math.max(1, value);
    while (this.active < this.limit && this.waiters.length > 0) {
      this.active++;
      this.waiters.shift()!();
    }
  }
  /** Resolves with a release function once a slot is free; rejects if `signal` aborts while waiting. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active < this.limit) {
      this.active++;
    } else {
      // The releasing holder hands its slot straight to the first waiter (active is not decremented).
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal?.reason);
        };
        this.waiters.push(wake);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (this.active <= this.limit && this.waiters.length > 0) this.waiters.shift()!();
      else this.active--;
    };
  }
}

const limiters = new Map<string, Semaphore>();

/** The semaphore for a base URL; its limit follows the most recent configuration. */
export function endpointLimiter(baseUrl: string, max: number): Semaphore {
  let s = limiters.get(baseUrl);
  if (!s) {
    s = new Semaphore(max);
    limiters.set(baseUrl, s);
  } else {
    s.max = Math.max(1, max);
  }
  return s;
}

/** Endpoints that have answered at least once: a refused connection afterwards is transient. */
const answered = new Set<string>();

// ---------------------------------------------------------------------------------------------------------
// Backoff.

/** Full jitter: delay = U(0, min(cap, base·2^attempt)) (AWS Architecture Blog, "Exponential Backoff and Jitter"). */
export function backoffDelay(
  attempt: number,
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  rng: Rng,
): number {
  return rng.next() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
}

/** Retry-After as delay-seconds (fractions accepted) or an HTTP date (RFC 9110 §10.2.3); ms, or undefined. */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Settles with `p` unless `signal` aborts first; a late rejection of `p` is swallowed. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  p.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------------------
// Classification.

const CONNECTION_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CLOSED",
]);
const CONTEXT_RE =
  /context[ _-]?length|maximum context|context window|exceeds the available context|context_length_exceeded|too many tokens|prompt is too long/i;
const MALFORMED_RE =
  /did not receive done|empty response|truncated response|unexpected end of json|unexpected token|is not valid json|invalid json|unterminated string|bad control character|terminated|premature close/i;
const NOT_FOUND_RE = /not found|does not exist|model_not_found|no such model|try pulling/i;

function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  let e: unknown = err;
  for (let i = 0; i < 6 && e != null && !out.includes(e); i++) {
    out.push(e);
    e = typeof e === "object" ? (e as { cause?: unknown }).cause : undefined;
  }
  return out;
}

function prop(e: unknown, key: string): unknown {
  return e !== null && typeof e === "object" ? (e as Record<string, unknown>)[key] : undefined;
}

function errorStatus(err: unknown): number | undefined {
  for (const e of causes(err)) {
    for (const key of ["status", "status_code", "statusCode"]) {
      const v = prop(e, key);
      if (typeof v === "number" && v >= 400) return v;
    }
  }
  return undefined;
}

function errorRetryAfter(err: unknown): string | null | undefined {
  for (const e of causes(err)) {
    const h = prop(e, "headers");
    if (h instanceof Headers) return h.get("retry-after");
    if (h && typeof h === "object") {
      const v = (h as Record<string, unknown>)["retry-after"];
      if (typeof v === "string") return v;
    }
  }
  return undefined;
}

function messageOf(err: unknown): string {
  const parts: string[] = [];
  for (const e of causes(err)) {
    const m = e instanceof Error ? e.message : typeof e === "string" ? e : undefined;
    const code = prop(e, "code");
    if (m && !parts.includes(m)) parts.push(m);
    if (typeof code === "string" && !parts.includes(code)) parts.push(code);
  }
  return parts.join(": ") || String(err);
}

/** Sorts a failed call into a kind, decides whether to retry it, and reads Retry-After. */
export function classifyFailure(
  err: unknown,
  info: { status?: number; retryAfter?: string | null; fetchError?: unknown; everAnswered: boolean },
): Failure {
  const status = info.status !== undefined && info.status >= 400 ? info.status : errorStatus(err);
  const retryAfterMs = parseRetryAfter(info.retryAfter ?? errorRetryAfter(err));
  const message = messageOf(err);
  const base = { message, cause: err, ...(status === undefined ? {} : { status }) };
  if (prop(err, "name") === "ContextOverflowError" || CONTEXT_RE.test(message)) {
    return { ...base, kind: "context_overflow", retryable: false };
  }
  if (status !== undefined) {
    if (status === 429)
      return {
        ...base,
        kind: "rate_limit",
        retryable: true,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    if (status === 401 || status === 403) return { ...base, kind: "auth", retryable: false };
    if (status === 404 || (status === 400 && NOT_FOUND_RE.test(message) && /model/i.test(message))) {
      return { ...base, kind: "model_not_found", retryable: false };
    }
    if (status === 408 || status >= 500) {
      return {
        ...base,
        kind: "server",
        retryable: true,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    }
    return { ...base, kind: "client", retryable: false };
  }
  const codes = causes(info.fetchError ?? err)
    .concat(causes(err))
    .map((e) => prop(e, "code"))
    .filter((c): c is string => typeof c === "string");
  if (codes.includes("ECONNREFUSED") || codes.includes("ENOTFOUND") || codes.includes("EAI_AGAIN")) {
    // Refused before the endpoint ever answered means nothing is listening: fail fast with the hint.
    return { ...base, kind: info.everAnswered ? "connection" : "unreachable", retryable: info.everAnswered };
  }
  if (
    codes.some((c) => CONNECTION_CODES.has(c)) ||
    /socket hang up|other side closed|fetch failed|connection error|network/i.test(message)
  ) {
    return { ...base, kind: "connection", retryable: true };
  }
  if (causes(err).some((e) => e instanceof SyntaxError) || MALFORMED_RE.test(message)) {
    return { ...base, kind: "malformed", retryable: true };
  }
  return { ...base, kind: "unknown", retryable: false };
}

/** Turns a final failure into the actionable error the user sees. */
export function toModelError(f: Failure, ep: EndpointInfo, attempts: number): ModelError {
  const msg = redact(f.message, ep.secrets);
  switch (f.kind) {
    case "unreachable":
      return new ModelUnreachableError(ep.provider, ep.baseUrl, { attempts });
    case "model_not_found":
      return new ModelNotFoundError(ep.provider, ep.model, ep.baseUrl);
    case "auth":
      return new ModelAuthError(f.status ?? 401, ep.baseUrl, ep.apiKeySet ?? false);
    case "context_overflow":
      return new ModelContextOverflowError(msg, f.status === undefined ? {} : { status: f.status });
    case "rate_limit":
      return new ModelError(
        "rate_limit",
        `rate limited by ${ep.baseUrl} after ${attempts} attempt(s): ${msg}`,
        {
          status: 429,
          attempts,
          hint: "lower maxConcurrency for this endpoint, wait for the quota to reset, or use a local model (--model ollama:llama3.1:8b)",
        },
      );
    case "connection":
      return new ModelError(
        "connection",
        `lost the connection to ${ep.baseUrl} after ${attempts} attempt(s): ${msg}`,
        {
          attempts,
          hint: `check that the ${ep.provider === "ollama" ? "Ollama server (`ollama serve`)" : "server"} at ${ep.baseUrl} is still running and not restarting`,
        },
      );
    case "server":
      return new ModelError(
        "server",
        `the server at ${ep.baseUrl} failed (HTTP ${f.status}) after ${attempts} attempt(s): ${msg}`,
        {
          ...(f.status === undefined ? {} : { status: f.status }),
          attempts,
          hint: "the server is failing repeatedly: check its logs (out of memory is common for large models), or retry later",
        },
      );
    case "malformed":
      return new ModelError(
        "malformed",
        `the server at ${ep.baseUrl} sent a malformed or truncated response after ${attempts} attempt(s): ${msg}`,
        {
          attempts,
          hint: "check that the base URL points at a real Ollama / OpenAI-compatible API and that no proxy cuts responses",
        },
      );
    case "client":
      return new ModelError(
        "client",
        `the server at ${ep.baseUrl} rejected the request (HTTP ${f.status}): ${msg}`,
        {
          ...(f.status === undefined ? {} : { status: f.status }),
          hint: "the server may not support a requested option (structured output, temperature); try another model or server version",
        },
      );
    default:
      return new ModelError(f.kind, `model call to ${ep.baseUrl} failed: ${msg}`, {
        attempts,
        cause: f.cause,
      });
  }
}

// ---------------------------------------------------------------------------------------------------------
// The retry loop.

export interface ResilienceOptions {
  endpoint: EndpointInfo;
  policy?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  /** Jitter source; default createRng(seed ?? 0). */
  rng?: Rng;
  seed?: number;
  /** Called before each wait, e.g. for logging. */
  onRetry?: (event: { attempt: number; delayMs: number; failure: Failure }) => void;
}

export interface ResilientResult<T> {
  value: T;
  attempts: number;
  failures: Failure[];
}

/**
 * Runs `fn` (one model request) under the endpoint's concurrency limit with a timeout, retrying transient
 * failures. `fn` receives the per-attempt signal and must pass it to the client.
 */
export async function withResilience<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  opts: ResilienceOptions,
): Promise<ResilientResult<T>> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...opts.policy };
  const ep = opts.endpoint;
  const rng = opts.rng ?? createRng(opts.seed ?? 0);
  const limiter = endpointLimiter(ep.baseUrl, ep.maxConcurrency);
  const outer = opts.signal;
  const failures: Failure[] = [];
  for (let attempt = 0; ; attempt++) {
    if (outer?.aborted) throw new ModelAbortedError(outer.reason);
    let release: () => void;
    try {
      release = await limiter.acquire(outer);
    } catch (err) {
      throw new ModelAbortedError(err);
    }
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort(new DOMException(`timed out after ${policy.timeoutMs} ms`, "TimeoutError"));
    }, policy.timeoutMs);
    const onOuterAbort = (): void => ac.abort(outer?.reason);
    outer?.addEventListener("abort", onOuterAbort, { once: true });
    const ctx: CallContext = { signal: ac.signal };
    let failure: Failure;
    try {
      const value = await callContext.run(ctx, () => raceAbort(fn(ac.signal), ac.signal));
      answered.add(ep.baseUrl);
      return { value, attempts: attempt + 1, failures };
    } catch (err) {
      if (outer?.aborted) throw new ModelAbortedError(outer.reason);
      failure = timedOut
        ? { kind: "timeout", retryable: true, message: `timed out after ${policy.timeoutMs} ms`, cause: err }
        : classifyFailure(err, {
            ...(ctx.status === undefined ? {} : { status: ctx.status }),
            retryAfter: ctx.retryAfter ?? null,
            fetchError: ctx.fetchError,
            everAnswered: answered.has(ep.baseUrl),
          });
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuterAbort);
      release();
    }
    failures.push(failure);
    if (!failure.retryable || attempt >= policy.maxRetries) {
      if (failure.kind === "timeout") throw new ModelTimeoutError(policy.timeoutMs, ep.baseUrl, attempt + 1);
      throw toModelError(failure, ep, attempt + 1);
    }
    if (failure.retryAfterMs !== undefined && failure.retryAfterMs > policy.maxRetryAfterMs) {
      throw toModelError(failure, ep, attempt + 1);
    }
    const delayMs = failure.retryAfterMs ?? backoffDelay(attempt, policy, rng);
    opts.onRetry?.({ attempt: attempt + 1, delayMs, failure });
    try {
      await sleep(delayMs, outer);
    } catch (err) {
      throw new ModelAbortedError(err);
    }
  }
}
