/**
 * MALLM-GAN's nodes, each `(runtime) => (state) => update` (graph.ts wires them). Every model call is memoised in
 * the artifact store under a key derived from the step (state.ts), so a node re-run after a crash returns the
 * stored result without calling the model; the usage stored with it is returned to the state exactly once.
 */
import { z } from "zod";
import { takeTableRows } from "../../data/build.ts";
import { rowsToTable, tableToRows } from "../../data/rows.ts";
import type { Metadata, Row } from "../../data/types.ts";
import { conditionalExamples, conditionOf } from "../../graph/conditions.ts";
import { type FinalizeNodes, finalizeNodes } from "../../graph/finalize.ts";
import { describePredicate } from "../../data/predicate/describe.ts";
import { memoModelCall, type ModelCallContext } from "../../graph/model-call.ts";
import {
  appliedSteering,
  commonEffect,
  pausePoint,
  steeredConfig,
  steeringEffects,
} from "../../graph/pause.ts";
import type { SteeringRecord } from "../../state/steering.ts";
import { type EngineRuntime, endpointFor, type RealData } from "../../graph/runtime.ts";
import { Accounting } from "../../models/accounting.ts";
import { type RowBatch, RowBatchSchema } from "../../state/artifacts.ts";
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import { learnStructure } from "../../stats/structure/hill-climb.ts";
import { generateBatch } from "./generator.ts";
import { userFeedbackText } from "./prompts.ts";
import { optimizeTheta } from "./optimizer.ts";
import { recordBatch, type ScoredCandidate, scoreBatch, scoreFrozen } from "./score.ts";
import type { MallmScoreCache } from "./score-cache.ts";
import {
  type Candidate,
  chooseFinal,
  FINAL_THETA_KEY,
  finalExampleRows,
  heldOutKey,
  lastEpoch,
  type MallmStateT,
  type MallmUpdate,
  optimizerKey,
  realBatchRows,
  resolveSchedule,
  scheduleOf,
  STRUCTURE_KEY,
  type StepRecord,
  stepPosition,
  thetaOf,
  totalSteps,
  trainBatchKey,
} from "./state.ts";
import { EdgeSchema, initialTheta, type Theta, ThetaSchema } from "./theta.ts";

/** Reasons kept per batch: the artifact stays small when a model produces garbage. */
const MAX_REASONS = 20;

const StructureSchema = z.object({ edges: z.array(EdgeSchema) });
/** An optimizer step as stored (memoModelCall adds its usage). */
const OptimizerStepSchema = z.object({
  theta: ThetaSchema.nullable(),
  reasons: z.array(z.string()),
  attempts: z.number().int(),
});
const FinalThetaSchema = z.object({ theta: ThetaSchema });

/** One generator batch: k examples per call, calls in parallel, valid rows capped at the request. */
async function generateWithTheta(
  rt: Pick<EngineRuntime, "config">,
  real: RealData,
  a: { theta: Theta; examples: Row[]; condition?: { text: string; metadata: Metadata } },
  ctx: ModelCallContext,
): Promise<Omit<RowBatch, "usage">> {
  const c = rt.config;
  const out = await generateBatch({
    endpoint: ctx.endpoint,
    metadata: real.metadata,
    ...(a.condition ? { condition: a.condition } : {}),
    theta: a.theta,
    batch: a.examples,
    k: c.mallm.examplesPerCall,
    causalOrder: c.mallm.causalOrder,
    seed: ctx.seed,
    accounting: ctx.accounting,
  });
  return {
    requested: out.requested,
    rows: out.rows.slice(0, out.requested),
    invalid: out.pieces.reduce((n, p) => n + p.report.dropped, 0),
    exact_copies: 0,
    reasons: out.pieces.flatMap((p) => p.report.reasons).slice(0, MAX_REASONS),
    seed: ctx.seed,
  };
}

/** The real rows (indices) of the state's current step: its epoch's shuffle, its batch's slice. */
async function realRowsOf(rt: Pick<EngineRuntime, "real">, s: MallmStateT): Promise<number[]> {
  const real = await rt.real();
  const sched = scheduleOf(s);
  const { epoch, batch } = stepPosition(s.iteration, sched);
  return realBatchRows(real.table.nRows, sched, s.config.seed, epoch, batch);
}

/** init: the schedule, the learned structure (stored) and theta_0 from it. */
export const init =
  (rt: EngineRuntime) =>
  async (s: MallmStateT): Promise<MallmUpdate> => {
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

/** generate: the step's batch generated with the current theta from its real rows (artifact trainBatchKey). */
export const generate =
  (rt: EngineRuntime) =>
  async (s: MallmStateT): Promise<MallmUpdate> => {
    const real = await rt.real();
    const idx = await realRowsOf(rt, s);
    const { value } = await memoModelCall(rt, {
      key: trainBatchKey(s.iteration),
      schema: RowBatchSchema.omit({ usage: true }),
      role: "generator",
      seed: deriveSeed(s.config.seed, SEED_STREAMS.mallm.generator, s.iteration),
      call: (ctx) =>
        generateWithTheta(
          rt,
          real,
          { theta: thetaOf(s), examples: tableToRows(takeTableRows(real.table, idx), real.metadata) },
          ctx,
        ),
    });
    return { usage: value.usage };
  };

/**
 * score: the step's batch scored by the discriminator (learning: partial fit on 80%, accuracy on the held-out
 * 20%; frozen: accuracy on the whole batch), its theta stored when enough rows were valid, every stored pair
 * re-scored; `cache` holds what is kept between steps (score-cache.ts).
 */
export const score =
  (rt: EngineRuntime, cache: MallmScoreCache) =>
  async (s: MallmStateT): Promise<MallmUpdate> => {
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
    const disc = await cache.discriminator(s);
    const realBatch = takeTableRows(real.table, await realRowsOf(rt, s));
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
        heldOut: await cache.heldOutRows(c.heldOut),
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
      { threshold: sched.storeThreshold, frozen: pos.frozen },
    );
    const stored = next.length > current.length;
    if (stored) await cache.putHeldOut(key, scored.heldOut, real.metadata);
    const stepOf = new Map(s.candidates.map((c) => [c.heldOut, c.step]));
    stepOf.set(key, s.iteration);
    const candidates: Candidate[] = next.map((c) => ({
      step: stepOf.get(c.id) ?? -1,
      epoch: c.epoch,
      heldOut: c.id,
      initialScore: c.initialScore,
      score: c.score,
    }));
    return {
      discriminator: await cache.keep(disc),
      candidates,
      trajectory: [...s.trajectory, { ...record, score: scored.accuracy, stored }],
    };
  };

/** optimize: the next theta from the top-k stored pairs (artifact optimizerKey); the step counter advances. */
export const optimize =
  (rt: EngineRuntime) =>
  async (s: MallmStateT): Promise<MallmUpdate> => {
    const sched = scheduleOf(s);
    const step = s.iteration;
    // After the last batch no later batch would use a new theta; with nothing stored there is nothing to show.
    if (step + 1 >= totalSteps(sched) || s.candidates.length === 0) return { iteration: step + 1 };
    const real = await rt.real();
    const thetaAt = new Map(s.trajectory.map((r) => [r.step, r.theta]));
    const { value } = await memoModelCall(rt, {
      key: optimizerKey(step),
      schema: OptimizerStepSchema,
      role: "optimizer",
      seed: deriveSeed(s.config.seed, SEED_STREAMS.mallm.optimizer, step),
      call: async (ctx) => {
        const out = await optimizeTheta({
          endpoint: ctx.endpoint,
          metadata: real.metadata,
          pairs: s.candidates.map((c) => ({ theta: thetaAt.get(c.step) ?? thetaOf(s), score: c.score })),
          k: sched.topK,
          ...(s.userFeedback.length > 0 ? { userFeedback: s.userFeedback } : {}),
          seed: ctx.seed,
          accounting: ctx.accounting,
        });
        return { theta: out.theta, reasons: out.reasons, attempts: out.attempts };
      },
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
      feedbackSeen: s.userFeedback.length,
      trajectory,
      // An answer that stayed invalid after the re-ask is skipped: the current theta is kept.
      ...(value.theta === null ? {} : { theta: value.theta }),
      usage: value.usage,
    };
  };

/** choose: the final theta (lowest score of the last epoch, else lowest stored, else theta_0), stored. */
export const choose =
  (rt: EngineRuntime) =>
  async (s: MallmStateT): Promise<MallmUpdate> => {
    const sched = scheduleOf(s);
    const stopped = s.stopRequested && s.iteration < totalSteps(sched);
    const picked = chooseFinal(s.candidates, lastEpoch(sched));
    const choice = stopped ? { ...picked, stopped: true } : picked;
    const chosen = choice.step === null ? undefined : s.trajectory.find((r) => r.step === choice.step);
    // "initial": nothing was ever stored; theta_0 (the first batch's theta) is the only one with a known origin.
    const base = chosen?.theta ?? s.trajectory[0]?.theta ?? thetaOf(s);
    // Steering feedback no optimizer step has seen goes into the final theta's guidance.
    const unseen = s.userFeedback.slice(s.feedbackSeen);
    const theta =
      unseen.length === 0
        ? base
        : { ...base, causalNote: [base.causalNote, userFeedbackText(unseen)].filter(Boolean).join("\n") };
    await rt.store.put(FINAL_THETA_KEY, { theta });
    return { phase: "finalize", finalChoice: choice, theta };
  };

/**
 * The state update of steering actions given at MALLM-GAN's pause point: feedback goes to the optimizer's input
 * (or, when no optimizer step follows, into the final theta), rows change N, stop ends the loop. Pure.
 */
export function applyMallmSteering(s: MallmStateT, records: readonly SteeringRecord[]): MallmUpdate {
  const e = steeringEffects(records);
  const lastStep = s.iteration >= totalSteps(scheduleOf(s));
  const effect = (a: SteeringRecord["action"]): string =>
    a.type === "feedback"
      ? lastStep || e.stop
        ? "added to the final theta's guidance"
        : "shown to the optimizer from its next step on"
      : a.type === "stop"
        ? lastStep
          ? "the loop had already ended"
          : `loop stopped after ${s.iteration} of ${totalSteps(scheduleOf(s))} batches; the best stored theta generates the output`
        : commonEffect(a);
  return {
    userFeedback: [...s.userFeedback, ...e.feedback],
    ...steeredConfig(s.config, e),
    ...(e.stop ? { stopRequested: true } : {}),
    steering: [
      ...s.steering,
      ...appliedSteering(records, { iteration: s.iteration, phase: s.phase }, effect),
    ],
  };
}

/** The pause point's diagnostics after step t: the batch's score and the optimizer's step. */
export function mallmPausePoint(s: MallmStateT) {
  const last = s.trajectory[s.trajectory.length - 1];
  const best = s.candidates.reduce<Candidate | undefined>(
    (b, c) => (b === undefined || c.score < b.score ? c : b),
    undefined,
  );
  const opt = last?.optimizer;
  const parts = last
    ? [
        `batch ${last.step + 1} (epoch ${last.epoch + 1}${last.frozen ? ", frozen" : ""}): ${last.valid}/${last.requested} rows valid`,
        last.score === null ? "not scored" : `discriminator accuracy ${last.score.toFixed(3)}`,
        opt === null
          ? "no optimizer step"
          : opt.accepted
            ? "optimizer proposed a new theta"
            : "optimizer answer rejected",
      ]
    : ["no batch yet"];
  return {
    engine: "mallm-gan",
    iteration: s.iteration,
    next:
      s.stopRequested || s.iteration >= totalSteps(scheduleOf(s)) ? ("final" as const) : ("iterate" as const),
    scores: { accuracy: last?.score ?? null, best_stored: best?.score ?? null },
    summary: parts.join("; "),
    rows: s.config.rows,
  };
}

/** pause: MALLM-GAN's pause point after each optimizer step. No model call (it re-runs from its top on resume). */
export const pause =
  (_rt: EngineRuntime) =>
  async (s: MallmStateT): Promise<MallmUpdate> => {
    const records = await pausePoint(s.runDir, mallmPausePoint(s));
    return records === null || records.length === 0 ? {} : applyMallmSteering(s, records);
  };

/** The shared final generation's nodes with MALLM-GAN's batch: the chosen theta, fresh real examples per batch. */
export const finalGeneration = (rt: EngineRuntime): FinalizeNodes =>
  finalizeNodes(rt, {
    key: FINAL_THETA_KEY,
    generate: async ({ task, seed, key }) => {
      const real = await rt.real();
      const { theta } = await rt.store.require(key, FinalThetaSchema);
      const cond = conditionOf(rt.config, real.metadata, task.group);
      // Conditional: real examples that satisfy the condition (repeated when fewer than the batch), so the
      // "batches in a batch" shape (k examples in, k rows out) holds; none satisfies it: the usual examples.
      const satisfying = cond ? conditionalExamples(cond, real.table, task.nRows, seed, true) : [];
      const idx = satisfying.length > 0 ? satisfying : finalExampleRows(real.table.nRows, task.nRows, seed);
      const examples = tableToRows(takeTableRows(real.table, idx), real.metadata);
      // Not memoised here: the shared final generation stores the whole batch (after the privacy guard).
      const accounting = new Accounting();
      const endpoint = endpointFor(rt, "generator", seed);
      const condition = cond
        ? { text: `${cond.where} (${describePredicate(cond.predicate)})`, metadata: cond.narrowed.metadata }
        : undefined;
      const batch = await generateWithTheta(
        rt,
        real,
        { theta, examples, ...(condition ? { condition } : {}) },
        { endpoint, accounting, seed },
      );
      return { ...batch, usage: accounting.snapshot() };
    },
  });
