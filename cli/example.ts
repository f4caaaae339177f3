/**
 * `synthgraph example ecommerce --rows 2000 --seed S --out FILE.csv`: writes a sample of a known ground truth —
 * the LLMSynthor e-commerce Bayesian network (LLMSynthor paper, appendix A.1, docs/papers.md; examples/ecommerce.ts) — to try an engine on
 * and to score a synthetic table against (bench/ecommerce.bench.ts).
 */
import type { Command } from "commander";
import { z } from "zod";
import { DataError } from "../data/errors.ts";
import { deriveMetadata } from "../data/metadata.ts";
import { writeCsv } from "../data/write.ts";
import { ecommerceTable } from "../examples/ecommerce.ts";
import type { CommandModule } from "./commands.ts";

export const EXAMPLES = ["ecommerce"] as const;

export const exampleOptionsSchema = z.object({
  name: z.enum(EXAMPLES, { error: `unknown example; choose one of: ${EXAMPLES.join(", ")}` }),
  rows: z.coerce.number().int().min(1).max(10_000_000).default(2000),
  seed: z.coerce.number().int().default(0),
  out: z.string().min(1),
});
export type ExampleOptions = z.input<typeof exampleOptionsSchema>;

/** Validates the options, samples the example and writes it as CSV; returns what was written. */
export async function runExample(
  raw: ExampleOptions,
): Promise<{ out: string; rows: number; columns: string[] }> {
  const parsed = exampleOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataError(`invalid option ${issue.path.join(".")}: ${issue.message}`, {
      hint: "usage: synthgraph example ecommerce --rows 2000 --seed 0 --out ecommerce.csv",
    });
  }
  const o = parsed.data;
  const table = ecommerceTable(o.rows, o.seed);
  await writeCsv(o.out, table, deriveMetadata(table));
  return { out: o.out, rows: table.nRows, columns: table.columns.map((c) => c.name) };
}

export const exampleCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("example")
      .description("write a sample of a known ground-truth table (ecommerce: LLMSynthor appendix A.1)")
      .argument("<name>", `example to write: ${EXAMPLES.join(", ")}`)
      .option("--rows <n>", "rows to write", "2000")
      .option("--seed <n>", "random seed", "0")
      .requiredOption("--out <file>", "CSV file to write")
      .action(async (name: string, raw: Record<string, unknown>) => {
        const r = await runExample({ ...raw, name } as ExampleOptions);
        process.stdout.write(`wrote ${r.rows} rows (${r.columns.join(", ")}) to ${r.out}\n`);
      });
  },
};
