/**
 * MALLM-GAN's registry entry (graph/registry.ts): the graph, its progress lines, its CLI options (the
 * `config.mallm` block, config.ts) and its part of SUMMARY.json (the schedule and the theta trajectory).
 */
import { z } from "zod";
import { cliInt, cliUnit } from "../../cli/options.ts";
import { defineEngine, type EngineApp, optional } from "../../graph/engine.ts";
import { DISCRIMINATOR_KINDS } from "./classifiers.ts";
import { buildMallmGraph } from "./graph.ts";
import { mallmProgress } from "./progress.ts";
import { type MallmStateT, mallmSummary } from "./state.ts";

export const mallmEngine = defineEngine({
  name: "mallm-gan",
  models: ["generator", "optimizer"],
  // MALLM-GAN: a "highest confidence" generator at 0.5, a "more creative" optimizer at 1.0 (appendix C.2).
  sampling: { generator: { temperature: 0.5 }, optimizer: { temperature: 1.0 } },
  describe: (c) =>
    `MALLM-GAN with ${c.models.generator.spec} (optimizer ${c.models.optimizer.spec}); ${c.mallm.epochs ?? "5/4/3/2"} epoch${c.mallm.epochs === 1 ? "" : "s"} of batches of ${c.mallm.batchSize}, ${c.mallm.frozenEpochs} frozen${c.mallm.maxBatches === undefined ? "" : `, at most ${c.mallm.maxBatches} batches`}`,
  compile: (rt, checkpointer) => buildMallmGraph(rt).compile({ checkpointer }) as unknown as EngineApp,
  input: (runDir, config) => ({ runDir, config }),
  progressNodes: ["collect", "optimize"],
  progress: () => mallmProgress,
  stoppedBecause: (s) => (s as unknown as MallmStateT).finalChoice?.reason ?? null,
  summary: async ({ state }) => mallmSummary(state as unknown as MallmStateT),
  cli: {
    options: [
      {
        flags: "--epochs <e>",
        description: "mallm-gan: learning epochs (default 5/4/3/2 for 100/200/400/800 real rows)",
      },
      {
        flags: "--frozen-epochs <e>",
        description: "mallm-gan: epochs with the discriminator frozen (default 1)",
      },
      { flags: "--mallm-batch <b>", description: "mallm-gan: real rows per batch of the loop (default 50)" },
      {
        flags: "--mallm-max-batches <n>",
        description:
          "mallm-gan: stop the loop after n batches (default: every batch of every epoch; 2 with an in-process model)",
      },
      {
        flags: "--examples-per-call <k>",
        description:
          "mallm-gan: real examples in and rows out per generator call (default 1, the paper's best; the official code uses 5)",
      },
      {
        flags: "--top-k <k>",
        description: "mallm-gan: (theta, score) pairs shown to the optimizer (default 3)",
      },
      {
        flags: "--store-threshold <x>",
        description: "mallm-gan: share of valid rows for a batch's theta to be stored (default 0.8)",
      },
      {
        flags: "--causal-order",
        description: "mallm-gan: order columns causes-first in examples and output",
      },
      { flags: "--context <text>", description: "mallm-gan: context of data collection for theta" },
      {
        flags: "--discriminator <kind>",
        description:
          "mallm-gan: sgd (the paper's incremental logistic regression, default), logistic (refitted to convergence on all rows seen) or forest (random forest on a bounded sample)",
      },
    ],
    schema: z.object({
      epochs: cliInt("--epochs", 1).optional(),
      frozenEpochs: cliInt("--frozen-epochs", 0).optional(),
      mallmBatch: cliInt("--mallm-batch", 1).optional(),
      mallmMaxBatches: cliInt("--mallm-max-batches", 1).optional(),
      examplesPerCall: cliInt("--examples-per-call", 1).optional(),
      topK: cliInt("--top-k", 1).optional(),
      storeThreshold: cliUnit("--store-threshold").optional(),
      causalOrder: z.boolean().default(false),
      context: z.string().optional(),
      discriminator: z
        .enum(DISCRIMINATOR_KINDS, { error: "--discriminator must be sgd, logistic or forest" })
        .optional(),
    }),
    // A 270M model on 2 shared cores writes a few tokens a second, and every batch of the loop generates one row
    // per real row in it: the paper's schedule for Adult's 200 rows (4 learning epochs + 1 frozen, batches of
    // 50) generates 1,000 rows before the output, and even one epoch (200 rows in 10-row calls) did not finish
    // its first batch in 8 minutes (with node-llama-cpp's thread default, since replaced: models/llamacpp.ts). Two batches of 20 real rows, 5 per call, then final calls of 10 rows: 8
    // generator calls and 1 optimizer call before the output. Server models keep the paper's schedule.
    smallModelDefaults: {
      epochs: 1,
      frozenEpochs: 0,
      examplesPerCall: 5,
      mallmBatch: 20,
      mallmMaxBatches: 2,
      batchRows: 10,
    },
    toConfig: (o) => ({
      mallm: {
        ...optional("epochs", o.epochs),
        ...optional("frozenEpochs", o.frozenEpochs),
        ...optional("batchSize", o.mallmBatch),
        ...optional("maxBatches", o.mallmMaxBatches),
        ...optional("examplesPerCall", o.examplesPerCall),
        ...optional("topK", o.topK),
        ...optional("storeThreshold", o.storeThreshold),
        causalOrder: o.causalOrder,
        ...optional("context", o.context),
        ...optional("discriminator", o.discriminator),
      },
    }),
  },
});
