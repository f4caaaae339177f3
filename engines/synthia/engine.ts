/**
 * SYNTHIA's registry entry (graph/registry.ts): the graph, its progress lines, its CLI options (its knobs are
 * top-level fields of RunConfig) and its part of SUMMARY.json (every refinement iteration and the final prompt).
 */
import { z } from "zod";
import { cliInt } from "../../cli/options.ts";
import { defineEngine, type EngineApp } from "../../graph/engine.ts";
import { analyze } from "./analyzer.ts";
import { buildSynthiaGraph } from "./graph.ts";
import { synthiaProgress } from "./progress.ts";
import type { SynthiaStateT } from "./state.ts";

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

export const synthiaEngine = defineEngine({
  name: "synthia",
  // metadata: only with --describe-columns.
  models: ["generator", "discriminator", "metadata"],
  // SYNTHIA samples its generator at temperature 0.7, top-p 0.9, top-k 50, repetition penalty 1.1, at most
  // 2,048 new tokens (docs/papers.md, SYNTHIA experimental setup).
  sampling: { generator: { temperature: 0.7, topP: 0.9, topK: 50, repeatPenalty: 1.1, maxTokens: 2048 } },
  describe: (c, concurrency) =>
    `${c.models.generator.spec}; up to ${c.maxIterations} iterations of ${c.probeRows} probe rows; ${concurrency} parallel batches`,
  // The compiled graph's generic methods are wider than EngineApp; the runner only uses these two.
  compile: (rt, checkpointer) => buildSynthiaGraph(rt).compile({ checkpointer }) as unknown as EngineApp,
  input: (runDir, config) => ({ runDir, config }),
  progressNodes: ["collect", "discriminate"],
  progress: (c) => synthiaProgress(c.maxIterations),
  stoppedBecause: (s) => (s as unknown as SynthiaStateT).finalChoice?.reason ?? null,
  summary: async ({ state, tables }) => {
    const s = state as unknown as SynthiaStateT;
    // The output table scored by the same analyzer as the probes (same fields as iterations[].scores).
    const d = analyze(tables.real, tables.synthetic);
    return {
      iterations: s.history.map((r) => ({
        iteration: r.iteration,
        valid_rows: r.valid,
        requested_rows: r.requested,
        scores: r.scores,
        verdict: r.verdict,
        feedback: r.feedback ?? null,
        overruled: r.overruled,
        guard_reasons: r.guard_reasons,
      })),
      final_prompt: s.prompt,
      final: {
        rows: d.rows,
        scores: {
          similarity: finiteOrNull(d.similarity),
          coverage: finiteOrNull(d.coverage),
          divergence: finiteOrNull(d.divergence),
          correlation_similarity: finiteOrNull(d.correlation_similarity),
        },
        duplicates_removed: s.duplicatesRemoved,
      },
    };
  },
  cli: {
    options: [
      {
        flags: "--max-iterations <k>",
        description: "refinement iterations at most (default 6; 2 with an in-process llamacpp model)",
      },
      {
        flags: "--probe-rows <p>",
        description:
          "rows generated per refinement iteration (default 50; 10 with an in-process llamacpp model)",
      },
      { flags: "--examples <k>", description: "stratified real rows shown to the generator (default 20)" },
      {
        flags: "--no-guard",
        description: 'let a "Real" verdict end the loop even when the statistics disagree',
      },
      {
        flags: "--describe-columns",
        description: "ask the metadata agent for column descriptions (yours win)",
      },
      {
        flags: "--keep-duplicates",
        description:
          "keep exact duplicates among synthetic rows (tables with few distinct rows, e.g. all-categorical)",
      },
    ],
    schema: z.object({
      maxIterations: cliInt("--max-iterations", 1).default(6),
      probeRows: cliInt("--probe-rows", 1).default(50),
      examples: cliInt("--examples", 0).default(20),
      guard: z.boolean().default(true),
      describeColumns: z.boolean().default(false),
      keepDuplicates: z.boolean().default(false),
    }),
    // A 270M model on 2 shared cores: one iteration of 50 probe rows and the discriminator's turns took 16
    // minutes (docs/local-models.md); two iterations of 10 rows and final calls of 10 rows (both sequences
    // busy at once) finish 20 rows in minutes. Server models keep 6, 50 and 25.
    smallModelDefaults: { maxIterations: 2, probeRows: 10, batchRows: 10 },
    toConfig: (o) => ({
      maxIterations: o.maxIterations,
      probeRows: o.probeRows,
      examples: o.examples,
      guard: o.guard,
      describeColumns: o.describeColumns,
      ...(o.keepDuplicates ? { dedupe: false } : {}),
    }),
  },
});
