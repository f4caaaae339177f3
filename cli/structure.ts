/**
 * `synthgraph structure DATA.csv`: learns a causal DAG by BIC hill climbing (MALLM-GAN's initial causal
 * structure), prints its edges and optionally writes {"edges", "nodes", "score", "seconds"} as JSON.
 */
import type { Command } from "commander";
import { z } from "zod";
import { DataError } from "../data/errors.ts";
import { readMetadataFile } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import { formatArrows, formatEdgeList, parentsMap } from "../stats/structure/dag.ts";
import { learnStructure } from "../stats/structure/hill-climb.ts";
import type { CommandModule } from "./commands.ts";
import { cliDecimal, DECIMAL_FLAG } from "./options.ts";
import { checkOutputs, jsonWithKeys } from "./output-safety.ts";
import { writeFileAtomic } from "../state/atomic.ts";

const optionsSchema = z.object({
  data: z.string().min(1),
  metadata: z.string().optional(),
  bins: z.coerce.number().int().min(2).max(100).default(5),
  maxParents: z.coerce.number().int().min(0).optional(),
  restarts: z.coerce.number().int().min(0).default(0),
  seed: z.coerce.number().int().default(0),
  json: z.string().optional(),
  decimal: cliDecimal,
  force: z.boolean().optional(),
});
export type StructureCliOptions = z.input<typeof optionsSchema>;

export interface StructureReport {
  readonly nodes: string[];
  readonly edges: Array<[string, string]>;
  /** The same DAG as the JSON parents map. */
  readonly parents: Record<string, string[]>;
  /** Total BIC (natural log, higher is better). */
  readonly score: number;
  readonly seconds: number;
  readonly rows: number;
  readonly warnings: string[];
}

/** Reads the table (metadata overrides column types), learns the DAG, writes --json if asked. */
export async function runStructure(raw: StructureCliOptions): Promise<StructureReport> {
  const parsed = optionsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = issue.path.join(".").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new DataError(`invalid option --${flag}: ${issue.message}`, {
      hint: "--bins is an integer ≥ 2, --max-parents and --restarts integers ≥ 0",
    });
  }
  const opts = parsed.data;
  await checkOutputs({
    inputs: [
      { flag: "the table", path: opts.data },
      ...(opts.metadata ? [{ flag: "--metadata", path: opts.metadata }] : []),
    ],
    outputs: opts.json
      ? [{ flag: "--json", path: opts.json, owned: jsonWithKeys(["edges", "nodes", "score"]) }]
      : [],
    force: opts.force === true,
  });
  const overrides = opts.metadata ? await readMetadataFile(opts.metadata) : undefined;
  const { table, warnings } = await readTable(opts.data, {
    metadata: overrides,
    ...(opts.decimal ? { decimal: opts.decimal } : {}),
  });
  const t0 = performance.now();
  const result = learnStructure(table, {
    bins: opts.bins,
    maxParents: opts.maxParents,
    restarts: opts.restarts,
    seed: opts.seed,
  });
  const seconds = (performance.now() - t0) / 1000;
  const report: StructureReport = {
    nodes: [...result.dag.nodes],
    edges: result.dag.edges.map(([a, b]) => [a, b]),
    parents: parentsMap(result.dag),
    score: result.score,
    seconds,
    rows: table.nRows,
    warnings,
  };
  if (opts.json) {
    const { edges, nodes, score } = report;
    await writeFileAtomic(opts.json, `${JSON.stringify({ edges, nodes, score, seconds }, null, 2)}\n`);
  }
  return report;
}

/** The readable output: the edge list in the paper's form, then one arrow per line. */
export function formatStructure(r: StructureReport): string {
  const dag = { nodes: r.nodes, edges: r.edges };
  const lines = [
    `${r.edges.length} edges over ${r.nodes.length} columns, ${r.rows} rows; BIC ${r.score.toFixed(2)}; ${r.seconds.toFixed(2)} s`,
    formatEdgeList(dag),
  ];
  if (r.edges.length > 0) lines.push(formatArrows(dag));
  for (const w of r.warnings) lines.push(`note: ${w}`);
  return `${lines.join("\n")}\n`;
}

export const structureCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("structure")
      .description(
        "learn a causal DAG from a table by BIC hill climbing (MALLM-GAN's initial causal structure)",
      )
      .argument("<data>", "real table, CSV or JSON Lines")
      .option(
        "--metadata <file>",
        "SDV-style metadata JSON overriding inferred column types (docs/metadata.md)",
      )
      .option("--bins <n>", "quantile bins for numerical columns", "5")
      .option("--max-parents <k>", "most parents per column (default unlimited)")
      .option("--restarts <n>", "random restarts after the first climb", "0")
      .option("--seed <n>", "seed for the restarts", "0")
      .option(DECIMAL_FLAG.flags, DECIMAL_FLAG.description)
      .option("--json <file>", 'write {"edges", "nodes", "score", "seconds"} as JSON')
      .option("--force", "replace the --json file even when synthgraph did not write it")
      .action(async (data: string, raw: Record<string, unknown>) => {
        const report = await runStructure({ ...raw, data } as StructureCliOptions);
        if (raw.json) process.stdout.write(`wrote ${String(raw.json)}\n`);
        process.stdout.write(formatStructure(report));
      });
  },
};
