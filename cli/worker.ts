/**
 * `synthgraph worker --store postgres://… [--concurrency K]`: generates the final batches of runs started
 * with `generate --workers` on the same database (graph/worker.ts), until SIGINT or SIGTERM. Start as many as
 * you like, on any machine that can reach the database, the model servers and the run's input file.
 */
import type { Command } from "commander";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { runWorker } from "../graph/worker.ts";
import { onStopSignals } from "./stop-signals.ts";
import { redactUrl, storeUrlOf } from "../state/postgres.ts";
import type { CommandModule } from "./commands.ts";
import { cliInt } from "./options.ts";

const WorkerOptionsSchema = z.object({
  store: z.string().optional(),
  concurrency: cliInt("--concurrency", 1).default(1),
  quiet: z.boolean().default(false),
  grace: z.coerce.number({ error: "--grace must be a number" }).min(0).default(30),
  endpoint: z.array(z.url({ error: "--endpoint must be a URL" })).default([]),
});

export async function runWorkerCommand(
  raw: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>> = process.env,
  stderr: { write(s: string): unknown } = process.stderr,
): Promise<void> {
  const r = WorkerOptionsSchema.safeParse(raw);
  if (!r.success) {
    throw new SynthgraphError(r.error.issues[0].message, {
      hint: "see `synthgraph worker --help`",
      exitCode: 2,
    });
  }
  const o = r.data;
  const url = storeUrlOf(o.store, env);
  if (url === undefined) {
    throw new SynthgraphError("synthgraph worker needs the PostgreSQL store of the runs it works for", {
      hint: "pass --store postgres://… (or set SYNTHGRAPH_DATABASE_URL), the URL the run was started with",
      exitCode: 2,
    });
  }
  const ac = new AbortController();
  const removeSignals = onStopSignals(() => {
    if (!o.quiet) {
      stderr.write(
        `synthgraph worker: stopping; batches in flight have ${o.grace} s to finish (send the signal again to exit now)\n`,
      );
    }
    ac.abort();
  });
  try {
    await runWorker({
      url,
      concurrency: o.concurrency,
      endpoints: o.endpoint,
      graceMs: o.grace * 1000,
      env,
      signal: ac.signal,
      onJob: (e) => {
        if (!o.quiet) {
          stderr.write(
            `synthgraph worker: run ${e.runId} round ${e.round} batch ${e.batch}: ${e.rows} rows in ${Math.round(e.ms)} ms\n`,
          );
        }
      },
      onReady: () => {
        if (!o.quiet) {
          stderr.write(`synthgraph worker: ${o.concurrency} job(s) at a time from ${redactUrl(url)}\n`);
        }
      },
      // Said even with --quiet, as failed batches are: the worker does nothing until the database answers.
      onDatabase: (e) => {
        stderr.write(
          e.reachable
            ? "synthgraph worker: the database answers again\n"
            : `synthgraph worker: the database does not answer (${e.message}); waiting for it\n`,
        );
      },
      onError: (e) => {
        const msg = e.error instanceof Error ? e.error.message : String(e.error);
        stderr.write(`synthgraph worker: run ${e.runId} round ${e.round} batch ${e.batch} failed: ${msg}\n`);
      },
    });
  } finally {
    removeSignals();
  }
}

export const workerCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("worker")
      .description(
        "generate final batches of runs started with `generate --workers` (any machine, many processes)",
      )
      .option("--store <url>", "PostgreSQL URL of the runs (default: SYNTHGRAPH_DATABASE_URL)")
      .option("--concurrency <k>", "batches generated at once by this process (default 1)")
      .option("--quiet", "no log lines on stderr")
      .option(
        "--endpoint <url>",
        "this machine's model server (replaces the run's); repeat for a pool",
        (v: string, prev: string[]) => [...prev, v],
        [] as string[],
      )
      .option("--grace <seconds>", "on SIGINT/SIGTERM, time for batches in flight to finish (default 30)")
      .action(async (opts: Record<string, unknown>) => {
        await runWorkerCommand(opts);
        // A model call still in flight after the grace period is abandoned: its job expires and another worker
        // takes it (the batch is stored once whoever finishes it).
        process.exit(0);
      });
  },
};
