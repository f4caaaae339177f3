/**
 * Row schemas derived from Metadata: a zod object for one row and its JSON Schema for LLM structured output.
 * OpenAI strict mode shapes the choices: every property required (missing = nullable, never optional),
 * additionalProperties false, no minimum/maximum keywords (ranges go in descriptions; createRowValidator
 * enforces them).
 */
import { z } from "zod";
import { formatIsoDatetime, formatNumber } from "./cells.ts";
import type { ColumnMeta, Metadata } from "./types.ts";

export interface RowSchemaOptions {
  /** Include id columns (default false: ids are assigned by code, not generated). */
  readonly includeIds?: boolean;
  /** Categoricals with more levels become plain strings (default 500, OpenAI's enum limit). */
  readonly maxEnumValues?: number;
}

export const DEFAULT_MAX_ENUM_VALUES = 500;

/** Columns a generated row carries. */
export function rowColumns(meta: Metadata, opts: RowSchemaOptions = {}): ColumnMeta[] {
  return meta.columns.filter((c) => c.sdtype !== "id" || opts.includeIds === true);
}

/** A zod object for one row (strict: unknown keys are rejected). */
export function rowZodSchema(meta: Metadata, opts: RowSchemaOptions = {}): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const col of rowColumns(meta, opts)) {
    const base = valueSchema(col, opts.maxEnumValues ?? DEFAULT_MAX_ENUM_VALUES);
    shape[col.name] = (col.missingRate > 0 ? base.nullable() : base).describe(columnDescription(col, opts));
  }
  return z.strictObject(shape);
}

/** JSON Schema (draft 2020-12) of one row, for structured output. */
export function rowJsonSchema(meta: Metadata, opts: RowSchemaOptions = {}): Record<string, unknown> {
  return z.toJSONSchema(rowZodSchema(meta, opts)) as Record<string, unknown>;
}

function valueSchema(col: ColumnMeta, maxEnum: number): z.ZodType {
  switch (col.sdtype) {
    case "numerical":
      return z.number();
    case "boolean":
      return z.boolean();
    case "categorical": {
      const levels = (col.levels ?? []).map((l) => l.value);
      if (levels.length === 0) return z.null();
      return levels.length > maxEnum ? z.string() : z.enum(levels as [string, ...string[]]);
    }
    case "datetime":
    case "id":
      return z.string();
  }
}

/** "integer, 17 to 90", "one of 8 categories", "date YYYY-MM-DD, 2001-01-01 to 2003-12-31", plus missing share. */
export function columnDescription(col: ColumnMeta, opts: RowSchemaOptions = {}): string {
  const parts: string[] = [];
  if (col.description) parts.push(col.description);
  parts.push(valueDescription(col, opts.maxEnumValues ?? DEFAULT_MAX_ENUM_VALUES));
  if (col.missingRate > 0)
    parts.push(`null when missing (${formatPercent(col.missingRate)} missing in the real data)`);
  return parts.join("; ");
}

function valueDescription(col: ColumnMeta, maxEnum: number): string {
  switch (col.sdtype) {
    case "numerical": {
      // Telling the model the real precision saves a rounding repair on most values it writes.
      const kind = col.integer
        ? "integer"
        : col.decimals !== undefined
          ? `number with up to ${col.decimals} decimal${col.decimals === 1 ? "" : "s"}`
          : "number";
      return col.min === undefined || col.max === undefined
        ? kind
        : `${kind}, ${formatNumber(col.min)} to ${formatNumber(col.max)}`;
    }
    case "boolean":
      return "true or false";
    case "categorical": {
      const n = col.levels?.length ?? 0;
      if (n === 0) return "always null (no values in the real data)";
      return n > maxEnum ? `one of ${n} categories (listed in the prompt)` : `one of ${n} categories`;
    }
    case "datetime": {
      const format = col.datetimeFormat ?? "datetime";
      const shape = format === "date" ? "date YYYY-MM-DD" : "date-time YYYY-MM-DDTHH:MM:SSZ";
      return col.min === undefined || col.max === undefined
        ? shape
        : `${shape}, ${formatIsoDatetime(col.min, format)} to ${formatIsoDatetime(col.max, format)}`;
    }
    case "id":
      return "identifier";
  }
}

function formatPercent(rate: number): string {
  return `${Number((rate * 100).toPrecision(3))}%`;
}
