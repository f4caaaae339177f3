/**
 * An agent graph that calls a synthgraph engine as a subgraph and reads the result from its own state.
 *
 *   START → plan → synthesize (the SYNTHIA graph, a subgraph) → review → END
 *
 * - plan turns the parent's request (a table, a row count, an output path) into the engine's input:
 *   `runDir` and a full RunConfig (here with fixed choices; an LLM planner would choose them);
 * - synthesize is the exported SYNTHIA graph added as a node: it shares the keys `runDir`, `config` and
 *   `output` with the parent, so the parent state holds `output` ({path, rows}) when it returns;
 * - review reads `output` from the parent state and measures the table with the analyzer tool's function.
 *
 * The exported graph has no checkpointer of its own: it runs under the parent's (MemorySaver here). A parent
 * key with the name of an engine state key is shared with the subgraph: choose the parent's own keys so
 * they do not collide (SYNTHIA's state has e.g. `phase`, `verdict`, `history`, `prompt`).
 */
import { join } from "node:path";
import { END, MemorySaver, START, StateGraph, StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import { readTable } from "../data/read.ts";
import { synthia } from "../graph/export.ts";
import type { RoleConfigMap } from "../models/spec.ts";
import { type RunConfig, RunConfigSchema } from "../state/config.ts";
import { analyzeFiles } from "../tools/analyze.ts";

export const AgentState = new StateSchema({
  /** What the parent agent was asked for. */
  request: z.object({
    data: z.string(),
    rows: z.number().int().positive(),
    out: z.string(),
    seed: z.number().int(),
  }),
  /** Shared with the engine subgraph (its input). */
  runDir: z.string().default(""),
  config: z.custom<RunConfig>().nullable().default(null),
  /** Shared with the engine subgraph (its result). */
  output: z.object({ path: z.string(), rows: z.number().int() }).nullable().default(null),
  /** The parent's own reading of the result. */
  quality: z
    .object({ similarity: z.number().nullable(), coverage: z.number().nullable(), rows: z.number().int() })
    .nullable()
    .default(null),
});

/** The parent graph; `models` are the engine's models (e.g. resolveRoleConfigs({ flags: { model } })). */
export function buildAgentGraph(models: RoleConfigMap, workDir: string) {
  return new StateGraph(AgentState)
    .addNode("plan", (s) => ({
      runDir: join(workDir, `run-${s.request.seed}`),
      config: RunConfigSchema.parse({
        input: s.request.data,
        rows: s.request.rows,
        out: s.request.out,
        models,
        seed: s.request.seed,
        maxIterations: 2,
        probeRows: 20,
        batchRows: 10,
        examples: 8,
      }),
    }))
    .addNode("synthesize", synthia)
    .addNode("review", async (s) => {
      if (!s.output) throw new Error("the engine subgraph returned no output");
      const { diagnostics } = await analyzeFiles(s.request.data, s.output.path);
      const written = await readTable(s.output.path);
      return {
        quality: {
          similarity: Number.isFinite(diagnostics.similarity) ? diagnostics.similarity : null,
          coverage: Number.isFinite(diagnostics.coverage) ? diagnostics.coverage : null,
          rows: written.table.nRows,
        },
      };
    })
    .addEdge(START, "plan")
    .addEdge("plan", "synthesize")
    .addEdge("synthesize", "review")
    .addEdge("review", END)
    .compile({ checkpointer: new MemorySaver() });
}
