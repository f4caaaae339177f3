/**
 * `synthgraph benchmark --protocol FILE.json`: the repeated-run protocol (protocol/): every engine × dataset ×
 * size × repeat cell, resumable per cell, then the results table (mean ± sd per metric) as results.json and
 * results.md in the output folder.
 */
import { mkdir } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { writeFileAtomic } from "../state/atomic.ts";
import { toJson } from "../stats/metrics/evaluate.ts";
import { type ProtocolRun, readProtocol, runProtocol } from "../protocol/run.ts";
import { type ResultsTable, resultsMarkdown, resultsTable } from "../protocol/table.ts";
import type { CommandModule } from "./commands.ts";

const optionsSchema = z.object({
  protocol: z.string().min(1),
  out: z.string().optional(),
  datasets: z.string().optional(),
  model: z.string().optional(),
  quiet: z.boolean().default(false),
});
export type BenchmarkOptions = z.input<typeof optionsSchema>;

interface Sink {
  write(s: string): unknown;
}

export interface BenchmarkOutcome {
  run: ProtocolRun;
  table: ResultsTable;
  out: string;
  markdown: string;
}

export async function runBenchmark(
  raw: BenchmarkOptions,
  io: { stdout: Sink; stderr: Sink } = process,
): Promise<BenchmarkOutcome> {
  const o = optionsSchema.parse(raw);
  const protocolPath = resolve(o.protocol);
  const p = await readProtocol(protocolPath);
  const out = resolve(o.out ?? join("benchmarks", p.name || basename(protocolPath, ".json")));
  await mkdir(out, { recursive: true });
  const run = await runProtocol(p, {
    out,
    baseDir: dirname(protocolPath),
    ...(o.datasets ? { datasets: o.datasets } : {}),
    ...(o.model ? { model: o.model } : {}),
    ...(o.quiet ? {} : { log: (line: string) => io.stderr.write(`${line}\n`) }),
  });
  const table = resultsTable(p, run.results, run.skipped);
  const markdown = resultsMarkdown(p, table);
  await writeFileAtomic(join(out, "results.json"), `${toJson(table)}\n`);
  await writeFileAtomic(join(out, "results.md"), markdown);
  io.stdout.write(markdown);
  io.stdout.write(
    `\n${run.results.length - run.reused.length} cells run, ${run.reused.length} reused, ${run.skipped.length} skipped; wrote ${join(out, "results.json")} and results.md\n`,
  );
  return { run, table, out, markdown };
}

export const benchmarkCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("benchmark")
      .description("run a repeated-run protocol (engines × datasets × sizes × repeats), resumable per cell")
      .requiredOption("--protocol <file>", "protocol JSON (docs/benchmark.md)")
      .option("--out <dir>", "results folder (default ./benchmarks/<protocol name>)")
      .option("--datasets <dir>", "folder the protocol's dataset paths are relative to")
      .option("--model <spec>", "model for engines that need one, e.g. ollama:llama3.1:8b")
      .option("--quiet", "no per-cell lines on stderr")
      .action(async (raw: Record<string, unknown>) => {
        await runBenchmark(raw as BenchmarkOptions);
      });
  },
};
