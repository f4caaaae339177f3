/**
 * Table evaluation by generated code: the negation normal form (ast.ts) becomes one JavaScript expression over
 * the typed arrays, e.g. `(v0[i] > 60 && (c1[i] >= 0 && m1[c1[i]] === 1))`, wrapped in a row closure or a
 * mask loop by `new Function`. A tree of small closures costs a call per node per row (3–4x a hand-written
 * loop in bench/conditions.bench.ts); one generated body is what a hand-written loop is, and V8 compiles it
 * the same way.
 *
 * Safety: the generated source holds only operators, array parameter names, integer codes and finite number
 * literals (String of a finite double is a valid JS literal). Column arrays, level-membership tables and long
 * value sets are passed as arguments, never written into the source, and column names never appear in it.
 * Semantics are those of compile.ts: every atom is false on a missing cell (NaN / code -1).
 */
import { isNumeric } from "../build.ts";
import { parseBoolean, parseIsoDatetime } from "../cells.ts";
import { DataError } from "../errors.ts";
import type { CodedColumn, Column, NumericColumn } from "../types.ts";
import type { Nnf, NnfAtom, Scalar } from "./ast.ts";

/** Value sets up to this size are written out as `x === a || x === b`; larger ones use Set.has. */
const INLINE_SET = 8;

interface Generated {
  /** The expression over row index `i`. */
  readonly expr: string;
  readonly names: string[];
  readonly args: unknown[];
}

function literal(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`internal: non-finite literal ${x}`);
  return Object.is(x, -0) ? "0" : String(x);
}

/** The number a stored value stands for in a numeric column (dates as epoch ms). */
export function numberOf(v: Scalar, col: { readonly kind: string; readonly name: string }): number {
  if (typeof v === "number") return v;
  if (col.kind === "datetime" && typeof v === "string") {
    const d = parseIsoDatetime(v);
    if (d !== undefined) return d.ms;
  }
  throw new DataError(
    `the condition compares it with ${JSON.stringify(v)}, which is not a ${col.kind} value`,
    {
      column: col.name,
      hint: "parse the condition against this table's metadata",
    },
  );
}

/** The level text a stored value stands for in a coded column (booleans: "true" / "false"). */
export function levelOf(v: Scalar, col: { readonly kind: string; readonly name: string }): string {
  if (col.kind === "boolean") {
    const b = typeof v === "boolean" ? v : parseBoolean(String(v), true);
    if (b !== undefined) return String(b);
  } else if (typeof v !== "boolean") return String(v);
  throw new DataError(
    `the condition compares it with ${JSON.stringify(v)}, which is not a ${col.kind} value`,
    {
      column: col.name,
      hint: "parse the condition against this table's metadata",
    },
  );
}

/** Generates the expression for `n` over the table's columns. */
export function generate(n: Nnf, columns: ReadonlyMap<string, Column>): Generated {
  const names: string[] = [];
  const args: unknown[] = [];
  const columnParam = new Map<string, string>();
  const param = (prefix: string, value: unknown): string => {
    const name = `${prefix}${args.length}`;
    names.push(name);
    args.push(value);
    return name;
  };
  const columnOf = (name: string): { col: Column; p: string } => {
    const col = columns.get(name);
    if (col === undefined) {
      throw new DataError("the table has no such column, but the condition reads it", {
        column: name,
        hint: "compile the condition against the table it was parsed for",
      });
    }
    let p = columnParam.get(name);
    if (p === undefined) {
      p = param(isNumeric(col) ? "v" : "c", isNumeric(col) ? col.values : col.codes);
      columnParam.set(name, p);
    }
    return { col, p };
  };

  const numeric = (a: NnfAtom, col: NumericColumn, p: string): string => {
    const x = `${p}[i]`;
    const present = `${x} === ${x}`;
    if (a.type === "missing") return a.negated ? `(${present})` : `(${x} !== ${x})`;
    if (a.type === "in") {
      const values = [...new Set(a.values.map((v) => numberOf(v, col)))];
      const member =
        values.length === 0
          ? "false"
          : values.length <= INLINE_SET
            ? values.map((v) => `${x} === ${literal(v)}`).join(" || ")
            : `${param("s", new Set(values))}.has(${x})`;
      return a.negated ? `(${present} && !(${member}))` : `(${member})`;
    }
    const c = literal(numberOf(a.value, col));
    if (a.op === "==") return `(${x} === ${c})`;
    if (a.op === "!=") return `(${present} && ${x} !== ${c})`;
    return `(${x} ${a.op} ${c})`;
  };

  const coded = (a: NnfAtom, col: CodedColumn, p: string): string => {
    const x = `${p}[i]`;
    if (a.type === "missing") return a.negated ? `(${x} >= 0)` : `(${x} < 0)`;
    // Codes of the table's own levels; a level the table never uses matches no row.
    const codeOf = (v: Scalar): number => col.levels.indexOf(levelOf(v, col));
    if (a.type === "compare") {
      if (a.op !== "==" && a.op !== "!=") {
        throw new DataError(`the condition orders a ${col.kind} column (${a.op})`, { column: col.name });
      }
      const k = codeOf(a.value);
      if (a.op === "==") return k < 0 ? "false" : `(${x} === ${k})`;
      return k < 0 ? `(${x} >= 0)` : `(${x} >= 0 && ${x} !== ${k})`;
    }
    const member = new Uint8Array(col.levels.length);
    for (const v of a.values) {
      const k = codeOf(v);
      if (k >= 0) member[k] = 1;
    }
    const m = param("m", member);
    return `(${x} >= 0 && ${m}[${x}] === ${a.negated ? 0 : 1})`;
  };

  const walk = (node: Nnf): string => {
    if (node.type === "and" || node.type === "or") {
      return `(${node.args.map(walk).join(node.type === "and" ? " && " : " || ")})`;
    }
    const { col, p } = columnOf(node.column);
    return isNumeric(col) ? numeric(node, col, p) : coded(node, col, p);
  };
  return { expr: walk(n), names, args };
}

// Factories by source text: closures made by one factory share V8's feedback and optimised code, so a
// condition evaluated again (each batch of generated rows) runs hot from the first row.
const FACTORIES = new Map<string, (...args: unknown[]) => unknown>();
const MAX_FACTORIES = 256;

function factory(names: readonly string[], body: string): (...args: unknown[]) => unknown {
  const key = `${names.join(",")}\n${body}`;
  let f = FACTORIES.get(key);
  if (f === undefined) {
    if (FACTORIES.size >= MAX_FACTORIES) FACTORIES.delete(FACTORIES.keys().next().value as string);
    f = new Function(...names, body) as (...args: unknown[]) => unknown;
    FACTORIES.set(key, f);
  }
  return f;
}

/** `(i) => boolean` from generated code. */
export function generatedRowTest(g: Generated): (i: number) => boolean {
  const body = `"use strict"; return function (i) { return ${g.expr}; };`;
  return factory(g.names, body)(...g.args) as (i: number) => boolean;
}

/** `(mask, n) => void`: writes 1/0 per row into mask[0..n). */
export function generatedMaskLoop(g: Generated): (mask: Uint8Array, n: number) => void {
  const body = `"use strict"; return function (mask, n) { for (let i = 0; i < n; i++) mask[i] = ${g.expr} ? 1 : 0; };`;
  return factory(g.names, body)(...g.args) as (mask: Uint8Array, n: number) => void;
}

/** `(n) => count`: the number of rows in [0, n) that satisfy the expression. */
export function generatedCountLoop(g: Generated): (n: number) => number {
  const body = `"use strict"; return function (n) { let k = 0; for (let i = 0; i < n; i++) if (${g.expr}) k++; return k; };`;
  return factory(g.names, body)(...g.args) as (n: number) => number;
}
