/**
 * What every engine's nodes get besides the state (graph/run.ts builds it; `resume` rebuilds it identically):
 * the run's config, the artifact store, the real table, the environment for model clients, and the fan-out.
 */
import type { Metadata, Table } from "../data/types.ts";
import { createEndpoint, type Endpoint, type Env } from "../models/factory.ts";
import { parseModelSpec, type Role } from "../models/spec.ts";
import { type RowEncoding, rowEncodingFor } from "../data/compact.ts";
import type { UnusableReplyBudget } from "../models/unusable-budget.ts";
import type { ArtifactStore, RowBatch } from "../state/artifacts.ts";
import type { BatchTask } from "../state/finalize.ts";
import type { RunConfig } from "../state/config.ts";
import type { DatasetRef } from "../state/engine-state.ts";

/**
 * Final batches generated elsewhere: enqueue the batch, wait for its stored artifact, return it (cached: it was
 * stored before this call asked for it).
 */
export interface RemoteBatches {
  run(task: BatchTask, key: string, store: ArtifactStore): Promise<{ value: RowBatch; cached: boolean }>;
}

/** The real table, loaded once per process (not part of the state: it is re-read from the input on resume). */
export interface RealData {
  table: Table;
  metadata: Metadata;
  dataset: DatasetRef;
  /** What reading decided that the user should know (inferred number formats, stray tokens, ...). */
  notes?: readonly string[];
}

export interface EngineRuntime {
  /** The run's config (run.json); the same value is in the state for the record. */
  config: RunConfig;
  store: ArtifactStore;
  /** Loads (and caches) the real table described by the config. */
  real(): Promise<RealData>;
  env: Env;
  /** Parallel final batches: at most this many final generator calls at once (graph/finalize.ts). */
  concurrency: number;
  /** The runtime resolves config and store per thread (graph/export.ts): nothing may read them at build time. */
  perThread?: boolean;
  /** Set when final batches go to `synthgraph worker` processes (graph/batch-queue.ts). */
  batchQueue?: RemoteBatches;
  /** Consecutive unusable replies allowed before the run stops with exit code 4 (absent: no budget). */
  unusable?: UnusableReplyBudget;
}

/** The model client of one role, with the call's seed when it has one. */
export function endpointFor(
  rt: Pick<EngineRuntime, "config" | "env" | "unusable">,
  role: Role,
  seed?: number,
): Endpoint {
  const ep = createEndpoint(
    { ...rt.config.models[role], role, ...(seed === undefined ? {} : { seed }) },
    rt.env,
  );
  return rt.unusable ? { ...ep, unusableBudget: rt.unusable } : ep;
}

/** How the role's model writes rows: what its provider's structured output fully enforces (data/compact.ts). */
export function rowEncodingOf(rt: Pick<EngineRuntime, "config">, role: Role = "generator"): RowEncoding {
  return rowEncodingFor(parseModelSpec(rt.config.models[role].spec).provider);
}
