/**
 * check_rows: validates rows (JSON objects) against the metadata of a real table with the same validator
 * every generated row passes (data/validate.ts): types, real ranges, integer rounding, known categories,
 * required columns. Coercions that only change the JSON type pass silently; changes of meaning are listed
 * as repairs; everything else is an error naming the column.
 *
 * A `where` predicate (rows must also satisfy a condition) waits for the predicate language (data/predicate/).
 */
import { z } from "zod";
import { readMetadataFile } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import { createRowValidator } from "../data/validate.ts";
import { plain, type ToolSpec } from "./context.ts";

export const MAX_CHECK_ROWS = 1000;

export const CheckRowsInput = z.object({
  real: z
    .string()
    .min(1)
    .max(4096)
    .describe(
      "real table whose column types, ranges and categories the rows must respect (relative to the root)",
    ),
  metadata: z.string().min(1).max(4096).optional().describe("SDV metadata JSON for the real table"),
  rows: z
    .array(z.record(z.string(), z.unknown()))
    .min(1)
    .max(MAX_CHECK_ROWS)
    .describe(`rows to check, one JSON object per row keyed by column name (at most ${MAX_CHECK_ROWS})`),
  allow_new_categories: z
    .boolean()
    .default(false)
    .describe("accept categories the real table does not have (reported as repairs)"),
  enforce_min_max: z.boolean().default(true).describe("reject values outside the real [min, max]"),
});

export const CheckRowsOutput = z.object({
  valid: z.number().int(),
  invalid: z.number().int(),
  results: z.array(
    z.object({
      index: z.number().int().describe("0-based position in the input rows"),
      ok: z.boolean(),
      row: z
        .record(z.string(), z.unknown())
        .optional()
        .describe("the row as synthgraph would store it (coerced)"),
      repairs: z.array(z.string()).describe("changes of meaning applied to a valid row"),
      errors: z.array(z.object({ column: z.string(), reason: z.string() })),
    }),
  ),
});

export const checkRowsSpec: ToolSpec<typeof CheckRowsInput, typeof CheckRowsOutput> = {
  name: "check_rows",
  description:
    "Checks rows against a real table's metadata exactly as synthgraph checks generated rows: every column present, values of the right type, numbers and dates inside the real range, integers integral, categories known. Returns per row whether it is valid, the coerced row, repairs made and one reason per bad column.",
  input: CheckRowsInput,
  output: CheckRowsOutput,
  async run(i, ctx) {
    const overrides = i.metadata
      ? await readMetadataFile(ctx.guard.readable(i.metadata, "metadata"))
      : undefined;
    const real = await readTable(
      ctx.guard.readable(i.real, "real"),
      overrides ? { metadata: overrides } : {},
    );
    const validate = createRowValidator(real.metadata, {
      allowNewCategories: i.allow_new_categories,
      enforceMinMax: i.enforce_min_max,
    });
    let valid = 0;
    const results = i.rows.map((input, index) => {
      const v = validate(input);
      if (v.ok) {
        valid++;
        return { index, ok: true, row: v.row, repairs: v.repairs, errors: [] };
      }
      return {
        index,
        ok: false,
        repairs: [],
        errors: v.errors.map((e) => ({ column: e.column, reason: e.reason })),
      };
    });
    return CheckRowsOutput.parse(plain({ valid, invalid: i.rows.length - valid, results }));
  },
};
