/**
 * describePredicate: a predicate in plain English for prompts ("\"age\" is greater than 60 and \"sex\" is
 * \"F\""). Column names and values are written as JSON strings, so text from the data can neither start a
 * new line nor pass for an instruction; numbers and dates are written as they are.
 */
import { type CompareOp, type PredicateNode, type Predicate, type Scalar } from "./ast.ts";

const PHRASE: Record<CompareOp, string> = {
  "==": "is",
  "!=": "is not",
  "<": "is less than",
  "<=": "is at most",
  ">": "is greater than",
  ">=": "is at least",
};
const NEGATED: Record<CompareOp, CompareOp> = {
  "==": "!=",
  "!=": "==",
  "<": ">=",
  "<=": ">",
  ">": "<=",
  ">=": "<",
};

function quote(s: string): string {
  return JSON.stringify(s).replaceAll("</", "<\\/");
}

function value(v: Scalar): string {
  return typeof v === "string" ? quote(v) : String(v);
}

function list(values: readonly Scalar[]): string {
  return values.map(value).join(", ");
}

function sentence(n: PredicateNode, top: boolean): string {
  switch (n.type) {
    case "and":
    case "or": {
      const s = n.args.map((a) => sentence(a, false)).join(` ${n.type} `);
      return top ? s : `(${s})`;
    }
    case "not": {
      const a = n.arg;
      if (a.type === "compare") return sentence({ ...a, op: NEGATED[a.op] }, top);
      if (a.type === "in") return `${quote(a.column)} is none of ${list(a.values)}`;
      if (a.type === "missing") return `${quote(a.column)} is not missing`;
      if (a.type === "range") {
        return `${quote(a.column)} is not between ${value(a.low)} and ${value(a.high)}${rangeNote(a)}`;
      }
      return `it is not the case that ${sentence(a, false)}`;
    }
    case "implies":
      return `${top ? "" : "("}if ${sentence(n.if, false)} then ${sentence(n.then, false)}${top ? "" : ")"}`;
    case "compare":
      return `${quote(n.column)} ${PHRASE[n.op]} ${value(n.value)}`;
    case "range":
      return `${quote(n.column)} is between ${value(n.low)} and ${value(n.high)}${rangeNote(n)}`;
    case "in":
      return n.values.length === 1
        ? `${quote(n.column)} is ${value(n.values[0])}`
        : `${quote(n.column)} is one of ${list(n.values)}`;
    case "missing":
      return `${quote(n.column)} is missing`;
  }
}

function rangeNote(n: { lowInclusive: boolean; highInclusive: boolean }): string {
  if (n.lowInclusive && n.highInclusive) return " (both included)";
  if (!n.lowInclusive && !n.highInclusive) return " (both excluded)";
  return n.lowInclusive ? " (lower end included, upper excluded)" : " (lower end excluded, upper included)";
}

/** The predicate in plain English, one line. */
export function describePredicate(pred: Predicate): string {
  return sentence(pred.root, true);
}
