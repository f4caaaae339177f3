/**
 * The SynLLM graph's nodes: `init` (profile, rules, examples, stored for the batches) and the batch generator
 * the shared final generation fans out (graph/finalize.ts). Each batch builds its prompt for its own row
 * count, calls the model once (re-asks aside), validates, and applies the hard rules before its rows can
 * enter the output; what each rule rejected is stored beside the batch (rulesKey) for SUMMARY.json.
 */
import { basename, extname } from "node:path";
import { z } from "zod";
import { takeTableRows } from "../../data/build.ts";
import type { RowEncoding } from "../../data/compact.ts";
import { tableToRows } from "../../data/rows.ts";
import type { Metadata, Row } from "../../data/types.ts";
import { conditionalExamples, conditionOf, type RunCondition } from "../../graph/conditions.ts";
import { type FinalBatchGenerator, type FinalizeNodes, finalizeNodes } from "../../graph/finalize.ts";
import { type EngineRuntime, endpointFor, type RealData, rowEncodingOf } from "../../graph/runtime.ts";
import { Accounting } from "../../models/accounting.ts";
import type { RunConfig } from "../../state/config.ts";
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import { createRng, permutation } from "../../stats/primitives/rng.ts";
import { generateSynllmBatch } from "./generator.ts";
import { profileTable, type TableProfile } from "./profile.ts";
import { buildSynllmPrompt } from "./prompts.ts";
import { regionProfile, synllmConditionLines } from "./conditions.ts";
import { calibrateRules, inferRules, readRulesFile, ruleFilter, type RuleSpec } from "./rules.ts";
import { CalibratedRuleSchema, type SynllmStateT, type SynllmUpdate } from "./state.ts";

export const INPUTS_KEY = "synllm/inputs";
/** Rows each hard rule rejected in final batch b of round r. */
export const rulesKey = (round: number, batch: number): string =>
  `synllm/rejected/r${String(round).padStart(3, "0")}-b${String(batch).padStart(5, "0")}`;

export const RejectedSchema = z.object({ rejected: z.record(z.string(), z.number().int()) });

const InputsSchema = z.object({
  profile: z.custom<TableProfile>((v) => typeof v === "object" && v !== null),
  rules: z.array(CalibratedRuleSchema),
  /** Real row indices shown as examples (SEEDEx; FEATDESC / STATGUIDE with appendixExamples). */
  examples: z.array(z.number().int()),
});
export type SynllmInputs = z.infer<typeof InputsSchema>;
type Inputs = SynllmInputs;

/** The real rows shown: SEEDEx's, or the appendix instances' when appendixExamples is on; none for CLINRULE. */
export function exampleIndices(config: RunConfig, nRows: number): number[] {
  const o = config.synllm;
  const shows = o.promptType === "seedex" || (o.appendixExamples && o.promptType !== "clinrule");
  if (!shows) return [];
  const rng = createRng(deriveSeed(config.seed, SEED_STREAMS.synllm.examples, 0));
  return Array.from(permutation(nRows, rng).subarray(0, Math.min(o.examples, nRows))).sort((a, b) => a - b);
}

/** The rules of a run: the file's, then the inferred ones, calibrated on the real table. */
export function runRules(config: RunConfig, real: RealData) {
  const specs: RuleSpec[] = [];
  if (config.synllm.rules !== undefined) specs.push(...readRulesFile(config.synllm.rules, real.metadata));
  if (config.synllm.inferRules) specs.push(...inferRules(real.table, real.metadata));
  return calibrateRules(specs, real.table, real.metadata, config.synllm.maxRuleBreak);
}

/** What a batch's prompt is built from: the run's inputs, or a condition group's region (conditions.ts). */
interface PromptView {
  metadata: Metadata;
  profile: TableProfile;
  examples: Row[];
  /** The condition's lines, appended to the prompt of every type. */
  condition?: string[];
}

function promptOf(
  rt: EngineRuntime,
  real: RealData,
  inputs: Inputs,
  view: PromptView,
  nRows: number,
): string {
  return promptText(rt.config, rowEncodingOf(rt), real, inputs, view, nRows);
}

function promptText(
  config: RunConfig,
  encoding: RowEncoding,
  real: RealData,
  inputs: Inputs,
  view: PromptView,
  nRows: number,
): string {
  const o = config.synllm;
  const text = buildSynllmPrompt({
    type: o.promptType,
    subject: basename(real.dataset.path, extname(real.dataset.path)),
    metadata: view.metadata,
    profile: view.profile,
    rules: inputs.rules,
    examples: view.examples,
    nRows,
    format: o.replyFormat,
    encoding,
  });
  if (view.condition === undefined) return text;
  // Before the closing "Each record must follow:" block, so the output instructions stay last.
  const at = text.lastIndexOf("\n\nEach record must follow:");
  return `${text.slice(0, at)}\n${view.condition.join("\n")}${text.slice(at)}`;
}

/** The prompt view of condition group `cond` (module header of conditions.ts); cached per group by the caller. */
function groupView(
  rt: EngineRuntime,
  real: RealData,
  inputs: Inputs,
  cond: RunCondition,
  seed: number,
): PromptView {
  const o = rt.config.synllm;
  const k = inputs.examples.length;
  const idx = k > 0 ? conditionalExamples(cond, real.table, k, seed) : [];
  // No satisfying real row: the run's own examples (general patterns), as the prompt then says.
  const examples = examplesOf(real, idx.length > 0 ? idx.sort((a, b) => a - b) : inputs.examples);
  return {
    metadata: cond.narrowed.metadata,
    profile: regionProfile(cond, real, { rareCount: o.rareCount, minCorrelation: o.minCorrelation }),
    examples,
    condition: synllmConditionLines(cond, o.promptType, idx.length),
  };
}

/** init: the paper's profile, the calibrated rules and the example rows, stored for every batch. */
export const init =
  (rt: EngineRuntime) =>
  async (s: SynllmStateT): Promise<SynllmUpdate> => {
    const real = await rt.real();
    const inputs = synllmInputs(s.config, real);
    await rt.store.put(INPUTS_KEY, inputs);
    return {
      phase: "finalize",
      dataset: real.dataset,
      metadata: real.metadata,
      rules: inputs.rules,
      prompt: synllmRunPrompt(s.config, rowEncodingOf(rt), real, inputs, s.config.synllm.batchRows),
    };
  };

/**
 * What every batch's prompt is built from: the paper's profile, the calibrated rules and the example rows. A
 * function of the config (its seed picks the examples) and the real table only, so the same run gives the
 * same inputs (test/engines/synllm/prompts.test.ts snapshots the prompts built from them).
 */
export function synllmInputs(config: RunConfig, real: RealData): SynllmInputs {
  const o = config.synllm;
  return {
    profile: profileTable(real.table, real.metadata, {
      rareCount: o.rareCount,
      minCorrelation: o.minCorrelation,
    }),
    rules: runRules(config, real),
    examples: exampleIndices(config, real.table.nRows),
  };
}

/** The prompt of an unconditioned batch of `nRows` rows (what SUMMARY.json records for a full batch). */
export function synllmRunPrompt(
  config: RunConfig,
  encoding: RowEncoding,
  real: RealData,
  inputs: SynllmInputs,
  nRows: number,
): string {
  const view = {
    metadata: real.metadata,
    profile: inputs.profile,
    examples: examplesOf(real, inputs.examples),
  };
  return promptText(config, encoding, real, inputs, view, nRows);
}

function examplesOf(real: RealData, idx: readonly number[]): Row[] {
  return idx.length === 0 ? [] : tableToRows(takeTableRows(real.table, idx), real.metadata);
}

/** One final batch: prompt, call, validation, hard rules (module header). */
export const generateFinalBatch = (rt: EngineRuntime): FinalBatchGenerator => {
  let cached:
    | {
        inputs: Inputs;
        plain: PromptView;
        groups: Map<number, PromptView>;
        breaks: (row: Row) => string | null;
      }
    | undefined;
  return async ({ task, seed, key }) => {
    const real = await rt.real();
    if (cached === undefined) {
      const inputs = await rt.store.require(key, InputsSchema);
      cached = {
        inputs,
        plain: {
          metadata: real.metadata,
          profile: inputs.profile,
          examples: examplesOf(real, inputs.examples),
        },
        groups: new Map(),
        breaks: ruleFilter(inputs.rules, real.metadata),
      };
    }
    // A condition group's batch is prompted from its region (conditions.ts) unless sourceConditioning is off;
    // its examples are drawn once per group, by a seed of the group, so every batch of it shows the same rows.
    const cond = rt.config.synllm.sourceConditioning
      ? conditionOf(rt.config, real.metadata, task.group)
      : undefined;
    let view = cached.plain;
    if (cond !== undefined) {
      const exampleSeed = deriveSeed(rt.config.seed, SEED_STREAMS.synllm.examples, cond.index + 1);
      view = cached.groups.get(cond.index) ?? groupView(rt, real, cached.inputs, cond, exampleSeed);
      cached.groups.set(cond.index, view);
    }
    const accounting = new Accounting();
    const batch = await generateSynllmBatch({
      endpoint: endpointFor(rt, "generator", seed),
      accounting,
      seed,
      metadata: real.metadata,
      ...(cond === undefined ? {} : { schemaMetadata: view.metadata }),
      prompt: promptOf(rt, real, cached.inputs, view, task.nRows),
      nRows: task.nRows,
      format: rt.config.synllm.replyFormat,
      encoding: rowEncodingOf(rt),
      breaks: cached.breaks,
    });
    // Written before graph/finalize.ts stores the batch: a re-run after a crash regenerates both together.
    await rt.store.put(rulesKey(task.round, task.batch), { rejected: batch.rejected });
    return {
      requested: batch.requested,
      rows: batch.rows,
      invalid: batch.invalid,
      reasons: batch.reasons,
      seed,
      usage: accounting.snapshot(),
    };
  };
};

export const finalGeneration = (rt: EngineRuntime): FinalizeNodes =>
  finalizeNodes(rt, { key: INPUTS_KEY, generate: generateFinalBatch(rt) });
