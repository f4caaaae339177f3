/**
 * check_rows: validates rows (JSON objects) against the metadata of a real table with the same validator
 * every generated row passes (data/validate.ts): types, real ranges, integer rounding, known categories,
 * required columns. Coercions that only change the JSON type pass silently; changes of meaning are listed
 * as repairs; everything else is an error naming the column.
 *
 * With `where` (the predicate language, data/predicate/) a row valid on the metadata must also satisfy the
 * condition, checked on the coerced row exactly as a generated row of a conditional run is (rowSatisfies,
 * missing values unknown as in SQL); a row that does not gets one reason per top-level `and` part it breaks,
 * with the values of the columns that part reads.
 */
import { z } from "zod";
import { readMetadataFile } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import { Predicate, parsePredicate, rowSatisfies } from "../data/predicate/index.ts";
import type { Metadata, Row } from "../data/types.ts";
import { createRowValidator } from "../data/validate.ts";
import { decimalField, plain, type ToolSpec } from "./context.ts";

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
  decimal: decimalField("the real table's"),
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
  where: z
    .string()
    .min(1)
    .max(2000)
    .optional()
    .describe(
      'condition every row must also satisfy, in the predicate language, e.g. age > 60 and sex == "Female"',
    ),
});

export const CheckRowsOutput = z.object({
  valid: z.number().int(),
  invalid: z.number().int(),
  where: z.string().nullable().describe("the condition in canonical form (null without where)"),
  results: z.array(
    z.object({
      index: z.number().int().describe("0-based position in the input rows"),
      ok: z.boolean(),
      row: z
        .record(z.string(), z.unknown())
        .optional()
        .describe("the row as synthgraph would store it (coerced)"),
      repairs: z.array(z.string()).describe("changes of meaning applied to a valid row"),
      condition_met: z
        .boolean()
        .nullable()
        .describe("whether the coerced row satisfies where (null: no where, or the row is invalid)"),
      errors: z.array(
        z.object({
          column: z.string().describe("the column, or the columns a broken condition part reads"),
          reason: z.string(),
        }),
      ),
    }),
  ),
});

export const checkRowsSpec: ToolSpec<typeof CheckRowsInput, typeof CheckRowsOutput> = {
  name: "check_rows",
  description:
    "Checks rows against a real table's metadata exactly as synthgraph checks generated rows: every column present, values of the right type, numbers and dates inside the real range, integers integral, categories known; with where, also a condition in the predicate language. Returns per row whether it is valid, the coerced row, repairs made and one reason per bad column or broken condition part.",
  input: CheckRowsInput,
  output: CheckRowsOutput,
  async run(i, ctx) {
    const overrides = i.metadata
      ? await readMetadataFile(ctx.guard.readable(i.metadata, "metadata"))
      : undefined;
    const real = await readTable(ctx.guard.readable(i.real, "real"), {
      ...(overrides ? { metadata: overrides } : {}),
      ...(i.decimal ? { decimal: i.decimal } : {}),
    });
    const validate = createRowValidator(real.metadata, {
      allowNewCategories: i.allow_new_categories,
      enforceMinMax: i.enforce_min_max,
    });
    const pred = i.where === undefined ? undefined : parsePredicate(i.where, real.metadata);
    const parts = pred === undefined ? [] : conjuncts(pred);
    let valid = 0;
    const results = i.rows.map((input, index) => {
      const v = validate(input);
      if (!v.ok) {
        return {
          index,
          ok: false,
          repairs: [],
          condition_met: null,
          errors: v.errors.map((e) => ({ column: e.column, reason: e.reason })),
        };
      }
      const met = pred === undefined ? null : rowSatisfies(pred, v.row, real.metadata);
      if (met === false) {
        return {
          index,
          ok: false,
          row: v.row,
          repairs: v.repairs,
          condition_met: false,
          errors: brokenParts(parts, v.row, real.metadata),
        };
      }
      valid++;
      return { index, ok: true, row: v.row, repairs: v.repairs, condition_met: met, errors: [] };
    });
    return CheckRowsOutput.parse(
      plain({ valid, invalid: i.rows.length - valid, where: pred?.toString() ?? null, results }),
    );
  },
};

/** The top-level `and` parts of a condition (the whole condition when it is not an `and`). */
function conjuncts(pred: Predicate): Predicate[] {
  return pred.root.type === "and" ? pred.root.args.map((n) => new Predicate(n)) : [pred];
}

/** One reason per part the row breaks, with the values of the columns the part reads. */
function brokenParts(
  parts: readonly Predicate[],
  row: Row,
  metadata: Metadata,
): Array<{ column: string; reason: string }> {
  return parts
    .filter((p) => !rowSatisfies(p, row, metadata))
    .map((p) => {
      const cols = p.columns();
      const values = cols.map(
        (c) => `${c} = ${row[c] === null || row[c] === undefined ? "missing" : JSON.stringify(row[c])}`,
      );
      return { column: cols.join(", "), reason: `does not satisfy ${p.toString()} (${values.join(", ")})` };
    });
}
