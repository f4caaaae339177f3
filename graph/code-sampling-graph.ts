/**
 * The graph of every engine that fits a model once and draws rows by code (copula, bayesnet): one builder,
 * the engine supplies only a `CodeSampler` (how it fits, summarises and draws). No model call anywhere.
 *
 *   load → fit → plan_round ─(rows missing)→ sample ⟲ (a chunk per step, condition check and privacy guard inside)
 *                   ↑                           │
 *                   └──────(round drawn)────────┘
 *              plan_round ─(N rows kept)→ write → END
 *
 * The fit is stored under the sampler's modelKey before `fit` returns (a resumed run reads it back instead of
 * refitting); the rounds, chunks and per-group conditions are graph/code-sampling.ts. Nodes and routers are
 * the named exports below, `(rt, sampler) => (state) => update`; `buildCodeSamplingGraph` is wiring only.
 */
import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import type { Predicate } from "../data/predicate/index.ts";
import type { Metadata, Table } from "../data/types.ts";
import type { ArtifactStore } from "../state/artifacts.ts";
import type { RunConfig } from "../state/config.ts";
import { engineStateHead } from "../state/engine-state.ts";
import { outputFields } from "../state/finalize.ts";
import {
  afterPlanRound,
  afterSampleChunk,
  planSamplingRound,
  sampleChunk,
  sampledConditionsSummary,
  type SamplingUpdate,
  type SamplingView,
  samplingFields,
  writeSampledOutput,
} from "./code-sampling.ts";
import type { EngineRuntime, RealData } from "./runtime.ts";

/** What an engine that samples by code supplies: its model's artifact, its fit, its summary and its draw. */
export interface CodeSampler<M, F> {
  /** The engine's name: chunk artifacts are `<engine>/sample/...`. */
  readonly engine: string;
  /** Artifact key of the fitted model, stored once per run. */
  readonly modelKey: string;
  /** The model as stored (read back on resume). */
  readonly modelSchema: z.ZodType<M>;
  /** Seed stream of the sampled chunks (state/seeds.ts SEED_STREAMS). */
  readonly stream: number;
  /** Rows per stored chunk (the engine's option). */
  chunkRows(config: RunConfig): number;
  /** Fits the model to the real table (seeded from the config). */
  fit(real: RealData, config: RunConfig): M;
  /** SUMMARY.json's `fit` and the progress line. */
  summarize(model: M): F;
  /**
   * n rows, each satisfying `condition` when one is given (the engine's conditional sampler), seeded;
   * `onDrawn` hears every batch of rows the model drew to find them (rejected ones included).
   */
  draw(
    model: M,
    n: number,
    seed: number,
    condition: Predicate | null,
    metadata: Metadata,
    onDrawn: (rows: number) => void,
  ): Table;
}

export const CODE_SAMPLING_PHASES = ["init", "fit", "sample", "write", "done"] as const;

/**
 * The graph state of an engine that samples by code: the shared head, the fitted model's artifact key and its
 * summary (`fitSummary`, the engine's schema), the sampling rounds and the output fields. Rows live in the
 * artifact store as chunks.
 */
export function codeSamplingState<F extends z.ZodType>(fitSummary: F) {
  return new StateSchema({
    ...engineStateHead(CODE_SAMPLING_PHASES),
    /** No refinement loop: stays 0 (run.json's iterations). */
    iteration: z.number().int().default(0),
    modelKey: z.string().nullable().default(null),
    fitSummary: fitSummary.nullable().default(null),
    ...samplingFields(),
    // accepted = rows kept after the condition check and the privacy guard; invalidRows stays 0 (rows are
    // drawn inside the real ranges and levels by construction); usage stays empty (no model call).
    ...outputFields(),
  });
}

/** What the nodes read from the state. */
export interface CodeSamplingView extends SamplingView {
  phase: string;
  modelKey: string | null;
}

export interface CodeSamplingUpdate<F> extends Omit<SamplingUpdate, "phase"> {
  phase?: (typeof CODE_SAMPLING_PHASES)[number];
  dataset?: RealData["dataset"];
  metadata?: Metadata;
  modelKey?: string;
  fitSummary?: F;
}

/** The runtime parts the nodes use (tests build exactly these). */
export type CodeSamplingRuntime = Pick<EngineRuntime, "store" | "real">;

// The parsed model per store and key: chunks after the first skip re-reading and re-checking the artifact.
const loaded = new WeakMap<ArtifactStore, Map<string, unknown>>();

function remember(store: ArtifactStore, key: string, model: unknown): void {
  let m = loaded.get(store);
  if (m === undefined) {
    m = new Map();
    loaded.set(store, m);
  }
  m.set(key, model);
}

async function modelOf<M>(rt: CodeSamplingRuntime, key: string, schema: z.ZodType<M>): Promise<M> {
  const known = loaded.get(rt.store)?.get(key);
  if (known !== undefined) return known as M;
  const m = await rt.store.require(key, schema);
  remember(rt.store, key, m);
  return m;
}

/** Loads the real table and records its reference and metadata. */
export const loadNode =
  <F>(rt: CodeSamplingRuntime) =>
  async (_s: CodeSamplingView): Promise<CodeSamplingUpdate<F>> => {
    const real = await rt.real();
    return { phase: "fit", dataset: real.dataset, metadata: real.metadata };
  };

/** Fits the model (once per run: memoised under the sampler's modelKey) and records its summary. */
export const fitNode =
  <M, F>(rt: CodeSamplingRuntime, sampler: CodeSampler<M, F>) =>
  async (s: CodeSamplingView): Promise<CodeSamplingUpdate<F>> => {
    const real = await rt.real();
    const { value } = await rt.store.memo(sampler.modelKey, sampler.modelSchema, async () =>
      sampler.fit(real, s.config),
    );
    remember(rt.store, sampler.modelKey, value);
    return { phase: "sample", modelKey: sampler.modelKey, fitSummary: sampler.summarize(value) };
  };

/** Opens a sampling round for the rows still missing, per group when conditional (or moves to write). */
export const planRoundNode =
  <F>(_rt: CodeSamplingRuntime) =>
  async (s: CodeSamplingView): Promise<CodeSamplingUpdate<F>> =>
    planSamplingRound(s);

/** Draws (under the chunk's condition), checks, guards and stores the round's next chunk. */
export const sampleNode =
  <M, F>(rt: CodeSamplingRuntime, sampler: CodeSampler<M, F>) =>
  async (s: CodeSamplingView): Promise<CodeSamplingUpdate<F>> => {
    const { metadata } = await rt.real();
    const model = await modelOf(rt, s.modelKey ?? sampler.modelKey, sampler.modelSchema);
    return sampleChunk(rt, s, {
      engine: sampler.engine,
      stream: sampler.stream,
      chunkRows: sampler.chunkRows(s.config),
      draw: async (n, seed, condition) => {
        let drawn = 0;
        const table = sampler.draw(model, n, seed, condition, metadata, (rows) => {
          drawn += rows;
        });
        // Unconditional (or a draw that never rejects): the rows drawn are the rows returned.
        return { table, drawn: condition === null || drawn === 0 ? n : drawn };
      },
    });
  };

/** Writes every stored chunk, in order (group after group when conditional), as the output CSV. */
export const writeNode =
  <F>(rt: CodeSamplingRuntime) =>
  async (s: CodeSamplingView): Promise<CodeSamplingUpdate<F>> =>
    writeSampledOutput(rt, s);

/** After plan_round: draw the round's chunks, or write once N rows (N per group) are kept. */
export function afterPlan(s: Pick<CodeSamplingView, "phase">): "sample" | "write" {
  return afterPlanRound(s);
}

/** After sample: the round's next chunk, or plan the next round (top-up or write). */
export const afterSample =
  <M, F>(sampler: CodeSampler<M, F>) =>
  (
    s: Pick<CodeSamplingView, "config" | "roundRows" | "roundGroups" | "nextChunk">,
  ): "sample" | "plan_round" =>
    afterSampleChunk(s, sampler.chunkRows(s.config));

/** The engine's graph: the shared nodes and edges over its state schema and its sampler. */
export function buildCodeSamplingGraph<F extends z.ZodType, M>(
  state: ReturnType<typeof codeSamplingState<F>>,
  sampler: CodeSampler<M, z.infer<F>>,
  rt: CodeSamplingRuntime,
) {
  return new StateGraph(state)
    .addNode("load", loadNode<z.infer<F>>(rt))
    .addNode("fit", fitNode(rt, sampler))
    .addNode("plan_round", planRoundNode<z.infer<F>>(rt))
    .addNode("sample", sampleNode(rt, sampler))
    .addNode("write", writeNode<z.infer<F>>(rt))
    .addEdge(START, "load")
    .addEdge("load", "fit")
    .addEdge("fit", "plan_round")
    .addConditionalEdges("plan_round", afterPlan, ["sample", "write"])
    .addConditionalEdges("sample", afterSample(sampler), ["sample", "plan_round"])
    .addEdge("write", END);
}

/**
 * The engine's part of SUMMARY.json: the fit, the sampling rounds and, for a conditional run, per group what
 * its chunks drew, dropped and kept (graph/code-sampling.ts sampledConditionsSummary; the shared summary's
 * model-call record of conditions does not apply to code).
 */
export async function codeSamplingSummary<M, F>(
  s: CodeSamplingView & { fitSummary: F | null },
  sampler: CodeSampler<M, F>,
  store: Pick<ArtifactStore, "require">,
): Promise<Record<string, unknown>> {
  return {
    fit: s.fitSummary,
    sampling: {
      rounds: s.roundRows.length,
      rows_planned_per_round: s.roundRows,
      ...(s.config.conditions === undefined ? {} : { rows_planned_per_group: s.roundGroups }),
      chunks: s.chunks.length,
      chunk_rows: sampler.chunkRows(s.config),
    },
    ...(s.config.conditions === undefined
      ? {}
      : { conditions: await sampledConditionsSummary(s.config, store, s.chunks) }),
  };
}
