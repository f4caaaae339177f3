/**
 * The MALLM-GAN graph state and its pure decisions (schedule, batch plan, seeds, final theta choice), kept out
 * of graph/ (wiring only). Small by construction: generated batches and held-out samples live in the artifact
 * store under keys derived from the step; the discriminator is its O(features) snapshot (stats/classifiers/sgd.ts).
 */
import { StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import { lowestK, type MallmSchedule, mallmSchedule, finalChoice as pickFinal } from "./score.ts";
import { createRng, permutation } from "../../stats/primitives/rng.ts";
import { anyDiscriminatorSnapshotSchema } from "./classifiers.ts";
import type { MallmOptions } from "../../state/config.ts";
import { engineStateHead } from "../../state/engine-state.ts";
import { finalizeFields } from "../../state/finalize.ts";
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import { type Theta, ThetaSchema } from "./theta.ts";

export const MallmScheduleSchema = z.object({
  epochs: z.number().int().positive(),
  frozenEpochs: z.number().int().min(0),
  batchSize: z.number().int().positive(),
  batchesPerEpoch: z.number().int().positive(),
  examplesPerCall: z.number().int().positive(),
  rowsPerCall: z.number().int().positive(),
  topK: z.number().int().positive(),
  storeThreshold: z.number().min(0).max(1),
  testFraction: z.number().gt(0).lt(1),
  /** The loop's cap in batches (`--mallm-max-batches`); absent: every batch of every epoch. */
  maxSteps: z.number().int().positive().optional(),
});

/** The official schedule for `nReal` real rows (mallmSchedule) with the run's overrides. */
export function resolveSchedule(nReal: number, o: MallmOptions): MallmSchedule {
  const base = mallmSchedule(nReal);
  return {
    epochs: o.epochs ?? base.epochs,
    frozenEpochs: o.frozenEpochs,
    batchSize: o.batchSize,
    batchesPerEpoch: Math.max(1, Math.ceil(nReal / o.batchSize)),
    examplesPerCall: o.examplesPerCall,
    rowsPerCall: o.examplesPerCall,
    topK: o.topK,
    storeThreshold: o.storeThreshold,
    testFraction: o.testFraction,
    ...(o.maxBatches === undefined ? {} : { maxSteps: o.maxBatches }),
  };
}

/** Batches of the whole loop: learning epochs plus frozen epochs, at most the cap when there is one. */
export function totalSteps(s: MallmSchedule): number {
  const all = (s.epochs + s.frozenEpochs) * s.batchesPerEpoch;
  return s.maxSteps === undefined ? all : Math.min(all, s.maxSteps);
}

/** Epoch and batch of a 0-based step; `frozen` for the epochs after the learning ones. */
export function stepPosition(
  step: number,
  s: MallmSchedule,
): { epoch: number; batch: number; frozen: boolean } {
  const epoch = Math.floor(step / s.batchesPerEpoch);
  return { epoch, batch: step % s.batchesPerEpoch, frozen: epoch >= s.epochs };
}

/** The epoch the final theta is chosen from: the last one the loop reaches (the cap may end it early). */
export function lastEpoch(s: MallmSchedule): number {
  return Math.floor((totalSteps(s) - 1) / s.batchesPerEpoch);
}

/** Real rows of (epoch, batch): consecutive slices of a seeded per-epoch shuffle (official: shuffled batches). */
export function realBatchRows(
  nReal: number,
  s: MallmSchedule,
  seed: number,
  epoch: number,
  batch: number,
): number[] {
  const perm = permutation(nReal, createRng(deriveSeed(seed, SEED_STREAMS.mallm.shuffle, epoch)));
  return Array.from(perm.subarray(batch * s.batchSize, Math.min(nReal, (batch + 1) * s.batchSize)));
}

/** `n` real example rows for one final batch: a seeded shuffle, cycled with fresh shuffles when n > nReal. */
export function finalExampleRows(nReal: number, n: number, seed: number): number[] {
  const rng = createRng(seed);
  const out: number[] = [];
  while (out.length < n) {
    const perm = permutation(nReal, rng);
    for (let i = 0; i < perm.length && out.length < n; i++) out.push(perm[i]);
  }
  return out;
}

const pad = (n: number): string => String(n).padStart(5, "0");
export const trainBatchKey = (step: number): string => `mallm/train/s${pad(step)}`;
export const heldOutKey = (step: number): string => `mallm/heldout/s${pad(step)}`;
export const optimizerKey = (step: number): string => `mallm/optimizer/s${pad(step)}`;
/** A refitting discriminator's training chunk (content-addressed: engines/mallm/classifiers.ts). */
export const discriminatorChunkKey = (id: string): string => `mallm/discriminator/${id}`;
export const STRUCTURE_KEY = "mallm/structure";
export const FINAL_THETA_KEY = "mallm/final-theta";

/** A stored theta: the step that used it, its held-out sample (artifact key) and its scores (accuracy, lower = better). */
export const CandidateSchema = z.object({
  step: z.number().int(),
  epoch: z.number().int(),
  heldOut: z.string(),
  initialScore: z.number(),
  score: z.number(),
});
export type Candidate = z.infer<typeof CandidateSchema>;

/** One batch of the loop as reported in SUMMARY.json's theta trajectory. */
export const StepRecordSchema = z.object({
  step: z.number().int(),
  epoch: z.number().int(),
  batch: z.number().int(),
  frozen: z.boolean(),
  /** The theta this batch was generated with. */
  theta: ThetaSchema,
  requested: z.number().int(),
  valid: z.number().int(),
  invalid: z.number().int(),
  /** Discriminator accuracy when scored (null: no valid rows, not scored). */
  score: z.number().nullable(),
  /** Stored as a candidate (≥ storeThreshold of the requested rows valid). */
  stored: z.boolean(),
  /** The optimizer step after this batch (null: not called: no stored pair yet, or the last batch). */
  optimizer: z
    .object({ attempts: z.number().int(), accepted: z.boolean(), reasons: z.array(z.string()) })
    .nullable(),
});
export type StepRecord = z.infer<typeof StepRecordSchema>;

export const MallmFinalChoiceSchema = z.object({
  /** last_epoch: lowest score of the last epoch; best_stored: none stored there, lowest overall; initial: nothing stored. */
  reason: z.enum(["last_epoch", "best_stored", "initial"]),
  /** The loop was stopped by steering before its schedule ended. */
  stopped: z.boolean().optional(),
  step: z.number().int().nullable(),
  score: z.number().nullable(),
});
export type MallmFinalChoice = z.infer<typeof MallmFinalChoiceSchema>;

/** The final theta's candidate and why: lowest score of the last epoch, else lowest stored, else theta_0. */
export function chooseFinal(candidates: readonly Candidate[], epoch: number): MallmFinalChoice {
  const last = pickFinal(candidates, epoch);
  if (last) return { reason: "last_epoch", step: last.step, score: last.score };
  const best = lowestK(candidates, 1)[0];
  if (best) return { reason: "best_stored", step: best.step, score: best.score };
  return { reason: "initial", step: null, score: null };
}

export const MALLM_PHASES = ["init", "train", "finalize", "write", "done"] as const;

export const MallmState = new StateSchema({
  ...engineStateHead(MALLM_PHASES),
  schedule: MallmScheduleSchema.nullable().default(null),
  /** The theta the next batch uses (after the loop: the final theta). */
  theta: ThetaSchema.nullable().default(null),
  /** Batches of the loop done (the step the next batch has; the runner's iteration counter). */
  iteration: z.number().int().default(0),
  /** The discriminator's snapshot: SGD weights, or a refit one's chunk ids (null before the first update). */
  discriminator: anyDiscriminatorSnapshotSchema.nullable().default(null),
  candidates: z.array(CandidateSchema).default(() => []),
  trajectory: z.array(StepRecordSchema).default(() => []),
  finalChoice: MallmFinalChoiceSchema.nullable().default(null),
  /** Steering feedback (userFeedback) the optimizer has been shown so far: the rest goes into the final theta. */
  feedbackSeen: z.number().int().default(0),
  ...finalizeFields(),
});

export type MallmStateT = typeof MallmState.State;
export type MallmUpdate = typeof MallmState.Update;

/** The schedule init resolved (an error before init: a node ran out of order). */
export function scheduleOf(s: Pick<MallmStateT, "schedule">): MallmSchedule {
  if (s.schedule === null) throw new Error("internal: MALLM-GAN schedule missing (init did not run)");
  return s.schedule;
}

/** The theta the next batch uses (an error before init). */
export function thetaOf(s: Pick<MallmStateT, "theta">): Theta {
  if (s.theta === null) throw new Error("internal: MALLM-GAN theta missing (init did not run)");
  return s.theta;
}

/** MALLM-GAN's fields of SUMMARY.json: the schedule, the theta trajectory per batch, and the final choice. */
export function mallmSummary(s: MallmStateT): Record<string, unknown> {
  const latest = new Map(s.candidates.map((c) => [c.step, c.score]));
  return {
    schedule: s.schedule,
    discriminator: s.config.mallm.discriminator,
    theta_trajectory: s.trajectory.map((r) => ({
      step: r.step,
      epoch: r.epoch,
      batch: r.batch,
      frozen: r.frozen,
      causal_edges: r.theta.causalEdges,
      causal_note: r.theta.causalNote,
      task: r.theta.taskInstruction,
      valid_rows: r.valid,
      requested_rows: r.requested,
      stored: r.stored,
      score: r.score,
      /** The score by the latest discriminator (the last learning epoch's; null when not stored). */
      rescored: latest.get(r.step) ?? null,
      optimizer: r.optimizer,
    })),
    final_choice: s.finalChoice,
    final_theta: s.theta,
  };
}
