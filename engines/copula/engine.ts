/**
 * The copula engine's registry entry (graph/registry.ts): no model roles (`generate` says "no model needed"
 * and never builds a model client), the graph, its progress lines, its CLI options (the `config.copula`
 * block, config.ts) and its part of SUMMARY.json (the fit: families and parameters per column, the strongest
 * correlations; the sampling rounds).
 */
import { z } from "zod";
import { cliInt } from "../../cli/options.ts";
import { codeSamplingSummary } from "../../graph/code-sampling-graph.ts";
import { defineEngine, type EngineApp, optional } from "../../graph/engine.ts";
import { familyChoiceSchema } from "./marginals.ts";
import { buildCopulaGraph } from "./graph.ts";
import { copulaProgress } from "./progress.ts";
import { copulaSampler } from "./sampler.ts";
import type { CopulaStateT } from "./state.ts";

export const copulaEngine = defineEngine({
  name: "copula",
  models: [],
  describe: (c) =>
    `a Gaussian copula fitted and sampled by code (marginals: ${c.copula.distribution}; chunks of ${c.copula.chunkRows} rows)`,
  compile: (rt, checkpointer) => buildCopulaGraph(rt).compile({ checkpointer }) as unknown as EngineApp,
  input: (runDir, config) => ({ runDir, config }),
  progressNodes: ["fit", "sample"],
  progress: (config) => copulaProgress(config.copula),
  stoppedBecause: () => null,
  summary: ({ state, store }) => codeSamplingSummary(state as unknown as CopulaStateT, copulaSampler, store),
  cli: {
    options: [
      {
        flags: "--copula-distribution <family>",
        description:
          "copula: marginal family of numeric columns: auto (smallest KS statistic), norm, beta, truncnorm, gamma, uniform (default auto)",
      },
      {
        flags: "--copula-chunk-rows <n>",
        description: "copula: rows per stored sampling chunk (default 5000)",
      },
    ],
    schema: z.object({
      copulaDistribution: z
        .enum(familyChoiceSchema.options, {
          error: `--copula-distribution must be one of ${familyChoiceSchema.options.join(", ")}`,
        })
        .optional(),
      copulaChunkRows: cliInt("--copula-chunk-rows", 1).optional(),
    }),
    toConfig: (o) => ({
      copula: {
        ...optional("distribution", o.copulaDistribution),
        ...optional("chunkRows", o.copulaChunkRows),
      },
    }),
  },
});
