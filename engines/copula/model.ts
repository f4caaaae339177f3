/**
 * The fitted Gaussian copula as plain JSON (zod-checked), so a run can store it as an artifact and sample later.
 * Columns keep the table's order; `correlation` is over the non-id columns in that order (row-major d×d).
 */
import { z } from "zod";
import { marginalSchema } from "./marginals.ts";

export const numericColumnModelSchema = z.strictObject({
  kind: z.enum(["numerical", "datetime"]),
  name: z.string(),
  marginal: marginalSchema,
  /** Share of missing cells in the real column; reproduced independently (RDT missing_value_generation "random"). */
  missingRate: z.number().min(0).max(1),
  min: z.number(),
  max: z.number(),
  /** Generated values are rounded to a multiple of `step` (10^−decimals; a day or second for datetimes); 0 = none. */
  step: z.number().min(0),
  /** numerical: decimals of the real values (rounding via toFixed-free scaling); null for datetimes. */
  decimals: z.number().int().min(0).nullable(),
});

export const codedColumnModelSchema = z.strictObject({
  kind: z.enum(["categorical", "boolean"]),
  name: z.string(),
  levels: z.array(z.string()),
  /**
   * RDT UniformEncoder intervals in order, most frequent first: category `level` (index into levels; −1 =
   * missing, its own category) owns [start, start + freq) of [0, 1].
   */
  categories: z.array(z.strictObject({ level: z.number().int().min(-1), freq: z.number().min(0).max(1) })),
});

export const idColumnModelSchema = z.strictObject({ kind: z.literal("id"), name: z.string() });

export const columnModelSchema = z.union([
  numericColumnModelSchema,
  codedColumnModelSchema,
  idColumnModelSchema,
]);

export const copulaModelSchema = z.strictObject({
  format: z.literal("synthgraph.copula/1"),
  nRows: z.number().int().min(0),
  columns: z.array(columnModelSchema),
  /** Correlation of the normal scores over the non-id columns, row-major. */
  correlation: z.array(z.number()),
});

export type NumericColumnModel = z.infer<typeof numericColumnModelSchema>;
export type CodedColumnModel = z.infer<typeof codedColumnModelSchema>;
export type ColumnModel = z.infer<typeof columnModelSchema>;
export type CopulaModel = z.infer<typeof copulaModelSchema>;

// Models (the objects given and the parsed copies) that passed the schema: a run samples one model chunk
// after chunk, and a checked object need not be walked again.
const checked = new WeakSet<object>();

/**
 * The model checked against its schema, once per object. The parse is jitless: a model is parsed once or a few
 * times per process, and zod's compiled fast path costs more to generate than it saves on one parse.
 */
export function checkedCopulaModel(model: CopulaModel): CopulaModel {
  if (checked.has(model)) return model;
  const parsed = copulaModelSchema.parse(model, { jitless: true });
  checked.add(model);
  checked.add(parsed);
  return parsed;
}
