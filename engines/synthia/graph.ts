/**
 * SYNTHIA (Algorithm 1 and appendix A of ../shared/papers/000_428388c14ea08e26.txt) as a LangGraph state machine.
 *
 *   init → generate → analyze → discriminate ─(Real, guard silent | t ≥ maxIterations)→ plan_round
 *                ↑                          └─(Synthetic | Real overruled by the guard)→ refine ─┘
 *   plan_round ─(rows missing)→ wave ─Send×W→ batch → collect ─(more batches)→ wave
 *        │                                               └─(round done)→ plan_round
 *        └─(N rows accepted)→ write → END
 *
 * Wiring only: decisions are in state/plan.ts, statistics in stats/analyzer.ts, prompts in prompts/, model calls
 * in agents/. Every node that calls a model stores its result in the artifact store under a key derived from
 * (iteration) or (round, batch) before returning and, when re-run after a crash, returns the stored result
 * without calling the model again.
 */
import { basename } from "node:path";
import { START, StateGraph } from "@langchain/langgraph";
import { z } from "zod";
import { discriminate } from "./discriminator.ts";
import { generateRows } from "../../agents/generator.ts";
import { describeColumns } from "../../agents/metadata.ts";
import { rowsToTable, tableToRows } from "../../data/rows.ts";
import type { Row } from "../../data/types.ts";
import { Accounting, type AccountingSnapshot } from "../../models/accounting.ts";
import { renderAnalysis } from "./analysis-text.ts";
import { buildGeneratorPrompt } from "./prompts.ts";
import {
  DESCRIPTIONS_KEY,
  discriminationKey,
  probeKey,
  type RowBatch,
  RowBatchSchema,
} from "../../state/artifacts.ts";
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import { bestIteration, decide } from "./decisions.ts";
import {
  AccountingSnapshotSchema,
  type IterationRecord,
  reviveDiagnostics,
  storeDiagnostics,
  VerdictSchema,
} from "../../state/schemas.ts";
import { SynthiaState, type SynthiaStateT, type SynthiaUpdate } from "./state.ts";
import { analyze, DEFAULT_GUARD, statisticalGuard, stratifiedSample } from "./analyzer.ts";
import { takeTableRows } from "../../data/build.ts";
import { addFinalGeneration, finalizeNodes } from "../../graph/finalize.ts";
import { type EngineRuntime, endpointFor, type RealData } from "../../graph/runtime.ts";

const DiscriminationSchema = z.object({
  analysis: z.string(),
  verdict: VerdictSchema,
  usage: AccountingSnapshotSchema,
});
const DescriptionsSchema = z.object({
  descriptions: z.record(z.string(), z.string()),
  usage: AccountingSnapshotSchema,
});

/** Reasons shown per batch are capped: the artifact stays small when a model produces garbage. */
const MAX_REASONS = 20;

const finiteOrNull = (x: number | undefined): number | null =>
  x !== undefined && Number.isFinite(x) ? x : null;

function guardReasonsFeedback(reasons: readonly string[]): string {
  return `The statistical analyzer shows the data is still clearly distinguishable: ${reasons.join("; ")}.`;
}

/** Rows of X_sub (the examples of the prompt). */
function examplesOf(real: RealData, xSub: readonly number[]): Row[] {
  return tableToRows(takeTableRows(real.table, xSub), real.metadata);
}

/** Calls the generator and keeps validated rows, capped at the request (the privacy guard is the caller's). */
async function generateBatch(
  rt: EngineRuntime,
  a: { prompt: string; nRows: number; seed: number },
): Promise<Omit<RowBatch, "exact_copies">> {
  const real = await rt.real();
  const accounting = new Accounting();
  const out = await generateRows({
    endpoint: endpointFor(rt, "generator", a.seed),
    metadata: real.metadata,
    prompt: a.prompt,
    nRows: a.nRows,
    seed: a.seed,
    accounting,
  });
  return {
    requested: a.nRows,
    rows: out.rows.slice(0, a.nRows),
    invalid: out.report.dropped,
    reasons: out.report.reasons.slice(0, MAX_REASONS),
    seed: a.seed,
    usage: accounting.snapshot(),
  };
}

function promptFor(
  real: RealData,
  s: Pick<SynthiaStateT, "xSub" | "descriptions">,
  feedback: readonly string[],
  nRows: number,
): string {
  return buildGeneratorPrompt({
    metadata: real.metadata,
    examples: examplesOf(real, s.xSub),
    feedback: [...feedback],
    nRows,
    descriptions: s.descriptions,
  });
}

/** What U(M, X_sub, F) needs besides M: each batch builds its prompt for its own row count. */
const PromptInputsSchema = z.object({
  feedback: z.array(z.string()),
  xSub: z.array(z.number().int()),
  descriptions: z.record(z.string(), z.string()),
});
const FINAL_PROMPT_KEY = "prompts/final";

export function buildSynthiaGraph(rt: EngineRuntime) {
  const init = async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
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
      const { value } = await rt.store.memo(DESCRIPTIONS_KEY, DescriptionsSchema, async () => {
        const accounting = new Accounting();
        const written = await describeColumns({
          endpoint: endpointFor(rt, "metadata", deriveSeed(c.seed, SEED_STREAMS.synthia.metadata, 0)),
          metadata: real.metadata,
          fileName: basename(real.dataset.path),
          sampleRows: examplesOf(real, xSub),
          accounting,
        });
        return { descriptions: written, usage: accounting.snapshot() };
      });
      descriptions = { ...value.descriptions, ...user };
      usage = value.usage;
    }
    const next: SynthiaStateT = { ...s, xSub, descriptions };
    return {
      phase: "iterate",
      dataset: real.dataset,
      metadata: real.metadata,
      xSub,
      descriptions,
      feedback: [],
      prompt: promptFor(real, next, [], c.probeRows),
      ...(usage ? { usage } : {}),
    };
  };

  const generate = async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    const it = s.iteration + 1;
    const key = probeKey(it);
    const seed = deriveSeed(s.config.seed, SEED_STREAMS.synthia.probe, it);
    // Probes are never written out: no privacy guard.
    const { value } = await rt.store.memo(key, RowBatchSchema, async () => ({
      ...(await generateBatch(rt, { prompt: s.prompt, nRows: s.config.probeRows, seed })),
      exact_copies: 0,
    }));
    // A cached artifact means the previous attempt crashed before its checkpoint, so its usage was never
    // added to the state: returning it now counts it exactly once.
    return { iteration: it, probe: key, usage: value.usage };
  };

  const analyzeNode = async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    const real = await rt.real();
    const probe = await rt.store.require(s.probe ?? "", RowBatchSchema);
    if (probe.rows.length === 0) return { diagnostics: null };
    return { diagnostics: storeDiagnostics(analyze(real.table, rowsToTable(probe.rows, real.metadata))) };
  };

  const discriminateNode = async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    const real = await rt.real();
    const c = s.config;
    const probe = await rt.store.require(s.probe ?? "", RowBatchSchema);
    const d = s.diagnostics === null ? null : reviveDiagnostics(s.diagnostics);
    let verdict: z.infer<typeof VerdictSchema>;
    let usage: AccountingSnapshot | undefined;
    if (d === null || probe.rows.length === 0) {
      const why = probe.reasons.slice(0, 3).join("; ");
      verdict = {
        type: "Synthetic",
        feedback: `None of the ${probe.requested} rows was valid${why ? ` (${why})` : ""}: output exactly the requested format with values inside the stated ranges and categories.`,
      };
    } else {
      const synth = rowsToTable(probe.rows, real.metadata);
      const analysisText = renderAnalysis(d, real.metadata, real.table, synth);
      const { value } = await rt.store.memo(
        discriminationKey(s.iteration),
        DiscriminationSchema,
        async () => {
          const accounting = new Accounting();
          const seed = deriveSeed(c.seed, SEED_STREAMS.synthia.discriminator, s.iteration);
          const r = await discriminate({
            endpoint: endpointFor(rt, "discriminator", seed),
            metadata: real.metadata,
            realSample: examplesOf(real, s.xSub),
            syntheticSample: probe.rows.slice(0, Math.max(1, c.examples)),
            analysisText,
            seed,
            accounting,
          });
          return { analysis: r.analysis, verdict: r.verdict, usage: accounting.snapshot() };
        },
      );
      verdict = value.verdict;
      usage = value.usage;
    }
    const guardReasons =
      c.guard && d !== null ? statisticalGuard(d, { ...DEFAULT_GUARD, ...c.guardOptions }) : [];
    const decision = decide(verdict.type, guardReasons, s.iteration, c.maxIterations);
    const record: IterationRecord = {
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
        : decision.overruled
          ? { feedback: guardReasonsFeedback(guardReasons) }
          : {}),
      overruled: decision.overruled,
      guard_reasons: guardReasons,
    };
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

  const refine = async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    const real = await rt.real();
    return { prompt: promptFor(real, s, s.feedback, s.config.probeRows) };
  };

  const fin = finalizeNodes(rt, {
    key: FINAL_PROMPT_KEY,
    generate: async ({ task, seed, key }) => {
      const inputs = await rt.store.require(key, PromptInputsSchema);
      const prompt = promptFor(await rt.real(), inputs, inputs.feedback, task.nRows);
      return generateBatch(rt, { prompt, nRows: task.nRows, seed });
    },
  });

  /** Before the first round: P_final from the chosen feedback, stored for the batches to build their prompts. */
  const planRound = async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    if (s.roundRows.length > 0) return fin.planRound(s);
    const real = await rt.real();
    const feedback = s.finalChoice?.feedback ?? s.feedback;
    await rt.store.put(FINAL_PROMPT_KEY, { feedback, xSub: s.xSub, descriptions: s.descriptions });
    return { prompt: promptFor(real, s, feedback, s.config.batchRows), ...fin.planRound(s) };
  };

  return addFinalGeneration(new StateGraph(SynthiaState), fin, { planRound })
    .addNode("init", init)
    .addNode("generate", generate)
    .addNode("analyze", analyzeNode)
    .addNode("discriminate", discriminateNode)
    .addNode("refine", refine)
    .addEdge(START, "init")
    .addEdge("init", "generate")
    .addEdge("generate", "analyze")
    .addEdge("analyze", "discriminate")
    .addConditionalEdges(
      "discriminate",
      (s: SynthiaStateT) => (s.phase === "finalize" ? "plan_round" : "refine"),
      ["plan_round", "refine"],
    )
    .addEdge("refine", "generate");
}
