/**
 * The predicate AST: our own typed, JSON-serialisable tree (never a mathjs node), its canonical text
 * (`formatPredicate`, which parsePredicate reads back to the same tree) and its negation normal form (NNF),
 * which the compiler, the row checker and the feasibility reasoning share.
 *
 * Values are stored per column kind: numbers for numerical columns, the ISO text for datetime columns, the
 * level text for categorical columns, true/false for boolean columns.
 */
import { z } from "zod";

export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";
export type Scalar = number | string | boolean;

export type PredicateNode =
  | { readonly type: "and"; readonly args: readonly PredicateNode[] }
  | { readonly type: "or"; readonly args: readonly PredicateNode[] }
  | { readonly type: "not"; readonly arg: PredicateNode }
  /** `implies(if, then)`: true unless `if` holds and `then` does not. */
  | { readonly type: "implies"; readonly if: PredicateNode; readonly then: PredicateNode }
  | { readonly type: "compare"; readonly column: string; readonly op: CompareOp; readonly value: Scalar }
  /** `low <(=) column <(=) high`, also written `between(column, low, high)` (both ends inclusive). */
  | {
      readonly type: "range";
      readonly column: string;
      readonly low: Scalar;
      readonly high: Scalar;
      readonly lowInclusive: boolean;
      readonly highInclusive: boolean;
    }
  /** `column in [values]`; `not in` is a `not` around it. */
  | { readonly type: "in"; readonly column: string; readonly values: readonly Scalar[] }
  /** `is_missing(column)`. */
  | { readonly type: "missing"; readonly column: string };

const scalar = z.union([z.number(), z.string(), z.boolean()]);

/** zod schema of a stored PredicateNode (e.g. read back from a run record). */
export const predicateNodeSchema: z.ZodType<PredicateNode> = z.lazy(() =>
  z.union([
    z.strictObject({ type: z.literal("and"), args: z.array(predicateNodeSchema).min(2) }),
    z.strictObject({ type: z.literal("or"), args: z.array(predicateNodeSchema).min(2) }),
    z.strictObject({ type: z.literal("not"), arg: predicateNodeSchema }),
    z.strictObject({ type: z.literal("implies"), if: predicateNodeSchema, then: predicateNodeSchema }),
    z.strictObject({
      type: z.literal("compare"),
      column: z.string(),
      op: z.enum(["==", "!=", "<", "<=", ">", ">="]),
      value: scalar,
    }),
    z.strictObject({
      type: z.literal("range"),
      column: z.string(),
      low: scalar,
      high: scalar,
      lowInclusive: z.boolean(),
      highInclusive: z.boolean(),
    }),
    z.strictObject({ type: z.literal("in"), column: z.string(), values: z.array(scalar) }),
    z.strictObject({ type: z.literal("missing"), column: z.string() }),
  ]),
);

/** A checked predicate: the tree plus its canonical text. JSON.stringify gives the tree. */
export class Predicate {
  readonly root: PredicateNode;
  constructor(root: PredicateNode) {
    this.root = root;
  }
  /** Canonical syntax; parsePredicate(p.toString()) gives the same tree. */
  toString(): string {
    return formatPredicate(this.root);
  }
  toJSON(): PredicateNode {
    return this.root;
  }
  /** Names of the columns the predicate reads, in first-use order. */
  columns(): string[] {
    const out = new Set<string>();
    const walk = (n: PredicateNode): void => {
      switch (n.type) {
        case "and":
        case "or":
          n.args.forEach(walk);
          return;
        case "not":
          walk(n.arg);
          return;
        case "implies":
          walk(n.if);
          walk(n.then);
          return;
        default:
          out.add(n.column);
      }
    };
    walk(this.root);
    return [...out];
  }
}

// ---------------------------------------------------------------------------------------------------------
// Canonical text.

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Words mathjs reads as operators or constants, and the names of our functions: such columns need backticks.
const RESERVED = new Set([
  "and",
  "or",
  "not",
  "xor",
  "in",
  "to",
  "mod",
  "true",
  "false",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "end",
  "between",
  "is_missing",
  "implies",
  "col",
]);

/** A column reference: bare when it is a plain identifier, else in backticks (a backtick inside is doubled). */
export function formatColumn(name: string): string {
  return IDENTIFIER.test(name) && !RESERVED.has(name) ? name : `\`${name.replaceAll("`", "``")}\``;
}

export function formatValue(v: Scalar): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

const PRECEDENCE = { or: 1, and: 2, not: 3, atom: 4 } as const;

function precedenceOf(n: PredicateNode): number {
  if (n.type === "or") return PRECEDENCE.or;
  if (n.type === "and") return PRECEDENCE.and;
  // `not` is printed with parentheses around anything but a function call, so it binds like an atom.
  return PRECEDENCE.atom;
}

function wrap(n: PredicateNode, min: number): string {
  const s = formatPredicate(n);
  return precedenceOf(n) < min ? `(${s})` : s;
}

/** The canonical text of a tree (see docs/predicates.md). */
export function formatPredicate(n: PredicateNode): string {
  switch (n.type) {
    case "and":
      return n.args.map((a) => wrap(a, PRECEDENCE.and + 1)).join(" and ");
    case "or":
      return n.args.map((a) => wrap(a, PRECEDENCE.or + 1)).join(" or ");
    case "not": {
      const a = n.arg;
      if (a.type === "in")
        return `${formatColumn(a.column)} not in [${a.values.map(formatValue).join(", ")}]`;
      if (a.type === "missing" || a.type === "implies") return `not ${formatPredicate(a)}`;
      // mathjs binds `not` tighter than comparisons: `not age > 60` would read as `(not age) > 60`.
      return `not (${formatPredicate(a)})`;
    }
    case "implies":
      return `implies(${formatPredicate(n.if)}, ${formatPredicate(n.then)})`;
    case "compare":
      return `${formatColumn(n.column)} ${n.op} ${formatValue(n.value)}`;
    case "range":
      return `${formatValue(n.low)} ${n.lowInclusive ? "<=" : "<"} ${formatColumn(n.column)} ${n.highInclusive ? "<=" : "<"} ${formatValue(n.high)}`;
    case "in":
      return `${formatColumn(n.column)} in [${n.values.map(formatValue).join(", ")}]`;
    case "missing":
      return `is_missing(${formatColumn(n.column)})`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Negation normal form.

/** An atom of the NNF: a test on one column, already negated where the tree said `not`. */
export type NnfAtom =
  | { readonly type: "compare"; readonly column: string; readonly op: CompareOp; readonly value: Scalar }
  | {
      readonly type: "in";
      readonly column: string;
      readonly values: readonly Scalar[];
      readonly negated: boolean;
    }
  | { readonly type: "missing"; readonly column: string; readonly negated: boolean };

export type Nnf =
  | NnfAtom
  | { readonly type: "and"; readonly args: readonly Nnf[] }
  | { readonly type: "or"; readonly args: readonly Nnf[] };

const NEGATED_OP: Record<CompareOp, CompareOp> = {
  "==": "!=",
  "!=": "==",
  "<": ">=",
  "<=": ">",
  ">": "<=",
  ">=": "<",
};

/**
 * The tree with `not` pushed onto the atoms and `implies(A, B)` rewritten as `not A or B`.
 *
 * Missing values follow SQL's three-valued logic: a test on a missing cell is unknown, `not unknown` is
 * unknown, and a row is selected only when the whole condition is true. Under that logic De Morgan's laws
 * hold and `not (x < c)` is exactly `x >= c` (both unknown when x is missing), so after this rewrite every
 * atom can be evaluated two-valued with "missing → false" and the and/or above it give the three-valued
 * answer's "is true" exactly (and/or are monotone). `is_missing` is never unknown.
 */
export function toNnf(n: PredicateNode, negate = false): Nnf {
  switch (n.type) {
    case "and":
    case "or": {
      const type = (n.type === "and") !== negate ? "and" : "or";
      return flatten(
        type,
        n.args.map((a) => toNnf(a, negate)),
      );
    }
    case "not":
      return toNnf(n.arg, !negate);
    case "implies":
      // A → B = ¬A ∨ B; ¬(A → B) = A ∧ ¬B.
      return negate
        ? flatten("and", [toNnf(n.if, false), toNnf(n.then, true)])
        : flatten("or", [toNnf(n.if, true), toNnf(n.then, false)]);
    case "compare":
      return { type: "compare", column: n.column, op: negate ? NEGATED_OP[n.op] : n.op, value: n.value };
    case "range": {
      const low: NnfAtom = {
        type: "compare",
        column: n.column,
        op: n.lowInclusive ? ">=" : ">",
        value: n.low,
      };
      const high: NnfAtom = {
        type: "compare",
        column: n.column,
        op: n.highInclusive ? "<=" : "<",
        value: n.high,
      };
      if (!negate) return { type: "and", args: [low, high] };
      return {
        type: "or",
        args: [
          { ...low, op: NEGATED_OP[low.op] },
          { ...high, op: NEGATED_OP[high.op] },
        ],
      };
    }
    case "in":
      return { type: "in", column: n.column, values: n.values, negated: negate };
    case "missing":
      return { type: "missing", column: n.column, negated: negate };
  }
}

function flatten(type: "and" | "or", args: Nnf[]): Nnf {
  const out: Nnf[] = [];
  for (const a of args) {
    if (a.type === type) out.push(...a.args);
    else out.push(a);
  }
  return out.length === 1 ? out[0] : { type, args: out };
}
