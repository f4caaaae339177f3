/**
 * `synthgraph mcp`: the Model Context Protocol server (tools/mcp/server.ts). stdio by default (stdout is
 * protocol only: console output goes to stderr), or `--http [--host H] [--port P]` for streamable HTTP at
 * /mcp. Files are confined to --root (default: the working directory); a non-loopback host needs a token.
 */
import type { Command } from "commander";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { resolveRoleConfigs } from "../models/spec.ts";
import { createToolContext } from "../tools/context.ts";
import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_HOST,
  DEFAULT_PORT,
  serveHttp,
  serveStdio,
} from "../tools/mcp/server.ts";
import type { CommandModule } from "./commands.ts";
import { onStopSignals } from "./stop-signals.ts";

const McpOptionsSchema = z.object({
  http: z.boolean().default(false),
  host: z.string().min(1).default(DEFAULT_HOST),
  port: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORT),
  root: z.string().min(1).default("."),
  token: z.string().min(1).optional(),
  bodyLimit: z.coerce.number().int().positive().default(DEFAULT_BODY_LIMIT),
  model: z.string().optional(),
  modelConfig: z.string().optional(),
});

export async function runMcp(raw: Record<string, unknown>): Promise<void> {
  const r = McpOptionsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new SynthgraphError(`--${issue.path.join(".")}: ${issue.message}`, {
      hint: "see `synthgraph mcp --help`",
      exitCode: 2,
    });
  }
  const o = r.data;
  const token = o.token ?? process.env.SYNTHGRAPH_TOKEN;
  const ctx = createToolContext({
    root: o.root,
    models: resolveRoleConfigs({
      ...(o.modelConfig ? { configFile: o.modelConfig } : {}),
      flags: o.model ? { model: o.model } : {},
    }),
    ...(token ? { secrets: [token] } : {}),
  });
  if (!o.http) {
    // stdout belongs to the protocol: anything a library prints goes to stderr.
    console.log = console.error;
    console.info = console.error;
    await serveStdio(ctx);
    return;
  }
  const http = await serveHttp(ctx, {
    host: o.host,
    port: o.port,
    bodyLimit: o.bodyLimit,
    ...(token ? { token } : {}),
  });
  process.stderr.write(
    `synthgraph mcp: listening on ${http.url} (root ${ctx.guard.root}${token ? ", bearer token required" : ""})\n`,
  );
  let removeSignals = (): void => undefined;
  await new Promise<void>((resolve) => {
    removeSignals = onStopSignals(() => {
      void ctx.runs.stopAll().then(() => http.close().then(resolve));
    });
  });
  removeSignals();
}

export const mcpCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("mcp")
      .description("serve synthgraph's tools over the Model Context Protocol (stdio, or --http)")
      .option("--http", "streamable HTTP at /mcp instead of stdio")
      .option("--host <host>", `HTTP bind address (default ${DEFAULT_HOST}; others need a token)`)
      .option("--port <port>", `HTTP port (default ${DEFAULT_PORT})`)
      .option("--root <dir>", "tools read and write files only under this directory (default .)")
      .option("--token <token>", "bearer token HTTP clients must send (default $SYNTHGRAPH_TOKEN)")
      .option("--body-limit <bytes>", `largest HTTP request body (default ${DEFAULT_BODY_LIMIT})`)
      .option("--model <spec>", "default model of runs, e.g. ollama:llama3.1:8b")
      .option("--model-config <file>", "model config JSON (default + per-role settings)")
      .action(async (opts: Record<string, unknown>) => {
        await runMcp(opts);
      });
  },
};
