/**
 * The SYNTHIA graph's nodes (graph.ts wires them). Each is `(rt) => (state) => update`: the runtime brings the
 * config, the artifact store, the real table and the model environment; the state brings the loop's small
 * values. Every node that calls a model goes through memoModelCall, so a re-run after a crash returns the
 * stored result (and its usage, counted once) without calling the model again.
 */
import { basename } from "node:path";
import { z } from "zod";
import { describeColumns } from "../../agents/metadata.ts";
import { generateRows } from "../../agents/generator.ts";
import { takeTableRows } from "../../data/build.ts";
import { rowsToTable, tableToRows } from "../../data/rows.ts";
import type { Metadata, Row } from "../../data/types.ts";
import { Accounting, type AccountingSnapshot } from "../../models/accounting.ts";
import { type FinalBatchGenerator, type FinalizeNodes, finalizeNodes } from "../../graph/finalize.ts";
import {
  conditionalExamples,
  conditionOf,
  conditionPromptLines,
  type RunCondition,
} from "../../graph/conditions.ts";
import { memoModelCall, type ModelCallContext } from "../../graph/model-call.ts";
import {
  appliedSteering,
  commonEffect,
  pausePoint,
  steeredConfig,
  steeringEffects,
} from "../../graph/pause.ts";
import { type EngineRuntime, endpointFor, type RealData, rowEncodingOf } from "../../graph/runtime.ts";
import type { RowEncoding } from "../../data/compact.ts";
import {
  DESCRIPTIONS_KEY,
  discriminationKey,
  probeKey,
  type RowBatch,
  RowBatchSchema,
} from "../../state/artifacts.ts";
import {
  type IterationRecord,
  reviveDiagnostics,
  storeDiagnostics,
  VerdictSchema,
} from "../../state/schemas.ts";
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import type { SteeringRecord } from "../../state/steering.ts";
import { renderAnalysis } from "./analysis-text.ts";
import { analyze, type Diagnostics, DEFAULT_GUARD, statisticalGuard, stratifiedSample } from "./analyzer.ts";
import { bestIteration, decide } from "./decisions.ts";
import { discriminate } from "./discriminator.ts";
import { buildGeneratorPrompt } from "./prompts.ts";
import type { SynthiaStateT, SynthiaUpdate } from "./state.ts";

type Verdict = z.infer<typeof VerdictSchema>;

/** The discriminator's stored answer (memoModelCall adds the usage). */
const DiscriminationSchema = z.object({ analysis: z.string(), verdict: VerdictSchema });
/** The metadata agent's stored descriptions (memoModelCall adds the usage). */
const DescriptionsSchema = z.object({ descriptions: z.record(z.string(), z.string()) });
/** A stored probe without its usage (memoModelCall adds it). */
const ProbeSchema = RowBatchSchema.omit({ usage: true });

/** What U(M, X_sub, F) needs besides M: each final batch builds its prompt for its own row count. */
export const PromptInputsSchema = z.object({
  feedback: z.array(z.string()),
  xSub: z.array(z.number().int()),
  descriptions: z.record(z.string(), z.string()),
});
export const FINAL_PROMPT_KEY = "prompts/final";

/** Reasons shown per batch are capped: the artifact stays small when a model produces garbage. */
const MAX_REASONS = 20;

const finiteOrNull = (x: number | undefined): number | null =>
  x !== undefined && Number.isFinite(x) ? x : null;

/** The feedback a "Real" overruled by the statistical guard is refined with. */
export function guardReasonsFeedback(reasons: readonly string[]): string {
  return `The statistical analyzer shows the data is still clearly distinguishable: ${reasons.join("; ")}.`;
}

/** The verdict of a probe without a single valid row (no model call: there is nothing to judge). */
export function emptyProbeVerdict(probe: Pick<RowBatch, "requested" | "reasons">): Verdict {
  const why = probe.reasons.slice(0, 3).join("; ");
  return {
    type: "Synthetic",
    feedback: `None of the ${probe.requested} rows was valid${why ? ` (${why})` : ""}: output exactly the requested format with values inside the stated ranges and categories.`,
  };
}

/** Rows of X_sub (the examples of the prompt). */
function examplesOf(real: RealData, xSub: readonly number[]): Row[] {
  return tableToRows(takeTableRows(real.table, xSub), real.metadata);
}

/** Calls the generator and keeps validated rows, capped at the request (the privacy guard is the caller's). */
async function generatorRows(
  real: RealData,
  ctx: ModelCallContext,
  a: { prompt: string; nRows: number; schemaMetadata?: Metadata },
): Promise<Omit<RowBatch, "exact_copies" | "usage">> {
  const out = await generateRows({
    endpoint: ctx.endpoint,
    metadata: real.metadata,
    prompt: a.prompt,
    nRows: a.nRows,
    seed: ctx.seed,
    accounting: ctx.accounting,
    ...(a.schemaMetadata ? { schemaMetadata: a.schemaMetadata } : {}),
  });
  return {
    requested: a.nRows,
    rows: out.rows.slice(0, a.nRows),
    invalid: out.report.dropped,
    reasons: out.report.reasons.slice(0, MAX_REASONS),
    seed: ctx.seed,
  };
}

/** P = U(M, X_sub, F) for `nRows` rows. */
function promptFor(
  real: RealData,
  s: Pick<SynthiaStateT, "xSub" | "descriptions">,
  feedback: readonly string[],
  nRows: number,
  encoding: RowEncoding,
): string {
  return buildGeneratorPrompt({
    encoding,
    metadata: real.metadata,
    examples: examplesOf(real, s.xSub),
    feedback: [...feedback],
    nRows,
    descriptions: s.descriptions,
  });
}

/**
 * U(M, X_sub, F) conditioned at the source (graph/conditions.ts): the schema lines from the condition's
 * narrowed metadata (levels restricted, ranges tightened), real examples that satisfy the condition (drawn per
 * batch; the unconditioned X_sub only when no real row satisfies it), the chosen feedback, and the condition
 * stated before the output format.
 */
function conditionalPrompt(
  real: RealData,
  inputs: z.infer<typeof PromptInputsSchema>,
  cond: RunCondition,
  nRows: number,
  seed: number,
  encoding: RowEncoding,
  k: number,
): string {
  const idx = conditionalExamples(cond, real.table, k, seed);
  const examples = idx.length > 0 ? examplesOf(real, idx) : examplesOf(real, inputs.xSub);
  const base = buildGeneratorPrompt({
    encoding,
    metadata: cond.narrowed.metadata,
    examples,
    feedback: [...inputs.feedback],
    nRows,
    descriptions: inputs.descriptions,
  });
  const at = base.lastIndexOf("\n## Output\n");
  return `${base.slice(0, at)}\n\n${conditionPromptLines(cond, idx.length).join("\n")}\n${base.slice(at)}`;
}

/** init: X_sub (stratified), the column descriptions (user's, else the metadata agent's, memoised), P_0. */
export const init =
  (rt: EngineRuntime) =>
  async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    const real = await rt.real();
    const c = s.config;
    const strata = c.target ?? real.metadata.target;
    const xSub = Array.from(
      stratifiedSample(real.table, Math.min(c.examples, real.table.nRows), strata, c.seed),
    );
    const user: Record<string, string> = {};
    for (const col of real.metadata.columns) if (col.description) user[col.name] = col.description;
    let descriptions = user;
    let usage: AccountingSnapshot | undefined;
    if (c.describeColumns) {
      const { value } = await memoModelCall(rt, {
        key: DESCRIPTIONS_KEY,
        schema: DescriptionsSchema,
        role: "metadata",
        seed: deriveSeed(c.seed, SEED_STREAMS.synthia.metadata, 0),
        call: async ({ endpoint, accounting }) => ({
          descriptions: await describeColumns({
            endpoint,
            metadata: real.metadata,
            fileName: basename(real.dataset.path),
            sampleRows: examplesOf(real, xSub),
            accounting,
          }),
        }),
      });
      descriptions = { ...value.descriptions, ...user };
      usage = value.usage;
    }
    return {
      phase: "iterate",
      dataset: real.dataset,
      metadata: real.metadata,
      xSub,
      descriptions,
      feedback: [],
      prompt: promptFor(real, { xSub, descriptions }, [], c.probeRows, rowEncodingOf(rt)),
      ...(usage ? { usage } : {}),
    };
  };

/** generate: probe t+1 from P_t (memoised under probeKey; probes are never written out, so no privacy guard). */
export const generateProbe =
  (rt: EngineRuntime) =>
  async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    const real = await rt.real();
    const it = s.iteration + 1;
    const key = probeKey(it);
    const { value } = await memoModelCall(rt, {
      key,
      schema: ProbeSchema,
      role: "generator",
      seed: deriveSeed(s.config.seed, SEED_STREAMS.synthia.probe, it),
      call: async (ctx) => ({
        ...(await generatorRows(real, ctx, { prompt: s.prompt, nRows: s.config.probeRows })),
        exact_copies: 0,
      }),
    });
    // A cached artifact means the previous attempt crashed before its checkpoint, so its usage was never
    // added to the state: returning it now counts it exactly once.
    return { iteration: it, probe: key, usage: value.usage };
  };

/** analyze: S_t of the probe against the real table (null when the probe has no valid row). */
export const analyzeProbe =
  (rt: EngineRuntime) =>
  async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    const real = await rt.real();
    const probe = await rt.store.require(s.probe ?? "", RowBatchSchema);
    if (probe.rows.length === 0) return { diagnostics: null };
    return { diagnostics: storeDiagnostics(analyze(real.table, rowsToTable(probe.rows, real.metadata))) };
  };

/** The record of one iteration in `history`: counts, scores, verdict and the feedback it produced. */
function iterationRecord(
  s: SynthiaStateT,
  probe: RowBatch,
  d: Diagnostics | null,
  verdict: Verdict,
  guardReasons: string[],
  overruled: boolean,
): IterationRecord {
  return {
    iteration: s.iteration,
    feedback_in: s.feedback,
    probe: s.probe ?? "",
    requested: probe.requested,
    valid: probe.rows.length,
    invalid: probe.invalid,
    scores: {
      similarity: finiteOrNull(d?.similarity),
      coverage: finiteOrNull(d?.coverage),
      divergence: finiteOrNull(d?.divergence),
      correlation_similarity: finiteOrNull(d?.correlation_similarity),
    },
    verdict: verdict.type,
    ...(verdict.type === "Synthetic"
      ? { feedback: verdict.feedback }
      : overruled
        ? { feedback: guardReasonsFeedback(guardReasons) }
        : {}),
    overruled,
    guard_reasons: guardReasons,
  };
}

/**
 * discriminate: the LLM judge's verdict on the probe (memoised under discriminationKey), the statistical guard,
 * and the decision: finalize (converged, or max iterations with the best iteration's feedback) or refine with
 * the new feedback appended.
 */
export const discriminateProbe =
  (rt: EngineRuntime) =>
  async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    const real = await rt.real();
    const c = s.config;
    const probe = await rt.store.require(s.probe ?? "", RowBatchSchema);
    const d = s.diagnostics === null ? null : reviveDiagnostics(s.diagnostics);
    let verdict: Verdict;
    let usage: AccountingSnapshot | undefined;
    if (d === null || probe.rows.length === 0) {
      verdict = emptyProbeVerdict(probe);
    } else {
      const synth = rowsToTable(probe.rows, real.metadata);
      const analysisText = renderAnalysis(d, real.metadata, real.table, synth);
      const { value } = await memoModelCall(rt, {
        key: discriminationKey(s.iteration),
        schema: DiscriminationSchema,
        role: "discriminator",
        seed: deriveSeed(c.seed, SEED_STREAMS.synthia.discriminator, s.iteration),
        call: async ({ endpoint, accounting, seed }) => {
          const r = await discriminate({
            endpoint,
            metadata: real.metadata,
            realSample: examplesOf(real, s.xSub),
            syntheticSample: probe.rows.slice(0, Math.max(1, c.examples)),
            analysisText,
            seed,
            accounting,
          });
          return { analysis: r.analysis, verdict: r.verdict };
        },
      });
      verdict = value.verdict;
      usage = value.usage;
    }
    const guardReasons =
      c.guard && d !== null ? statisticalGuard(d, { ...DEFAULT_GUARD, ...c.guardOptions }) : [];
    const decision = decide(verdict.type, guardReasons, s.iteration, c.maxIterations);
    const record = iterationRecord(s, probe, d, verdict, guardReasons, decision.overruled);
    const history = [...s.history, record];
    const update: SynthiaUpdate = { verdict, guardReasons, history, ...(usage ? { usage } : {}) };
    if (decision.next === "finalize") {
      const chosen = decision.reason === "converged" ? record : (bestIteration(history) ?? record);
      return {
        ...update,
        phase: "finalize",
        finalChoice: { reason: decision.reason, iteration: chosen.iteration, feedback: chosen.feedback_in },
      };
    }
    return {
      ...update,
      feedback: record.feedback === undefined ? s.feedback : [...s.feedback, record.feedback],
    };
  };

/**
 * The state update of steering actions given at SYNTHIA's pause point: feedback joins F_t (and the final
 * prompt's feedback when the loop has ended), rows change N, stop ends the loop with the best iteration's
 * feedback plus the user's. Pure: the pause node calls it with the actions of the resume.
 */
export function applySynthiaSteering(s: SynthiaStateT, records: readonly SteeringRecord[]): SynthiaUpdate {
  const e = steeringEffects(records);
  const userFeedback = [...s.userFeedback, ...e.feedback];
  const update: SynthiaUpdate = {
    userFeedback,
    feedback: [...s.feedback, ...e.feedback],
    ...steeredConfig(s.config, e),
  };
  let finalChoice = s.finalChoice;
  let stopEffect = "the loop had already ended";
  if (finalChoice !== null) {
    finalChoice = { ...finalChoice, feedback: [...finalChoice.feedback, ...e.feedback] };
  } else if (e.stop) {
    const best = bestIteration(s.history);
    const base = best?.feedback_in ?? s.feedback;
    const mine = userFeedback.filter((f) => !base.includes(f));
    finalChoice = {
      reason: "stopped",
      iteration: best?.iteration ?? s.iteration,
      feedback: [...base, ...mine],
    };
    update.phase = "finalize";
    update.stopRequested = true;
    stopEffect = `loop stopped; the final prompt uses iteration ${finalChoice.iteration}'s feedback and the user's`;
  }
  if (finalChoice !== s.finalChoice) update.finalChoice = finalChoice;
  const effect = (a: SteeringRecord["action"]): string =>
    a.type === "feedback"
      ? s.finalChoice === null
        ? "added to the generator's feedback F_t"
        : "added to the final prompt's feedback"
      : a.type === "stop"
        ? stopEffect
        : commonEffect(a);
  update.steering = [
    ...s.steering,
    ...appliedSteering(records, { iteration: s.iteration, phase: s.phase }, effect),
  ];
  return update;
}

/** The pause point's diagnostics after probe t: its scores and verdict. */
export function synthiaPausePoint(s: SynthiaStateT) {
  const last = s.history[s.history.length - 1];
  const verdict = last
    ? `verdict ${last.verdict}${last.overruled ? " (overruled by the statistical guard)" : ""}; ${last.valid}/${last.requested} probe rows valid`
    : "no probe yet";
  return {
    engine: "synthia",
    iteration: s.iteration,
    next: s.phase === "finalize" ? ("final" as const) : ("iterate" as const),
    scores: last ? { ...last.scores } : {},
    summary: last?.feedback ? `${verdict}; feedback: ${last.feedback}` : verdict,
    rows: s.config.rows,
  };
}

/**
 * pause: SYNTHIA's pause point, after the discriminator's verdict (so also right before the final generation
 * when the loop ended). No model call: on resume LangGraph re-runs it from its top.
 */
export const pause =
  (_rt: EngineRuntime) =>
  async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    const records = await pausePoint(s.runDir, synthiaPausePoint(s));
    return records === null || records.length === 0 ? {} : applySynthiaSteering(s, records);
  };

/** refine: P_{t+1} = U(M, X_sub, F_t) for the next probe. */
export const refinePrompt =
  (rt: EngineRuntime) =>
  async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    const real = await rt.real();
    return { prompt: promptFor(real, s, s.feedback, s.config.probeRows, rowEncodingOf(rt)) };
  };

/**
 * The examples of one final batch: a stratified sample of k real rows drawn with the batch's own seed, so the
 * batches do not all copy the same k rows (the probes keep X_sub: their scores must stay comparable).
 */
export function finalBatchExamples(
  real: RealData,
  c: Pick<SynthiaStateT["config"], "examples" | "target">,
  batchSeed: number,
): number[] {
  const strata = c.target ?? real.metadata.target;
  const seed = deriveSeed(batchSeed, SEED_STREAMS.synthia.finalExamples, 0);
  return Array.from(stratifiedSample(real.table, Math.min(c.examples, real.table.nRows), strata, seed));
}

/** One final batch: its prompt built from the stored final prompt inputs for its own row count and examples. */
export const generateFinalBatch =
  (rt: EngineRuntime): FinalBatchGenerator =>
  async ({ task, seed, key }) => {
    const real = await rt.real();
    const inputs = await rt.store.require(key, PromptInputsSchema);
    const cond = conditionOf(rt.config, real.metadata, task.group);
    const prompt = cond
      ? conditionalPrompt(real, inputs, cond, task.nRows, seed, rowEncodingOf(rt), rt.config.examples)
      : promptFor(
          real,
          { ...inputs, xSub: finalBatchExamples(real, rt.config, seed) },
          inputs.feedback,
          task.nRows,
          rowEncodingOf(rt),
        );
    // No memo here: graph/finalize.ts memoises the whole batch (with the privacy guard) under its own key.
    const accounting = new Accounting();
    const ctx = { endpoint: endpointFor(rt, "generator", seed), accounting, seed };
    const batch = await generatorRows(real, ctx, {
      prompt,
      nRows: task.nRows,
      ...(cond ? { schemaMetadata: cond.narrowed.metadata } : {}),
    });
    return { ...batch, usage: accounting.snapshot() };
  };

/** The shared final-generation nodes with SYNTHIA's batch generator. */
export const finalGeneration = (rt: EngineRuntime): FinalizeNodes =>
  finalizeNodes(rt, { key: FINAL_PROMPT_KEY, generate: generateFinalBatch(rt), dedupe: (c) => c.dedupe });

/**
 * plan_round: before the first round, stores P_final's inputs (the chosen iteration's feedback) for the batches
 * and sets the prompt of batch size batchRows; every round then plans as the shared final generation does.
 */
export const planFinalRound = (rt: EngineRuntime) => {
  const fin = finalGeneration(rt);
  return async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    if (s.roundRows.length > 0) return await fin.planRound(s);
    const real = await rt.real();
    const feedback = s.finalChoice?.feedback ?? s.feedback;
    await rt.store.put(FINAL_PROMPT_KEY, { feedback, xSub: s.xSub, descriptions: s.descriptions });
    return {
      prompt: promptFor(real, s, feedback, s.config.batchRows, rowEncodingOf(rt)),
      ...(await fin.planRound(s)),
    };
  };
};
