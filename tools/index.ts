/**
 * synthgraph's typed tools for agents: `synthgraphTools(options)` gives them as LangChain tools (zod input
 * schemas, descriptions written for a model, JSON results whose shape is the tool's output schema, also in
 * `tool.metadata.output_schema`); cli/mcp.ts serves the same specs over the Model Context Protocol.
 *
 *   evaluate, analyze, infer_metadata, structure  tables on disk → measurements (tools/tables.ts)
 *   check_rows                                    rows → valid or not, per column and condition (tools/rows.ts)
 *   sample                                        conditional rows with exact counts (tools/sample.ts)
 *   start_run, run_status                         background runs by id (tools/runs.ts)
 *   steer_run, resume_run                         steering and resuming runs, in the background (tools/steer.ts)
 *
 * File paths are confined to `options.root` (tools/paths.ts); errors are SynthgraphErrors with secrets
 * redacted (tools/redact.ts). A LangGraph ToolNode turns a thrown error into an error ToolMessage.
 */
import { type StructuredToolInterface, tool } from "@langchain/core/tools";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import {
  createToolContext,
  errorText,
  type SynthgraphToolOptions,
  type ToolContext,
  type ToolSpec,
} from "./context.ts";
import { checkRowsSpec } from "./rows.ts";
import { runStatusSpec, startRunSpec } from "./runs.ts";
import { sampleSpec } from "./sample.ts";
import { resumeRunSpec, steerRunSpec } from "./steer.ts";
import { analyzeSpec, evaluateSpec, inferMetadataSpec, structureSpec } from "./tables.ts";

export type { SynthgraphToolOptions, ToolContext, ToolSpec } from "./context.ts";
export { createToolContext } from "./context.ts";

/** Every tool's spec, in the order tools/list shows them. */
export const TOOL_SPECS: readonly ToolSpec[] = [
  evaluateSpec,
  analyzeSpec,
  inferMetadataSpec,
  structureSpec,
  checkRowsSpec,
  sampleSpec,
  startRunSpec,
  runStatusSpec,
  steerRunSpec,
  resumeRunSpec,
] as unknown as readonly ToolSpec[];

/** Runs a spec on already-validated input; errors become SynthgraphErrors with secrets redacted. */
export async function runSpec(
  spec: ToolSpec,
  input: unknown,
  ctx: ToolContext,
  extra: Parameters<ToolSpec["run"]>[2] = {},
): Promise<Record<string, unknown>> {
  try {
    return spec.output.parse(await spec.run(input as never, ctx, extra)) as Record<string, unknown>;
  } catch (err) {
    throw new SynthgraphError(errorText(err, ctx.redact), { exitCode: 2, cause: err });
  }
}

/** The tools as LangChain tools sharing one context (one root, one run registry). */
export function synthgraphTools(
  options: SynthgraphToolOptions | ToolContext = {},
): StructuredToolInterface[] {
  const ctx = "guard" in options ? options : createToolContext(options);
  return TOOL_SPECS.map((spec) =>
    tool(async (input: unknown) => ctx.redact(JSON.stringify(await runSpec(spec, input, ctx))), {
      name: spec.name,
      description: spec.description,
      schema: spec.input,
      metadata: { output_schema: z.toJSONSchema(spec.output, { io: "output", unrepresentable: "any" }) },
    }),
  );
}
