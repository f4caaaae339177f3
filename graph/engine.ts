/**
 * What an engine is to the rest of synthgraph: one EngineDefinition (engines/<name>/engine.ts), listed once in
 * graph/registry.ts. The runner (graph/run.ts) compiles and streams its graph; the CLI takes its options, its
 * progress lines, its start banner and its fields of SUMMARY.json from it. Nothing outside engines/<name>/
 * knows an engine by name.
 *
 * Every engine's state has the fields of EngineStateBase (same names, same meaning), which is all the runner
 * and the common summary read.
 */
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import type { z } from "zod";
import type { Table } from "../data/types.ts";
import type { AccountingSnapshot } from "../models/accounting.ts";
import type { Role, RoleSampling } from "../models/spec.ts";
import type { ArtifactStore } from "../state/artifacts.ts";
import type { EngineName, RunConfig, RunConfigInput } from "../state/config.ts";
import type { DatasetRef } from "../state/engine-state.ts";
import type { RunEvent } from "./run.ts";
import type { EngineRuntime } from "./runtime.ts";

/** State fields every engine has: the runner's progress, the resume check and the common summary read these. */
export interface EngineStateBase {
  phase: string;
  dataset: DatasetRef | null;
  usage: AccountingSnapshot;
  /** Iterations (probes, epochs, proposal rounds) so far. */
  iteration: number;
  /** Output rows accepted so far (a summed counter: each update carries an increment). */
  accepted: number;
  exactCopiesRemoved: number;
  invalidRows: number;
  output: { path: string; rows: number } | null;
}

/** The compiled graph as the runner uses it. */
export interface EngineApp {
  getState(cfg: { configurable: { thread_id: string } }): Promise<{ values: unknown; createdAt?: string }>;
  stream(
    input: unknown,
    opts: {
      configurable: { thread_id: string };
      streamMode: "updates";
      recursionLimit: number;
      maxConcurrency: number;
      signal?: AbortSignal;
    },
  ): Promise<AsyncIterable<unknown>>;
}

export interface SummaryContext {
  state: EngineStateBase;
  config: RunConfig;
  store: ArtifactStore;
  /** The input table and the output read back with the input's metadata (what `evaluate` compares). */
  tables: { real: Table; synthetic: Table };
}

/** An engine's part of the live progress on stderr (null: nothing to print); cli/progress.ts prints the rest. */
export interface EngineProgress {
  /** What follows "loaded N real rows × C columns; " in the update that loads the data. */
  loaded(update: Record<string, unknown>): string | null;
  /** A line for one of the engine's own nodes. */
  node(e: RunEvent): string | null;
}

/** One commander option of `synthgraph generate`: `flags` as commander spells them ("--top-k <k>", "--no-x"). */
export interface CliOption {
  flags: string;
  description: string;
}

/** The part of RunConfig an engine's CLI options set (top-level fields or the engine's own block). */
export type EngineConfigPart = Partial<RunConfigInput>;

/**
 * An engine's CLI: its options (shown under its own heading in `generate --help`), the zod object of their raw
 * values (keys = commander's attribute names: `--mallm-batch` → mallmBatch, `--no-guard` → guard), and how
 * the parsed values become its part of RunConfig. Absent values must stay absent, so RunConfigSchema's defaults
 * apply and run.json is the same as before the option existed.
 */
export interface EngineCli<S extends z.ZodObject = z.ZodObject> {
  options: readonly CliOption[];
  schema: S;
  toConfig(parsed: z.output<S>): EngineConfigPart;
  /**
   * Raw option values (commander attribute names, the engine's or the common ones such as batchRows) used
   * instead of the defaults when every model role of the run is an in-process llamacpp model and the user
   * did not give the option (cli/local-defaults.ts): the defaults for server models would keep a small CPU
   * model busy for hours.
   */
  smallModelDefaults?: Readonly<Record<string, number>>;
}

export interface EngineDefinition<S extends z.ZodObject = z.ZodObject> {
  name: EngineName;
  /** The model roles the engine calls (models/spec.ts ROLES); empty: the engine runs without a model. */
  models: readonly Role[];
  /** Sampling defaults of the engine's paper per role (below config files and flags; models/spec.ts). */
  sampling?: Partial<Record<Role, RoleSampling>>;
  /** The start banner after "N rows from FILE with ". */
  describe(config: RunConfig, concurrency: number): string;
  compile(rt: EngineRuntime, checkpointer: BaseCheckpointSaver): EngineApp;
  /** Input of a fresh run. */
  input(runDir: string, config: RunConfig): Record<string, unknown>;
  /** After these nodes run.json's progress counters are refreshed. */
  progressNodes: readonly string[];
  /** The engine's progress lines for this run's config. */
  progress(config: RunConfig): EngineProgress;
  /** Why the loop ended, for the summary and the done line. */
  stoppedBecause(state: EngineStateBase): string | null;
  /** The engine's own fields of SUMMARY.json (its trajectory). */
  summary(ctx: SummaryContext): Promise<Record<string, unknown>>;
  cli: EngineCli<S>;
}

/**
 * Checks an engine's definition against its own CLI schema (toConfig receives exactly what `cli.schema`
 * parses to) and returns it as the registry stores it.
 */
export function defineEngine<S extends z.ZodObject>(def: EngineDefinition<S>): EngineDefinition {
  return def;
}

/** Helper of toConfig: `{ key: v }` when v is given, `{}` otherwise (absent stays absent). */
export function optional<K extends string, V>(key: K, v: V | undefined): Partial<Record<K, V>> {
  return v === undefined ? {} : ({ [key]: v } as Record<K, V>);
}
