/**
 * What every synthgraph tool gets besides its input: the path guard of the root, the environment for model
 * clients, the redactor that keeps secrets out of results, the default models of runs, and the registry of
 * runs started in this process. One context serves the LangChain tools and the MCP server alike.
 */
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { DECIMAL_MARKS } from "../data/infer.ts";
import type { Env } from "../models/factory.ts";
import { resolveRoleConfigs, type RoleConfigMap } from "../models/spec.ts";
import { toJson } from "../stats/metrics/evaluate.ts";
import { PathGuard } from "./paths.ts";
import { type Redactor, redactor } from "./redact.ts";
import { RunRegistry } from "./run-registry.ts";

export interface SynthgraphToolOptions {
  /** Every path a tool reads or writes must be inside this directory (default: the working directory). */
  root?: string;
  /** Environment of model clients (OLLAMA_HOST, OPENAI_BASE_URL, OPENAI_API_KEY, ...); default process.env. */
  env?: Env;
  /** Models of runs when the caller names none (default: every role on ollama:llama3.1:8b). */
  models?: RoleConfigMap;
  /** Where start_run puts run directories, relative to the root (default "runs"). */
  runsDir?: string;
  /** More strings to keep out of results (e.g. the HTTP token). */
  secrets?: readonly string[];
}

export interface ToolContext {
  guard: PathGuard;
  env: Env;
  redact: Redactor;
  models: RoleConfigMap;
  runsDir: string;
  runs: RunRegistry;
}

/** Progress reporting of a call that waits (MCP progress notifications); absent for plain tool calls. */
export interface ToolCallExtra {
  progress?: (p: { progress: number; total?: number; message?: string }) => Promise<void>;
  signal?: AbortSignal;
}

export interface ToolSpec<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  input: I;
  output: O;
  run(input: z.output<I>, ctx: ToolContext, extra: ToolCallExtra): Promise<z.output<O>>;
}

export function createToolContext(options: SynthgraphToolOptions = {}): ToolContext {
  const env = options.env ?? process.env;
  const guard = new PathGuard(options.root ?? process.cwd());
  return {
    guard,
    env,
    redact: redactor(env, options.secrets ?? []),
    models: options.models ?? resolveRoleConfigs({}),
    runsDir: guard.writable(options.runsDir ?? "runs", "runsDir"),
    runs: new RunRegistry(),
  };
}

/**
 * The `decimal` input of every tool that reads a table from disk, as the CLI's `--decimal , | .`
 * (cli/options.ts cliDecimal, data/read.ts ReadOptions.decimal); `whose` names the tables it applies to
 * ("the table's", "the tables'") so the description reads right in each tool.
 */
export const decimalField = (whose: string) =>
  z
    .enum(DECIMAL_MARKS)
    .optional()
    .describe(
      `the decimal mark of ${whose} numbers: "," reads 1.234,5 as 1234.5, "." forbids the decimal comma (default: detected per column)`,
    );

/** A result as plain JSON (NaN and infinities as null, typed arrays as arrays). */
export function plain<T>(value: unknown): T {
  return JSON.parse(toJson(value, 0)) as T;
}

/** The message of an error as a tool reports it (with the hint, secrets redacted). */
export function errorText(err: unknown, redact: Redactor): string {
  if (err instanceof SynthgraphError) {
    return redact(err.hint ? `${err.message} (what to do: ${err.hint})` : err.message);
  }
  return redact(err instanceof Error ? err.message : String(err));
}
