/**
 * SynLLM's registry entry (graph/registry.ts): the graph, its progress lines, its CLI options (its knobs are
 * config.synllm, config.ts) and its part of SUMMARY.json: the prompt, the calibrated rules, the rows each hard
 * rule rejected, the soft rules' breaks in the output, and the paper's scores (stats/metrics/synllm).
 */
import { resolve } from "node:path";
import { z } from "zod";
import { cliInt, cliUnit } from "../../cli/options.ts";
import { defineEngine, type EngineApp, optional } from "../../graph/engine.ts";
import { metadataToJson } from "../../data/metadata.ts";
import { readTable } from "../../data/read.ts";
import { batchCount } from "../../state/finalize.ts";
import { synllmSuite } from "../../stats/metrics/synllm/index.ts";
import { PROMPT_TYPES, REPLY_FORMATS } from "./config.ts";
import { buildSynllmGraph } from "./graph.ts";
import { RejectedSchema, rulesKey } from "./nodes.ts";
import { synllmProgress } from "./progress.ts";
import { brokenCount } from "./rules.ts";
import type { SynllmStateT } from "./state.ts";

export const synllmEngine = defineEngine({
  name: "synllm",
  models: ["generator"],
  // SynLLM samples at temperature 0.7 and top-p 0.9 (docs/papers.md, SynLLM experimental setup).
  sampling: { generator: { temperature: 0.7, topP: 0.9 } },
  describe: (c, concurrency) =>
    `${c.models.generator.spec}; prompt ${c.synllm.promptType}, ${c.synllm.replyFormat} replies, mini-batches of ${c.synllm.batchRows}; ${concurrency} parallel batches`,
  compile: (rt, checkpointer) => buildSynllmGraph(rt).compile({ checkpointer }) as unknown as EngineApp,
  // The shared final generation sizes batches by state.config.batchRows: SynLLM's mini-batch takes its place
  // in the state (run.json keeps both values; synllm.batchRows is the one that counts).
  input: (runDir, config) => ({ runDir, config: { ...config, batchRows: config.synllm.batchRows } }),
  progressNodes: ["collect"],
  progress: (c) => synllmProgress(c.synllm.promptType),
  stoppedBecause: () => null,
  summary: async ({ state, config, store }) => {
    const s = state as unknown as SynllmStateT;
    const byRule: Record<string, number> = {};
    for (let r = 1; r <= s.roundRows.length; r++) {
      const n = batchCount(s.roundRows[r - 1], config.synllm.batchRows);
      for (let b = 0; b < n; b++) {
        const stored = await store.get(rulesKey(r, b), RejectedSchema);
        for (const [rule, k] of Object.entries(stored?.rejected ?? {}))
          byRule[rule] = (byRule[rule] ?? 0) + k;
      }
    }
    // Dynamic: graph/run.ts imports the registry, which imports this file.
    const { realLoader } = await import("../../graph/run.ts");
    const real = await realLoader(config)();
    const out = await readTable(config.out, { metadata: metadataToJson(real.metadata) });
    const target = config.target ?? real.metadata.target;
    return {
      prompt_type: config.synllm.promptType,
      reply_format: config.synllm.replyFormat,
      batch_rows: config.synllm.batchRows,
      prompt: s.prompt,
      rules: s.rules.map((r) => ({
        rule: r.text,
        source: r.source,
        hard: r.hard,
        real_broken: r.broken,
        real_premise: r.premise,
        real_share: r.share,
        // Hard rules: 0 by construction (every row was checked before it entered the output).
        output_broken: brokenCount(r, out.table, real.metadata),
      })),
      rule_rejections: { total: Object.values(byRule).reduce((a, b) => a + b, 0), by_rule: byRule },
      synllm_scores: synllmSuite(real.table, out.table, {
        ...(target === undefined ? {} : { target }),
        seed: config.seed,
      }),
    };
  },
  cli: {
    options: [
      { flags: "--prompt-type <t>", description: `synllm: ${PROMPT_TYPES.join(" | ")} (default clinrule)` },
      { flags: "--mini-batch <k>", description: "synllm: records per model call (default 20)" },
      { flags: "--seed-examples <k>", description: "synllm: real rows in SEEDEx, 1 to 5 (default 5)" },
      {
        flags: "--appendix-examples",
        description:
          "synllm: also show the example rows in FEATDESC and STATGUIDE (as the paper's appendix does)",
      },
      {
        flags: "--reply-format <f>",
        description: `synllm: ${REPLY_FORMATS.join(" | ")} records (default json)`,
      },
      { flags: "--rules <file>", description: "synllm: rules file, one condition per line, # comments" },
      { flags: "--no-infer-rules", description: "synllm: no range or impossible-pair rules from the data" },
      {
        flags: "--max-rule-break <share>",
        description: "synllm: a rule broken by more real rows than this share is soft (default 0.005)",
      },
    ],
    schema: z.object({
      promptType: z
        .enum(PROMPT_TYPES, { error: `--prompt-type must be one of ${PROMPT_TYPES.join(", ")}` })
        .optional(),
      miniBatch: cliInt("--mini-batch", 1).optional(),
      seedExamples: cliInt("--seed-examples", 1).max(5, "--seed-examples must be at most 5").optional(),
      appendixExamples: z.boolean().optional(),
      replyFormat: z
        .enum(REPLY_FORMATS, { error: `--reply-format must be one of ${REPLY_FORMATS.join(", ")}` })
        .optional(),
      rules: z.string().min(1).optional(),
      inferRules: z.boolean().default(true),
      maxRuleBreak: cliUnit("--max-rule-break").optional(),
      // --no-source-conditioning (its flag is listed by llmsynthor's options; both engines read it).
      sourceConditioning: z.boolean().default(true),
    }),
    toConfig: (o) => ({
      synllm: {
        ...optional("promptType", o.promptType),
        ...optional("batchRows", o.miniBatch),
        ...optional("examples", o.seedExamples),
        ...optional("appendixExamples", o.appendixExamples),
        ...optional("replyFormat", o.replyFormat),
        ...optional("rules", o.rules === undefined ? undefined : resolve(o.rules)),
        ...(o.inferRules ? {} : { inferRules: false }),
        ...optional("maxRuleBreak", o.maxRuleBreak),
        ...(o.sourceConditioning ? {} : { sourceConditioning: false }),
      },
    }),
  },
});
