/**
 * Tolerant JSON extraction from LLM text, for providers or models that do not honour structured output.
 *
 * Handles what small local models actually emit: markdown code fences, chatter before and after the JSON,
 * Python literals (single-quoted strings with escapes, True/False/None, tuples), trailing commas, missing
 * commas, bare object keys, comments (// /* # ), NaN/Infinity (→ null), raw control characters in strings,
 * several values one per line (JSONL → array), and output cut off by a token limit:
 * - a truncated array keeps its complete items ("truncated: kept N items");
 * - a truncated object keeps its complete fields, and a field holding a truncated array keeps that array's
 *   complete items (so `{"rows": [[..], [..], [1, 2` keeps the two complete rows); an object cut short inside
 *   an array is an incomplete item and is dropped;
 * - nothing complete at all (e.g. `[{"a": 1` ) is a failure.
 * A syntax error fails the value it is in; the scanner then tries later `{` / `[` starts and keeps the longest
 * value found, so a run of complete JSONL lines before a broken one is still returned.
 *
 * Why no library: JSON.parse is the fast path; json5 (and JSON-repair style libraries) accept comments and
 * single quotes but not Python's True/None/tuples or truncated output, and do not report what they changed.
 * Never evaluates anything.
 */
import { type DecodedRows, decodeRowObjects } from "../data/compact.ts";

export type ExtractResult = { ok: true; value: unknown; repairs: string[] } | { ok: false; error: string };

/** Parses the JSON value in `text`, repairing what it can; `repairs` says, in words, what was changed. */
export function extractJson(text: string): ExtractResult {
  try {
    const r = extract(text);
    // A model that "returns JSON" as one JSON string literal: decode the inner document once.
    if (r.ok && typeof r.value === "string" && /^\s*[[{]/.test(r.value)) {
      const inner = extract(r.value);
      if (inner.ok)
        return {
          ok: true,
          value: inner.value,
          repairs: [...r.repairs, "decoded JSON given as a string", ...inner.repairs],
        };
    }
    return r;
  } catch (e) {
    // The scanner signals errors with ParseError and bounds its depth; anything else is a bug, not a throw.
    return { ok: false, error: `internal error: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * Rows keyed by column from an extracted value: an array of objects, an array of arrays (positional, in
 * `columns` order), an object wrapping an array (`{"rows": [...]}`, `{"data": [...]}`), or a single object.
 * Each item carries its shape problems (missing or unknown columns, wrong length); values are not validated.
 */
export function extractRows(value: unknown, columns: readonly string[]): DecodedRows {
  return decodeRowObjects(columns, value);
}

const MAX_DEPTH = 200;
const MAX_ATTEMPTS = 200;

class ParseError extends Error {
  constructor(
    message: string,
    /** The text ended inside the value: every later start lies inside the same unfinished value. */
    readonly cut = false,
  ) {
    super(message);
  }
}

function extract(text: string): ExtractResult {
  if (typeof text !== "string") return { ok: false, error: "not a string" };
  const trimmed = text.replace(/^\uFEFF/, "").trim();
  if (trimmed === "") return { ok: false, error: "empty response" };
  const direct = tryJsonParse(trimmed);
  if (direct.ok) return { ok: true, value: direct.value, repairs: [] };

  let firstError: string | undefined;
  for (const fence of codeFences(text)) {
    const repairs = ["removed markdown code fence"];
    if (!fence.closed) repairs.push("code fence was not closed");
    if (fence.outside.trim() !== "") repairs.push("skipped text outside the code fence");
    const inner = tryJsonParse(fence.body.trim());
    if (inner.ok) return { ok: true, value: inner.value, repairs };
    const r = scan(fence.body);
    if (r.ok) return { ok: true, value: r.value, repairs: [...repairs, ...r.repairs] };
    firstError ??= r.error;
  }
  const r = scan(text);
  if (r.ok) return r;
  return { ok: false, error: firstError ?? r.error };
}

function tryJsonParse(s: string): { ok: true; value: unknown } | { ok: false } {
  const c = s[0];
  // Only containers and strings: a bare number or word is more likely chatter ("42 rows:") than an answer.
  if (c !== "{" && c !== "[" && c !== '"') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(s) };
  } catch {
    return { ok: false };
  }
}

interface Fence {
  body: string;
  closed: boolean;
  outside: string;
}

function codeFences(text: string): Fence[] {
  const out: Fence[] = [];
  let from = 0;
  for (;;) {
    const open = text.indexOf("```", from);
    if (open < 0) break;
    const eol = text.indexOf("\n", open + 3);
    // The info string ("json", "python") runs to the end of the line; a one-line fence has no body.
    if (eol < 0) break;
    const close = text.indexOf("```", eol + 1);
    const body = close < 0 ? text.slice(eol + 1) : text.slice(eol + 1, close);
    const end = close < 0 ? text.length : close + 3;
    out.push({ body, closed: close >= 0, outside: text.slice(0, open) + text.slice(end) });
    if (close < 0) break;
    from = end;
  }
  return out;
}

interface Found {
  value: unknown;
  start: number;
  end: number;
  repairs: string[];
}

// Tries each "{" or "[" as a start (skipping inside values already found) and keeps the longest value.
function scan(text: string): ExtractResult {
  let best: Found | undefined;
  let error = "no JSON object or array found";
  let attempts = 0;
  let i = nextStart(text, 0);
  while (i >= 0 && attempts < MAX_ATTEMPTS) {
    attempts++;
    const p = new Parser(text, i);
    let found: Found | undefined;
    try {
      found = p.parseGroup();
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      if (best === undefined && (attempts === 1 || e.cut)) error = e.message;
      if (e.cut) break;
    }
    if (found && (best === undefined || found.end - found.start > best.end - best.start)) best = found;
    i = nextStart(text, found ? found.end : i + 1);
  }
  if (best === undefined) return { ok: false, error };
  const repairs = [...best.repairs];
  const before = text.slice(0, best.start).trim();
  const after = text.slice(best.end).trim();
  if (before !== "") repairs.unshift(`skipped ${before.length} characters of text before the JSON`);
  if (after !== "") repairs.push(`skipped ${after.length} characters of text after the JSON`);
  return { ok: true, value: best.value, repairs };
}

function nextStart(text: string, from: number): number {
  for (let j = from; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x7b || c === 0x5b) return j;
  }
  return -1;
}

/**
 * Recursive-descent scanner over `text` from `start`. `cut` becomes true when the text ends inside a value;
 * containers then stop, keep what is complete and return, so the whole stack unwinds in one pass.
 */
class Parser {
  private pos: number;
  private depth = 0;
  private cut = false;
  /** Complete items kept by the outermost array that was open when the text ended. */
  private cutItems = -1;
  private readonly repairs = new Set<string>();

  constructor(
    private readonly text: string,
    private readonly start: number,
  ) {
    this.pos = start;
  }

  /** One value, then further values separated only by whitespace or commas (JSONL) → an array of them. */
  parseGroup(): Found | undefined {
    const first = this.parseValue();
    if (this.cut) return this.finishCut(first);
    let end = this.pos;
    const values = [first];
    let cutLine = false;
    for (;;) {
      const beforeSpace = new Set(this.repairs);
      this.skipSpace();
      let p = this.pos;
      while (p < this.text.length && this.text[p] === ",") p++;
      while (p < this.text.length && /\s/.test(this.text[p])) p++;
      const c = this.text[p];
      if (c !== "{" && c !== "[") {
        this.restore(beforeSpace); // a comment-like tail ("# note") is trailing text, not a repair
        break;
      }
      this.pos = p;
      const saved = new Set(this.repairs);
      let v: unknown;
      try {
        v = this.parseValue();
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        this.restore(saved);
        break;
      }
      if (this.cut) {
        this.restore(saved);
        this.repairs.add(`truncated: kept ${values.length} items`);
        end = this.text.length;
        cutLine = true;
        break;
      }
      values.push(v);
      end = this.pos;
    }
    const many = values.length > 1 || cutLine;
    if (many) this.repairs.add("read values given one per line (JSONL) as an array");
    return {
      value: many ? values : first,
      start: this.start,
      end,
      repairs: [...this.repairs],
    };
  }

  private restore(saved: Set<string>): void {
    this.repairs.clear();
    for (const r of saved) this.repairs.add(r);
  }

  private finishCut(v: unknown): Found {
    if (Array.isArray(v)) {
      if (v.length === 0) throw new ParseError("output was cut off before the first complete item", true);
      this.repairs.add(`truncated: kept ${v.length} items`);
    } else if (isRecord(v)) {
      const n = Object.keys(v).length;
      if (n === 0) throw new ParseError("output was cut off before the first complete field", true);
      this.repairs.add(`truncated object: kept ${n} fields`);
      if (this.cutItems >= 0) this.repairs.add(`truncated: kept ${this.cutItems} items`);
    } else {
      throw new ParseError("output was cut off", true);
    }
    return { value: v, start: this.start, end: this.text.length, repairs: [...this.repairs] };
  }

  private fail(what: string): never {
    const near = JSON.stringify(this.text.slice(this.pos, this.pos + 20));
    throw new ParseError(`${what} at offset ${this.pos} (near ${near})`);
  }

  private skipSpace(): void {
    const t = this.text;
    const n = t.length;
    while (this.pos < n) {
      const c = t.charCodeAt(this.pos);
      if (
        c === 0x20 ||
        c === 0x0a ||
        c === 0x0d ||
        c === 0x09 ||
        c === 0xa0 ||
        c === 0xfeff ||
        c === 0x2028
      ) {
        this.pos++;
      } else if (c === 0x2f && t.charCodeAt(this.pos + 1) === 0x2f) {
        this.repairs.add("removed comments");
        this.toLineEnd();
      } else if (c === 0x23) {
        this.repairs.add("removed comments");
        this.toLineEnd();
      } else if (c === 0x2f && t.charCodeAt(this.pos + 1) === 0x2a) {
        this.repairs.add("removed comments");
        const close = t.indexOf("*/", this.pos + 2);
        this.pos = close < 0 ? n : close + 2;
      } else {
        return;
      }
    }
  }

  private toLineEnd(): void {
    const nl = this.text.indexOf("\n", this.pos);
    this.pos = nl < 0 ? this.text.length : nl + 1;
  }

  private atEnd(): boolean {
    if (this.pos >= this.text.length) {
      this.cut = true;
      return true;
    }
    return false;
  }

  private parseValue(): unknown {
    this.skipSpace();
    if (this.atEnd()) return undefined;
    const c = this.text[this.pos];
    if (c === "{" || c === "[" || c === "(") {
      if (++this.depth > MAX_DEPTH) this.fail("nesting too deep");
      let v: unknown;
      if (c === "{") v = this.parseObject();
      else if (c === "[") v = this.parseArray("]");
      else {
        this.repairs.add("converted tuples to lists");
        v = this.parseArray(")");
      }
      this.depth--;
      return v;
    }
    if (c === '"' || c === "'") return this.parseString(c);
    if (c === "-" || c === "+" || c === "." || (c >= "0" && c <= "9")) return this.parseNumber();
    if (isWordStart(c)) return this.parseWord();
    return this.fail(`unexpected character ${JSON.stringify(c)}`);
  }

  private parseArray(close: string): unknown[] {
    this.pos++;
    const items: unknown[] = [];
    this.skipSpace();
    if (this.atEnd()) return this.cutArray(items);
    if (this.text[this.pos] === close) {
      this.pos++;
      return items;
    }
    for (;;) {
      const v = this.parseValue();
      if (this.cut) return this.cutArray(items); // the unfinished item is dropped
      items.push(v);
      this.skipSpace();
      if (this.atEnd()) return this.cutArray(items);
      const c = this.text[this.pos];
      if (c === ",") {
        this.pos++;
        this.skipSpace();
        if (this.atEnd()) return this.cutArray(items);
        if (this.text[this.pos] === close) {
          this.repairs.add("removed trailing commas");
          this.pos++;
          return items;
        }
      } else if (c === close) {
        this.pos++;
        return items;
      } else if (startsValue(c)) {
        this.repairs.add("inserted missing commas");
      } else {
        this.fail(`expected "," or "${close}"`);
      }
    }
  }

  private cutArray(items: unknown[]): unknown[] {
    this.cutItems = items.length;
    return items;
  }

  private parseObject(): Record<string, unknown> {
    this.pos++;
    const obj: Record<string, unknown> = {};
    this.skipSpace();
    if (this.atEnd()) return obj;
    if (this.text[this.pos] === "}") {
      this.pos++;
      return obj;
    }
    for (;;) {
      const key = this.parseKey();
      if (this.cut) return obj;
      this.skipSpace();
      if (this.atEnd()) return obj;
      if (this.text[this.pos] !== ":") this.fail('expected ":"');
      this.pos++;
      const v = this.parseValue();
      if (this.cut) {
        // Keep a field whose array value was cut (its complete items survive); drop any other unfinished field.
        if (Array.isArray(v)) setField(obj, key, v);
        return obj;
      }
      setField(obj, key, v);
      this.skipSpace();
      if (this.atEnd()) return obj;
      const c = this.text[this.pos];
      if (c === ",") {
        this.pos++;
        this.skipSpace();
        if (this.atEnd()) return obj;
        if (this.text[this.pos] === "}") {
          this.repairs.add("removed trailing commas");
          this.pos++;
          return obj;
        }
      } else if (c === "}") {
        this.pos++;
        return obj;
      } else if (c === '"' || c === "'" || isWordStart(c)) {
        this.repairs.add("inserted missing commas");
      } else {
        this.fail('expected "," or "}"');
      }
    }
  }

  private parseKey(): string {
    this.skipSpace();
    if (this.atEnd()) return "";
    const c = this.text[this.pos];
    if (c === '"' || c === "'") return this.parseString(c);
    if (isWordStart(c) || (c >= "0" && c <= "9") || c === "-") {
      const start = this.pos;
      while (this.pos < this.text.length && /[\w$-]/.test(this.text[this.pos])) this.pos++;
      if (this.atEnd()) return "";
      this.repairs.add("quoted bare object keys");
      return this.text.slice(start, this.pos);
    }
    return this.fail("expected an object key");
  }

  private parseString(quote: string): string {
    if (quote === "'") this.repairs.add("converted single-quoted strings");
    const t = this.text;
    const n = t.length;
    this.pos++;
    let out = "";
    let chunk = this.pos;
    while (this.pos < n) {
      const ch = t[this.pos];
      if (ch === quote) {
        out += t.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (ch === "\\") {
        out += t.slice(chunk, this.pos);
        if (this.pos + 1 >= n) break;
        out += this.parseEscape();
        chunk = this.pos;
        continue;
      }
      if (ch.charCodeAt(0) < 0x20) this.repairs.add("kept raw control characters inside strings");
      this.pos++;
    }
    this.cut = true;
    return out;
  }

  // At a backslash: JSON escapes plus Python's \' \xHH \UXXXXXXXX \a \v \0 and line continuation.
  private parseEscape(): string {
    const t = this.text;
    const e = t[this.pos + 1];
    this.pos += 2;
    switch (e) {
      case '"':
      case "'":
      case "\\":
      case "/":
        return e;
      case "n":
        return "\n";
      case "t":
        return "\t";
      case "r":
        return "\r";
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "a":
        return "\x07";
      case "v":
        return "\v";
      case "0":
        return "\0";
      case "\n":
        return "";
      case "u":
      case "x":
      case "U": {
        const len = e === "x" ? 2 : e === "u" ? 4 : 8;
        const hex = t.slice(this.pos, this.pos + len);
        if (hex.length < len && this.pos + hex.length >= t.length && /^[0-9a-fA-F]*$/.test(hex)) {
          this.pos = t.length; // cut inside the escape: the string is unfinished
          return "";
        }
        if (/^[0-9a-fA-F]+$/.test(hex) && hex.length === len) {
          const code = Number.parseInt(hex, 16);
          if (code <= 0x10ffff) {
            this.pos += len;
            return e === "u" ? String.fromCharCode(code) : String.fromCodePoint(code);
          }
        }
        break;
      }
    }
    this.repairs.add("kept unknown escape sequences literally");
    return `\\${e}`;
  }

  private parseNumber(): unknown {
    const t = this.text;
    const n = t.length;
    const start = this.pos;
    let sign = "";
    if (t[this.pos] === "+" || t[this.pos] === "-") {
      if (t[this.pos] === "+") this.repairs.add("removed leading '+' signs");
      else sign = "-";
      this.pos++;
      if (this.pos < n && isWordStart(t[this.pos])) {
        const w = this.word();
        if (w === "Infinity" || w === "inf") {
          this.repairs.add("replaced NaN/Infinity with null");
          return null;
        }
        if (this.pos >= n) {
          this.cut = true;
          return undefined;
        }
        this.pos = start;
        return this.fail("malformed number");
      }
    }
    const digitsFrom = this.pos;
    while (this.pos < n && isDigit(t[this.pos])) this.pos++;
    const intDigits = this.pos - digitsFrom;
    let fracDigits = 0;
    if (t[this.pos] === ".") {
      this.pos++;
      const f = this.pos;
      while (this.pos < n && isDigit(t[this.pos])) this.pos++;
      fracDigits = this.pos - f;
    }
    if (intDigits + fracDigits === 0) {
      if (this.pos >= n) {
        this.cut = true;
        return undefined;
      }
      this.pos = start;
      return this.fail("malformed number");
    }
    if (t[this.pos] === "e" || t[this.pos] === "E") {
      this.pos++;
      if (t[this.pos] === "+" || t[this.pos] === "-") this.pos++;
      const f = this.pos;
      while (this.pos < n && isDigit(t[this.pos])) this.pos++;
      if (this.pos === f) {
        if (this.pos >= n) {
          this.cut = true;
          return undefined;
        }
        this.pos = start;
        return this.fail("malformed exponent");
      }
    }
    if (this.pos >= n) {
      // Ended by the end of the text: the number may have been cut ("4" of "45").
      this.cut = true;
      return undefined;
    }
    const body = t.slice(digitsFrom, this.pos);
    if (intDigits === 0 || (fracDigits === 0 && body.includes(".")) || (intDigits > 1 && body[0] === "0")) {
      this.repairs.add("normalised non-JSON number formats");
    }
    return Number(sign + body);
  }

  private word(): string {
    const start = this.pos;
    while (this.pos < this.text.length && /[\w$]/.test(this.text[this.pos])) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private parseWord(): unknown {
    const start = this.pos;
    const w = this.word();
    switch (w) {
      case "true":
        return true;
      case "false":
        return false;
      case "null":
        return null;
      case "True":
      case "False":
      case "None":
        this.repairs.add("converted Python literals (True/False/None)");
        return w === "True" ? true : w === "False" ? false : null;
      case "NaN":
      case "nan":
      case "Infinity":
      case "inf":
        this.repairs.add("replaced NaN/Infinity with null");
        return null;
      case "undefined":
        this.repairs.add("replaced undefined with null");
        return null;
    }
    if (this.pos >= this.text.length) {
      this.cut = true; // "tru" at the very end
      return undefined;
    }
    this.pos = start;
    return this.fail(`unexpected word ${JSON.stringify(w.slice(0, 20))}`);
  }
}

function setField(obj: Record<string, unknown>, key: string, v: unknown): void {
  // defineProperty so a "__proto__" key becomes data, as with JSON.parse, not the object's prototype.
  Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

function isWordStart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z_$]/.test(c);
}

function startsValue(c: string): boolean {
  return (
    c === "{" || c === "[" || c === "(" || c === '"' || c === "'" || c === "-" || isDigit(c) || isWordStart(c)
  );
}
