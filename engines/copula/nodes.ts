/**
 * The nodes of the copula graph, each `(rt) => (state) => update`. No node calls a model. The fit is stored
 * under COPULA_MODEL_KEY before `fit` returns (a resumed run reads it back instead of refitting); each chunk
 * is drawn, guarded and stored before `sample` returns (graph/code-sampling.ts).
 */
import type { Predicate } from "../../data/predicate/index.ts";
import { planSamplingRound, sampleChunk, writeSampledOutput } from "../../graph/code-sampling.ts";
import type { EngineRuntime } from "../../graph/runtime.ts";
import type { ArtifactStore } from "../../state/artifacts.ts";
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import { fitCopula } from "./fit.ts";
import { copulaFitSummary } from "./fit-summary.ts";
import { type CopulaModel, copulaModelSchema } from "./model.ts";
import { sampleUnder } from "./sample-under.ts";
import { COPULA_MODEL_KEY, type CopulaStateT, type CopulaUpdate } from "./state.ts";

/** The runtime parts the nodes use (tests build exactly these). */
export type CopulaRuntime = Pick<EngineRuntime, "config" | "store" | "real">;

// The parsed model per store: chunks after the first skip re-reading and re-checking the artifact.
const loaded = new WeakMap<ArtifactStore, CopulaModel>();

async function modelOf(rt: CopulaRuntime, key: string): Promise<CopulaModel> {
  let m = loaded.get(rt.store);
  if (!m) {
    m = await rt.store.require(key, copulaModelSchema);
    loaded.set(rt.store, m);
  }
  return m;
}

/**
 * The condition every drawn row must meet: the conditions hook. Runs are unconditional until RunConfig has
 * `conditions` (graph/conditions.ts); that feature returns each group's predicate here, and `sampleUnder`
 * (sample-under.ts) already draws under it by rejection.
 */
export function chunkCondition(_s: CopulaStateT): Predicate | null {
  return null;
}

/** Loads the real table and records its reference and metadata. */
export const load =
  (rt: CopulaRuntime) =>
  async (_s: CopulaStateT): Promise<CopulaUpdate> => {
    const real = await rt.real();
    return { phase: "fit", dataset: real.dataset, metadata: real.metadata };
  };

/** Fits the copula (once per run: memoised) and records its summary. */
export const fit =
  (rt: CopulaRuntime) =>
  async (s: CopulaStateT): Promise<CopulaUpdate> => {
    const real = await rt.real();
    const { value } = await rt.store.memo(COPULA_MODEL_KEY, copulaModelSchema, async () =>
      fitCopula(real.table, real.metadata, {
        distribution: s.config.copula.distribution,
        seed: deriveSeed(s.config.seed, SEED_STREAMS.copula.fit, 0),
      }),
    );
    loaded.set(rt.store, value);
    return { phase: "sample", modelKey: COPULA_MODEL_KEY, fitSummary: copulaFitSummary(value) };
  };

/** Opens a sampling round for the rows still missing (or moves to write). */
export const planRound =
  (_rt: CopulaRuntime) =>
  async (s: CopulaStateT): Promise<CopulaUpdate> =>
    planSamplingRound(s);

/** Draws, guards and stores the round's next chunk. */
export const sample =
  (rt: CopulaRuntime) =>
  async (s: CopulaStateT): Promise<CopulaUpdate> => {
    const { metadata } = await rt.real();
    const model = await modelOf(rt, s.modelKey ?? COPULA_MODEL_KEY);
    const pred = chunkCondition(s);
    return sampleChunk(rt, s, {
      engine: "copula",
      stream: SEED_STREAMS.copula.sample,
      chunkRows: s.config.copula.chunkRows,
      draw: async (n, seed) => sampleUnder(model, n, seed, pred, metadata),
    });
  };

/** Writes every stored chunk, in order, as the output CSV. */
export const write =
  (rt: CopulaRuntime) =>
  async (s: CopulaStateT): Promise<CopulaUpdate> =>
    writeSampledOutput(rt, s);
