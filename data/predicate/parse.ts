/**
 * parsePredicate: condition text → a checked Predicate.
 *
 * mathjs `parse` builds the syntax tree (after the rewrites in rewrite.ts); this module walks that tree into
 * our own AST (ast.ts) and checks it against the metadata: every column name exists, every category value is
 * one of the column's levels, every value has the column's type, dates are ISO dates. Each problem found is
 * collected with a "did you mean" suggestion where one is close, and all are thrown together as one
 * PredicateError (exit code 2). mathjs never evaluates anything here.
 */
import { parse } from "mathjs";
import { parseBoolean, parseIsoDatetime } from "../cells.ts";
import type { ColumnMeta, Metadata } from "../types.ts";
import { type CompareOp, formatColumn, Predicate, type PredicateNode, type Scalar } from "./ast.ts";
import { PredicateError, type PredicateProblem } from "./errors.ts";
import { positionOf, rewrite } from "./rewrite.ts";
import { didYouMean } from "./suggest.ts";

/** The functions of the language (anything else called is an error). */
export const PREDICATE_FUNCTIONS = ["is_missing", "between", "implies", "col"] as const;

// A minimal structural view of the mathjs nodes we read (mathjs's own types are generic-heavy).
interface MNode {
  readonly type: string;
  readonly op?: string;
  readonly fn?: MNode | string;
  readonly args?: readonly MNode[];
  readonly implicit?: boolean;
  readonly name?: string;
  readonly value?: unknown;
  readonly items?: readonly MNode[];
  readonly content?: MNode;
  readonly conditionals?: readonly string[];
  readonly params?: readonly MNode[];
  readonly object?: MNode;
  toString(): string;
}

const COMPARE_OPS: Record<string, CompareOp> = {
  "==": "==",
  "!=": "!=",
  "<": "<",
  "<=": "<=",
  ">": ">",
  ">=": ">=",
};
const FLIPPED: Record<CompareOp, CompareOp> = {
  "==": "==",
  "!=": "!=",
  "<": ">",
  "<=": ">=",
  ">": "<",
  ">=": "<=",
};
const RELATIONAL: Record<string, CompareOp> = {
  smaller: "<",
  smallerEq: "<=",
  larger: ">",
  largerEq: ">=",
  equal: "==",
  unequal: "!=",
};

type Operand =
  | { kind: "column"; meta: ColumnMeta }
  | { kind: "value"; value: Scalar | null; text: string }
  | { kind: "list"; values: Array<Scalar | null>; text: string };

/** Parses and checks a condition against the table's metadata; throws PredicateError listing every problem. */
export function parsePredicate(text: string, metadata: Metadata): Predicate {
  if (text.trim() === "") throw new PredicateError(text, [{ message: "the condition is empty" }]);
  const rewritten = rewrite(text);
  const problems: PredicateProblem[] = [...rewritten.problems];
  let tree: MNode;
  try {
    tree = parse(rewritten.text) as unknown as MNode;
  } catch (e) {
    const msg = (e as Error).message.replace(/\(char (\d+)\)/, (_, n: string) => {
      return `(character ${positionOf(rewritten, Number(n))})`;
    });
    throw new PredicateError(text, [...problems, { message: `syntax error: ${msg}` }]);
  }
  const root = new Walker(metadata, problems).condition(tree);
  if (problems.length > 0 || root === undefined) throw new PredicateError(text, problems);
  return new Predicate(root);
}

/** Reads a stored tree back (e.g. from a run record) by re-parsing its canonical text against `metadata`. */
export function predicateFromNode(node: PredicateNode, metadata: Metadata): Predicate {
  return parsePredicate(new Predicate(node).toString(), metadata);
}

class Walker {
  private readonly byName: Map<string, ColumnMeta>;
  private readonly names: string[];
  constructor(
    metadata: Metadata,
    private readonly problems: PredicateProblem[],
  ) {
    this.byName = new Map(metadata.columns.map((c) => [c.name, c]));
    this.names = metadata.columns.map((c) => c.name);
  }

  private fail(p: PredicateProblem): undefined {
    this.problems.push(p);
    return undefined;
  }

  /** A node in a true/false position. */
  condition(n: MNode): PredicateNode | undefined {
    switch (n.type) {
      case "ParenthesisNode":
        return this.condition(n.content as MNode);
      case "OperatorNode":
        return this.operator(n);
      case "RelationalNode":
        return this.chain(n);
      case "FunctionNode":
        return this.call(n);
      case "SymbolNode": {
        const meta = this.column(n.name as string);
        if (meta === undefined) return undefined;
        if (meta.sdtype === "boolean") return { type: "compare", column: meta.name, op: "==", value: true };
        return this.fail({
          column: meta.name,
          message: `column "${meta.name}" is ${meta.sdtype}, not a condition by itself`,
          hint: exampleFor(meta),
        });
      }
      case "AssignmentNode":
      case "FunctionAssignmentNode":
        return this.fail({
          message: `"${n.toString()}" is an assignment; to compare, write "=="`,
          hint: `e.g. ${n.toString().replace(/\s*=\s*/, " == ")}`,
        });
      case "BlockNode":
        return this.fail({
          message: "a condition is one expression; combine several with and / or instead of ; or new lines",
        });
      case "AccessorNode":
        return this.accessor(n);
      default:
        return this.fail({ message: `"${n.toString()}" is not a condition` });
    }
  }

  private operator(n: MNode): PredicateNode | undefined {
    const args = n.args ?? [];
    const op = n.op as string;
    if (op === "and" || op === "or") {
      const parts = args.map((a) => this.condition(a));
      if (parts.some((p) => p === undefined)) return undefined;
      const flat: PredicateNode[] = [];
      for (const p of parts as PredicateNode[]) {
        if (p.type === op) flat.push(...p.args);
        else flat.push(p);
      }
      return { type: op, args: flat };
    }
    if (op === "not") {
      const a = this.condition(args[0]);
      return a === undefined ? undefined : { type: "not", arg: a };
    }
    if (op in COMPARE_OPS) return this.compare(n, COMPARE_OPS[op], args[0], args[1]);
    if (op === "in" || op === "to") {
      const inNode = this.membership(n, args[0], args[1]);
      if (inNode === undefined) return undefined;
      // `to` only comes from the rewrite of `not in` (a `to` the user wrote was rejected before).
      return op === "to" ? { type: "not", arg: inNode } : inNode;
    }
    if (op === "*" && n.implicit === true) {
      const words = args.map((a) => a.toString());
      if (words.some((w) => /\bbetween\b/i.test(w))) {
        return this.fail({
          message: `"${n.toString()}" is not a range`,
          hint: "write low <= column <= high, e.g. 60 <= age <= 80, or age between 60 and 80 with numbers or quoted dates",
        });
      }
      return this.fail({ message: `an operator is missing between "${words[0]}" and "${words[1]}"` });
    }
    if (op === "xor") {
      return this.fail({
        message: "xor is not part of the condition language",
        hint: "write (a and not b) or (b and not a)",
      });
    }
    return this.fail({
      message: `"${n.toString()}" uses "${op}", which is not part of the condition language (no arithmetic)`,
      hint: "compare a column with a value: age > 60; combine with and, or, not",
    });
  }

  /** column OP value (either order). */
  private compare(n: MNode, op: CompareOp, left: MNode, right: MNode): PredicateNode | undefined {
    const a = this.operand(left);
    const b = this.operand(right);
    if (a === undefined || b === undefined) return undefined;
    if (a.kind === "column" && b.kind === "column") {
      return this.fail({
        message: `"${n.toString()}" compares two columns; a condition compares a column with a value`,
      });
    }
    if (a.kind !== "column" && b.kind !== "column") {
      return this.fail({ message: `"${n.toString()}" names no column` });
    }
    const [col, val, o] =
      a.kind === "column" ? [a, b, op] : [b as Operand & { kind: "column" }, a, FLIPPED[op]];
    if (val.kind === "list") {
      return this.fail({
        column: col.meta.name,
        message: `"${n.toString()}" compares column "${col.meta.name}" with a list`,
        hint: `for membership write ${col.meta.name} in ${val.text}`,
      });
    }
    if (val.kind !== "value") return undefined;
    const value = this.value(col.meta, val, o);
    if (value === undefined) return undefined;
    return { type: "compare", column: col.meta.name, op: o, value };
  }

  /** low <(=) column <(=) high. */
  private chain(n: MNode): PredicateNode | undefined {
    const ops = (n.conditionals ?? []).map((c) => RELATIONAL[c]);
    const params = n.params ?? [];
    const rangeHint = "a range is low <= column <= high, e.g. 60 <= age <= 80";
    if (params.length !== 3) {
      return this.fail({ message: `"${n.toString()}" chains too many comparisons`, hint: rangeHint });
    }
    const ascending = ops.every((o) => o === "<" || o === "<=");
    const descending = ops.every((o) => o === ">" || o === ">=");
    if (!ascending && !descending) {
      return this.fail({ message: `"${n.toString()}" is not a range`, hint: rangeHint });
    }
    const [lo, mid, hi] = ascending ? params : [params[2], params[1], params[0]];
    const [loOp, hiOp] = ascending ? ops : [ops[1], ops[0]];
    const column = this.operand(mid);
    const low = this.operand(lo);
    const high = this.operand(hi);
    if (column === undefined || low === undefined || high === undefined) return undefined;
    if (column.kind !== "column" || low.kind !== "value" || high.kind !== "value") {
      return this.fail({ message: `"${n.toString()}" is not a range`, hint: rangeHint });
    }
    return this.range(column.meta, low, high, loOp.endsWith("="), hiOp.endsWith("="));
  }

  private range(
    meta: ColumnMeta,
    low: Operand & { kind: "value" },
    high: Operand & { kind: "value" },
    lowInclusive: boolean,
    highInclusive: boolean,
  ): PredicateNode | undefined {
    if (meta.sdtype !== "numerical" && meta.sdtype !== "datetime") {
      return this.fail({
        column: meta.name,
        message: `column "${meta.name}" is ${meta.sdtype} and has no order, so it cannot be in a range`,
        hint: exampleFor(meta),
      });
    }
    const l = this.value(meta, low, "<=");
    const h = this.value(meta, high, "<=");
    if (l === undefined || h === undefined) return undefined;
    return { type: "range", column: meta.name, low: l, high: h, lowInclusive, highInclusive };
  }

  private membership(n: MNode, left: MNode, right: MNode): PredicateNode | undefined {
    const col = this.operand(left);
    const list = this.operand(right);
    if (col === undefined || list === undefined) return undefined;
    if (col.kind !== "column") {
      return this.fail({ message: `"${n.toString()}": the left side of "in" must be a column` });
    }
    if (list.kind !== "list") {
      return this.fail({
        column: col.meta.name,
        message: `the right side of "in" must be a list in brackets`,
        hint: `e.g. ${col.meta.name} in [${list.kind === "value" ? list.text : '"a", "b"'}]`,
      });
    }
    if (list.values.length === 0) {
      return this.fail({
        column: col.meta.name,
        message: `"${n.toString()}" tests membership in an empty list, which never holds`,
      });
    }
    const values: Scalar[] = [];
    for (let k = 0; k < list.values.length; k++) {
      const v = this.value(col.meta, { value: list.values[k], text: "" }, "==");
      if (v !== undefined && !values.includes(v)) values.push(v);
    }
    return { type: "in", column: col.meta.name, values };
  }

  private call(n: MNode): PredicateNode | undefined {
    const name = (n.fn as MNode).name ?? (n.fn as MNode).toString();
    const args = n.args ?? [];
    const arity = (k: number, usage: string): boolean => {
      if (args.length === k) return true;
      this.fail({ message: `${name}() takes ${k} argument${k === 1 ? "" : "s"}`, hint: `write ${usage}` });
      return false;
    };
    switch (name) {
      case "is_missing": {
        if (!arity(1, "is_missing(bmi)")) return undefined;
        const c = this.operand(args[0]);
        if (c === undefined) return undefined;
        if (c.kind !== "column")
          return this.fail({ message: "is_missing() takes a column name", hint: "write is_missing(bmi)" });
        return { type: "missing", column: c.meta.name };
      }
      case "between": {
        if (!arity(3, "between(age, 60, 80)")) return undefined;
        const [c, lo, hi] = args.map((a) => this.operand(a));
        if (c === undefined || lo === undefined || hi === undefined) return undefined;
        if (c.kind !== "column" || lo.kind !== "value" || hi.kind !== "value") {
          return this.fail({
            message: `"${n.toString()}" is not a range`,
            hint: "write between(age, 60, 80)",
          });
        }
        return this.range(c.meta, lo, hi, true, true);
      }
      case "implies": {
        if (!arity(2, 'implies(pregnant == true, sex == "F")')) return undefined;
        const a = this.condition(args[0]);
        const b = this.condition(args[1]);
        return a === undefined || b === undefined ? undefined : { type: "implies", if: a, then: b };
      }
      case "col": {
        const colName = this.colName(n);
        if (colName === "") return undefined;
        return this.condition({ type: "SymbolNode", name: colName, toString: () => n.toString() });
      }
      default: {
        const s = didYouMean(name, PREDICATE_FUNCTIONS);
        return this.fail({
          message: `unknown function ${name}()${s === undefined ? "" : `; did you mean ${s}()?`}`,
          ...(s === undefined ? {} : { suggestion: s }),
          hint: `the condition language has ${PREDICATE_FUNCTIONS.map((f) => `${f}()`).join(", ")}`,
        });
      }
    }
  }

  /** The name inside col("..."). */
  private colName(n: MNode): string {
    const a = n.args ?? [];
    if (a.length === 1 && a[0].type === "ConstantNode" && typeof a[0].value === "string") return a[0].value;
    this.fail({
      message: `col() takes one quoted column name`,
      hint: 'write col("hours per week") or `hours per week`',
    });
    return "";
  }

  /** A node in a value or column position. */
  private operand(n: MNode): Operand | undefined {
    switch (n.type) {
      case "ParenthesisNode":
        return this.operand(n.content as MNode);
      case "SymbolNode": {
        const meta = this.column(n.name as string);
        return meta === undefined ? undefined : { kind: "column", meta };
      }
      case "FunctionNode": {
        const name = (n.fn as MNode).name;
        if (name !== "col") {
          return this.fail({ message: `"${n.toString()}" is not a column or a value` });
        }
        const colName = this.colName(n);
        if (colName === "") return undefined;
        const meta = this.column(colName);
        return meta === undefined ? undefined : { kind: "column", meta };
      }
      case "ConstantNode": {
        const v = n.value;
        if (v === null || v === undefined) return { kind: "value", value: null, text: String(v) };
        if (typeof v === "number" && !Number.isFinite(v)) {
          return this.fail({ message: `${n.toString()} is not a finite number` });
        }
        if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") {
          return { kind: "value", value: v, text: n.toString() };
        }
        return this.fail({ message: `"${n.toString()}" is not a value` });
      }
      case "OperatorNode": {
        const a = n.args ?? [];
        const spaced = spacedName(n);
        if (spaced !== undefined) {
          const known = this.byName.has(spaced);
          return this.fail({
            ...(known ? { column: spaced, suggestion: spaced } : {}),
            message: `"${spaced}" is not one name: a column name with spaces goes in backticks${known ? `; did you mean \`${spaced}\`?` : ""}`,
            hint: `e.g. \`${spaced}\` > 40`,
          });
        }
        if ((n.op === "-" || n.op === "+") && a.length === 1) {
          const inner = this.operand(a[0]);
          if (inner?.kind === "value" && typeof inner.value === "number") {
            return { kind: "value", value: n.op === "-" ? -inner.value : inner.value, text: n.toString() };
          }
          if (inner === undefined) return undefined;
        }
        return this.fail({
          message: `"${n.toString()}" is an expression; a condition compares a column with a plain value (no arithmetic)`,
        });
      }
      case "ArrayNode": {
        const values: Array<Scalar | null> = [];
        for (const item of n.items ?? []) {
          const v = this.operand(item);
          if (v === undefined) return undefined;
          if (v.kind !== "value")
            return this.fail({ message: `the list ${n.toString()} may hold only values` });
          values.push(v.value);
        }
        return { kind: "list", values, text: n.toString() };
      }
      case "AccessorNode":
        return this.accessor(n);
      default:
        return this.fail({ message: `"${n.toString()}" is not a column or a value` });
    }
  }

  private accessor(n: MNode): undefined {
    return this.fail({
      message: `"${n.toString()}" reads a property; a column name with dots or spaces goes in backticks`,
      hint: `e.g. \`${n.toString()}\``,
    });
  }

  private column(name: string): ColumnMeta | undefined {
    const meta = this.byName.get(name);
    if (meta !== undefined) return meta;
    const s = didYouMean(name, this.names);
    return this.fail({
      column: name,
      message: `unknown column "${name}"${s === undefined ? "" : `; did you mean "${s}"?`}`,
      ...(s === undefined ? {} : { suggestion: s }),
      hint:
        this.names.length <= 40
          ? `the columns are: ${this.names.map((c) => JSON.stringify(c)).join(", ")}; names that are not identifiers go in backticks`
          : "names that are not identifiers go in backticks, e.g. `hours per week`",
    });
  }

  /** The value `v` checked and normalised for `meta` (number, ISO text, level, boolean), or undefined. */
  private value(
    meta: ColumnMeta,
    v: { value: Scalar | null; text: string },
    op: CompareOp,
  ): Scalar | undefined {
    const name = meta.name;
    const shown = v.text === "" ? JSON.stringify(v.value) : v.text;
    if (v.value === null) {
      return this.fail({
        column: name,
        message: `null is not a value to compare with; a missing "${name}" is tested with is_missing(${name})`,
        hint: `write is_missing(${name}) or not is_missing(${name})`,
      });
    }
    const ordered = op !== "==" && op !== "!=";
    switch (meta.sdtype) {
      case "numerical":
        if (typeof v.value === "number") return v.value;
        return this.fail({
          column: name,
          message: `column "${name}" is numerical: compare it with a number, not ${shown}`,
          hint: exampleFor(meta),
        });
      case "datetime": {
        if (typeof v.value === "string" && parseIsoDatetime(v.value) !== undefined) return v.value;
        return this.fail({
          column: name,
          message: `column "${name}" holds dates: compare it with a quoted ISO date such as "2020-01-31", not ${shown}`,
          hint: exampleFor(meta),
        });
      }
      case "categorical": {
        const levels = (meta.levels ?? []).map((l) => l.value);
        if (ordered) {
          return this.fail({
            column: name,
            message: `column "${name}" is categorical and has no order: use ==, !=, in or not in`,
            hint: exampleFor(meta),
          });
        }
        if (typeof v.value === "boolean") {
          return this.fail({
            column: name,
            message: `column "${name}" is categorical: compare it with a quoted level, not ${shown}`,
            hint: exampleFor(meta),
          });
        }
        // A number is read as its text when that is a level ("stage == 4" for a level "4").
        const text = String(v.value);
        if (levels.includes(text)) return text;
        if (typeof v.value === "number") {
          return this.fail({
            column: name,
            message: `column "${name}" is categorical: compare it with a quoted level, not the number ${shown}`,
            hint: exampleFor(meta),
          });
        }
        const s = didYouMean(text, levels);
        return this.fail({
          column: name,
          message: `"${text}" is not a level of column "${name}"${s === undefined ? "" : `; did you mean "${s}"?`}`,
          ...(s === undefined ? {} : { suggestion: s }),
          hint: levelsHint(meta),
        });
      }
      case "boolean": {
        if (ordered) {
          return this.fail({
            column: name,
            message: `column "${name}" is boolean and has no order: use == or !=`,
            hint: exampleFor(meta),
          });
        }
        if (typeof v.value === "boolean") return v.value;
        // The column's own spelling ("Yes"), any boolean word, or 1 / 0.
        const b = parseBoolean(String(v.value), true);
        if (b !== undefined) return b;
        return this.fail({
          column: name,
          message: `column "${name}" is boolean: compare it with true or false, not ${shown}`,
          hint: exampleFor(meta),
        });
      }
      case "id":
        return this.fail({
          column: name,
          message: `column "${name}" is an id column; ids are assigned by code and cannot be conditioned on`,
          hint: `only is_missing(${name}) applies to an id column`,
        });
    }
  }
}

/** "hours per week" when the node is words juxtaposed (mathjs reads them as implicit multiplication). */
function spacedName(n: MNode): string | undefined {
  if (n.type === "SymbolNode") return n.name;
  if (n.type !== "OperatorNode" || n.op !== "*" || n.implicit !== true) return undefined;
  const parts = (n.args ?? []).map(spacedName);
  return parts.every((p) => p !== undefined) ? parts.join(" ") : undefined;
}

function levelsHint(meta: ColumnMeta): string {
  const levels = (meta.levels ?? []).map((l) => JSON.stringify(l.value));
  const shown = levels.length > 30 ? [...levels.slice(0, 30), `… (${levels.length - 30} more)`] : levels;
  return `the levels of "${meta.name}" are: ${shown.join(", ")}`;
}

/** A correct condition on this column, for hints. */
function exampleFor(meta: ColumnMeta): string {
  const c = formatColumn(meta.name);
  switch (meta.sdtype) {
    case "numerical":
      return `e.g. ${c} > ${meta.min ?? 0}${meta.min !== undefined && meta.max !== undefined ? ` (real range ${meta.min} to ${meta.max})` : ""}`;
    case "datetime":
      return `e.g. ${c} >= "2020-01-01"`;
    case "categorical": {
      const first = meta.levels?.[0]?.value ?? "level";
      return `e.g. ${c} == ${JSON.stringify(first)} or ${c} in [${JSON.stringify(first)}]; ${levelsHint(meta)}`;
    }
    case "boolean":
      return `e.g. ${c} == true`;
    case "id":
      return `e.g. is_missing(${c})`;
  }
}
