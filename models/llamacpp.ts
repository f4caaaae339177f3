/**
 * `llamacpp:PATH.gguf`: a GGUF model run inside this process through node-llama-cpp (llama.cpp bindings),
 * as a LangChain chat model.
 *
 * - Chat template: the GGUF's own (node-llama-cpp resolves a chat wrapper from the file's metadata).
 * - Structured output: the `format` call option (a JSON Schema, as Ollama takes it) becomes a llama.cpp
 *   grammar (models/llamacpp-grammar.ts: structure, enums and numeric bounds — `minimum`/`maximum` or the
 *   `x-minimum`/`x-maximum`/`x-decimals` keywords data/compact.ts adds for this provider), so sampling can
 *   only produce JSON of that shape with numbers in range; a schema that module cannot express goes through
 *   node-llama-cpp's `createGrammarForJsonSchema` (structure and enums only). Callers still validate every
 *   value. A schema neither builder takes is sent without a grammar (the tolerant parser and re-ask remain).
 * - Sampling: temperature, top-p, top-k, repetition penalty, max new tokens, seed.
 * - Usage: prompt tokens = the rendered chat template tokenised by the model's own tokenizer; completion
 *   tokens = tokens sampled. Reported as `usage_metadata` like the HTTP providers; `response_metadata`
 *   adds `kv_reused_tokens` (prompt tokens already in the sequence's KV cache, not evaluated again).
 * - Context size: the model's training context, capped at `numCtx`; a prompt that does not leave room for
 *   an answer fails as a context overflow instead of being silently shifted out.
 * - Sharing: one loaded model and one context per (file, sequences, context size) in a process, cached by
 *   path; every concurrent call takes its own context sequence from a pool (waiting when all are busy).
 *   A freed sequence keeps its tokens, and a call takes the free sequence whose tokens share the longest
 *   prefix with its prompt (models/llamacpp-pool.ts), so llama.cpp skips re-reading that prefix.
 * - Seeds: a call's `seed` option (callText sends one per call and attempt) is mixed with the configured
 *   seed; with neither, each call draws a fresh one (node-llama-cpp's default, the time in whole seconds,
 *   gave two calls of one prompt in the same second the same reply).
 * - Cancellation: the call's AbortSignal stops generation (and a wait for a free sequence).
 *
 * node-llama-cpp is an optional dependency: it is imported on first use, and a missing package is a clear
 * error rather than a crash at startup.
 */
import { randomInt } from "node:crypto";
import { availableParallelism, homedir } from "node:os";
import { resolve } from "node:path";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BaseChatModelParams,
} from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import type {
  ChatHistoryItem,
  ChatWrapper,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
} from "node-llama-cpp";
import { SynthgraphError } from "../data/errors.ts";
import { createRng } from "../stats/primitives/rng.ts";
import { jsonSchemaToGbnf, UnsupportedSchemaError } from "./llamacpp-grammar.ts";
import { type Acquired, SequencePool } from "./llamacpp-pool.ts";

/** SYNTHIA's generator settings (top-p 0.9, top-k 50, repetition penalty 1.1, 2,048 new tokens). */
export const LLAMACPP_DEFAULTS = {
  topP: 0.9,
  topK: 50,
  repeatPenalty: 1.1,
  maxTokens: 2048,
  /** Cap of free-text replies when no maxTokens is configured (freeTextCap). */
  freeTextMaxTokens: 768,
  sequences: 2,
} as const;

export interface LlamaSampling {
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Multiplicative penalty on recently seen tokens; 1 disables it. */
  repeatPenalty?: number;
  maxTokens?: number;
  seed?: number;
}

export interface ChatLlamaCppFields extends BaseChatModelParams, LlamaSampling {
  /** Path of the .gguf file (`~` is expanded). */
  modelPath: string;
  /** Upper bound for the context of each sequence (default 8192); the model's training context caps it. */
  numCtx?: number;
  /** Context sequences = concurrent calls served at once (default 2). */
  sequences?: number;
  /** CPU threads per evaluation (default: evaluationThreads; SYNTHGRAPH_LLAMACPP_THREADS overrides). */
  threads?: number;
}

export interface ChatLlamaCppCallOptions extends BaseChatModelCallOptions, LlamaSampling {
  /** JSON Schema the reply must follow (turned into a grammar). */
  format?: Record<string, unknown>;
}

/** A model loaded once per process, its context and the pool of its sequences. */
export interface LoadedLlama {
  path: string;
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  /** Tokens each sequence can hold. */
  contextSize: number;
  /** The chat template read from the GGUF (what LlamaChat would resolve on its own). */
  chatWrapper: ChatWrapper;
  /** The free sequence sharing the longest prefix with `prompt` (waits when all are busy). */
  acquire(prompt: readonly number[], signal?: AbortSignal): Promise<Acquired<LlamaContextSequence>>;
  release(seq: LlamaContextSequence): void;
  grammar(schema: Record<string, unknown>): Promise<LlamaGrammar | { error: string }>;
}

type NodeLlamaCpp = typeof import("node-llama-cpp");
let moduleP: Promise<NodeLlamaCpp> | undefined;

async function nodeLlamaCpp(): Promise<NodeLlamaCpp> {
  moduleP ??= import("node-llama-cpp").catch((err: unknown) => {
    moduleP = undefined;
    throw new SynthgraphError("the llamacpp provider needs the optional package node-llama-cpp", {
      hint: "install it with `npm install node-llama-cpp@3.21.1` (about 110 MB on linux-x64 with its CPU build), or use --model ollama:<model> / openai:<model>",
      exitCode: 3,
      cause: err,
    });
  });
  return moduleP;
}

let llamaP: Promise<Llama> | undefined;

/**
 * Process-wide counters (benches read them): prompt tokens sent, how many the KV cache already held (the
 * common prefix with the chosen sequence's tokens) and how many llama.cpp evaluated (the sequence's token
 * meter: prompt tokens − reused when the cache did its job); `rows` counts only the calls whose reply schema
 * has a top-level `rows` property (row generation).
 */
export interface LlamaCppCounters {
  calls: number;
  promptTokens: number;
  reusedTokens: number;
  evaluatedPromptTokens: number;
  completionTokens: number;
}
export interface LlamaCppStats extends LlamaCppCounters {
  rows: LlamaCppCounters;
}
const zero = (): LlamaCppCounters => ({
  calls: 0,
  promptTokens: 0,
  reusedTokens: 0,
  evaluatedPromptTokens: 0,
  completionTokens: 0,
});
const stats: LlamaCppStats = { ...zero(), rows: zero() };
export function llamaCppStats(): LlamaCppStats {
  return { ...stats, rows: { ...stats.rows } };
}
function count(
  c: LlamaCppCounters,
  prompt: number,
  reused: number,
  evaluated: number,
  completion: number,
): void {
  c.calls++;
  c.promptTokens += prompt;
  c.reusedTokens += reused;
  c.evaluatedPromptTokens += evaluated;
  c.completionTokens += completion;
}
const loaded = new Map<string, Promise<LoadedLlama>>();

export function expandModelPath(path: string): string {
  const p = path.trim();
  return resolve(p === "~" ? homedir() : p.startsWith("~/") ? `${homedir()}${p.slice(1)}` : p);
}

/** An Error the resilience layer classifies as "model not found" (status 404, message names the model). */
class MissingModelFileError extends Error {
  readonly status = 404;
  constructor(path: string, cause: unknown) {
    super(`model file not found or not a loadable GGUF: ${path}`, { cause });
  }
}

/** An Error the resilience layer classifies as a context overflow (by name). */
class ContextOverflowError extends Error {
  override name = "ContextOverflowError";
}

/** Integer ranges up to this many values are written into the grammar as enums. */
const MAX_ENUMERATED_INTEGERS = 256;

/**
 * The schema as node-llama-cpp's grammar builder takes it: no `$schema`, `anyOf` read as `oneOf` (zod emits
 * both). Its grammar has no numeric bounds, so a small integer range (e.g. age 17..79) becomes an enum of its
 * values, which the grammar does enforce; wider ranges stay unbounded and are left to the row validator.
 */
export function grammarSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(grammarSchema);
  if (node === null || typeof node !== "object") return node;
  const o = node as Record<string, unknown>;
  const types = Array.isArray(o.type) ? (o.type as unknown[]) : [o.type];
  const lo = o.minimum;
  const hi = o.maximum;
  if (
    types.includes("integer") &&
    types.every((t) => t === "integer" || t === "null") &&
    o.enum === undefined &&
    typeof lo === "number" &&
    typeof hi === "number" &&
    Number.isInteger(lo) &&
    Number.isInteger(hi) &&
    hi >= lo &&
    hi - lo < MAX_ENUMERATED_INTEGERS
  ) {
    const values: Array<number | null> = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
    if (types.includes("null")) values.push(null);
    return { ...(typeof o.description === "string" ? { description: o.description } : {}), enum: values };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === "$schema") continue;
    out[k === "anyOf" ? "oneOf" : k] =
      k === "properties" && v && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, grammarSchema(pv)]))
        : grammarSchema(v);
  }
  return out;
}

/**
 * CPU threads per evaluation: SYNTHGRAPH_LLAMACPP_THREADS when set, else the machine's cores shared among the
 * context's sequences (at least 1). node-llama-cpp's own default is max(4, cores), which on a 2-core machine
 * runs 4 threads on 2 cores: measured with Gemma 3 270M and 2 sequences, MALLM-GAN's first 20-row batch had
 * not finished after 13 minutes with that default and took under 3 minutes with 1 thread.
 */
export function evaluationThreads(
  sequences: number,
  cores: number,
  env: Readonly<Record<string, string | undefined>>,
): number {
  const fromEnv = Number(env.SYNTHGRAPH_LLAMACPP_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return Math.max(1, Math.floor(cores / Math.max(1, sequences)));
}

/**
 * The shared model for `path` (loaded on first use). `sequences` and `numCtx` only matter for the first
 * caller with a given path: every later caller shares that context and its pool.
 */
export function loadLlama(
  path: string,
  opts: { sequences?: number; numCtx?: number; threads?: number } = {},
): Promise<LoadedLlama> {
  const abs = expandModelPath(path);
  let p = loaded.get(abs);
  if (!p) {
    p = openModel(abs, opts);
    loaded.set(abs, p);
    p.catch(() => loaded.delete(abs));
  }
  return p;
}

async function openModel(
  path: string,
  opts: { sequences?: number; numCtx?: number; threads?: number },
): Promise<LoadedLlama> {
  const mod = await nodeLlamaCpp();
  llamaP ??= mod.getLlama({ gpu: false, logLevel: mod.LlamaLogLevel.error });
  const llama = await llamaP;
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: path });
  } catch (err) {
    throw new MissingModelFileError(path, err);
  }
  const sequences = Math.max(1, opts.sequences ?? LLAMACPP_DEFAULTS.sequences);
  const contextSize = Math.min(model.trainContextSize, opts.numCtx ?? 8192);
  const threads = opts.threads ?? evaluationThreads(sequences, availableParallelism(), process.env);
  const createContext = (swaFullCache: boolean): Promise<LlamaContext> =>
    model.createContext({ sequences, contextSize, swaFullCache, threads });
  // A model with sliding-window attention (Gemma 3: a 512-token window on most layers) keeps by default only
  // the window's KV cells on those layers, so a cached prompt prefix that ends more than a window before the
  // sequence's last token cannot be kept: node-llama-cpp then evaluates the whole prompt again (measured:
  // SYNTHIA's final batches, which share the columns and differ from the examples on, reused 27 % of their
  // prompt tokens instead of 47 %). The full cache costs memory (Gemma 3 270M, 2 x 8,192 tokens: about
  // 210 MB more); when it cannot be allocated the window cache is used.
  let context: LlamaContext;
  if (model.fileInsights.swaSize == null) context = await createContext(false);
  else {
    try {
      context = await createContext(true);
    } catch {
      context = await createContext(false);
    }
  }
  const pool = new SequencePool(
    Array.from({ length: sequences }, () => context.getSequence()),
    (seq) => seq.contextTokens,
  );
  const grammars = new Map<string, Promise<LlamaGrammar | { error: string }>>();
  return {
    path,
    llama,
    model,
    context,
    contextSize: context.contextSize,
    chatWrapper: mod.resolveChatWrapper(model),
    acquire: (prompt, signal) => pool.acquire(prompt, signal),
    release: (seq) => pool.release(seq),
    grammar(schema: Record<string, unknown>): Promise<LlamaGrammar | { error: string }> {
      const key = JSON.stringify(schema);
      let g = grammars.get(key);
      if (!g) {
        g = Promise.resolve()
          .then(() => schemaGrammar(llama, schema))
          .catch((err: unknown) => ({ error: (err as Error).message }));
        grammars.set(key, g);
      }
      return g;
    },
  };
}

/**
 * The grammar for a reply schema: our GBNF with numeric bounds (models/llamacpp-grammar.ts); a schema it
 * cannot express goes through node-llama-cpp's JSON-schema builder instead (no numeric bounds there beyond
 * the small integer ranges grammarSchema enumerates). `kind` says which one was used.
 */
async function schemaGrammar(llama: Llama, schema: Record<string, unknown>): Promise<LlamaGrammar> {
  let gbnf: string | undefined;
  try {
    gbnf = jsonSchemaToGbnf(schema);
  } catch (err) {
    if (!(err instanceof UnsupportedSchemaError)) throw err;
  }
  if (gbnf !== undefined) {
    // As node-llama-cpp's JSON-schema grammar: four line breaks after the value end generation (a stop
    // trigger, trimmed), so the reply stops at the closing brace without sampling an end-of-turn token.
    const { LlamaText } = await nodeLlamaCpp();
    const g = await llama.createGrammar({
      grammar: gbnf.replace(/^root ::= (\S+)$/m, 'root ::= $1 "\\n\\n\\n\\n" [\\n]*'),
      stopGenerationTriggers: [LlamaText(["\n".repeat(4)])],
      trimWhitespaceSuffix: true,
    });
    grammarKinds.set(g, "gbnf_bounded");
    return g;
  }
  // The schema is only known at run time; node-llama-cpp's parameter type is a compile-time literal.
  const make = llama.createGrammarForJsonSchema.bind(llama) as unknown as (
    s: unknown,
  ) => Promise<LlamaGrammar>;
  const g = await make(grammarSchema(schema));
  grammarKinds.set(g, "json_schema");
  return g;
}

const grammarKinds = new WeakMap<LlamaGrammar, string>();

function text(m: BaseMessage): string {
  if (typeof m.content === "string") return m.content;
  return m.content.map((p) => (typeof p === "string" ? p : p.type === "text" ? String(p.text) : "")).join("");
}

/** LangChain messages to node-llama-cpp chat history (tool/function messages are read as user text). */
export function toChatHistory(messages: readonly BaseMessage[]): ChatHistoryItem[] {
  return messages.map((m): ChatHistoryItem => {
    const type = m.getType();
    if (type === "system") return { type: "system", text: text(m) };
    if (type === "ai") return { type: "model", response: [text(m)] };
    return { type: "user", text: text(m) };
  });
}

/**
 * The cap of free-text replies (calls without a `format`) when no maxTokens is configured:
 * SYNTHGRAPH_LLAMACPP_MAX_TOKENS, else 768. A small model may never emit its end-of-turn token in a free-text
 * role: Gemma 3 270M ran SYNTHIA's discriminator analysis to the 2,048-token limit, repeating its prompt (6 of
 * the 16 minutes of an iteration on a loaded 2-core machine); 768 tokens leave room for an analysis or a
 * MALLM-GAN theta of a capable model. A grammar-constrained reply ends when its JSON does, so it is not
 * capped (a 200-token cap let a 20-row batch hold 2 rows).
 */
export function freeTextCap(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const n = Number(env.SYNTHGRAPH_LLAMACPP_MAX_TOKENS);
  return Number.isInteger(n) && n > 0 ? n : LLAMACPP_DEFAULTS.freeTextMaxTokens;
}

/**
 * The sampling seed of one call: the call's seed mixed with the configured one when both are set (so either
 * changes the reply), whichever is set otherwise, and a fresh random seed when neither is.
 */
export function callSeed(configured: number | undefined, call: number | undefined): number {
  if (call === undefined) return configured ?? randomInt(0x7fffffff);
  if (configured === undefined) return call;
  return createRng(configured).fork(call).int(0x7fffffff);
}

export class ChatLlamaCpp extends BaseChatModel<ChatLlamaCppCallOptions> {
  readonly modelPath: string;
  readonly numCtx: number;
  readonly sequences: number;
  readonly threads: number | undefined;
  /** Whether maxTokens was configured (otherwise freeTextCap caps free-text replies). */
  private readonly maxTokensSet: boolean;
  readonly sampling: Required<Omit<LlamaSampling, "seed">> & { seed?: number };

  static override lc_name(): string {
    return "ChatLlamaCpp";
  }

  constructor(fields: ChatLlamaCppFields) {
    super(fields);
    this.modelPath = expandModelPath(fields.modelPath);
    this.numCtx = fields.numCtx ?? 8192;
    this.sequences = fields.sequences ?? LLAMACPP_DEFAULTS.sequences;
    this.threads = fields.threads;
    this.maxTokensSet = fields.maxTokens !== undefined;
    this.sampling = {
      temperature: fields.temperature ?? 0.7,
      topP: fields.topP ?? LLAMACPP_DEFAULTS.topP,
      topK: fields.topK ?? LLAMACPP_DEFAULTS.topK,
      repeatPenalty: fields.repeatPenalty ?? LLAMACPP_DEFAULTS.repeatPenalty,
      maxTokens: fields.maxTokens ?? LLAMACPP_DEFAULTS.maxTokens,
      ...(fields.seed === undefined ? {} : { seed: fields.seed }),
    };
  }

  _llmType(): string {
    return "llamacpp";
  }

  /** The shared loaded model (loads it on first use). */
  load(): Promise<LoadedLlama> {
    return loadLlama(this.modelPath, {
      sequences: this.sequences,
      numCtx: this.numCtx,
      ...(this.threads === undefined ? {} : { threads: this.threads }),
    });
  }

  async _generate(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    const mod = await nodeLlamaCpp();
    const lm = await this.load();
    const signal = options.signal;
    const s = { ...this.sampling };
    for (const k of ["temperature", "topP", "topK", "repeatPenalty", "maxTokens"] as const) {
      const v = options[k];
      if (v !== undefined) s[k] = v;
    }
    if (!options.format && !this.maxTokensSet && options.maxTokens === undefined) {
      s.maxTokens = Math.min(s.maxTokens, freeTextCap());
    }
    let grammar: LlamaGrammar | undefined;
    let grammarNote = "none";
    if (options.format) {
      const g = await lm.grammar(options.format);
      if ("error" in g) grammarNote = `schema not usable as a grammar: ${g.error}`;
      else {
        grammar = g;
        grammarNote = grammarKinds.get(g) ?? "json_schema";
      }
    }
    const history = toChatHistory(messages);
    // What the template renders for this history, with the model's turn opened (as generation sees it):
    // tokenised before a sequence is chosen, so the pool can pick the one that already holds its prefix.
    const rendered = lm.chatWrapper.generateContextState({
      chatHistory: [...history, { type: "model", response: [] }],
    }).contextText;
    const promptTokenList = rendered.tokenize(lm.model.tokenizer);
    const promptTokens = promptTokenList.length;
    const room = lm.contextSize - promptTokens;
    if (room < 16) {
      throw new ContextOverflowError(
        `${promptTokens} prompt tokens leave no room for a reply in the ${lm.contextSize}-token context`,
      );
    }
    const { seq, cachedPrefix } = await lm.acquire(promptTokenList, signal);
    const chat = new mod.LlamaChat({ contextSequence: seq, chatWrapper: lm.chatWrapper });
    try {
      // llama.cpp keeps the sequence's KV cache for the longest common prefix and evaluates only the rest
      // (at least one token, to get logits).
      const reused = Math.min(cachedPrefix, promptTokens - 1);
      // What llama.cpp actually read: the sequence's meter counts every evaluated token without logits as
      // input, so a call's input tokens are its evaluated prompt tokens but the last (which gives the logits).
      const inputBefore = seq.tokenMeter.usedInputTokens;
      let completionTokens = 0;
      const res = await chat.generateResponse(history, {
        ...(grammar ? { grammar } : {}),
        ...(signal ? { signal } : {}),
        temperature: s.temperature,
        topP: s.topP,
        topK: s.topK,
        seed: callSeed(this.sampling.seed, options.seed),
        repeatPenalty: s.repeatPenalty === 1 ? false : { penalty: s.repeatPenalty },
        maxTokens: Math.min(s.maxTokens, room),
        onToken: (tokens) => {
          completionTokens += tokens.length;
        },
        onTextChunk: (chunk) => void runManager?.handleLLMNewToken(chunk),
      });
      const evaluated = seq.tokenMeter.usedInputTokens - inputBefore + 1;
      count(stats, promptTokens, reused, evaluated, completionTokens);
      const props = options.format?.properties;
      if (props && typeof props === "object" && "rows" in props) {
        count(stats.rows, promptTokens, reused, evaluated, completionTokens);
      }
      const message = new AIMessage({
        content: res.response,
        usage_metadata: {
          input_tokens: promptTokens,
          output_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
        response_metadata: {
          model_provider: "llamacpp",
          model: lm.path,
          finish_reason: res.metadata.stopReason,
          grammar: grammarNote,
          kv_reused_tokens: reused,
          evaluated_prompt_tokens: evaluated,
          context_size: lm.contextSize,
        },
      });
      return { generations: [{ text: res.response, message }] };
    } finally {
      chat.dispose({ disposeSequence: false });
      lm.release(seq);
    }
  }
}
