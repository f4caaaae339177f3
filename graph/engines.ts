/**
 * The engine registry: engine name → how to build its graph from the runtime, its fresh-run input, the nodes
 * after which run.json's progress is refreshed, and its fields of SUMMARY.json. graph/run.ts runs any engine
 * through this table (one run lifecycle: run directory, SqliteSaver thread = run id, artifacts, resume), and
 * the CLI builds the summary with it.
 *
 * Every engine's state has the fields of EngineStateBase (same names, same meaning), which is all the runner
 * and the common summary read. Adding an engine: its state/<engine>.ts and graph/<engine>.ts, then one entry.
 */
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { SynthgraphError } from "../data/errors.ts";
import type { AccountingSnapshot } from "../models/accounting.ts";
import type { ArtifactStore } from "../state/artifacts.ts";
import type { EngineName, RunConfig } from "../state/config.ts";
import {
  type LlmsynthorStateT,
  plannedIterations,
  ProposalsRecordSchema,
  CopulaRecordSchema,
} from "../engines/llmsynthor/state.ts";
import type { SynthiaStateT } from "../engines/synthia/state.ts";
import type { DatasetRef } from "../state/engine-state.ts";
import { type MallmStateT, mallmSummary } from "../engines/mallm/state.ts";
import { buildLlmsynthorGraph } from "../engines/llmsynthor/graph.ts";
import { buildMallmGraph } from "../engines/mallm/graph.ts";
import type { EngineRuntime } from "./runtime.ts";
import { buildSynthiaGraph } from "../engines/synthia/graph.ts";

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
}

export interface EngineDefinition {
  name: EngineName;
  /** The start banner after "N rows from FILE with ". */
  describe(config: RunConfig, concurrency: number): string;
  compile(rt: EngineRuntime, checkpointer: BaseCheckpointSaver): EngineApp;
  /** Input of a fresh run. */
  input(runDir: string, config: RunConfig): Record<string, unknown>;
  /** After these nodes run.json's progress counters are refreshed. */
  progressNodes: readonly string[];
  /** Why the loop ended, for the summary and the done line. */
  stoppedBecause(state: EngineStateBase): string | null;
  /** The engine's own fields of SUMMARY.json (its trajectory). */
  summary(ctx: SummaryContext): Promise<Record<string, unknown>>;
}

const synthia: EngineDefinition = {
  name: "synthia",
  describe: (c, concurrency) =>
    `${c.models.generator.spec}; up to ${c.maxIterations} iterations of ${c.probeRows} probe rows; ${concurrency} parallel batches`,
  // The compiled graph's generic methods are wider than EngineApp; the runner only uses these two.
  compile: (rt, checkpointer) => buildSynthiaGraph(rt).compile({ checkpointer }) as unknown as EngineApp,
  input: (runDir, config) => ({ runDir, config }),
  progressNodes: ["collect", "discriminate"],
  stoppedBecause: (s) => (s as unknown as SynthiaStateT).finalChoice?.reason ?? null,
  summary: async ({ state }) => {
    const s = state as unknown as SynthiaStateT;
    return {
      iterations: s.history.map((r) => ({
        iteration: r.iteration,
        valid_rows: r.valid,
        requested_rows: r.requested,
        scores: r.scores,
        verdict: r.verdict,
        feedback: r.feedback ?? null,
        overruled: r.overruled,
        guard_reasons: r.guard_reasons,
      })),
      final_prompt: s.prompt,
    };
  },
};

const llmsynthor: EngineDefinition = {
  name: "llmsynthor",
  describe: (c) =>
    `LLMSynthor (${c.models.proposer.spec}); ${plannedIterations(c.rows, c.llmsynthor.iterations)} iterations of up to ${c.llmsynthor.nProposals} proposals, stop under mean TVD ${c.llmsynthor.tolerance}`,
  compile: (rt, checkpointer) => buildLlmsynthorGraph(rt).compile({ checkpointer }) as unknown as EngineApp,
  input: (runDir, config) => ({ runDir, config }),
  progressNodes: ["sample", "fill"],
  stoppedBecause: (s) => (s as unknown as LlmsynthorStateT).stoppedBecause,
  summary: async ({ state, store }) => {
    const s = state as unknown as LlmsynthorStateT;
    const copula = [];
    for (const key of s.copulaKeys) {
      const c = await store.require(key, CopulaRecordSchema);
      copula.push({ groups: c.groups, reasons: c.reasons, attempts: c.attempts, usage: c.usage });
    }
    const iterations = [];
    for (const h of s.history) {
      const p = h.proposals_key ? await store.require(h.proposals_key, ProposalsRecordSchema) : undefined;
      iterations.push({
        iteration: h.iteration,
        pool_rows: h.pool_rows,
        discrepancy: h.discrepancy,
        joint_groups: h.groups,
        requested_rows: h.requested,
        accepted_rows: h.accepted,
        exact_copies_removed: h.exact_copies,
        proposals: p?.proposals ?? [],
        proposal_report: p?.report ?? null,
        usage: p?.usage ?? null,
      });
    }
    return {
      iterations_planned: s.iterations,
      joint_groups: s.groups,
      copula,
      iterations,
      final_discrepancy: s.finalDiscrepancy,
      fill_rounds: s.fillRounds,
    };
  },
};

const mallm: EngineDefinition = {
  name: "mallm-gan",
  describe: (c) =>
    `MALLM-GAN with ${c.models.generator.spec} (optimizer ${c.models.optimizer.spec}); ${c.mallm.epochs ?? "5/4/3/2"} epochs of batches of ${c.mallm.batchSize}, ${c.mallm.frozenEpochs} frozen`,
  compile: (rt, checkpointer) => buildMallmGraph(rt).compile({ checkpointer }) as unknown as EngineApp,
  input: (runDir, config) => ({ runDir, config }),
  progressNodes: ["collect", "optimize"],
  stoppedBecause: (s) => (s as unknown as MallmStateT).finalChoice?.reason ?? null,
  summary: async ({ state }) => mallmSummary(state as unknown as MallmStateT),
};

/** Registered engines. */
export const ENGINE_REGISTRY: Partial<Record<EngineName, EngineDefinition>> = {
  synthia,
  "mallm-gan": mallm,
  llmsynthor,
};

export function engineFor(name: EngineName): EngineDefinition {
  const e = ENGINE_REGISTRY[name];
  if (!e) {
    const known = Object.keys(ENGINE_REGISTRY).join(", ");
    throw new SynthgraphError(`engine ${name} is not available in this build`, {
      hint: `available engines: ${known}`,
      exitCode: 2,
    });
  }
  return e;
}
