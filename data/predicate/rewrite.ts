/**
 * The text rewrites done before mathjs parses a condition, for syntax mathjs does not have:
 *
 * - `` `any name` `` → `col("any name")` (a doubled backtick inside stands for one backtick);
 * - `x not in [...]` → `x to [...]` (mathjs's other unit-conversion operator, which has the precedence of
 *   `in`; a `to` the user wrote is rejected first, so `to` can only come from here);
 * - `x between a and b` → `between(x, a, b)`;
 * - `&&`, `||` and a prefix `!` → `and`, `or`, `not`, and AND / OR / NOT / IN / BETWEEN → lower case (what
 *   code-trained models and SQL users write).
 *
 * String literals ('...' or "...", backslash escapes) pass through untouched. A lone `=` is reported (mathjs
 * would read an assignment). `positionOf` maps a position in the rewritten text back to the user's text so
 * mathjs's "(char N)" points at what the user typed.
 */
import type { PredicateProblem } from "./errors.ts";

export interface Rewritten {
  readonly text: string;
  /** 0-based position in the user's text of each character of `text`. */
  readonly origin: readonly number[];
  readonly sourceLength: number;
  readonly problems: PredicateProblem[];
}

type Token =
  | { kind: "string"; text: string; at: number }
  | { kind: "name"; name: string; text: string; at: number } // backtick-quoted
  | { kind: "word"; text: string; at: number }
  | { kind: "number"; text: string; at: number }
  | { kind: "space"; text: string; at: number }
  | { kind: "op"; text: string; at: number };

const UPPER_KEYWORDS = new Set(["AND", "OR", "NOT", "IN", "BETWEEN"]);
const WORD_START = /[A-Za-z_$\u00C0-\uFFFF]/;
const WORD_PART = /[A-Za-z0-9_$\u00C0-\uFFFF]/;
const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;

function tokenize(src: string, problems: PredicateProblem[]): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== ch) j += src[j] === "\\" ? 2 : 1;
      if (j >= src.length) {
        problems.push({ message: `the string starting at character ${i + 1} has no closing ${ch}` });
        j = src.length - 1;
      }
      out.push({ kind: "string", text: src.slice(i, j + 1), at: i });
      i = j + 1;
    } else if (ch === "`") {
      let j = i + 1;
      let name = "";
      for (;;) {
        if (j >= src.length) {
          problems.push({
            message: `the column name starting at character ${i + 1} has no closing backtick`,
          });
          break;
        }
        if (src[j] === "`") {
          if (src[j + 1] === "`") {
            name += "`";
            j += 2;
            continue;
          }
          break;
        }
        name += src[j++];
      }
      out.push({ kind: "name", name, text: src.slice(i, j + 1), at: i });
      i = j + 1;
    } else if (/\s/.test(ch)) {
      let j = i;
      while (j < src.length && /\s/.test(src[j])) j++;
      out.push({ kind: "space", text: src.slice(i, j), at: i });
      i = j;
    } else if (WORD_START.test(ch)) {
      let j = i + 1;
      while (j < src.length && WORD_PART.test(src[j])) j++;
      out.push({ kind: "word", text: src.slice(i, j), at: i });
      i = j;
    } else if (/[0-9.]/.test(ch) && NUMBER.test(src.slice(i))) {
      const m = NUMBER.exec(src.slice(i)) as RegExpExecArray;
      out.push({ kind: "number", text: m[0], at: i });
      i += m[0].length;
    } else {
      const two = src.slice(i, i + 2);
      const op = ["==", "!=", "<=", ">=", "&&", "||"].includes(two) ? two : ch;
      out.push({ kind: "op", text: op, at: i });
      i += op.length;
    }
  }
  return out;
}

/** Index of the next non-space token after k (or tokens.length). */
function nextSolid(tokens: readonly Token[], k: number): number {
  let j = k + 1;
  while (j < tokens.length && tokens[j].kind === "space") j++;
  return j;
}

/** A literal starting at token k (`-` number, number, string): its end index (inclusive), or -1. */
function literalAt(tokens: readonly Token[], k: number): number {
  const t = tokens[k];
  if (t === undefined) return -1;
  if (t.kind === "number" || t.kind === "string") return k;
  if (t.kind === "op" && (t.text === "-" || t.text === "+")) {
    const n = nextSolid(tokens, k);
    return tokens[n]?.kind === "number" ? n : -1;
  }
  return -1;
}

export function rewrite(src: string): Rewritten {
  const problems: PredicateProblem[] = [];
  const tokens = tokenize(src, problems);
  let text = "";
  const origin: number[] = [];
  const emit = (s: string, at: number, sameLength = false): void => {
    for (let c = 0; c < s.length; c++) origin.push(sameLength ? at + c : at);
    text += s;
  };
  const emitTokens = (from: number, to: number): void => {
    for (let k = from; k <= to; k++) emitToken(k);
  };
  const emitToken = (k: number): void => {
    const t = tokens[k];
    if (t.kind === "name") emit(`col(${JSON.stringify(t.name)})`, t.at);
    else emit(t.text, t.at, true);
  };
  // SQL habit: AND / OR / NOT / IN / BETWEEN in capitals are the keywords (a column so named needs backticks).
  for (const t of tokens) if (t.kind === "word" && UPPER_KEYWORDS.has(t.text)) t.text = t.text.toLowerCase();
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind === "word" && t.text === "to") {
      problems.push({
        message: '"to" is not part of the condition language',
        hint: 'for a column named "to" write `to` in backticks',
      });
      emitToken(k);
    } else if (t.kind === "word" && t.text === "not" && tokens[nextSolid(tokens, k)]?.text === "in") {
      const inAt = nextSolid(tokens, k);
      emit(" to ", t.at);
      k = inAt;
    } else if (t.kind === "word" && t.text.toLowerCase() === "between") {
      // column between low and high → between(column, low, high)
      const lowStart = nextSolid(tokens, k);
      const lowEnd = literalAt(tokens, lowStart);
      const and = lowEnd < 0 ? -1 : nextSolid(tokens, lowEnd);
      const highStart = and < 0 || tokens[and]?.text !== "and" ? -1 : nextSolid(tokens, and);
      const highEnd = highStart < 0 ? -1 : literalAt(tokens, highStart);
      // The column is the last token emitted: find it in the output (a word or a backtick name).
      let prev = k - 1;
      while (prev >= 0 && tokens[prev].kind === "space") prev--;
      const column = tokens[prev];
      if (highEnd < 0 || column === undefined || (column.kind !== "word" && column.kind !== "name")) {
        emitToken(k); // left for the parser to report with a hint
        continue;
      }
      const columnText = column.kind === "name" ? `col(${JSON.stringify(column.name)})` : column.text;
      // Drop the column (and spaces after it) already emitted, then write the call.
      const cut = text.lastIndexOf(columnText);
      text = text.slice(0, cut);
      origin.length = cut;
      emit("between(", column.at);
      emitToken(prev);
      emit(", ", t.at);
      emitTokens(lowStart, lowEnd);
      emit(", ", tokens[and].at);
      emitTokens(highStart, highEnd);
      emit(")", tokens[highEnd].at);
      k = highEnd;
    } else if (t.kind === "op" && t.text === "&&") emit(" and ", t.at);
    else if (t.kind === "op" && t.text === "||") emit(" or ", t.at);
    else if (t.kind === "op" && t.text === "!") emit(" not ", t.at);
    else if (t.kind === "op" && t.text === "=") {
      const before = src.slice(0, t.at).trimEnd();
      const after = src.slice(t.at + 1).trimStart();
      problems.push({
        message: `"=" at character ${t.at + 1} assigns a value; to compare, write "=="`,
        hint: `e.g. ${before} == ${after}`,
      });
      emit("==", t.at);
    } else emitToken(k);
  }
  return { text, origin, sourceLength: src.length, problems };
}

/** The user's 1-based character position for a 1-based position in the rewritten text. */
export function positionOf(r: Rewritten, char: number): number {
  const i = Math.max(char - 1, 0);
  // Past the end (e.g. "Unexpected end of expression"): one past the user's text too.
  return i >= r.origin.length ? r.sourceLength + 1 : r.origin[i] + 1;
}
