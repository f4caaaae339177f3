/**
 * Compact row encodings for prompts and LLM outputs: the column names once, then each row as its values in
 * column order. JSON objects repeat every column name on every row; the compact forms cost about half the
 * tokens (bench/tokens.bench.ts measures it per dataset).
 *
 * Two forms:
 * - compact JSON, `{"columns":[...],"rows":[[39,"State-gov",...],...]}` (prompts) — and `{"rows":[...]}`, which
 *   is what `compactRowsJsonSchema` asks a model to output (it knows the columns already);
 * - CSV lines inside a tagged block (prompts only):
 *
 *       <rows>
 *       age,workclass,...          <- header: the column names
 *       39,State-gov,...           <- one physical line per row
 *       </rows>
 *
 * Delimiting convention (cells are untrusted data, e.g. rows an LLM wrote earlier): every encoded row is exactly
 * one physical line, and no encoded cell can contain a line break, U+2028/U+2029 or the two characters `</`.
 * A CSV cell is written bare unless it is empty or contains `,` `"` `\`, a control character, `</` or
 * surrounding spaces; then it is written as a JSON string literal (`"..."` with `\"`, `\\`, `\n`, `\u2028`
 * escapes, and `</` written `<\/`). So a cell can neither end the block (`</rows>`), nor start a new row, nor
 * step outside its cell: a cell holding `"],["` or "ignore previous instructions" stays one cell of one row.
 * The prompt around the block must still say that its content is data, not instructions.
 * In compact JSON the same holds by construction (JSON strings cannot hold raw line breaks) plus the same
 * `</` → `<\/` escape, which JSON allows.
 *
 * Long cells (prompts only): a text cell longer than PROMPT_CELL_MAX_CHARS characters is cut to its first
 * PROMPT_CELL_MAX_CHARS characters followed by `…[+N characters]`, and the block is followed by one line saying
 * so, so a 1 MB cell does not become a 1 MB prompt. This is the one place where rows become prompt text
 * (every engine and agent uses encodeRowsCsvLines); longCellNotes tells the user which columns it affects.
 *
 * Every function works on `meta.columns` as given, in order. To leave id columns out of generated rows (as
 * data/schema.ts's rowColumns does), pass `{ ...meta, columns: rowColumns(meta) }`.
 *
 * Decoding is tolerant about shape (objects, arrays, wrappers, a single row) but does not validate values:
 * data/validate.ts checks the decoded objects against the metadata.
 */
import { columnDescription, DEFAULT_MAX_ENUM_VALUES } from "./schema.ts";
import type { ColumnMeta, Metadata, Row, RowValue } from "./types.ts";
import { aliasedColumnNote, droppedColumnNote } from "./validate.ts";

/** Opening and closing lines of a CSV-lines block in a prompt. */
export const ROWS_OPEN = "<rows>";
export const ROWS_CLOSE = "</rows>";

/**
 * One decoded row: values keyed by column (unvalidated); `problems` make it unusable (missing columns, wrong
 * length, not a row); `repairs` are what the decoder changed and kept (keys that name no column are dropped,
 * loosely matching keys renamed), worded as data/validate.ts words them, without a row prefix.
 */
export interface DecodedItem {
  readonly row: Record<string, unknown>;
  readonly problems: readonly string[];
  readonly repairs: readonly string[];
}

/** Decoded rows; `problems` are about the whole value (e.g. "expected rows, got a number"). */
export interface DecodedRows {
  readonly items: DecodedItem[];
  readonly problems: string[];
}

/** A JSON Schema document (plain JSON). */
export type JsonSchema = { [key: string]: unknown };

export interface CompactSchemaOptions {
  /**
   * Per-position types via `prefixItems` (default true). OpenAI strict mode rejects `prefixItems`
   * ("array schema missing items" / unsupported keyword: pydantic-ai#7315, openai-agents-python#4752): pass
   * false there; the `items` anyOf fallback is then the only row constraint and positions are checked after.
   */
  readonly prefixItems?: boolean;
  /** Fixed row length via minItems = maxItems (default true); false for providers that reject them. */
  readonly lengthKeywords?: boolean;
  /** Categoricals with more levels become plain strings (default DEFAULT_MAX_ENUM_VALUES, as data/schema.ts). */
  readonly maxEnumValues?: number;
  /**
   * Numerical positions carry the real range and precision as extension keywords `x-minimum`, `x-maximum`,
   * `x-decimals` (default false). Only the llamacpp provider reads them (its grammar bounds the numbers,
   * models/llamacpp-grammar.ts); OpenAI's strict mode rejects unknown keywords, so see numericBoundsFor.
   */
  readonly numericBounds?: boolean;
}

/** Whether a provider's row schema should carry the numeric-bounds keywords (see CompactSchemaOptions). */
export function numericBoundsFor(provider: string): boolean {
  return provider === "llamacpp";
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

/** Longest text cell a prompt shows, in characters; longer ones are cut (see "Long cells" above). */
export const PROMPT_CELL_MAX_CHARS = 500;

/** A text cell as a prompt shows it: whole, or cut with a marker saying how much was left out. */
export function promptCellText(s: string): { text: string; cut: boolean } {
  if (s.length <= PROMPT_CELL_MAX_CHARS) return { text: s, cut: false };
  // Cut on a code point boundary: a lone surrogate would be invalid text.
  let end = PROMPT_CELL_MAX_CHARS;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return { text: `${s.slice(0, end)}…[+${s.length - end} characters]`, cut: true };
}

/** The line a prompt gets after rows whose cells were cut. */
export const CUT_CELLS_NOTE = `(Cells longer than ${PROMPT_CELL_MAX_CHARS} characters are shown cut: "…[+N characters]" marks where and how much.)`;

/**
 * One note per column whose real values include text longer than PROMPT_CELL_MAX_CHARS (id columns never reach
 * a prompt): what prompts show of them.
 */
export function longCellNotes(meta: Metadata): string[] {
  const out: string[] = [];
  for (const c of meta.columns) {
    if (c.sdtype === "id" || c.levels === undefined) continue;
    const long = c.levels.filter((l) => l.value.length > PROMPT_CELL_MAX_CHARS);
    if (long.length === 0) continue;
    const longest = Math.max(...long.map((l) => l.value.length));
    out.push(
      `column "${c.name}" has ${long.length} value(s) longer than ${PROMPT_CELL_MAX_CHARS} characters (the longest ${longest.toLocaleString("en-US")}): prompts show their first ${PROMPT_CELL_MAX_CHARS} characters, marked "…[+N characters]"`,
    );
  }
  return out;
}

/** The rows as compact JSON text: columns once, one row per line, values in column order; `</` escaped. */
export function encodeRowsCompact(meta: Metadata, rows: readonly Row[]): string {
  const names = meta.columns.map((c) => c.name);
  let cut = false;
  const cell = (v: RowValue | undefined): RowValue => {
    const j = jsonCell(v);
    if (typeof j !== "string") return j;
    const p = promptCellText(j);
    cut ||= p.cut;
    return p.text;
  };
  const lines = rows.map((r) => JSON.stringify(names.map((n) => cell(r[n]))));
  const body = lines.length === 0 ? "[]" : `[\n${lines.join(",\n")}\n]`;
  const json = escapeForBlock(`{"columns":${JSON.stringify(names)},\n"rows":${body}}`);
  return cut ? `${json}\n${CUT_CELLS_NOTE}` : json;
}

/**
 * The rows as a model following `compactRowsJsonSchema` outputs them: `{"rows":[[...],...]}` without the
 * column list or whitespace (scripted replies, few-shot answers, token accounting).
 */
export function encodeRowsCompactOutput(meta: Metadata, rows: readonly Row[]): string {
  const names = meta.columns.map((c) => c.name);
  return escapeForBlock(JSON.stringify({ rows: rows.map((r) => names.map((n) => jsonCell(r[n]))) }));
}

/** The rows as a `<rows>` block of CSV lines (header first); see the delimiting convention above. */
export function encodeRowsCsvLines(meta: Metadata, rows: readonly Row[]): string {
  const names = meta.columns.map((c) => c.name);
  const out: string[] = [ROWS_OPEN, names.map(csvText).join(",")];
  let cut = false;
  const cell = (v: RowValue | undefined): string => {
    if (typeof v !== "string") return csvCell(v);
    const p = promptCellText(v);
    cut ||= p.cut;
    return csvText(p.text);
  };
  for (const r of rows) out.push(names.map((n) => cell(r[n])).join(","));
  out.push(ROWS_CLOSE);
  if (cut) out.push(CUT_CELLS_NOTE);
  return out.join("\n");
}

function jsonCell(v: RowValue | undefined): RowValue {
  if (v === undefined) return null;
  if (typeof v === "number" && !Number.isFinite(v)) return null;
  return v;
}

function csvCell(v: RowValue | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  if (typeof v === "boolean") return v ? "true" : "false";
  return csvText(v);
}

// Bare unless the text is empty, has surrounding spaces, or holds a delimiter, quote, backslash, control char
// (C0, DEL, C1), line/paragraph separator, "</", a code fence or an opening tag (a one-column row could
// otherwise look like a block line the decoder skips).
const NEEDS_QUOTES = /^$|^\s|\s$|[,"\\\p{Cc}\u2028\u2029]|<\/|```|^<rows\b/u;

function csvText(s: string): string {
  return NEEDS_QUOTES.test(s) ? escapeForBlock(JSON.stringify(s)) : s;
}

// Valid only on JSON text: "<" and U+2028/9 can occur there only inside strings, where \/ and \uXXXX are legal.
function escapeForBlock(json: string): string {
  return json
    .replace(/<\//g, "<\\/")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

// ---------------------------------------------------------------------------------------------------------
// JSON Schema for structured output

/**
 * JSON Schema for `{"rows": [[v1, ..., vk], ...]}`: each row a fixed-length array with per-position types
 * (`prefixItems`) and, for providers without prefixItems, `items: {anyOf: <the column types>}`. Categories
 * are enums (plain strings above maxEnumValues); missing values are allowed (null) only where the real data
 * has them. Ranges go in `description` (data/schema.ts's columnDescription), never in minimum/maximum (OpenAI
 * strict rejects them; zod's int() would emit them); data/validate.ts checks them. With `numericBounds` the
 * positions also carry `x-minimum`/`x-maximum`/`x-decimals` for the llamacpp grammar. With nRows, the rows
 * array must hold exactly nRows rows.
 * OpenAI's strict mode also caps enums (1,000 values over the schema): the fallback anyOf repeats each enum.
 */
export function compactRowsJsonSchema(
  meta: Metadata,
  nRows?: number,
  options: CompactSchemaOptions = {},
): JsonSchema {
  const prefix = options.prefixItems ?? true;
  const lengths = options.lengthKeywords ?? true;
  const k = meta.columns.length;
  const maxEnum = options.maxEnumValues ?? DEFAULT_MAX_ENUM_VALUES;
  const positions = meta.columns.map((c) => columnSchema(c, maxEnum, options.numericBounds ?? false));
  const distinct = new Map<string, JsonSchema>();
  for (const p of positions) {
    const shape = withoutDescription(p);
    distinct.set(JSON.stringify(shape), shape);
  }
  const row: JsonSchema = {
    type: "array",
    description: `one row: the ${k} values in this column order: ${meta.columns.map((c) => c.name).join(", ")}`,
  };
  if (prefix) row.prefixItems = positions;
  row.items = distinct.size === 1 ? [...distinct.values()][0] : { anyOf: [...distinct.values()] };
  if (lengths) {
    row.minItems = k;
    row.maxItems = k;
  }
  const rowsArray: JsonSchema = { type: "array", items: row };
  if (nRows !== undefined && lengths) {
    rowsArray.minItems = nRows;
    rowsArray.maxItems = nRows;
  }
  return {
    type: "object",
    properties: { rows: rowsArray },
    required: ["rows"],
    additionalProperties: false,
  };
}

/**
 * How a model writes rows in its reply. "positional": `{"rows": [[v1, v2, ...], ...]}`, the cheapest in tokens,
 * fully enforced where the provider's grammar supports `prefixItems` (Ollama). "indexed":
 * `{"rows": [{"0": v1, "1": v2, ...}, ...]}`, each row an object whose keys are the column positions: OpenAI's
 * strict json_schema has no `prefixItems`, so only objects let it fix every row's length, per-column types and
 * enums (bench/tokens.bench.ts measures what the keys cost).
 */
export type RowEncoding = "positional" | "indexed";
export const ROW_ENCODINGS = ["positional", "indexed"] as const;

/** The encoding a provider's structured output fully enforces. */
export function rowEncodingFor(provider: string): RowEncoding {
  return provider === "openai" ? "indexed" : "positional";
}

/**
 * JSON Schema for `{"rows": [{"0": v1, ..., "k-1": vk}, ...]}` (the "indexed" encoding): every key required,
 * no other key, each with its column's exact type, enum and description; strict-mode compatible.
 */
export function indexedRowsJsonSchema(
  meta: Metadata,
  nRows?: number,
  options: Pick<CompactSchemaOptions, "maxEnumValues" | "numericBounds"> = {},
): JsonSchema {
  const maxEnum = options.maxEnumValues ?? DEFAULT_MAX_ENUM_VALUES;
  const properties: Record<string, JsonSchema> = {};
  meta.columns.forEach((c, j) => {
    properties[String(j)] = columnSchema(c, maxEnum, options.numericBounds ?? false);
  });
  const row: JsonSchema = {
    type: "object",
    description: `one row: key j holds the value of column j in this order: ${meta.columns.map((c) => c.name).join(", ")}`,
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
  const rowsArray: JsonSchema = { type: "array", items: row };
  if (nRows !== undefined) {
    rowsArray.minItems = nRows;
    rowsArray.maxItems = nRows;
  }
  return { type: "object", properties: { rows: rowsArray }, required: ["rows"], additionalProperties: false };
}

/** The JSON Schema of a rows reply in the given encoding (see RowEncoding). */
export function rowsJsonSchema(
  meta: Metadata,
  nRows: number | undefined,
  encoding: RowEncoding,
  options: Pick<CompactSchemaOptions, "numericBounds"> = {},
): JsonSchema {
  return encoding === "indexed"
    ? indexedRowsJsonSchema(meta, nRows, options)
    : compactRowsJsonSchema(meta, nRows, { ...options, prefixItems: true });
}

/**
 * An "indexed" row (`{"0": v1, "1": v2, ...}`) as the positional array it stands for; anything else unchanged
 * (so a model that answers positionally anyway is still decoded). Only an object whose keys are exactly
 * "0".."n-1" is converted.
 */
export function indexedToPositional(item: unknown): unknown {
  if (!isPlainObject(item)) return item;
  const keys = Object.keys(item);
  if (keys.length === 0) return item;
  const out: unknown[] = new Array(keys.length);
  for (let j = 0; j < keys.length; j++) {
    if (!(String(j) in item)) return item;
    out[j] = item[String(j)];
  }
  return out;
}

/**
 * A JSON string literal of data text (a level, a column name) for a prompt: it cannot end a tagged block or a
 * line (`</`, U+2028/9 escaped), and text longer than PROMPT_CELL_MAX_CHARS is cut as rows' cells are.
 */
export function promptString(s: string): string {
  return JSON.stringify(promptCellText(s).text)
    .replace(/<\//g, "<\\/")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** The sentence of a prompt that tells the model how to write `nRows` rows in the given encoding. */
export function rowsFormatSentence(encoding: RowEncoding, columns: readonly string[], nRows: number): string {
  const order = columns.map(promptString).join(", ");
  return encoding === "indexed"
    ? `Reply with exactly ${nRows} rows as one JSON object: {"rows": [{"0": v1, "1": v2, ...}, ...]}. Each row is an object with the ${columns.length} keys "0" to "${columns.length - 1}": key j holds the value of column j in this column order: ${order}.`
    : `Reply with exactly ${nRows} rows as one JSON object: {"rows": [[v1, v2, ...], ...]}. Each row is an array of ${columns.length} values in this column order: ${order}.`;
}

/** The position's shape for the `items` fallback: no description, no per-column bounds. */
function withoutDescription(s: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(s)) if (k !== "description" && !k.startsWith("x-")) out[k] = v;
  return out;
}

function columnSchema(c: ColumnMeta, maxEnum: number, numericBounds: boolean): JsonSchema {
  const nullable = c.missingRate > 0;
  const description = `${c.name}: ${columnDescription(c, { maxEnumValues: maxEnum })}`;
  const typed = (t: string): string | string[] => (nullable ? [t, "null"] : t);
  switch (c.sdtype) {
    case "numerical": {
      const s: JsonSchema = { type: typed(c.integer ? "integer" : "number"), description };
      if (numericBounds && c.min !== undefined && c.max !== undefined) {
        s["x-minimum"] = c.min;
        s["x-maximum"] = c.max;
        if (c.decimals !== undefined) s["x-decimals"] = c.integer ? 0 : c.decimals;
      }
      return s;
    }
    case "boolean":
      return { type: typed("boolean"), description };
    case "categorical": {
      const levels = (c.levels ?? []).map((l) => l.value);
      if (levels.length === 0) return { type: "null", description };
      if (levels.length > maxEnum) return { type: typed("string"), description };
      return { type: typed("string"), enum: nullable ? [...levels, null] : levels, description };
    }
    case "datetime":
      return {
        type: typed("string"),
        format: c.datetimeFormat === "date" ? "date" : "date-time",
        description,
      };
    case "id":
      // Ids are coded columns, so rows carry them as strings (data/infer.ts), numeric-looking or not.
      return { type: typed("string"), description };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

/** Rows keyed by column from a parsed compact value (or the objects form a model may emit instead). */
export function decodeCompactRows(meta: Metadata, value: unknown): DecodedRows {
  return decodeRowObjects(
    meta.columns.map((c) => c.name),
    value,
  );
}

/**
 * Rows keyed by column from any row-shaped value: an array of arrays (positional, in `columns` order, or in
 * the order of a `columns` list inside the value), an array of objects, an object wrapping the rows
 * (`{"rows": [...]}`, `{"data": [...]}`, or any single array-valued key), or a single row object.
 * Object keys match columns exactly, else ignoring case and punctuation ("Education Num" → "education-num",
 * a repair); a key that matches no column is dropped (a repair: the row is kept); a missing column is a problem.
 */
export function decodeRowObjects(columns: readonly string[], value: unknown): DecodedRows {
  const problems: string[] = [];
  let list: unknown[];
  let order: readonly (string | undefined)[] = columns;
  const matcher = columnMatcher(columns);
  if (Array.isArray(value)) {
    list = value;
  } else if (isPlainObject(value)) {
    const wrapped = unwrapRows(value, matcher);
    if (wrapped) {
      list = wrapped.rows;
      if (wrapped.columns) {
        order = wrapped.columns.map((name) => {
          const col = matcher(name);
          if (col === undefined)
            problems.push(`unknown column "${name}" in the columns list: its values are ignored`);
          return col;
        });
        for (const c of columns)
          if (!order.includes(c)) problems.push(`column "${c}" is missing from the columns list`);
      }
    } else {
      list = [value];
    }
  } else {
    return { items: [], problems: [`expected rows (an array or an object), got ${describe(value)}`] };
  }
  const items = list.map((item, i) => decodeItem(item, i, columns, order, matcher));
  return { items, problems };
}

function unwrapRows(
  obj: Record<string, unknown>,
  matcher: (key: string) => string | undefined,
): { rows: unknown[]; columns?: string[] } | undefined {
  const cols =
    Array.isArray(obj.columns) && obj.columns.every((c) => typeof c === "string") ? obj.columns : undefined;
  for (const key of ["rows", "data"]) {
    const v = obj[key];
    if (Array.isArray(v) && matcher(key) === undefined)
      return cols ? { rows: v, columns: cols } : { rows: v };
  }
  // Any other single array-valued key ({"synthetic_rows": [...]}) unless the object itself looks like a row.
  const keys = Object.keys(obj);
  if (keys.some((k) => matcher(k) !== undefined)) return undefined;
  const arrays = keys.filter((k) => k !== "columns" && Array.isArray(obj[k]));
  if (arrays.length === 1) {
    const rows = obj[arrays[0]] as unknown[];
    return cols ? { rows, columns: cols } : { rows };
  }
  return undefined;
}

function decodeItem(
  item: unknown,
  index: number,
  columns: readonly string[],
  order: readonly (string | undefined)[],
  matcher: (key: string) => string | undefined,
): DecodedItem {
  const row: Record<string, unknown> = {};
  const problems: string[] = [];
  const repairs: string[] = [];
  if (Array.isArray(item)) {
    if (item.length !== order.length)
      problems.push(`row ${index + 1} has ${item.length} values, expected ${order.length}`);
    const n = Math.min(item.length, order.length);
    for (let j = 0; j < n; j++) {
      const col = order[j];
      if (col !== undefined) row[col] = item[j];
    }
  } else if (isPlainObject(item)) {
    for (const [key, v] of Object.entries(item)) {
      const col = matcher(key);
      if (col === undefined) repairs.push(droppedColumnNote(key));
      else if (key === col) row[col] = v;
      else if (!Object.hasOwn(item, col) && !(col in row)) {
        row[col] = v;
        repairs.push(aliasedColumnNote(key, col));
      } else repairs.push(droppedColumnNote(key)); // a second key for a column already given
    }
  } else {
    problems.push(`row ${index + 1} is ${describe(item)}, not a row`);
    return { row, problems, repairs };
  }
  const missing = columns.filter((c) => !(c in row));
  if (missing.length > 0) problems.push(`row ${index + 1} lacks ${missing.map((c) => `"${c}"`).join(", ")}`);
  return { row, problems, repairs };
}

/** Key → column: exact name first, then the same letters and digits ignoring case. */
function columnMatcher(columns: readonly string[]): (key: string) => string | undefined {
  const exact = new Set(columns);
  const loose = new Map<string, string>();
  for (const c of columns) {
    const k = looseKey(c);
    if (!loose.has(k)) loose.set(k, c);
  }
  return (key) => (exact.has(key) ? key : loose.get(looseKey(key)));
}

function looseKey(s: string): string {
  return s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}

/**
 * Rows from CSV-lines text (a `<rows>` block or bare lines, optionally in a code fence), typed by the metadata:
 * numbers for numerical columns, true/false for booleans, strings otherwise (ids and datetimes included); an empty bare cell is missing
 * (null), `""` is the empty string. A first line naming the columns is the header and sets the order; lines
 * before it are skipped as chatter. Values are not validated.
 */
export function decodeCsvLines(meta: Metadata, text: string): DecodedRows {
  const problems: string[] = [];
  const names = meta.columns.map((c) => c.name);
  const matcher = columnMatcher(names);
  const byName = new Map(meta.columns.map((c) => [c.name, c]));
  const lines = text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "" && !/^\s*(```[\w-]*|<\/?rows\b[^>]*>)\s*$/.test(l));
  let order: readonly (string | undefined)[] = names;
  let start = 0;
  // Header: the first line most of whose cells name columns (skip chatter lines before it).
  for (let i = 0; i < Math.min(lines.length, 5); i++) {
    const cells = splitCsvLine(lines[i]).cells;
    const hits = cells.filter((c) => matcher(c.text) !== undefined).length;
    if (hits > 0 && hits >= Math.ceil(names.length / 2) && hits >= Math.ceil(cells.length / 2)) {
      order = cells.map((c) => matcher(c.text));
      if (i > 0) problems.push(`skipped ${i} line(s) before the header`);
      start = i + 1;
      break;
    }
  }
  const items: DecodedItem[] = [];
  for (let i = start; i < lines.length; i++) {
    const { cells, problem } = splitCsvLine(lines[i]);
    const arr = cells.map((c, j) => {
      const col = order[j];
      const m = col === undefined ? undefined : byName.get(col);
      return m === undefined ? c.text : typedCell(m, c.text, c.quoted);
    });
    const item = decodeItem(arr, items.length, names, order, matcher);
    items.push(
      problem ? { ...item, problems: [`row ${items.length + 1}: ${problem}`, ...item.problems] } : item,
    );
  }
  return { items, problems };
}

interface CsvCell {
  text: string;
  quoted: boolean;
}

// Splits one line: bare cells (trimmed) or quoted cells with JSON escapes; RFC 4180 doubled quotes ("") are
// read as a quote too, so CSV written by other tools or by a model also parses.
function splitCsvLine(line: string): { cells: CsvCell[]; problem?: string } {
  const cells: CsvCell[] = [];
  let problem: string | undefined;
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && (line[i] === " " || line[i] === "\t")) i++;
    if (i < n && line[i] === '"') {
      i++;
      let s = "";
      let closed = false;
      while (i < n) {
        const ch = line[i];
        if (ch === '"') {
          if (line[i + 1] === '"') {
            s += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        if (ch === "\\" && i + 1 < n) {
          const e = line[i + 1];
          const simple = SIMPLE_ESCAPES[e];
          if (simple !== undefined) {
            s += simple;
            i += 2;
          } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(line.slice(i + 2, i + 6))) {
            s += String.fromCharCode(Number.parseInt(line.slice(i + 2, i + 6), 16));
            i += 6;
          } else {
            s += ch;
            i++;
          }
          continue;
        }
        s += ch;
        i++;
      }
      if (!closed) problem ??= "unterminated quoted cell";
      while (i < n && line[i] !== ",") {
        if (line[i] !== " " && line[i] !== "\t") problem ??= "text after a quoted cell";
        i++;
      }
      cells.push({ text: s, quoted: true });
    } else {
      const j = line.indexOf(",", i);
      const end = j < 0 ? n : j;
      cells.push({ text: line.slice(i, end).trim(), quoted: false });
      i = end;
    }
    if (i >= n) break;
    i++; // the comma
  }
  return problem === undefined ? { cells } : { cells, problem };
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

const MISSING_WORDS = new Set(["null", "none", "nan", "na", "n/a"]);

function typedCell(m: ColumnMeta, text: string, quoted: boolean): unknown {
  if (!quoted && text === "") return null;
  switch (m.sdtype) {
    case "numerical": {
      if (!quoted && MISSING_WORDS.has(text.toLowerCase())) return null;
      const x = text.trim() === "" ? Number.NaN : Number(text);
      return Number.isFinite(x) ? x : text;
    }
    case "boolean": {
      const t = text.toLowerCase();
      return t === "true" ? true : t === "false" ? false : text;
    }
    default:
      return text;
  }
}
