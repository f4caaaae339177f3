/**
 * Model specs and per-role model configuration.
 *
 * A spec string names a provider and a model: `ollama:llama3.1:8b` (the default), `openai:gpt-4o`, or
 * `llamacpp:PATH.gguf` (a GGUF file run inside the process, models/llamacpp.ts). With no model configured,
 * SYNTHGRAPH_MODEL_FILE names a GGUF to use instead of the default.
 * An OpenAI-compatible server (vLLM, LM Studio, llama.cpp server) is `openai:<model>` plus a base URL
 * (the `baseUrl` option, or OPENAI_BASE_URL). Every agent role may use its own spec and temperature.
 *
 * Precedence when resolving a role: built-in defaults < config file `default` < config file `roles.<role>`
 * < CLI flags (`--model` for every role, then per-role flags).
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";

export const DEFAULT_SPEC = "ollama:llama3.1:8b";
export const DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434";
/** Ollama silently truncates prompts beyond num_ctx (default 2048/4096, ollama#17889); the papers use 8192. */
export const DEFAULT_NUM_CTX = 8192;
export const DEFAULT_TIMEOUT_MS = 180_000;
/**
 * llamacpp: an in-process model on a CPU cannot be a dead server, and a retry only redoes the same work, so
 * its calls get 30 minutes (measured: a 10-row batch of the 270M test model took over 180 s on a loaded
 * 2-core machine, timed out and was generated again).
 */
export const LLAMACPP_TIMEOUT_MS = 1_800_000;
/** Ollama serves OLLAMA_NUM_PARALLEL requests at once (1–4 by default); hosted APIs take more. */
/** llamacpp: context sequences of the one in-process model (each costs KV-cache memory). */
export const DEFAULT_CONCURRENCY = { ollama: 2, openai: 4, llamacpp: 2 } as const;

export const ROLES = [
  "generator",
  "discriminator",
  "optimizer",
  "proposer",
  "copula",
  "metadata",
  "steering",
  "constraint",
] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = z.enum(ROLES);

/**
 * Default temperatures. generator 0.5 and optimizer 1.0: MALLM-GAN (C.2, "highest confidence" generator,
 * "more creative" optimizer). copula and proposer 0.8: LLMSynthor (GPT-4.1-nano at 0.8). The rest 0.7:
 * SYNTHIA's llama-3.1-8B setting. constraint 0 (agents/constraint.ts: one faithful translation, no variety).
 */
export const DEFAULT_TEMPERATURES: Readonly<Record<Role, number>> = {
  generator: 0.5,
  discriminator: 0.7,
  optimizer: 1.0,
  proposer: 0.8,
  copula: 0.8,
  metadata: 0.7,
  steering: 0.7,
  /** Translating words into a condition is not a creative task: the most likely reading, every time. */
  constraint: 0,
};

export type Provider = "ollama" | "openai" | "llamacpp";

export interface ModelSpec {
  provider: Provider;
  /** Model name as the provider knows it, e.g. `llama3.1:8b`, `gpt-4o`. */
  model: string;
}

const SPEC_RE = /^(ollama|openai|llamacpp):(.+)$/;

/**
 * Parses `ollama:<model>` / `openai:<model>` / `llamacpp:<path>`; the model part may itself contain colons
 * (`llama3.1:8b`).
 */
export const ModelSpecString = z
  .string()
  .trim()
  .regex(SPEC_RE, {
    message: "a model spec looks like ollama:llama3.1:8b, openai:gpt-4o or llamacpp:/path/model.gguf",
  })
  .transform((s): ModelSpec => {
    const m = SPEC_RE.exec(s)!;
    return { provider: m[1] as Provider, model: m[2].trim() };
  });

export function parseModelSpec(spec: string): ModelSpec {
  const r = ModelSpecString.safeParse(spec);
  if (!r.success) {
    throw new SynthgraphError(`not a model spec: "${spec}"`, {
      hint: "use ollama:<model> (e.g. ollama:llama3.1:8b), openai:<model> (e.g. openai:gpt-4o) or llamacpp:<file.gguf> (a local GGUF file; `synthgraph models pull` downloads one); for vLLM / LM Studio / a llama.cpp server use openai:<model> with OPENAI_BASE_URL",
      exitCode: 2,
    });
  }
  return r.data;
}

/**
 * Sampling settings besides temperature. Providers name them differently (factory.ts maps them): Ollama takes
 * all four (top_p, top_k, repeat_penalty, num_predict); OpenAI takes top_p and max_tokens and has no top_k or
 * repetition penalty, so those two are sent only to OpenAI-compatible servers (a custom base URL: vLLM and
 * llama.cpp server accept top_k and repetition_penalty) and ignored for api.openai.com.
 */
export interface SamplingSettings {
  topP?: number;
  topK?: number;
  repeatPenalty?: number;
  /** Max new tokens of one reply. */
  maxTokens?: number;
}
export const SAMPLING_KEYS = ["topP", "topK", "repeatPenalty", "maxTokens"] as const;

/** A role's sampling defaults as an engine's paper sets them (temperature included). */
export type RoleSampling = SamplingSettings & { temperature?: number };

/** Everything needed to build one role's chat model. */
export interface RoleConfig extends SamplingSettings {
  spec: string;
  temperature: number;
  /** Overrides OLLAMA_HOST / OPENAI_BASE_URL. */
  baseUrl?: string;
  /** A pool of servers serving the same model, used as one (models/pool.ts); wins over baseUrl. */
  baseUrls?: string[];
  /** Ollama context window (num_ctx). */
  numCtx: number;
  timeoutMs: number;
  /** Max simultaneous calls to this role's endpoint (shared by all roles on the same base URL). */
  maxConcurrency?: number;
  seed?: number;
}
export type RoleConfigMap = Record<Role, RoleConfig>;

const Temperature = z.number().min(0).max(2);
const EndpointFields = {
  model: ModelSpecString.optional(),
  baseUrl: z.url().optional(),
  baseUrls: z.array(z.url()).min(1).optional(),
  numCtx: z.number().int().positive().optional(),
  timeoutMs: z.number().int().positive().optional(),
  maxConcurrency: z.number().int().positive().optional(),
  seed: z.number().int().optional(),
};
const SamplingFields = {
  topP: z.number().gt(0).max(1).optional(),
  topK: z.number().int().positive().optional(),
  repeatPenalty: z.number().positive().optional(),
  maxTokens: z.number().int().positive().optional(),
};
const RoleEntry = z.strictObject({
  ...EndpointFields,
  ...SamplingFields,
  temperature: Temperature.optional(),
});

/** The JSON config file: `{ "default": {...}, "roles": { "generator": {...}, ... } }`. */
export const ModelConfigFile = z.strictObject({
  default: z.strictObject(EndpointFields).optional(),
  roles: z.partialRecord(RoleSchema, RoleEntry).optional(),
});
export type ModelConfigFile = z.infer<typeof ModelConfigFile>;

/** CLI overrides. `model` applies to every role; the per-role maps win over it. */
export interface ModelFlags {
  model?: string;
  baseUrl?: string;
  /** `--endpoint URL` repeated: every role's pool of servers. */
  baseUrls?: string[];
  numCtx?: number;
  timeoutMs?: number;
  roleModels?: Partial<Record<Role, string>>;
  temperatures?: Partial<Record<Role, number>>;
  /** Per-role top-p, top-k, repetition penalty, max new tokens (`--top-p generator=0.9`, ...). */
  sampling?: Partial<Record<Role, SamplingSettings>>;
}

export function loadModelConfigFile(path: string): ModelConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new SynthgraphError(`cannot read model config ${path}`, {
      hint: "check the --config path",
      exitCode: 2,
      cause: err,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SynthgraphError(`model config ${path} is not valid JSON: ${(err as Error).message}`, {
      hint: 'expected {"default": {"model": "ollama:llama3.1:8b"}, "roles": {"generator": {"temperature": 0.5}}}',
      exitCode: 2,
    });
  }
  const r = ModelConfigFile.safeParse(raw);
  if (!r.success) {
    throw new SynthgraphError(`model config ${path} is invalid:\n${z.prettifyError(r.error)}`, {
      hint: `roles are ${ROLES.join(", ")}; fields are model, temperature, topP, topK, repeatPenalty, maxTokens, baseUrl, baseUrls, numCtx, timeoutMs, maxConcurrency, seed`,
      exitCode: 2,
    });
  }
  return r.data;
}

/**
 * Resolves every role's config. Precedence: built-in defaults < the engine's paper defaults (`engineDefaults`)
 * < config file `default` < config file `roles.<role>` < CLI flags.
 */
export function resolveRoleConfigs(
  input: {
    configFile?: string | ModelConfigFile;
    flags?: ModelFlags;
    engineDefaults?: Partial<Record<Role, RoleSampling>>;
    env?: Readonly<Record<string, string | undefined>>;
  } = {},
): RoleConfigMap {
  const env = input.env ?? process.env;
  const modelFile = env.SYNTHGRAPH_MODEL_FILE?.trim();
  // SYNTHGRAPH_MODEL_FILE replaces the built-in default only: any configured model still wins.
  const fallbackSpec = modelFile ? `llamacpp:${modelFile}` : DEFAULT_SPEC;
  const file =
    typeof input.configFile === "string" ? loadModelConfigFile(input.configFile) : input.configFile;
  const flags = input.flags ?? {};
  if (flags.model !== undefined) parseModelSpec(flags.model);
  for (const s of Object.values(flags.roleModels ?? {})) if (s !== undefined) parseModelSpec(s);
  const out = {} as RoleConfigMap;
  for (const role of ROLES) {
    const d = file?.default;
    const r = file?.roles?.[role];
    const fileSpec = r?.model ?? d?.model;
    const spec =
      flags.roleModels?.[role] ??
      flags.model ??
      (fileSpec ? `${fileSpec.provider}:${fileSpec.model}` : fallbackSpec);
    const paper = input.engineDefaults?.[role];
    const temperature =
      flags.temperatures?.[role] ?? r?.temperature ?? paper?.temperature ?? DEFAULT_TEMPERATURES[role];
    const t = Temperature.safeParse(temperature);
    if (!t.success) {
      throw new SynthgraphError(`temperature for ${role} must be between 0 and 2, got ${temperature}`, {
        exitCode: 2,
      });
    }
    const cfg: RoleConfig = {
      spec,
      temperature,
      numCtx: flags.numCtx ?? r?.numCtx ?? d?.numCtx ?? DEFAULT_NUM_CTX,
      timeoutMs:
        flags.timeoutMs ??
        r?.timeoutMs ??
        d?.timeoutMs ??
        (parseModelSpec(spec).provider === "llamacpp" ? LLAMACPP_TIMEOUT_MS : DEFAULT_TIMEOUT_MS),
    };
    const baseUrl = flags.baseUrl ?? r?.baseUrl ?? d?.baseUrl;
    if (baseUrl !== undefined) cfg.baseUrl = baseUrl;
    const baseUrls = flags.baseUrls ?? r?.baseUrls ?? d?.baseUrls;
    if (baseUrls !== undefined && baseUrls.length > 0) cfg.baseUrls = baseUrls;
    const maxConcurrency = r?.maxConcurrency ?? d?.maxConcurrency;
    if (maxConcurrency !== undefined) cfg.maxConcurrency = maxConcurrency;
    const seed = r?.seed ?? d?.seed;
    if (seed !== undefined) cfg.seed = seed;
    for (const k of SAMPLING_KEYS) {
      const v = flags.sampling?.[role]?.[k] ?? r?.[k] ?? paper?.[k];
      if (v !== undefined) cfg[k] = v;
    }
    out[role] = cfg;
  }
  return out;
}

/**
 * Parses repeatable `role=value` CLI arguments (e.g. `--role-model generator=openai:gpt-4o`,
 * `--temperature optimizer=1.2`).
 */
export function parseRoleAssignments<T>(
  items: readonly string[],
  parseValue: (v: string) => T,
  flag: string,
): Partial<Record<Role, T>> {
  const out: Partial<Record<Role, T>> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    const role = RoleSchema.safeParse(eq > 0 ? item.slice(0, eq).trim() : "");
    if (!role.success) {
      throw new SynthgraphError(`${flag} expects role=value, got "${item}"`, {
        hint: `roles are ${ROLES.join(", ")}`,
        exitCode: 2,
      });
    }
    out[role.data] = parseValue(item.slice(eq + 1).trim());
  }
  return out;
}
