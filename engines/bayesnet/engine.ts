/**
 * The Bayesian-network engine's registry entry (graph/registry.ts): no model roles (`generate` says "no model
 * needed" and never builds a model client), the graph, its progress lines, its CLI options (the
 * `config.bayesnet` block, config.ts) and its part of SUMMARY.json (the fit: DAG edges, parents and states per
 * node, CPT parameters; the sampling rounds).
 */
import { z } from "zod";
import { cliInt } from "../../cli/options.ts";
import { codeSamplingSummary } from "../../graph/code-sampling-graph.ts";
import { defineEngine, type EngineApp, optional } from "../../graph/engine.ts";
import { buildBayesnetGraph } from "./graph.ts";
import { bayesnetProgress } from "./progress.ts";
import { bayesnetSampler } from "./sampler.ts";
import type { BayesnetStateT } from "./state.ts";

const nonNegative = (flag: string) =>
  z.coerce.number({ error: `${flag} must be a number` }).min(0, `${flag} must be at least 0`);

export const bayesnetEngine = defineEngine({
  name: "bayesnet",
  models: [],
  describe: (c) =>
    `a discrete Bayesian network learned and sampled by code (${c.bayesnet.bins} bins, at most ${c.bayesnet.maxParents} parents; chunks of ${c.bayesnet.chunkRows} rows)`,
  compile: (rt, checkpointer) => buildBayesnetGraph(rt).compile({ checkpointer }) as unknown as EngineApp,
  input: (runDir, config) => ({ runDir, config }),
  progressNodes: ["fit", "sample"],
  progress: (config) => bayesnetProgress(config.bayesnet),
  stoppedBecause: () => null,
  summary: ({ state, store }) =>
    codeSamplingSummary(state as unknown as BayesnetStateT, bayesnetSampler, store),
  cli: {
    options: [
      { flags: "--bn-bins <b>", description: "bayesnet: quantile bins per numeric column (default 5)" },
      {
        flags: "--bn-max-parents <k>",
        description: "bayesnet: most parents per node in the DAG (default 3)",
      },
      {
        flags: "--bn-pseudo-count <a>",
        description: "bayesnet: Dirichlet prior's imaginary sample size (default 1; 0 = maximum likelihood)",
      },
      {
        flags: "--bn-restarts <r>",
        description: "bayesnet: random restarts of the structure search (default 0)",
      },
      {
        flags: "--bn-chunk-rows <n>",
        description: "bayesnet: rows per stored sampling chunk (default 5000)",
      },
    ],
    schema: z.object({
      bnBins: cliInt("--bn-bins", 1).optional(),
      bnMaxParents: cliInt("--bn-max-parents", 0).optional(),
      bnPseudoCount: nonNegative("--bn-pseudo-count").optional(),
      bnRestarts: cliInt("--bn-restarts", 0).optional(),
      bnChunkRows: cliInt("--bn-chunk-rows", 1).optional(),
    }),
    toConfig: (o) => ({
      bayesnet: {
        ...optional("bins", o.bnBins),
        ...optional("maxParents", o.bnMaxParents),
        ...optional("pseudoCount", o.bnPseudoCount),
        ...optional("restarts", o.bnRestarts),
        ...optional("chunkRows", o.bnChunkRows),
      },
    }),
  },
});
