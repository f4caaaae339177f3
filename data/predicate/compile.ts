/**
 * Evaluation of a Predicate: over a columnar Table (compilePredicate → a closure per row, predicateMask →
 * a 0/1 byte per row) and over one Row object at the LLM boundary (rowSatisfies).
 *
 * Tables are evaluated by generated code (codegen.ts); single rows, and the reference closures the generated
 * code is tested against, by a tree of small closures. All evaluate the negation normal form (ast.ts toNnf), where each atom is two-valued with "missing →
 * false"; that is exactly SQL's three-valued logic keeping only rows where the condition is true (so
 * `not (age > 60)` keeps neither old nor missing ages; write `age <= 60 or is_missing(age)` to keep both).
 * The closures read the typed arrays directly: numbers and dates compare Float64 values (NaN = missing makes
 * every ordered comparison false by IEEE 754), categories and booleans compare integer codes (-1 = missing)
 * against the codes of the table's own levels, resolved once here.
 */
import { parseBoolean, parseDecimal, parseIsoDatetime } from "../cells.ts";
import { isNumeric } from "../build.ts";
import { DataError } from "../errors.ts";
import type {
  CodedColumn,
  Column,
  ColumnMeta,
  Metadata,
  NumericColumn,
  Row,
  RowValue,
  Table,
} from "../types.ts";
import { type Nnf, type NnfAtom, type Predicate, type Scalar, toNnf } from "./ast.ts";
import {
  generate,
  generatedCountLoop,
  generatedMaskLoop,
  generatedRowTest,
  levelOf,
  numberOf,
} from "./codegen.ts";

export type RowTest = (row: number) => boolean;

/** A closure telling whether table row `i` (0-based) satisfies the predicate (generated code, codegen.ts). */
export function compilePredicate(pred: Predicate, table: Table): RowTest {
  return generatedRowTest(generate(toNnf(pred.root), columnsByName(table)));
}

/** 1 where the row satisfies the predicate, 0 elsewhere. */
export function predicateMask(pred: Predicate, table: Table): Uint8Array {
  const mask = new Uint8Array(table.nRows);
  generatedMaskLoop(generate(toNnf(pred.root), columnsByName(table)))(mask, table.nRows);
  return mask;
}

/** How many rows of the table satisfy the predicate. */
export function countMatches(pred: Predicate, table: Table): number {
  return generatedCountLoop(generate(toNnf(pred.root), columnsByName(table)))(table.nRows);
}

function columnsByName(table: Table): Map<string, Column> {
  return new Map(table.columns.map((c) => [c.name, c]));
}

/**
 * The same predicate as a tree of small closures over the columns: the reference the generated code is
 * tested against, and the evaluator of single rows below.
 */
export function compilePredicateClosures(pred: Predicate, table: Table): RowTest {
  return compileNnf(toNnf(pred.root), columnsByName(table));
}

function compileNnf(n: Nnf, cols: Map<string, Column>): RowTest {
  if (n.type === "and" || n.type === "or") {
    const parts = n.args.map((a) => compileNnf(a, cols));
    return n.type === "and" ? allOf(parts) : anyOf(parts);
  }
  const col = cols.get(n.column);
  if (col === undefined) {
    throw new DataError("the table has no such column, but the condition reads it", {
      column: n.column,
      hint: "compile the condition against the table it was parsed for",
    });
  }
  return isNumeric(col) ? numericAtom(n, col) : codedAtom(n, col);
}

function allOf(p: RowTest[]): RowTest {
  if (p.length === 2) {
    const [a, b] = p;
    return (i) => a(i) && b(i);
  }
  if (p.length === 3) {
    const [a, b, c] = p;
    return (i) => a(i) && b(i) && c(i);
  }
  return (i) => {
    for (let k = 0; k < p.length; k++) if (!p[k](i)) return false;
    return true;
  };
}

function anyOf(p: RowTest[]): RowTest {
  if (p.length === 2) {
    const [a, b] = p;
    return (i) => a(i) || b(i);
  }
  if (p.length === 3) {
    const [a, b, c] = p;
    return (i) => a(i) || b(i) || c(i);
  }
  return (i) => {
    for (let k = 0; k < p.length; k++) if (p[k](i)) return true;
    return false;
  };
}

function numericAtom(n: NnfAtom, col: NumericColumn): RowTest {
  const v = col.values;
  if (n.type === "missing") return n.negated ? (i) => v[i] === v[i] : (i) => v[i] !== v[i];
  if (n.type === "in") {
    const set = n.values.map((x) => numberOf(x, col));
    if (n.negated) {
      return (i) => {
        const x = v[i];
        return x === x && !set.includes(x);
      };
    }
    return (i) => set.includes(v[i]);
  }
  const c = numberOf(n.value, col);
  switch (n.op) {
    case "<":
      return (i) => v[i] < c;
    case "<=":
      return (i) => v[i] <= c;
    case ">":
      return (i) => v[i] > c;
    case ">=":
      return (i) => v[i] >= c;
    case "==":
      return (i) => v[i] === c;
    case "!=":
      return (i) => {
        const x = v[i];
        return x === x && x !== c;
      };
  }
}

function codedAtom(n: NnfAtom, col: CodedColumn): RowTest {
  const codes = col.codes;
  if (n.type === "missing") return n.negated ? (i) => codes[i] >= 0 : (i) => codes[i] < 0;
  if (n.type === "compare" && n.op !== "==" && n.op !== "!=") {
    throw new DataError(`the condition orders a ${col.kind} column (${n.op})`, { column: col.name });
  }
  // Codes of the table's levels, so a table coded in another level order still reads right.
  const codeOf = (v: Scalar): number => col.levels.indexOf(levelOf(v, col));
  if (n.type === "compare") {
    // A level the table never uses gets -2: equal to no code, unequal to every present one.
    const k = codeOf(n.value);
    const code = k < 0 ? -2 : k;
    if (n.op === "==") return (i) => codes[i] === code;
    return (i) => {
      const c = codes[i];
      return c >= 0 && c !== code;
    };
  }
  const member = new Uint8Array(col.levels.length);
  for (const v of n.values) {
    const k = codeOf(v);
    if (k >= 0) member[k] = 1;
  }
  const want = n.negated ? 0 : 1;
  return (i) => {
    const c = codes[i];
    return c >= 0 && member[c] === want;
  };
}

// ---------------------------------------------------------------------------------------------------------
// One Row object (a parsed LLM row: numbers, booleans, level strings, ISO date strings, null = missing).

type RowCheck = (row: Row) => boolean;
const rowCache = new WeakMap<Predicate, WeakMap<Metadata, RowCheck>>();

/** Whether one Row satisfies the predicate (same three-valued semantics as the table closures). */
export function rowSatisfies(pred: Predicate, row: Row, metadata: Metadata): boolean {
  let perMeta = rowCache.get(pred);
  if (perMeta === undefined) {
    perMeta = new WeakMap();
    rowCache.set(pred, perMeta);
  }
  let check = perMeta.get(metadata);
  if (check === undefined) {
    check = compileRowCheck(pred, metadata);
    perMeta.set(metadata, check);
  }
  return check(row);
}

/** A reusable Row checker (what rowSatisfies caches). */
export function compileRowCheck(pred: Predicate, metadata: Metadata): RowCheck {
  const byName = new Map(metadata.columns.map((c) => [c.name, c]));
  return rowNnf(toNnf(pred.root), byName);
}

function rowNnf(n: Nnf, metas: Map<string, ColumnMeta>): RowCheck {
  if (n.type === "and") {
    const p = n.args.map((a) => rowNnf(a, metas));
    return (r) => p.every((f) => f(r));
  }
  if (n.type === "or") {
    const p = n.args.map((a) => rowNnf(a, metas));
    return (r) => p.some((f) => f(r));
  }
  const meta = metas.get(n.column);
  if (meta === undefined)
    throw new DataError("the metadata has no such column, but the condition reads it", { column: n.column });
  const name = n.column;
  if (meta.sdtype === "numerical" || meta.sdtype === "datetime") {
    const col = { kind: meta.sdtype, name };
    const read = meta.sdtype === "numerical" ? rowNumber : rowDate;
    const test = numericRowAtom(n, col);
    return (r) => test(read(r[name]));
  }
  const levels = meta.sdtype === "boolean" ? ["false", "true"] : (meta.levels ?? []).map((l) => l.value);
  // A text outside the levels gets the code one past them: equal to no level, unequal to all, not missing.
  const other = levels.length;
  const col: CodedColumn = {
    kind: meta.sdtype,
    name,
    codes: new Int32Array(1),
    levels: [...levels, "\u0000"],
  };
  const one = codedAtom(n, col);
  const index = new Map(levels.map((l, k) => [l, k]));
  return (r) => {
    const text = rowText(r[name], meta.sdtype === "boolean");
    col.codes[0] = text === undefined ? -1 : (index.get(text) ?? other);
    return one(0);
  };
}

function numericRowAtom(n: NnfAtom, col: { kind: string; name: string }): (x: number) => boolean {
  const holder = new Float64Array(1);
  const test = numericAtom(n, { kind: col.kind as "numerical" | "datetime", name: col.name, values: holder });
  return (x) => {
    holder[0] = x;
    return test(0);
  };
}

function rowNumber(v: RowValue | undefined): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") return parseDecimal(v);
  return Number.NaN;
}

function rowDate(v: RowValue | undefined): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") return parseIsoDatetime(v)?.ms ?? Number.NaN;
  return Number.NaN;
}

function rowText(v: RowValue | undefined, boolean: boolean): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (boolean) {
    const b = typeof v === "boolean" ? v : parseBoolean(String(v), true);
    return b === undefined ? String(v) : String(b);
  }
  return String(v);
}
