/**
 * The nodes of the Bayesian-network graph, each `(rt) => (state) => update`. No node calls a model. The
 * network (DAG and CPTs) is stored under BAYESNET_MODEL_KEY before `fit` returns (a resumed run reads it back
 * instead of relearning the structure); each chunk is drawn, guarded and stored before `sample` returns
 * (graph/code-sampling.ts).
 */
import type { Predicate } from "../../data/predicate/index.ts";
import { planSamplingRound, sampleChunk, writeSampledOutput } from "../../graph/code-sampling.ts";
import type { EngineRuntime } from "../../graph/runtime.ts";
import type { ArtifactStore } from "../../state/artifacts.ts";
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import { fitBayesNet } from "./fit.ts";
import { bayesnetFitSummary } from "./fit-summary.ts";
import { type BayesNetModel, bayesNetModelSchema } from "./model.ts";
import { sampleUnder } from "./sample-under.ts";
import { BAYESNET_MODEL_KEY, type BayesnetStateT, type BayesnetUpdate } from "./state.ts";

/** The runtime parts the nodes use (tests build exactly these). */
export type BayesnetRuntime = Pick<EngineRuntime, "config" | "store" | "real">;

// The parsed network per store: chunks after the first skip re-reading and re-checking the artifact.
const loaded = new WeakMap<ArtifactStore, BayesNetModel>();

async function modelOf(rt: BayesnetRuntime, key: string): Promise<BayesNetModel> {
  let m = loaded.get(rt.store);
  if (!m) {
    m = await rt.store.require(key, bayesNetModelSchema);
    loaded.set(rt.store, m);
  }
  return m;
}

/**
 * The condition every drawn row must meet: the conditions hook. Runs are unconditional until RunConfig has
 * `conditions` (graph/conditions.ts); that feature returns each group's predicate here, and `sampleUnder`
 * (sample-under.ts) already draws under it, exactly (evidence) where the network allows and by rejection
 * for the rest.
 */
export function chunkCondition(_s: BayesnetStateT): Predicate | null {
  return null;
}

/** Loads the real table and records its reference and metadata. */
export const load =
  (rt: BayesnetRuntime) =>
  async (_s: BayesnetStateT): Promise<BayesnetUpdate> => {
    const real = await rt.real();
    return { phase: "fit", dataset: real.dataset, metadata: real.metadata };
  };

/** Learns the DAG and fits the CPTs (once per run: memoised), and records the fit's summary. */
export const fit =
  (rt: BayesnetRuntime) =>
  async (s: BayesnetStateT): Promise<BayesnetUpdate> => {
    const real = await rt.real();
    const o = s.config.bayesnet;
    const { value } = await rt.store.memo(BAYESNET_MODEL_KEY, bayesNetModelSchema, async () =>
      fitBayesNet(real.table, real.metadata, {
        bins: o.bins,
        maxParents: o.maxParents,
        pseudoCount: o.pseudoCount,
        restarts: o.restarts,
        seed: deriveSeed(s.config.seed, SEED_STREAMS.bayesnet.fit, 0),
      }),
    );
    loaded.set(rt.store, value);
    return { phase: "sample", modelKey: BAYESNET_MODEL_KEY, fitSummary: bayesnetFitSummary(value) };
  };

/** Opens a sampling round for the rows still missing (or moves to write). */
export const planRound =
  (_rt: BayesnetRuntime) =>
  async (s: BayesnetStateT): Promise<BayesnetUpdate> =>
    planSamplingRound(s);

/** Draws, guards and stores the round's next chunk. */
export const sample =
  (rt: BayesnetRuntime) =>
  async (s: BayesnetStateT): Promise<BayesnetUpdate> => {
    const { metadata } = await rt.real();
    const model = await modelOf(rt, s.modelKey ?? BAYESNET_MODEL_KEY);
    const pred = chunkCondition(s);
    return sampleChunk(rt, s, {
      engine: "bayesnet",
      stream: SEED_STREAMS.bayesnet.sample,
      chunkRows: s.config.bayesnet.chunkRows,
      draw: async (n, seed) => sampleUnder(model, n, seed, pred, metadata),
    });
  };

/** Writes every stored chunk, in order, as the output CSV. */
export const write =
  (rt: BayesnetRuntime) =>
  async (s: BayesnetStateT): Promise<BayesnetUpdate> =>
    writeSampledOutput(rt, s);
