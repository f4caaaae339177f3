/**
 * The one structured-output path every agent uses.
 *
 * 1. Ask the provider for JSON matching the schema (Ollama `format` = JSON Schema; OpenAI `response_format`
 *    json_schema, strict when the schema allows it). We request plain text and parse it ourselves rather than
 *    use `withStructuredOutput`, which throws inside the SDK on a mismatch.
 * 2. If the model ignored the format: tolerant extraction (`extractJson`: fences, python dicts, trailing text,
 *    truncated arrays).
 * 3. zod validation; arrays of items are validated item by item, keeping the good ones. When the schema holds
 *    an item array, a reply that holds it in another shape (a bare array, JSON Lines, one wrapper too many)
 *    is first reshaped to the schema's (`normaliseItems`), reported as a text repair.
 * 4. A bounded re-ask that quotes the validation errors back to the model: the first prompt plus a capped quote
 *    of the previous reply and its errors, never a growing transcript (reaskConversation).
 * Transport faults (429, 5xx, timeouts, dropped connections) are retried below this, in resilience.ts.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import {
  AIMessage,
  type AIMessageChunk,
  type BaseMessage,
  HumanMessage,
  SystemMessage,
} from "@langchain/core/messages";
import { ChatOllama } from "@langchain/ollama";
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { createRng } from "../stats/primitives/rng.ts";
import { type Accounting, type CallUsage, usageFrom } from "./accounting.ts";
import { ModelContextOverflowError } from "./errors.ts";
import { extractJson } from "./extract.ts";
import type { Endpoint } from "./factory.ts";
import { ChatLlamaCpp } from "./llamacpp.ts";
import { withFailover } from "./pool.ts";
import { type EndpointInfo, type RetryPolicy, withResilience } from "./resilience.ts";
import { DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS } from "./spec.ts";
import type { UnusableReplyBudget } from "./unusable-budget.ts";

export type ChatInput = BaseMessage | { role: "system" | "user" | "assistant"; content: string };

/** Verdict of a caller's per-item check (e.g. a row against metadata); `value` replaces the item when given. */
export interface ItemVerdict {
  ok: boolean;
  value?: unknown;
  reason?: string;
  /** The check changed the item (implied by non-empty `repairs`). */
  repaired?: boolean;
  /** What the check changed, in words (e.g. `dropped unknown column "name"`). */
  repairs?: string[];
}

export interface StructuredReport {
  /** Items kept (1 for a non-array value). */
  accepted: number;
  /** Items the item validator changed. */
  repaired: number;
  /** Items dropped from the returned value. */
  dropped: number;
  /** Why items were dropped or attempts rejected, prefixed with the attempt number. */
  reasons: string[];
  /** Textual repairs made to the accepted reply: the extractor's (e.g. "removed code fence"), then reshaping. */
  repairs: string[];
  /** What the item validator changed in kept items, "item N: ..." (callStructured always sets it). */
  itemRepairs?: string[];
}

export interface CallCommon {
  role: string;
  /** An endpoint from the factory, or a bare LangChain chat model. */
  endpoint: Endpoint | BaseChatModel;
  messages: readonly ChatInput[];
  signal?: AbortSignal;
  accounting?: Accounting;
  retry?: Partial<RetryPolicy>;
  /**
   * The call's seed: retry jitter, and the llamacpp provider's sampling seed (callStructured gives each re-ask
   * its own, attemptSeed). Ollama and OpenAI sample with the seed of their role config.
   */
  seed?: number;
}

export interface StructuredOptions<T> extends CallCommon {
  schema: z.ZodType<T>;
  /** Provider-side schema; default z.toJSONSchema(schema). `false` sends no provider format. */
  jsonSchema?: Record<string, unknown> | false;
  /** json_schema name for OpenAI (letters, digits, _ and -). */
  schemaName?: string;
  /** When the schema is an object holding the item array, its key (default: its only array property). */
  itemsKey?: string;
  itemValidator?: (item: unknown, index: number) => ItemVerdict;
  /** Follow-up requests after an unusable reply (default 2). */
  maxReasks?: number;
}

export interface StructuredResult<T> {
  value: T;
  report: StructuredReport;
  /** Summed over every answered request of this call. */
  usage: CallUsage;
  /** Model replies requested (1 + re-asks used). */
  attempts: number;
  /** HTTP attempts including transport retries. */
  requests: number;
}

export class StructuredOutputError extends SynthgraphError {
  readonly reasons: string[];
  readonly lastReply: string;
  readonly attempts: number;
  constructor(role: string, attempts: number, reasons: string[], lastReply: string) {
    super(
      `the ${role} model gave no usable JSON after ${attempts} attempt(s): ${reasons.slice(-3).join("; ")}`,
      {
        hint: "the model answered, but not in a usable form: try a stronger model, a lower temperature for this role, or fewer rows per batch",
        exitCode: 4,
      },
    );
    this.name = "StructuredOutputError";
    this.reasons = reasons;
    this.lastReply = lastReply;
    this.attempts = attempts;
  }
}

// ---------------------------------------------------------------------------------------------------------

function toMessage(m: ChatInput): BaseMessage {
  if (!("role" in m) || typeof m.role !== "string") return m as BaseMessage;
  const plain = m as { role: string; content: string };
  if (plain.role === "system") return new SystemMessage(plain.content);
  if (plain.role === "assistant") return new AIMessage(plain.content);
  return new HumanMessage(plain.content);
}

function messageText(m: BaseMessage): string {
  if (typeof m.content === "string") return m.content;
  return m.content.map((p) => (typeof p === "string" ? p : p.type === "text" ? String(p.text) : "")).join("");
}

/** Resolves what the retry layer needs from a factory endpoint or a bare chat model. */
function endpointInfoOf(
  ep: Endpoint | BaseChatModel,
): EndpointInfo & { chat: BaseChatModel; timeoutMs: number; numCtx?: number } {
  if ("chat" in ep && "baseUrl" in ep) return ep as Endpoint;
  const chat = ep as BaseChatModel;
  if (chat instanceof ChatLlamaCpp) {
    return {
      provider: "llamacpp",
      model: chat.modelPath,
      baseUrl: `llamacpp:${chat.modelPath}`,
      maxConcurrency: chat.sequences,
      chat,
      timeoutMs: DEFAULT_TIMEOUT_MS,
    };
  }
  if (chat instanceof ChatOllama) {
    return {
      provider: "ollama",
      model: chat.model,
      baseUrl: chat.baseUrl,
      maxConcurrency: DEFAULT_CONCURRENCY.ollama,
      chat,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      ...(chat.numCtx === undefined ? {} : { numCtx: chat.numCtx }),
    };
  }
  const openai = chat instanceof ChatOpenAI;
  const baseUrl = openai
    ? (chat.clientConfig?.baseURL ?? "https://api.openai.com/v1")
    : `local:${chat.getName()}`;
  return {
    provider: "openai",
    model: openai ? chat.model : chat.getName(),
    baseUrl,
    maxConcurrency: DEFAULT_CONCURRENCY.openai,
    chat,
    timeoutMs: DEFAULT_TIMEOUT_MS,
  };
}

const OPENAI_UNSUPPORTED = new Set([
  "$schema",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "default",
]);

function stripKeywords(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripKeywords);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (OPENAI_UNSUPPORTED.has(k)) continue;
    // "properties" maps names to schemas: a field may legitimately be called "minimum".
    out[k] =
      k === "properties" && v && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, stripKeywords(pv)]))
        : stripKeywords(v);
  }
  return out;
}

/**
 * zod strips unknown keys, so a model adding keys is harmless to us, but zod's input-side JSON Schema leaves
 * objects open; strict mode needs them closed (additionalProperties: false), so open-by-default objects are closed.
 */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] =
      k === "properties" && v && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, closeObjects(pv)]))
        : closeObjects(v);
  }
  if ((out.type === "object" || out.properties !== undefined) && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** OpenAI strict mode needs every object closed (additionalProperties: false) with every property required. */
function isStrictCompatible(node: unknown): boolean {
  if (Array.isArray(node)) return node.every(isStrictCompatible);
  if (node === null || typeof node !== "object") return true;
  const o = node as Record<string, unknown>;
  if (o.type === "object" || o.properties !== undefined) {
    const props = Object.keys((o.properties as Record<string, unknown> | undefined) ?? {});
    const req = Array.isArray(o.required) ? (o.required as string[]) : [];
    if (o.additionalProperties !== false || props.some((p) => !req.includes(p))) return false;
  }
  return Object.entries(o).every(([k, v]) =>
    k === "properties" && v && typeof v === "object"
      ? Object.values(v).every(isStrictCompatible)
      : isStrictCompatible(v),
  );
}

/** The JSON Schema the model should fill: the schema's input side (what the model writes). */
export function schemaToJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}

/**
 * OpenAI `response_format` for a JSON Schema: json_schema with strict only when the schema is strict-compatible
 * (after dropping numeric/length keywords strict mode rejects); undefined when the root is not an object
 * (json_schema requires an object root; the prompt and the tolerant parser carry the format instead).
 */
export function openAiResponseFormat(
  jsonSchema: Record<string, unknown>,
  name: string,
):
  | { type: "json_schema"; json_schema: { name: string; strict: boolean; schema: Record<string, unknown> } }
  | undefined {
  if (jsonSchema.type !== "object") return undefined;
  const schema = closeObjects(stripKeywords(jsonSchema)) as Record<string, unknown>;
  return { type: "json_schema", json_schema: { name, strict: isStrictCompatible(schema), schema } };
}

// ---------------------------------------------------------------------------------------------------------

export interface TextResult {
  text: string;
  message: AIMessageChunk;
  usage: CallUsage;
  requests: number;
}

interface InvokeOptions {
  format?: Record<string, unknown>;
  schemaName?: string;
}

/**
 * Prompt text here (instructions, metadata, CSV rows, JSON; long cells are cut, data/compact.ts) averages 2–4
 * characters per token with the usual BPE vocabularies (bench/tokens.bench.ts counts rows with o200k_base), so
 * characters / 8 is a safe lower bound of a prompt's tokens: a prompt over the context by that bound does not
 * fit, and a prompt that fits is never refused.
 */
export const MAX_CHARS_PER_TOKEN = 8;

/**
 * Before sending: a prompt that cannot fit the model's context window (num_ctx, known for Ollama) is a
 * ModelContextOverflowError naming --num-ctx, not a request of megabytes that the server cuts or rejects.
 * Nothing is checked when the context is unknown (OpenAI-compatible servers report overflows themselves).
 */
export function checkPromptBudget(messages: readonly BaseMessage[], numCtx: number | undefined): void {
  if (numCtx === undefined) return;
  let chars = 0;
  for (const m of messages) chars += messageText(m).length;
  const atLeast = Math.ceil(chars / MAX_CHARS_PER_TOKEN);
  if (atLeast > numCtx) {
    throw new ModelContextOverflowError(
      `the prompt has ${chars.toLocaleString("en-US")} characters, so at least ${atLeast.toLocaleString("en-US")} tokens, and num_ctx is ${numCtx.toLocaleString("en-US")} tokens; it was not sent`,
    );
  }
}

/** One model reply through the resilience layer, with accounting. Exported for free-text roles. */
export async function callText(opts: CallCommon & InvokeOptions): Promise<TextResult> {
  // A pool of servers for the role (models/pool.ts): the call fails over between its members.
  const pool = "pool" in opts.endpoint ? opts.endpoint.pool : undefined;
  if (pool && pool.length > 1)
    return withFailover(pool, (member) => callTextOn({ ...opts, endpoint: member }));
  return callTextOn(opts);
}

async function callTextOn(opts: CallCommon & InvokeOptions): Promise<TextResult> {
  const ep = endpointInfoOf(opts.endpoint);
  const messages = opts.messages.map(toMessage);
  checkPromptBudget(messages, ep.numCtx);
  const chat = ep.chat;
  const format = opts.format;
  const responseFormat =
    format && chat instanceof ChatOpenAI
      ? openAiResponseFormat(format, opts.schemaName ?? "response")
      : undefined;
  // Streamed for both providers: ChatOpenAI.invoke with a json_schema response_format goes through the SDK's
  // chat.completions.parse(), which JSON.parses the reply and throws on anything else, losing the text the
  // tolerant extractor needs; the streamed path uses create() and still reports usage (include_usage).
  // ChatOllama streams internally either way. ChatLlamaCpp takes the schema as `format` too (as a grammar).
  const invoke = async (signal: AbortSignal): Promise<AIMessageChunk> => {
    const stream =
      chat instanceof ChatOllama || chat instanceof ChatLlamaCpp
        ? await chat.stream(messages, {
            signal,
            ...(format ? { format } : {}),
            ...(chat instanceof ChatLlamaCpp && opts.seed !== undefined ? { seed: opts.seed } : {}),
          })
        : chat instanceof ChatOpenAI
          ? await chat.stream(messages, {
              signal,
              ...(responseFormat ? { response_format: responseFormat } : {}),
            })
          : await chat.stream(messages, { signal });
    let agg: AIMessageChunk | undefined;
    for await (const chunk of stream) agg = agg === undefined ? chunk : agg.concat(chunk);
    if (agg === undefined) throw new Error("Received empty response from chat model call.");
    // The OpenAI SDK accepts a stream that just stops; only the final chunk carries finish_reason.
    if (chat instanceof ChatOpenAI && agg.response_metadata?.finish_reason === undefined) {
      throw new Error("truncated response: the stream ended without a finish_reason");
    }
    return agg;
  };
  const started = performance.now();
  let result: Awaited<ReturnType<typeof withResilience<AIMessageChunk>>>;
  try {
    result = await withResilience(invoke, {
      endpoint: ep,
      policy: { timeoutMs: ep.timeoutMs, ...opts.retry },
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.seed === undefined ? {} : { seed: opts.seed }),
      onRetry: () => opts.accounting?.recordFailures(opts.role, 1),
    });
  } catch (err) {
    // The last failed attempt (the retried ones were counted in onRetry).
    opts.accounting?.recordFailures(opts.role, 1, performance.now() - started);
    throw err;
  }
  const latency = performance.now() - started;
  const message = result.value;
  let text = messageText(message);
  if (text.trim() === "" && message.tool_calls?.length) text = JSON.stringify(message.tool_calls[0].args);
  const usage = usageFrom(message.usage_metadata, messages.map(messageText).join("\n"), text);
  opts.accounting?.record(opts.role, usage, latency);
  if (ep.numCtx !== undefined && !usage.estimated && usage.prompt_tokens >= ep.numCtx) {
    // Ollama keeps only the last num_ctx tokens of an over-long prompt and says nothing.
    throw new ModelContextOverflowError(
      `the prompt filled all ${ep.numCtx} tokens of num_ctx (${usage.prompt_tokens} evaluated), so Ollama cut its start`,
    );
  }
  return { text, message, usage, requests: result.attempts };
}

function issuesText(error: z.ZodError, prefix = ""): string[] {
  return error.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter((s) => s !== "").join(".");
    return `${path || "(root)"}: ${i.message}`;
  });
}

function itemsLocation(
  schema: z.ZodType,
  itemsKey: string | undefined,
): { elem: z.ZodType; key: string | null } | undefined {
  if (schema instanceof z.ZodArray) return { elem: schema.element as z.ZodType, key: null };
  if (schema instanceof z.ZodObject) {
    const shape = schema.shape as Record<string, z.ZodType>;
    const keys =
      itemsKey !== undefined ? [itemsKey] : Object.keys(shape).filter((k) => shape[k] instanceof z.ZodArray);
    if (keys.length === 1 && shape[keys[0]] instanceof z.ZodArray) {
      return { elem: (shape[keys[0]] as z.ZodArray).element as z.ZodType, key: keys[0] };
    }
  }
  return undefined;
}

interface Verdict<T> {
  ok: boolean;
  value?: T;
  accepted: number;
  repaired: number;
  dropped: number;
  /** Why the reply (or items of it) could not be used. */
  errors: string[];
  /** How the reply was reshaped before item validation. */
  repairs: string[];
  /** What the item validator changed, "item N: ...". */
  itemRepairs: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The one array-valued property of `obj`, if it has exactly one. */
function soleArray(obj: Record<string, unknown>): [string, unknown[]] | undefined {
  let found: [string, unknown[]] | undefined;
  for (const [k, v] of Object.entries(obj)) {
    if (!Array.isArray(v)) continue;
    if (found) return undefined;
    found = [k, v];
  }
  return found;
}

/**
 * The reply with its item array where the schema expects it (under `key`, or as the root when `key` is null),
 * from the shapes models use instead: a bare array (JSON Lines arrive as one from the extractor), the array
 * under another key (`{"result": [...]}`), or one wrapper deeper (`{"data": {"rows": [...]}}`,
 * `{"rows": {"rows": [...]}}`). Only when the expected place holds no array and the array is unambiguous
 * (at `key`, else the sole array-valued property); otherwise the reply is returned unchanged for validation
 * to report. Sibling fields are kept.
 */
export function normaliseItems(parsed: unknown, key: string | null): { value: unknown; repair?: string } {
  const where = key === null ? "the reply" : `"${key}"`;
  const expected = key === null ? Array.isArray(parsed) : isRecord(parsed) && Array.isArray(parsed[key]);
  if (expected) return { value: parsed };
  if (Array.isArray(parsed)) {
    return { value: key === null ? parsed : { [key]: parsed }, repair: `read a bare array as ${where}` };
  }
  if (!isRecord(parsed)) return { value: parsed };
  // A scalar at the expected key means something else: leave the reply to validation.
  if (key !== null && key in parsed && !isRecord(parsed[key])) return { value: parsed };
  // The array in `obj`: at `key`, else its sole array-valued property.
  const arrayIn = (obj: Record<string, unknown>): string | undefined =>
    key !== null && Array.isArray(obj[key]) ? key : soleArray(obj)?.[0];
  const without = (obj: Record<string, unknown>, k: string): Record<string, unknown> =>
    Object.fromEntries(Object.entries(obj).filter(([x]) => x !== k));
  const place = (arr: unknown[], siblings: Record<string, unknown>): unknown =>
    key === null ? arr : { ...siblings, [key]: arr };
  const keys = Object.keys(parsed);
  const wrapper =
    key !== null && isRecord(parsed[key])
      ? key
      : keys.length === 1 && isRecord(parsed[keys[0]])
        ? keys[0]
        : undefined;
  if (wrapper !== undefined) {
    const inner = parsed[wrapper] as Record<string, unknown>;
    const k = arrayIn(inner);
    if (k === undefined) return { value: parsed };
    return {
      value: place(inner[k] as unknown[], { ...without(parsed, wrapper), ...without(inner, k) }),
      repair: `read the array at "${wrapper}"."${k}" as ${where}`,
    };
  }
  const k = arrayIn(parsed);
  if (k === undefined) return { value: parsed };
  return {
    value: place(parsed[k] as unknown[], without(parsed, k)),
    repair: `read the array at "${k}" as ${where}`,
  };
}

/** Validates a parsed reply: item by item when the schema holds an array, then as a whole. */
function validate<T>(parsed: unknown, opts: StructuredOptions<T>): Verdict<T> {
  // Item by item for a top-level array, or for an object's array when the caller asks (itemsKey/itemValidator).
  const loc =
    opts.schema instanceof z.ZodArray || opts.itemsKey !== undefined || opts.itemValidator
      ? itemsLocation(opts.schema, opts.itemsKey)
      : undefined;
  if (loc) {
    const errors: string[] = [];
    const itemRepairs: string[] = [];
    let repaired = 0;
    const shaped = normaliseItems(parsed, loc.key);
    const repairs = shaped.repair === undefined ? [] : [shaped.repair];
    const reply = shaped.value;
    const arr = loc.key === null ? reply : isRecord(reply) ? reply[loc.key] : undefined;
    if (!Array.isArray(arr)) {
      return {
        ok: false,
        accepted: 0,
        repaired: 0,
        dropped: 0,
        errors: [`${loc.key ?? "(root)"}: expected an array`],
        repairs,
        itemRepairs,
      };
    }
    const kept: unknown[] = [];
    const keptRaw: unknown[] = [];
    arr.forEach((item, i) => {
      const r = loc.elem.safeParse(item);
      if (!r.success) {
        errors.push(...issuesText(r.error, `item ${i}`));
        return;
      }
      const v: ItemVerdict = opts.itemValidator ? opts.itemValidator(r.data, i) : { ok: true };
      if (!v.ok) {
        errors.push(`item ${i}: ${v.reason ?? "rejected"}`);
        return;
      }
      const notes = v.repairs ?? [];
      if (v.repaired || notes.length > 0) repaired++;
      for (const n of notes) itemRepairs.push(`item ${i}: ${n}`);
      kept.push(v.value === undefined ? r.data : v.value);
      keptRaw.push(item);
    });
    const accepted = kept.length;
    const dropped = arr.length - kept.length;
    if (arr.length > 0 && kept.length === 0)
      return { ok: false, accepted: 0, repaired: 0, dropped, errors, repairs, itemRepairs: [] };
    // The whole value is checked with the surviving raw items (so transforms run once), then the validated
    // (and possibly repaired) items replace them.
    const candidate =
      loc.key === null ? keptRaw : { ...(reply as Record<string, unknown>), [loc.key]: keptRaw };
    const whole = opts.schema.safeParse(candidate);
    if (!whole.success) {
      return {
        ok: false,
        accepted: 0,
        repaired: 0,
        dropped,
        errors: [...errors, ...issuesText(whole.error)],
        repairs,
        itemRepairs: [],
      };
    }
    const value = (
      loc.key === null ? kept : { ...(whole.data as Record<string, unknown>), [loc.key]: kept }
    ) as T;
    return { ok: true, value, accepted, repaired, dropped, errors, repairs, itemRepairs };
  }
  const whole = opts.schema.safeParse(parsed);
  const none = { repairs: [], itemRepairs: [] };
  if (!whole.success)
    return { ok: false, accepted: 0, repaired: 0, dropped: 0, errors: issuesText(whole.error), ...none };
  return { ok: true, value: whole.data, accepted: 1, repaired: 0, dropped: 0, errors: [], ...none };
}

const MAX_QUOTED = 12;
/** Characters of one quoted validation error. */
const MAX_ERROR_CHARS = 240;
/** Characters of the previous reply quoted in a re-ask: its head and its tail, the middle cut. */
export const REASK_QUOTE_HEAD = 1200;
export const REASK_QUOTE_TAIL = 400;

function reaskMessage(errors: readonly string[]): string {
  const cap = (e: string): string => (e.length > MAX_ERROR_CHARS ? `${e.slice(0, MAX_ERROR_CHARS)}…` : e);
  const shown = errors.slice(0, MAX_QUOTED).map((e) => `- ${cap(e)}`);
  if (errors.length > MAX_QUOTED) shown.push(`- ... and ${errors.length - MAX_QUOTED} more`);
  return [
    "Your previous reply could not be used. Validation errors:",
    ...shown,
    "Reply again with only the corrected JSON value (no prose, no code fences), matching the required schema exactly.",
  ].join("\n");
}

/** The previous reply as quoted in a re-ask: whole when short, else its head and tail around a marked cut. */
export function quoteReply(text: string): string {
  if (text.length <= REASK_QUOTE_HEAD + REASK_QUOTE_TAIL) return text;
  const cut = text.length - REASK_QUOTE_HEAD - REASK_QUOTE_TAIL;
  return `${text.slice(0, REASK_QUOTE_HEAD)}\n[... ${cut} characters of this reply not shown ...]\n${text.slice(-REASK_QUOTE_TAIL)}`;
}

/** Conservative token estimate of a conversation (3 characters per token: JSON-heavy text tokenises densely). */
function estimatedTokens(messages: readonly ChatInput[]): number {
  let chars = 0;
  for (const m of messages) chars += messageText(toMessage(m)).length;
  return Math.ceil(chars / 3);
}

/**
 * The conversation of the next attempt: the first prompt, then a capped quote of the previous reply and its
 * errors. It never grows with the number of attempts or the length of a bad reply. When even that would not
 * fit the model's context, the next attempt is a fresh call of the first prompt (a new sample at the same
 * settings) instead.
 */
export function reaskConversation(
  first: readonly ChatInput[],
  previousReply: string,
  errors: readonly string[],
  numCtx: number | undefined,
): ChatInput[] {
  const reask: ChatInput[] = [
    ...first,
    new AIMessage(quoteReply(previousReply)),
    new HumanMessage(reaskMessage(errors)),
  ];
  if (numCtx !== undefined && estimatedTokens(reask) > numCtx) return [...first];
  return reask;
}

/** A JSON Schema without its `x-` extension keywords (at any depth; property names are kept). */
export function withoutExtensions(node: unknown, inProperties = false): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutExtensions(n));
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (!inProperties && k.startsWith("x-")) continue;
    out[k] = withoutExtensions(v, !inProperties && (k === "properties" || k === "$defs"));
  }
  return out;
}

/**
 * The seed of attempt `attempt` (1-based) of a call seeded `seed`: the seed itself first, then one derived per
 * re-ask. A re-ask that falls back to the first prompt (reaskConversation) with the first attempt's seed would
 * get the same reply from a seeded sampler (llama.cpp is deterministic for a given prompt and seed).
 */
export function attemptSeed(seed: number, attempt: number): number {
  return attempt <= 1 ? seed : createRng(seed).fork(attempt).int(0x7fffffff);
}

/** Calls the model and returns a value that satisfies `schema` (see the module comment for the steps). */
export async function callStructured<T>(opts: StructuredOptions<T>): Promise<StructuredResult<T>> {
  const maxReasks = opts.maxReasks ?? 2;
  const schema = opts.jsonSchema === false ? undefined : (opts.jsonSchema ?? schemaToJsonSchema(opts.schema));
  // `x-` keywords (numeric bounds) are read only by the llamacpp grammar; OpenAI's strict mode rejects them.
  const format =
    schema && endpointInfoOf(opts.endpoint).provider !== "llamacpp"
      ? (withoutExtensions(schema) as typeof schema)
      : schema;
  const numCtx = endpointInfoOf(opts.endpoint).numCtx;
  let conversation: ChatInput[] = [...opts.messages];
  const reasons: string[] = [];
  const usage: CallUsage = { prompt_tokens: 0, completion_tokens: 0, estimated: false };
  let requests = 0;
  let lastReply = "";
  for (let attempt = 1; attempt <= maxReasks + 1; attempt++) {
    const reply = await callText({
      ...opts,
      ...(opts.seed === undefined ? {} : { seed: attemptSeed(opts.seed, attempt) }),
      messages: conversation,
      ...(format ? { format } : {}),
      schemaName: opts.schemaName ?? "response",
    });
    requests += reply.requests;
    usage.prompt_tokens += reply.usage.prompt_tokens;
    usage.completion_tokens += reply.usage.completion_tokens;
    usage.estimated ||= reply.usage.estimated;
    lastReply = reply.text;
    const parsed = extractJson(reply.text);
    let errors: string[];
    if (parsed.ok) {
      const v = validate(parsed.value, opts);
      for (const e of v.errors) reasons.push(`attempt ${attempt}: ${e}`);
      if (v.ok) {
        unusableBudgetOf(opts.endpoint)?.usable();
        return {
          value: v.value as T,
          report: {
            accepted: v.accepted,
            repaired: v.repaired,
            dropped: v.dropped,
            reasons,
            repairs: [...parsed.repairs, ...v.repairs],
            itemRepairs: v.itemRepairs,
          },
          usage,
          attempts: attempt,
          requests,
        };
      }
      errors = v.errors;
    } else {
      errors = [`the reply is not valid JSON: ${parsed.error}`];
      reasons.push(`attempt ${attempt}: ${errors[0]}`);
    }
    conversation = reaskConversation(opts.messages, reply.text, errors, numCtx);
  }
  const budget = unusableBudgetOf(opts.endpoint);
  // Throws UnusableRepliesError (exit 4) when this was one unusable call too many in a row.
  budget?.unusable(opts.role, reasons);
  throw new StructuredOutputError(opts.role, maxReasks + 1, reasons, lastReply);
}

function unusableBudgetOf(ep: Endpoint | BaseChatModel): UnusableReplyBudget | undefined {
  return "unusableBudget" in ep ? ep.unusableBudget : undefined;
}
