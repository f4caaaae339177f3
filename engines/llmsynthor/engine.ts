/**
 * LLMSynthor's registry entry (graph/registry.ts): the graph, its progress lines, its CLI options (the
 * `config.llmsynthor` block, config.ts) and its part of SUMMARY.json (the joint groups, the copula agent's
 * answers, and every iteration with its discrepancy and proposals, read back from the artifact store).
 */
import { z } from "zod";
import { cliInt, cliUnit } from "../../cli/options.ts";
import { defineEngine, type EngineApp, optional, type SummaryContext } from "../../graph/engine.ts";
import { buildLlmsynthorGraph } from "./graph.ts";
import { llmsynthorConditionsSummary } from "./group-nodes.ts";
import { llmsynthorProgress } from "./progress.ts";
import {
  CopulaRecordSchema,
  type LlmsynthorStateT,
  plannedIterations,
  ProposalsRecordSchema,
} from "./state.ts";

/** SUMMARY.json fields of an LLMSynthor run. */
async function llmsynthorSummary({ state, store }: SummaryContext): Promise<Record<string, unknown>> {
  const s = state as unknown as LlmsynthorStateT;
  const copula = [];
  for (const key of s.copulaKeys) {
    const c = await store.require(key, CopulaRecordSchema);
    copula.push({ groups: c.groups, reasons: c.reasons, attempts: c.attempts, usage: c.usage });
  }
  const iterations = [];
  for (const h of s.history) {
    const p = h.proposals_key ? await store.require(h.proposals_key, ProposalsRecordSchema) : undefined;
    iterations.push({
      iteration: h.iteration,
      ...(h.group === undefined ? {} : { group: h.group, unmet_rows: h.unmet }),
      pool_rows: h.pool_rows,
      discrepancy: h.discrepancy,
      joint_groups: h.groups,
      requested_rows: h.requested,
      accepted_rows: h.accepted,
      exact_copies_removed: h.exact_copies,
      proposals: p?.proposals ?? [],
      proposal_report: p?.report ?? null,
      usage: p?.usage ?? null,
    });
  }
  return {
    iterations_planned: s.iterations,
    joint_groups: s.groups,
    copula,
    iterations,
    final_discrepancy: s.finalDiscrepancy,
    fill_rounds: s.fillRounds,
    // Per group, in the shape of graph/conditions.ts ConditionSummary; model_rows are the rows the sampler drew
    // (code, not the model, writes LLMSynthor's rows), calls and tokens the group's proposer calls.
    ...(s.config.conditions === undefined ? {} : { conditions: await llmsynthorConditionsSummary(s, store) }),
  };
}

export const llmsynthorEngine = defineEngine({
  name: "llmsynthor",
  models: ["copula", "proposer"],
  // LLMSynthor runs both of its agents at temperature 0.8.
  sampling: { copula: { temperature: 0.8 }, proposer: { temperature: 0.8 } },
  describe: (c) =>
    `LLMSynthor (${c.models.proposer.spec}); ${plannedIterations(c.rows, c.llmsynthor.iterations)} iterations of up to ${c.llmsynthor.nProposals} proposals, stop under mean TVD ${c.llmsynthor.tolerance}`,
  compile: (rt, checkpointer) => buildLlmsynthorGraph(rt).compile({ checkpointer }) as unknown as EngineApp,
  input: (runDir, config) => ({ runDir, config }),
  progressNodes: ["sample", "fill"],
  progress: () => llmsynthorProgress,
  stoppedBecause: (s) => (s as unknown as LlmsynthorStateT).stoppedBecause,
  summary: llmsynthorSummary,
  cli: {
    options: [
      { flags: "--iterations <t>", description: "llmsynthor: iterations T (default min(10, rows / 20))" },
      {
        flags: "--tolerance <x>",
        description: "llmsynthor: stop when the pool's mean TVD is below x (default 0.02; 0 = never)",
      },
      {
        flags: "--joints <n>",
        description: "llmsynthor: joint variable groups the copula agent names (default 3)",
      },
      { flags: "--proposals <n>", description: "llmsynthor: proposals per iteration (default 5)" },
      {
        flags: "--reinfer-groups",
        description: "llmsynthor: re-infer the joint groups every iteration (default: once)",
      },
      { flags: "--main-bins <b>", description: "llmsynthor: quantile bins per numeric column (default 6)" },
      { flags: "--sub-bins <b>", description: "llmsynthor: sub-bins of the worst bin (default 8)" },
      {
        flags: "--no-source-conditioning",
        description:
          "llmsynthor, synllm: with conditions, do not state them to the model nor narrow its schema (rows are only filtered by code; for comparison)",
      },
      {
        flags: "--split <how>",
        description:
          "llmsynthor: which main bin gets the sub-bins: positive (largest real − synthetic gap, the paper's; default) or absolute (largest |gap|)",
      },
    ],
    schema: z.object({
      iterations: cliInt("--iterations", 1).optional(),
      tolerance: cliUnit("--tolerance").optional(),
      joints: cliInt("--joints", 1).optional(),
      proposals: cliInt("--proposals", 1).optional(),
      reinferGroups: z.boolean().default(false),
      mainBins: cliInt("--main-bins", 1).optional(),
      subBins: cliInt("--sub-bins", 1).optional(),
      sourceConditioning: z.boolean().default(true),
      split: z.enum(["positive", "absolute"], { error: "--split must be positive or absolute" }).optional(),
    }),
    toConfig: (o) => ({
      llmsynthor: {
        ...optional("iterations", o.iterations),
        ...optional("tolerance", o.tolerance),
        ...optional("nJoints", o.joints),
        ...optional("nProposals", o.proposals),
        reinferGroups: o.reinferGroups,
        ...optional("mainBins", o.mainBins),
        ...optional("subBins", o.subBins),
        ...(o.sourceConditioning ? {} : { sourceConditioning: false }),
        ...optional("split", o.split),
      },
    }),
  },
});
