/**
 * MALLM-GAN (../shared/papers/001_3bd9a0a999741a39.txt §3.2, official schedule) as a LangGraph state machine.
 *
 *   init → generate → score → optimize ─(steps left)→ generate
 *                                      └─(loop done)→ choose → plan_round → wave ─Send×W→ batch → collect …
 *
 * One step = one batch of real rows: generate with theta ("batches in a batch", k examples in, k rows out per
 * call) → score with the discriminator (stats/discriminators.ts, `--discriminator`; partial fit on 80%, accuracy on the 20% held out; frozen
 * epochs: accuracy on the whole batch, no update) → store theta when enough rows were valid and re-score all
 * stored pairs with the latest discriminator → the optimizer proposes the next theta from the top-k pairs.
 * After the frozen epoch the lowest-scoring theta of the last epoch generates the N final rows through the
 * shared final generation (graph/finalize.ts: Send fan-out, privacy guard, exactly N rows).
 *
 * Wiring only: schedule, seeds and keys in state/mallm.ts, scoring in stats/mallm-score.ts and stats/sgd.ts,
 * model calls in agents/. Every model call is memoised in the artifact store under a key derived from the
 * step (or round, batch), so a re-run after a crash returns the stored result without calling the model.
 */
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import { END, START, StateGraph } from "@langchain/langgraph";
import { z } from "zod";
import { generateBatch } from "./generator.ts";
import { optimizeTheta } from "./optimizer.ts";
import { rowsToTable, tableToRows } from "../../data/rows.ts";
import type { Row } from "../../data/types.ts";
import { Accounting } from "../../models/accounting.ts";
import { type RowBatch, RowBatchSchema, RowSchema } from "../../state/artifacts.ts";
import {
  type Candidate,
  chooseFinal,
  discriminatorChunkKey,
  FINAL_THETA_KEY,
  finalExampleRows,
  heldOutKey,
  lastEpoch,
  MallmState,
  type MallmStateT,
  type MallmUpdate,
  optimizerKey,
  realBatchRows,
  resolveSchedule,
  STRUCTURE_KEY,
  type StepRecord,
  stepPosition,
  totalSteps,
  trainBatchKey,
} from "./state.ts";
import { AccountingSnapshotSchema } from "../../state/schemas.ts";
import { EdgeSchema, initialTheta, type Theta, ThetaSchema } from "./theta.ts";
import { type LabelledRows, recordBatch, type ScoredCandidate, scoreBatch, scoreFrozen } from "./score.ts";
import { takeTableRows } from "../../data/build.ts";
import {
  anyDiscriminatorSnapshotSchema,
  createDiscriminator,
  type MallmDiscriminator,
  snapshotChunkIds,
  type TrainingChunk,
  trainingChunkSchema,
} from "./classifiers.ts";
import { learnStructure } from "../../stats/structure/hill-climb.ts";
import { finalizeNodes } from "../../graph/finalize.ts";
import { type EngineRuntime, endpointFor, type RealData } from "../../graph/runtime.ts";

/** Reasons kept per batch: the artifact stays small when a model produces garbage. */
const MAX_REASONS = 20;

const StructureSchema = z.object({ edges: z.array(EdgeSchema) });
const HeldOutSchema = z.object({ real: z.array(RowSchema), synthetic: z.array(RowSchema) });
const OptimizerStepSchema = z.object({
  theta: ThetaSchema.nullable(),
  reasons: z.array(z.string()),
  attempts: z.number().int(),
  usage: AccountingSnapshotSchema,
});
const FinalThetaSchema = z.object({ theta: ThetaSchema });

/** One generator batch: k examples per call, calls in parallel, valid rows capped at the request. */
async function generateWithTheta(
  rt: EngineRuntime,
  real: RealData,
  a: { theta: Theta; examples: Row[]; seed: number },
): Promise<RowBatch> {
  const c = rt.config;
  const accounting = new Accounting();
  const out = await generateBatch({
    endpoint: endpointFor(rt, "generator", a.seed),
    metadata: real.metadata,
    theta: a.theta,
    batch: a.examples,
    k: c.mallm.examplesPerCall,
    causalOrder: c.mallm.causalOrder,
    seed: a.seed,
    accounting,
  });
  return {
    requested: out.requested,
    rows: out.rows.slice(0, out.requested),
    invalid: out.pieces.reduce((n, p) => n + p.report.dropped, 0),
    exact_copies: 0,
    reasons: out.pieces.flatMap((p) => p.report.reasons).slice(0, MAX_REASONS),
    seed: a.seed,
    usage: accounting.snapshot(),
  };
}

export function buildMallmGraph(rt: EngineRuntime) {
  // Held-out samples are immutable artifacts: parsed once per process.
  const heldOutCache = new Map<string, LabelledRows>();
  const loadHeldOut = async (key: string): Promise<LabelledRows> => {
    const hit = heldOutCache.get(key);
    if (hit) return hit;
    const real = await rt.real();
    const h = await rt.store.require(key, HeldOutSchema);
    const tables = {
      real: rowsToTable(h.real, real.metadata),
      synthetic: rowsToTable(h.synthetic, real.metadata),
    };
    heldOutCache.set(key, tables);
    return tables;
  };

  // Training chunks of a refitting discriminator are immutable (content-addressed): persisted or loaded once.
  const chunkCache = new Map<string, TrainingChunk>();
  // The discriminator the last score node left, with its snapshot's JSON: reused when the state still holds that
  // snapshot, so a forest is not refitted from its chunks at every step (only after a resume). Taken, not shared,
  // because scoring mutates it.
  let live: { json: string; disc: MallmDiscriminator } | undefined;
  const discriminatorOf = async (real: RealData, s: MallmStateT): Promise<MallmDiscriminator> => {
    const hit = live;
    live = undefined;
    if (hit !== undefined && hit.json === JSON.stringify(s.discriminator)) return hit.disc;
    const snap = s.discriminator;
    for (const id of snap === null ? [] : snapshotChunkIds(snap)) {
      if (!chunkCache.has(id))
        chunkCache.set(id, await rt.store.require(discriminatorChunkKey(id), trainingChunkSchema));
    }
    const d = createDiscriminator(s.config.mallm.discriminator, real.table, {
      standardize: s.config.mallm.standardize,
      chunks: (id) => chunkCache.get(id),
    });
    if (snap !== null) d.restore(snap);
    return d;
  };

  const init = async (s: MallmStateT): Promise<MallmUpdate> => {
    const real = await rt.real();
    const c = s.config;
    const schedule = resolveSchedule(real.table.nRows, c.mallm);
    // Structure learning is deterministic; stored so a resume does not redo it on a large table.
    const { value } = await rt.store.memo(STRUCTURE_KEY, StructureSchema, async () => ({
      edges: learnStructure(real.table, { bins: c.mallm.structureBins, seed: c.seed }).dag.edges.map(
        ([a, b]): [string, string] => [a, b],
      ),
    }));
    const theta = initialTheta({
      metadata: real.metadata,
      edges: value.edges,
      ...(c.mallm.context === undefined ? {} : { context: c.mallm.context }),
    });
    return { phase: "train", dataset: real.dataset, metadata: real.metadata, schedule, theta, iteration: 0 };
  };

  const scheduleOf = (s: MallmStateT) => {
    if (s.schedule === null) throw new Error("internal: MALLM-GAN schedule missing (init did not run)");
    return s.schedule;
  };
  const thetaOf = (s: MallmStateT): Theta => {
    if (s.theta === null) throw new Error("internal: MALLM-GAN theta missing (init did not run)");
    return s.theta;
  };

  const realRowsOf = async (s: MallmStateT): Promise<number[]> => {
    const real = await rt.real();
    const sched = scheduleOf(s);
    const { epoch, batch } = stepPosition(s.iteration, sched);
    return realBatchRows(real.table.nRows, sched, s.config.seed, epoch, batch);
  };

  const generate = async (s: MallmStateT): Promise<MallmUpdate> => {
    const real = await rt.real();
    const idx = await realRowsOf(s);
    const seed = deriveSeed(s.config.seed, SEED_STREAMS.mallm.generator, s.iteration);
    const { value } = await rt.store.memo(trainBatchKey(s.iteration), RowBatchSchema, async () =>
      generateWithTheta(rt, real, {
        theta: thetaOf(s),
        examples: tableToRows(takeTableRows(real.table, idx), real.metadata),
        seed,
      }),
    );
    return { usage: value.usage };
  };

  const score = async (s: MallmStateT): Promise<MallmUpdate> => {
    const real = await rt.real();
    const sched = scheduleOf(s);
    const pos = stepPosition(s.iteration, sched);
    const batch = await rt.store.require(trainBatchKey(s.iteration), RowBatchSchema);
    const record: StepRecord = {
      step: s.iteration,
      epoch: pos.epoch,
      batch: pos.batch,
      frozen: pos.frozen,
      theta: thetaOf(s),
      requested: batch.requested,
      valid: batch.rows.length,
      invalid: batch.invalid,
      score: null,
      stored: false,
      optimizer: null,
    };
    // No valid row: nothing to score, the discriminator is left as it is.
    if (batch.rows.length === 0) return { trajectory: [...s.trajectory, record] };
    const disc = await discriminatorOf(real, s);
    const realBatch = takeTableRows(real.table, await realRowsOf(s));
    const synthetic = rowsToTable(batch.rows, real.metadata);
    const scored = pos.frozen
      ? scoreFrozen(disc, realBatch, synthetic)
      : scoreBatch(
          disc,
          realBatch,
          synthetic,
          deriveSeed(s.config.seed, SEED_STREAMS.mallm.split, s.iteration),
          sched.testFraction,
        );
    const key = heldOutKey(s.iteration);
    const current: ScoredCandidate[] = await Promise.all(
      s.candidates.map(async (c) => ({
        id: c.heldOut,
        epoch: c.epoch,
        heldOut: await loadHeldOut(c.heldOut),
        initialScore: c.initialScore,
        score: c.score,
      })),
    );
    const next = recordBatch(
      current,
      { id: key, epoch: pos.epoch, score: scored },
      disc,
      batch.rows.length,
      batch.requested,
      {
        threshold: sched.storeThreshold,
        frozen: pos.frozen,
      },
    );
    const stored = next.length > current.length;
    if (stored) {
      await rt.store.put(key, {
        real: tableToRows(scored.heldOut.real, real.metadata),
        synthetic: tableToRows(scored.heldOut.synthetic, real.metadata),
      });
      heldOutCache.set(key, scored.heldOut);
    }
    const stepOf = new Map(s.candidates.map((c) => [c.heldOut, c.step]));
    stepOf.set(key, s.iteration);
    const candidates: Candidate[] = next.map((c) => ({
      step: stepOf.get(c.id) ?? -1,
      epoch: c.epoch,
      heldOut: c.id,
      initialScore: c.initialScore,
      score: c.score,
    }));
    const snapshot = anyDiscriminatorSnapshotSchema.parse(disc.snapshot());
    for (const [id, chunk] of disc.chunks()) {
      if (chunkCache.has(id)) continue;
      await rt.store.put(discriminatorChunkKey(id), chunk);
      chunkCache.set(id, chunk);
    }
    live = { json: JSON.stringify(snapshot), disc };
    return {
      discriminator: snapshot,
      candidates,
      trajectory: [...s.trajectory, { ...record, score: scored.accuracy, stored }],
    };
  };

  const optimize = async (s: MallmStateT): Promise<MallmUpdate> => {
    const sched = scheduleOf(s);
    const step = s.iteration;
    // After the last batch no later batch would use a new theta; with nothing stored there is nothing to show.
    if (step + 1 >= totalSteps(sched) || s.candidates.length === 0) return { iteration: step + 1 };
    const real = await rt.real();
    const thetaAt = new Map(s.trajectory.map((r) => [r.step, r.theta]));
    const seed = deriveSeed(s.config.seed, SEED_STREAMS.mallm.optimizer, step);
    const { value } = await rt.store.memo(optimizerKey(step), OptimizerStepSchema, async () => {
      const accounting = new Accounting();
      const out = await optimizeTheta({
        endpoint: endpointFor(rt, "optimizer", seed),
        metadata: real.metadata,
        pairs: s.candidates.map((c) => ({ theta: thetaAt.get(c.step) ?? thetaOf(s), score: c.score })),
        k: sched.topK,
        seed,
        accounting,
      });
      return { theta: out.theta, reasons: out.reasons, attempts: out.attempts, usage: accounting.snapshot() };
    });
    const trajectory = s.trajectory.map((r) =>
      r.step === step
        ? {
            ...r,
            optimizer: { attempts: value.attempts, accepted: value.theta !== null, reasons: value.reasons },
          }
        : r,
    );
    return {
      iteration: step + 1,
      trajectory,
      // An answer that stayed invalid after the re-ask is skipped: the current theta is kept.
      ...(value.theta === null ? {} : { theta: value.theta }),
      usage: value.usage,
    };
  };

  const choose = async (s: MallmStateT): Promise<MallmUpdate> => {
    const choice = chooseFinal(s.candidates, lastEpoch(scheduleOf(s)));
    const chosen = choice.step === null ? undefined : s.trajectory.find((r) => r.step === choice.step);
    // "initial": nothing was ever stored; theta_0 (the first batch's theta) is the only one with a known origin.
    const theta = chosen?.theta ?? s.trajectory[0]?.theta ?? thetaOf(s);
    await rt.store.put(FINAL_THETA_KEY, { theta });
    return { phase: "finalize", finalChoice: choice, theta };
  };

  const fin = finalizeNodes(rt, {
    key: FINAL_THETA_KEY,
    generate: async ({ task, seed, key }) => {
      const real = await rt.real();
      const { theta } = await rt.store.require(key, FinalThetaSchema);
      const idx = finalExampleRows(real.table.nRows, task.nRows, seed);
      const examples = tableToRows(takeTableRows(real.table, idx), real.metadata);
      return generateWithTheta(rt, real, { theta, examples, seed });
    },
  });

  return new StateGraph(MallmState)
    .addNode("init", init)
    .addNode("generate", generate)
    .addNode("score", score)
    .addNode("optimize", optimize)
    .addNode("choose", choose)
    .addNode("plan_round", (s: MallmStateT) => fin.planRound(s))
    .addNode("wave", (s: MallmStateT) => fin.wave(s))
    .addNode("batch", (input: MallmStateT) => fin.batch(input))
    .addNode("collect", (s: MallmStateT) => fin.collect(s))
    .addNode("write", (s: MallmStateT) => fin.write(s))
    .addEdge(START, "init")
    .addEdge("init", "generate")
    .addEdge("generate", "score")
    .addEdge("score", "optimize")
    .addConditionalEdges(
      "optimize",
      (s: MallmStateT) => (s.iteration < totalSteps(scheduleOf(s)) ? "generate" : "choose"),
      ["generate", "choose"],
    )
    .addEdge("choose", "plan_round")
    .addConditionalEdges("plan_round", (s: MallmStateT) => fin.afterPlan(s), ["write", "wave"])
    .addConditionalEdges("wave", (s: MallmStateT) => fin.dispatch(s), ["batch"])
    .addEdge("batch", "collect")
    .addConditionalEdges("collect", (s: MallmStateT) => fin.afterCollect(s), ["wave", "plan_round"])
    .addEdge("write", END);
}
