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
import { END, Send, START, StateGraph } from "@langchain/langgraph";
import { z } from "zod";
import { discriminate } from "../agents/discriminator.ts";
import { generateRows } from "../agents/generator.ts";
import { describeColumns } from "../agents/metadata.ts";
import { SynthgraphError } from "../data/errors.ts";
import { rowsToTable, tableToRows } from "../data/rows.ts";
import type { Metadata, Row, Table } from "../data/types.ts";
import { tableToCsv } from "../data/write.ts";
import { Accounting, type AccountingSnapshot } from "../models/accounting.ts";
import { createEndpoint, type Endpoint, type Env } from "../models/factory.ts";
import type { Role } from "../models/spec.ts";
import { renderAnalysis } from "../prompts/analyzer.ts";
import { buildGeneratorPrompt } from "../prompts/synthia.ts";
import {
  type ArtifactStore,
  DESCRIPTIONS_KEY,
  discriminationKey,
  finalBatchKey,
  probeKey,
  type RowBatch,
  RowBatchSchema,
} from "../state/artifacts.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import type { RunConfig } from "../state/config.ts";
import {
  batchCount,
  batchSeed,
  batchSize,
  bestIteration,
  decide,
  deriveSeed,
  STREAM,
  waveSize,
} from "../state/plan.ts";
import {
  AccountingSnapshotSchema,
  type IterationRecord,
  reviveDiagnostics,
  storeDiagnostics,
  VerdictSchema,
} from "../state/schemas.ts";
import {
  type BatchTask,
  type DatasetRef,
  SynthiaState,
  type SynthiaStateT,
  type SynthiaUpdate,
} from "../state/synthia.ts";
import {
  analyze,
  DEFAULT_GUARD,
  exactCopyMask,
  statisticalGuard,
  stratifiedSample,
} from "../stats/analyzer.ts";

/** The real table, loaded once per process (not part of the state: it is re-read from the input on resume). */
export interface RealData {
  table: Table;
  metadata: Metadata;
  dataset: DatasetRef;
}

/** What nodes need besides the state; rebuilt identically by `resume`. */
export interface SynthiaRuntime {
  /** The run's config (run.json); the same value is in the state for the record. */
  config: RunConfig;
  store: ArtifactStore;
  /** Loads (and caches) the real table described by the config. */
  real(): Promise<RealData>;
  env: Env;
  /** Parallel final batches (also passed to invoke as maxConcurrency). */
  concurrency: number;
}

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

function endpointFor(config: RunConfig, role: Role, env: Env, seed?: number): Endpoint {
  const cfg = config.models[role];
  return createEndpoint({ ...cfg, role, ...(seed === undefined ? {} : { seed }) }, env);
}

const finiteOrNull = (x: number | undefined): number | null =>
  x !== undefined && Number.isFinite(x) ? x : null;

function guardReasonsFeedback(reasons: readonly string[]): string {
  return `The statistical analyzer shows the data is still clearly distinguishable: ${reasons.join("; ")}.`;
}

/** Rows of X_sub (the examples of the prompt). */
function examplesOf(real: RealData, xSub: readonly number[]): Row[] {
  const rows = tableToRows(subTable(real.table, xSub), real.metadata);
  return rows;
}

function subTable(t: Table, idx: readonly number[]): Table {
  return {
    nRows: idx.length,
    columns: t.columns.map((c) =>
      "values" in c
        ? { ...c, values: Float64Array.from(idx, (i) => c.values[i]) }
        : { ...c, codes: Int32Array.from(idx, (i) => c.codes[i]) },
    ),
  };
}

/** Calls the generator and keeps validated rows (capped at the request), optionally without exact real copies. */
async function generateBatch(
  rt: SynthiaRuntime,
  a: { prompt: string; nRows: number; seed: number; privacy: boolean },
): Promise<RowBatch> {
  const real = await rt.real();
  const accounting = new Accounting();
  const out = await generateRows({
    endpoint: endpointFor(rt.config, "generator", rt.env, a.seed),
    metadata: real.metadata,
    prompt: a.prompt,
    nRows: a.nRows,
    seed: a.seed,
    accounting,
  });
  let rows = out.rows.slice(0, a.nRows);
  let exactCopies = 0;
  if (a.privacy && rows.length > 0) {
    const mask = exactCopyMask(real.table, rowsToTable(rows, real.metadata));
    rows = rows.filter((_, i) => mask[i] === 0);
    exactCopies = out.rows.slice(0, a.nRows).length - rows.length;
  }
  return {
    requested: a.nRows,
    rows,
    invalid: out.report.dropped,
    exact_copies: exactCopies,
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

/** A Send carries only the task and the key of the stored prompt, so pending sends stay a few bytes each. */
const BatchPayloadSchema = z.object({
  task: z.object({ round: z.number().int(), batch: z.number().int(), nRows: z.number().int() }),
  promptKey: z.string(),
});
/** What U(M, X_sub, F) needs besides M: each batch builds its prompt for its own row count. */
const PromptInputsSchema = z.object({
  feedback: z.array(z.string()),
  xSub: z.array(z.number().int()),
  descriptions: z.record(z.string(), z.string()),
});
const FINAL_PROMPT_KEY = "prompts/final";

export function buildSynthiaGraph(rt: SynthiaRuntime) {
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
          endpoint: endpointFor(c, "metadata", rt.env, deriveSeed(c.seed, STREAM.metadata, 0)),
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
    const seed = deriveSeed(s.config.seed, STREAM.probe, it);
    const { value } = await rt.store.memo(key, RowBatchSchema, () =>
      generateBatch(rt, { prompt: s.prompt, nRows: s.config.probeRows, seed, privacy: false }),
    );
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
          const seed = deriveSeed(c.seed, STREAM.discriminator, s.iteration);
          const r = await discriminate({
            endpoint: endpointFor(c, "discriminator", rt.env, seed),
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

  const planRound = async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    const c = s.config;
    const update: SynthiaUpdate = {};
    if (s.roundRows.length === 0) {
      const real = await rt.real();
      const feedback = s.finalChoice?.feedback ?? s.feedback;
      update.prompt = promptFor(real, s, feedback, c.batchRows);
      await rt.store.put(FINAL_PROMPT_KEY, { feedback, xSub: s.xSub, descriptions: s.descriptions });
    }
    const remaining = c.rows - s.accepted;
    if (remaining <= 0) return { ...update, phase: "write" };
    if (s.roundRows.length >= c.maxRounds) {
      throw new SynthgraphError(
        `after ${c.maxRounds} rounds only ${s.accepted} of ${c.rows} rows were accepted (${s.invalidRows} invalid rows, ${s.exactCopiesRemoved} exact copies of real rows removed)`,
        {
          hint: "the model rarely produces valid rows: look at the probe artifacts in the run directory, try a larger model, or lower --rows",
        },
      );
    }
    return { ...update, phase: "finalize", roundRows: [...s.roundRows, remaining], nextBatch: 0, waveEnd: 0 };
  };

  const wave = (s: SynthiaStateT): SynthiaUpdate => {
    const roundRows = s.roundRows[s.roundRows.length - 1];
    const n = batchCount(roundRows, s.config.batchRows);
    return { waveEnd: Math.min(n, s.nextBatch + waveSize(rt.concurrency)) };
  };

  const dispatch = (s: SynthiaStateT): Send[] => {
    const round = s.roundRows.length;
    const roundRows = s.roundRows[round - 1];
    const sends: Send[] = [];
    for (let b = s.nextBatch; b < s.waveEnd; b++) {
      const task: BatchTask = { round, batch: b, nRows: batchSize(roundRows, s.config.batchRows, b) };
      sends.push(new Send("batch", { task, promptKey: FINAL_PROMPT_KEY }));
    }
    return sends;
  };

  // Receives a Send payload, not the state (LangGraph passes the payload as the node input).
  const batch = async (input: SynthiaStateT): Promise<SynthiaUpdate> => {
    const { task, promptKey } = BatchPayloadSchema.parse(input);
    const c = rt.config;
    const seed = batchSeed(c.seed, task.round, task.batch);
    const { value } = await rt.store.memo(finalBatchKey(task.round, task.batch), RowBatchSchema, async () => {
      const inputs = await rt.store.require(promptKey, PromptInputsSchema);
      const prompt = promptFor(await rt.real(), inputs, inputs.feedback, task.nRows);
      return generateBatch(rt, { prompt, nRows: task.nRows, seed, privacy: c.privacyGuard });
    });
    return {
      accepted: value.rows.length,
      invalidRows: value.invalid,
      exactCopiesRemoved: value.exact_copies,
      batchesDone: 1,
      usage: value.usage,
    };
  };

  const collect = (s: SynthiaStateT): SynthiaUpdate => ({ nextBatch: s.waveEnd });

  const write = async (s: SynthiaStateT): Promise<SynthiaUpdate> => {
    const real = await rt.real();
    const c = s.config;
    const rows: Row[] = [];
    for (let r = 1; r <= s.roundRows.length && rows.length < c.rows; r++) {
      const n = batchCount(s.roundRows[r - 1], c.batchRows);
      for (let b = 0; b < n && rows.length < c.rows; b++) {
        const stored = await rt.store.require(finalBatchKey(r, b), RowBatchSchema);
        for (const row of stored.rows) {
          if (rows.length >= c.rows) break;
          rows.push(row);
        }
      }
    }
    if (rows.length !== c.rows) {
      throw new SynthgraphError(`internal: collected ${rows.length} rows for ${c.rows} requested`);
    }
    await writeFileAtomic(c.out, tableToCsv(rowsToTable(rows, real.metadata), real.metadata));
    return { phase: "done", output: { path: c.out, rows: rows.length } };
  };

  return new StateGraph(SynthiaState)
    .addNode("init", init)
    .addNode("generate", generate)
    .addNode("analyze", analyzeNode)
    .addNode("discriminate", discriminateNode)
    .addNode("refine", refine)
    .addNode("plan_round", planRound)
    .addNode("wave", wave)
    .addNode("batch", batch)
    .addNode("collect", collect)
    .addNode("write", write)
    .addEdge(START, "init")
    .addEdge("init", "generate")
    .addEdge("generate", "analyze")
    .addEdge("analyze", "discriminate")
    .addConditionalEdges(
      "discriminate",
      (s: SynthiaStateT) => (s.phase === "finalize" ? "plan_round" : "refine"),
      ["plan_round", "refine"],
    )
    .addEdge("refine", "generate")
    .addConditionalEdges("plan_round", (s: SynthiaStateT) => (s.phase === "write" ? "write" : "wave"), [
      "write",
      "wave",
    ])
    .addConditionalEdges("wave", dispatch, ["batch"])
    .addEdge("batch", "collect")
    .addConditionalEdges(
      "collect",
      (s: SynthiaStateT) =>
        s.nextBatch < batchCount(s.roundRows[s.roundRows.length - 1], s.config.batchRows)
          ? "wave"
          : "plan_round",
      ["wave", "plan_round"],
    )
    .addEdge("write", END);
}
