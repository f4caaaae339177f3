/**
 * SDV single-table metadata JSON (parsed with zod) and the derived Metadata of a table. The JSON form is what
 * users write, edit and pass back; Metadata adds the statistics of the real data. Format: docs/metadata.md.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { isNumeric } from "./build.ts";
import type { DatetimeFormat } from "./cells.ts";
import { decimalsOf, isUtcMidnight, parseBoolean } from "./cells.ts";
import { DATE_ORDER_FORMATS, type DateOrder } from "./dates.ts";
import { DataError } from "./errors.ts";
import type { ColumnSpec } from "./infer.ts";
import {
  type BooleanLabels,
  type CodedColumn,
  type Column,
  type ColumnMeta,
  type LevelCount,
  MAX_DECIMALS,
  type Metadata,
  type NumericColumn,
  type Table,
} from "./types.ts";

export const SDTYPES = ["numerical", "categorical", "boolean", "datetime", "id"] as const;
const INTEGER_REPRESENTATIONS = [
  "Int8",
  "Int16",
  "Int32",
  "Int64",
  "UInt8",
  "UInt16",
  "UInt32",
  "UInt64",
] as const;
const COMPUTER_REPRESENTATIONS = ["Float", ...INTEGER_REPRESENTATIONS] as const;
/** The datetime_format written back for each kind of ISO column. */
export const ISO_DATE_FORMAT = "%Y-%m-%d";
export const ISO_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ";

const sdtypeSchema = z.enum(SDTYPES, {
  error: (iss) =>
    iss.input === undefined
      ? "sdtype is required"
      : `unknown sdtype ${JSON.stringify(iss.input)}; synthgraph supports ${SDTYPES.join(", ")}`,
});

// Labels must read back as the same booleans, or a written file would not load again.
const booleanLabelsSchema = z
  .strictObject({ true: z.string(), false: z.string() })
  .refine((l) => parseBoolean(l.true, true) === true && parseBoolean(l.false, true) === false, {
    message:
      "boolean_labels must be a spelling synthgraph reads: true/false, yes/no, t/f, y/n (any case) or 1/0",
  })
  .refine((l) => l.true === l.true.trim() && l.false === l.false.trim(), {
    message: "boolean_labels must not have spaces at either end",
  });

const columnJsonSchema = z
  .strictObject({
    sdtype: sdtypeSchema,
    computer_representation: z.enum(COMPUTER_REPRESENTATIONS).optional(),
    datetime_format: z.string().optional(),
    description: z.string().optional(),
    // synthgraph extensions (docs/metadata.md): the real data's rounding and boolean spelling.
    decimals: z.number().int().min(0).max(MAX_DECIMALS).optional(),
    boolean_labels: booleanLabelsSchema.optional(),
    // Accepted for compatibility with SDV files; synthgraph does not use them.
    pii: z.boolean().optional(),
    regex_format: z.string().optional(),
  })
  .superRefine((col, ctx) => {
    if (col.computer_representation !== undefined && col.sdtype !== "numerical") {
      ctx.addIssue({ code: "custom", message: "computer_representation applies to numerical columns only" });
    }
    if (col.decimals !== undefined) {
      if (col.sdtype !== "numerical") {
        ctx.addIssue({ code: "custom", message: "decimals applies to numerical columns only" });
      } else if (col.decimals > 0 && col.computer_representation?.startsWith("Int")) {
        ctx.addIssue({
          code: "custom",
          message: `decimals ${col.decimals} contradicts computer_representation ${col.computer_representation}`,
        });
      }
    }
    if (col.boolean_labels !== undefined && col.sdtype !== "boolean") {
      ctx.addIssue({ code: "custom", message: "boolean_labels applies to boolean columns only" });
    }
    if (col.datetime_format !== undefined) {
      if (col.sdtype !== "datetime") {
        ctx.addIssue({ code: "custom", message: "datetime_format applies to datetime columns only" });
      } else if (
        !col.datetime_format.startsWith(ISO_DATE_FORMAT) &&
        dateOrderOf(col.datetime_format) === undefined
      ) {
        ctx.addIssue({
          code: "custom",
          message: `datetime_format ${JSON.stringify(col.datetime_format)} is not one synthgraph reads: ${ISO_DATE_FORMAT}, ${ISO_DATETIME_FORMAT}, or ${DATE_ORDER_FORMATS.dmy} / ${DATE_ORDER_FORMATS.mdy} (dates in several formats, numeric ones day or month first)`,
        });
      }
    }
  });

/** SDV single-table metadata (METADATA_SPEC_VERSION SINGLE_TABLE_V1) plus synthgraph's optional `target`. */
export const metadataJsonSchema = z.strictObject({
  METADATA_SPEC_VERSION: z.string().optional(),
  columns: z.record(z.string(), columnJsonSchema),
  primary_key: z.string().optional(),
  alternate_keys: z.array(z.string()).optional(),
  target: z.string().optional(),
});

export type ColumnOverride = z.output<typeof columnJsonSchema>;
/** User metadata: may name a subset of the columns; what it says wins over inference. */
export type MetadataOverrides = z.output<typeof metadataJsonSchema>;

/** Parses SDV metadata from a JSON value; every problem is listed in one DataError. */
export function parseMetadataJson(input: unknown, source?: string): MetadataOverrides {
  if (typeof input === "object" && input !== null && "tables" in input) {
    throw new DataError("this is SDV multi-table metadata; synthgraph reads single-table metadata", {
      file: source,
      hint: 'pass one table\'s entry: {"columns": {...}, "primary_key": ...}',
    });
  }
  const parsed = metadataJsonSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (i) => `${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`,
  );
  throw new DataError(`invalid metadata: ${problems.join("; ")}`, {
    file: source,
    hint: 'expected {"columns": {"age": {"sdtype": "numerical", "computer_representation": "Int64"}, ...}} (docs/metadata.md)',
  });
}

/** Parses SDV metadata from JSON text. */
export function parseMetadataText(text: string, source?: string): MetadataOverrides {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DataError(`metadata is not valid JSON: ${(e as Error).message}`, { file: source });
  }
  return parseMetadataJson(value, source);
}

/** Reads an SDV metadata JSON file. */
export async function readMetadataFile(path: string): Promise<MetadataOverrides> {
  return parseMetadataText(await readFile(path, "utf8"), path);
}

/** The column entries of the overrides with primary_key / alternate_keys turned into id columns. */
function effectiveColumns(overrides: MetadataOverrides | undefined): Map<string, ColumnOverride> {
  const out = new Map<string, ColumnOverride>(Object.entries(overrides?.columns ?? {}));
  const keys = [overrides?.primary_key, ...(overrides?.alternate_keys ?? [])].filter((k) => k !== undefined);
  for (const key of keys) {
    const declared = out.get(key);
    if (declared === undefined) out.set(key, { sdtype: "id" });
    else if (declared.sdtype !== "id") {
      throw new DataError(`key column "${key}" is declared ${declared.sdtype}; keys must have sdtype "id"`);
    }
  }
  return out;
}

/** Checks that every column the metadata names exists; returns the effective per-column overrides. */
export function resolveOverrides(
  overrides: MetadataOverrides | undefined,
  columnNames: readonly string[],
  file?: string,
  source = "the metadata",
): Map<string, ColumnOverride> {
  const cols = effectiveColumns(overrides);
  const present = new Set(columnNames);
  const absent = [...cols.keys()].filter((n) => !present.has(n));
  if (absent.length > 0) {
    throw new DataError(
      `${source} names column${absent.length > 1 ? "s" : ""} ${absent.map((n) => `"${n}"`).join(", ")} that this table does not have`,
      { file, hint: `this table's columns are: ${columnNames.join(", ")}` },
    );
  }
  return cols;
}

/** Checks that a target column exists (DataError listing the columns). */
export function checkTarget(target: string, columnNames: readonly string[], file?: string): void {
  if (!columnNames.includes(target)) {
    throw new DataError(`target column "${target}" does not exist`, {
      file,
      hint: `choose one of: ${columnNames.join(", ")}`,
    });
  }
}

/** The parsing-relevant part of a column override; undefined fields are left to inference. */
export function specFromOverride(o: ColumnOverride): Partial<ColumnSpec> & Pick<ColumnSpec, "sdtype"> {
  return {
    sdtype: o.sdtype,
    // Declared decimals > 0 also say "not integer" when the representation is left out.
    integer:
      o.computer_representation !== undefined
        ? o.computer_representation !== "Float"
        : o.decimals !== undefined && o.decimals > 0
          ? false
          : undefined,
    datetimeFormat: o.datetime_format === undefined ? undefined : datetimeFormatOf(o.datetime_format),
    ...(o.datetime_format !== undefined && dateOrderOf(o.datetime_format) !== undefined
      ? { mixedDates: { order: dateOrderOf(o.datetime_format) } }
      : {}),
  };
}

/**
 * "%d/%m/%Y" → day first, "%m/%d/%Y" → month first (any separator, optionally followed by a time such as
 * " %H:%M:%S"); undefined for other formats.
 */
function dateOrderOf(strftime: string): DateOrder | undefined {
  const f = strftime.replace(/[.-]/g, "/");
  return f.startsWith(DATE_ORDER_FORMATS.dmy)
    ? "dmy"
    : f.startsWith(DATE_ORDER_FORMATS.mdy)
      ? "mdy"
      : undefined;
}

/** The datetime_format written back: ISO, or the order of numeric dates when the file mixed formats. */
function datetimeFormatText(format: DatetimeFormat, order: DateOrder | undefined): string {
  if (order === undefined) return format === "date" ? ISO_DATE_FORMAT : ISO_DATETIME_FORMAT;
  return format === "date" ? DATE_ORDER_FORMATS[order] : `${DATE_ORDER_FORMATS[order]} %H:%M:%S`;
}

function datetimeFormatOf(strftime: string): DatetimeFormat {
  return /%[HIMSTf]/.test(strftime) ? "datetime" : "date";
}

/** A column override carrying a fully known spec (used to hand inferred types to deriveMetadata). */
export function overrideFromSpec(spec: ColumnSpec, description?: string): ColumnOverride {
  return {
    sdtype: spec.sdtype,
    ...(spec.sdtype === "numerical" && spec.integer !== undefined
      ? { computer_representation: spec.integer ? "Int64" : "Float" }
      : {}),
    ...(spec.sdtype === "datetime" && spec.datetimeFormat !== undefined
      ? { datetime_format: datetimeFormatText(spec.datetimeFormat, spec.mixedDates?.order) }
      : {}),
    ...(description === undefined ? {} : { description }),
  };
}

/**
 * Metadata of a typed table: per column min/max, integer, levels with counts (most frequent first, ties in
 * level order), missing rate. Overrides must agree with the column kinds and may add descriptions and
 * computer_representation / datetime_format; `target` (or overrides.target) must name a non-id column.
 */
export function deriveMetadata(table: Table, overrides?: MetadataOverrides, target?: string): Metadata {
  const names = table.columns.map((c) => c.name);
  const cols = resolveOverrides(overrides, names);
  const chosenTarget = target ?? overrides?.target;
  if (chosenTarget !== undefined) checkTarget(chosenTarget, names);
  const columns = table.columns.map((c) => columnMeta(c, cols.get(c.name), table.nRows));
  const targetMeta = columns.find((c) => c.name === chosenTarget);
  if (targetMeta?.sdtype === "id") {
    throw new DataError(`target column "${chosenTarget}" is an id column`, {
      hint: "choose a column to predict, or declare this one categorical/numerical in the metadata",
    });
  }
  return { columns, rowCount: table.nRows, ...(chosenTarget === undefined ? {} : { target: chosenTarget }) };
}

function columnMeta(col: Column, o: ColumnOverride | undefined, nRows: number): ColumnMeta {
  if (o !== undefined && o.sdtype !== col.kind) {
    throw new DataError(`the metadata says ${o.sdtype} but the table column is ${col.kind}`, {
      column: col.name,
      hint: "read the file again with this metadata so the column is parsed as declared",
    });
  }
  const description = o?.description === undefined ? {} : { description: o.description };
  if (!isNumeric(col)) return { ...codedMeta(col, o?.boolean_labels, nRows), ...description };
  if (col.kind === "numerical") return { ...numericalMeta(col, o, nRows), ...description };
  return { ...datetimeMeta(col, o, nRows), ...description };
}

interface NumericSummary {
  min: number;
  max: number;
  missing: number;
  firstFraction: number; // index of the first non-integral value, -1 if none
  firstWithTime: number; // index of the first value off UTC midnight, -1 if none
  decimals: number; // the most decimals a value needs (decimalsOf), 0 if none
}

function summarizeNumeric(values: Float64Array): NumericSummary {
  const s: NumericSummary = {
    min: Infinity,
    max: -Infinity,
    missing: 0,
    firstFraction: -1,
    firstWithTime: -1,
    decimals: 0,
  };
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x !== x) {
      s.missing++;
      continue;
    }
    if (x < s.min) s.min = x;
    if (x > s.max) s.max = x;
    if (s.firstFraction < 0 && !Number.isInteger(x)) s.firstFraction = i;
    if (s.firstWithTime < 0 && !isUtcMidnight(x)) s.firstWithTime = i;
    // Only values needing more than the current maximum cost more than one roundTo.
    if (s.decimals < MAX_DECIMALS) s.decimals = decimalsOf(x, s.decimals);
  }
  return s;
}

function rangeOf(s: NumericSummary): { min?: number; max?: number } {
  return s.min <= s.max ? { min: s.min, max: s.max } : {};
}

function missingRate(missing: number, nRows: number): number {
  return nRows === 0 ? 0 : missing / nRows;
}

function numericalMeta(col: NumericColumn, o: ColumnOverride | undefined, nRows: number): ColumnMeta {
  const s = summarizeNumeric(col.values);
  const declared = o === undefined ? undefined : specFromOverride(o).integer;
  if (declared === true && s.firstFraction >= 0) {
    throw new DataError(
      `value ${col.values[s.firstFraction]} (data row ${s.firstFraction + 1}) is not an integer, but the metadata declares ${o?.computer_representation}`,
      { column: col.name, hint: 'use "computer_representation": "Float" or fix the value' },
    );
  }
  const integer = declared ?? s.firstFraction < 0;
  // Declared decimals win; an all-missing column has nothing to round, so gets none (like min/max).
  const decimals = integer ? 0 : (o?.decimals ?? (s.min <= s.max ? s.decimals : undefined));
  return {
    name: col.name,
    sdtype: "numerical",
    integer,
    ...(decimals === undefined ? {} : { decimals }),
    ...rangeOf(s),
    missingRate: missingRate(s.missing, nRows),
  };
}

function datetimeMeta(col: NumericColumn, o: ColumnOverride | undefined, nRows: number): ColumnMeta {
  const s = summarizeNumeric(col.values);
  const spec = o === undefined ? undefined : specFromOverride(o);
  const declared = spec?.datetimeFormat;
  const order = spec?.mixedDates?.order;
  return {
    name: col.name,
    sdtype: "datetime",
    datetimeFormat: declared ?? (s.firstWithTime >= 0 ? "datetime" : "date"),
    ...(order === undefined ? {} : { dateOrder: order }),
    ...rangeOf(s),
    missingRate: missingRate(s.missing, nRows),
  };
}

function codedMeta(col: CodedColumn, labels: BooleanLabels | undefined, nRows: number): ColumnMeta {
  const counts = new Int32Array(col.levels.length);
  let missing = 0;
  for (let i = 0; i < col.codes.length; i++) {
    const c = col.codes[i];
    if (c < 0) missing++;
    else counts[c]++;
  }
  const base = { name: col.name, sdtype: col.kind, missingRate: missingRate(missing, nRows) };
  // Ids are unique per row: a level list would be as long as the table and say nothing.
  if (col.kind === "id") return base;
  const spelling = col.kind === "boolean" && labels !== undefined ? { booleanLabels: { ...labels } } : {};
  return { ...base, ...spelling, levels: levelsByFrequency(col.levels, counts) };
}

/** Levels with count > 0, most frequent first; ties keep level order (stable sort). */
function levelsByFrequency(levels: readonly string[], counts: Int32Array): LevelCount[] {
  const out: LevelCount[] = [];
  for (let k = 0; k < levels.length; k++) if (counts[k] > 0) out.push({ value: levels[k], count: counts[k] });
  return out.sort((a, b) => b.count - a.count);
}

/**
 * SDV-style JSON of metadata: sdtypes, representations, formats, descriptions, primary key and target, plus
 * synthgraph's `decimals` (float columns; integers say it with computer_representation) and `boolean_labels`.
 */
export function metadataToJson(meta: Metadata): MetadataOverrides {
  const columns: Record<string, ColumnOverride> = {};
  for (const c of meta.columns) {
    const labels = c.sdtype === "boolean" ? c.booleanLabels : undefined;
    columns[c.name] = {
      ...overrideFromSpec(
        {
          sdtype: c.sdtype,
          integer: c.integer,
          datetimeFormat: c.datetimeFormat,
          ...(c.dateOrder === undefined ? {} : { mixedDates: { order: c.dateOrder } }),
        },
        c.description,
      ),
      ...(c.sdtype === "numerical" && c.integer !== true && c.decimals !== undefined
        ? { decimals: c.decimals }
        : {}),
      ...(labels === undefined ? {} : { boolean_labels: { true: labels.true, false: labels.false } }),
    };
  }
  const primaryKey = meta.columns.find((c) => c.sdtype === "id")?.name;
  return {
    METADATA_SPEC_VERSION: "SINGLE_TABLE_V1",
    columns,
    ...(primaryKey === undefined ? {} : { primary_key: primaryKey }),
    ...(meta.target === undefined ? {} : { target: meta.target }),
  };
}
