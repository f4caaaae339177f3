/**
 * A JSON Schema as a llama.cpp GBNF grammar that also carries numeric bounds, for the llamacpp provider.
 *
 * node-llama-cpp's own JSON-schema grammar enforces structure and enums but writes every number as an
 * unbounded `-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,16})?([eE]...)?`, so a small model can write age 17328 and the
 * row validator drops the row. Here a number node's range is written into the grammar:
 *
 * - integers with at most MAX_ENUMERATED_INTEGERS values in [min, max]: an alternation of the values;
 * - wider integer ranges: the exact range as digit patterns (the classic range-to-regex split: per digit
 *   count, then per leading digit, e.g. 17..79 = `"1" [7-9] | [2-7] [0-9]`, 17..75 = `"1" [7-9] |
 *   [2-6] [0-9] | "7" [0-5]`), a `-` only when
 *   min < 0, no leading zeros, no exponent;
 * - decimals: the integer part's range as above (floor of the bounds) and at most `decimals` fractional
 *   digits, so the fraction can overshoot the bounds by less than 1 (5.9 when max is 5.5): the validator
 *   checks the exact bound.
 *
 * Bounds come from `minimum`/`maximum` or the extension keywords `x-minimum`/`x-maximum`/`x-decimals` (which
 * data/compact.ts writes only for this provider: OpenAI's strict mode rejects unknown keywords and
 * minimum/maximum, Ollama's grammar ignores them). The grammar narrows what a model can write; it does not
 * replace validation.
 *
 * Supported keywords: type (and type lists), enum, const, anyOf/oneOf, properties (every property written,
 * in order, as node-llama-cpp does), additionalProperties (false/absent only), items, prefixItems,
 * minItems/maxItems, minLength/maxLength, format date/time/date-time; annotations are ignored. Anything else
 * that changes the accepted values ($ref, allOf, not, patternProperties, ...) throws
 * UnsupportedSchemaError, and the caller falls back to node-llama-cpp's builder.
 *
 * Whitespace: at most one space between tokens, no line breaks (rows stay one line each, fewer tokens).
 * GBNF reference: llama.cpp grammars/README.md.
 */

/** Integer ranges up to this many values are written as an alternation of their values. */
export const MAX_ENUMERATED_INTEGERS = 200;
/** Beyond this magnitude a bound is not written (JSON numbers lose integer precision above 2^53). */
const MAX_BOUND = 1e15;
/** The most fractional digits a bounded decimal may have when its schema gives none. */
const DEFAULT_DECIMALS = 6;

export class UnsupportedSchemaError extends Error {
  override name = "UnsupportedSchemaError";
}

type Node = Record<string, unknown>;

const CHANGES_VALUES = [
  "$ref",
  "allOf",
  "not",
  "if",
  "then",
  "else",
  "patternProperties",
  "dependentSchemas",
  "dependentRequired",
  "propertyNames",
  "contains",
  "unevaluatedProperties",
  "unevaluatedItems",
];

const WS = "ws";
const BASE_RULES: Record<string, string> = {
  ws: "[ ]?",
  char: '[^"\\\\\\x7F\\x00-\\x1F] | "\\\\" ["\\\\/bfnrt] | "\\\\u" [0-9a-fA-F]{4}',
  string: '"\\"" char* "\\""',
  number: '"-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?',
  integer: '"-"? ("0" | [1-9] [0-9]{0,15})',
  boolean: '"true" | "false"',
  null: '"null"',
  date: '[0-9]{4} "-" ("0" [1-9] | "1" [012]) "-" ("0" [1-9] | [12] [0-9] | "3" [01])',
  time: '([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9])?',
  value: "object | array | string | number | boolean | null",
  object: '"{" ws (member (ws "," ws member)*)? ws "}"',
  member: 'string ws ":" ws value',
  array: '"[" ws (value (ws "," ws value)*)? ws "]"',
};

/** A GBNF string literal for `text` (the characters as written, escaped for the grammar). */
export function gbnfLiteral(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A JSON value's text as a grammar literal (`"Private"` → the 9 characters `"Private"`). */
function jsonLiteral(v: unknown): string {
  return gbnfLiteral(JSON.stringify(v));
}

/**
 * Alternatives (each a sequence of GBNF items) matching exactly the decimal writing of the integers in
 * [lo, hi], 0 <= lo <= hi, without leading zeros.
 */
export function uintRangeAlternatives(lo: number, hi: number): string[] {
  if (!(Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && lo >= 0 && lo <= hi)) {
    throw new RangeError(`uintRangeAlternatives needs 0 <= lo <= hi (safe integers), got ${lo}..${hi}`);
  }
  const out: string[] = [];
  const loLen = String(lo).length;
  const hiLen = String(hi).length;
  for (let len = loLen; len <= hiLen; len++) {
    const first = len === 1 ? 0 : 10 ** (len - 1);
    const a = Math.max(lo, first);
    const b = Math.min(hi, 10 ** len - 1);
    if (a <= b) out.push(...sameLength(String(a), String(b)));
  }
  return out;
}

/** Digit patterns for [lo, hi] where both have the same number of digits. */
function sameLength(lo: string, hi: string): string[] {
  if (lo.length === 0) return [""];
  if (lo === hi) return [gbnfLiteral(lo)];
  const rest = lo.length - 1;
  if (lo[0] === hi[0]) {
    return sameLength(lo.slice(1), hi.slice(1)).map((s) => join(gbnfLiteral(lo[0] as string), s));
  }
  const alts: string[] = [];
  let midLo = Number(lo[0]);
  let midHi = Number(hi[0]);
  if (!/^0*$/.test(lo.slice(1))) {
    for (const s of sameLength(lo.slice(1), "9".repeat(rest)))
      alts.push(join(gbnfLiteral(lo[0] as string), s));
    midLo++;
  }
  const tail: string[] = [];
  if (!/^9*$/.test(hi.slice(1))) {
    for (const s of sameLength("0".repeat(rest), hi.slice(1)))
      tail.push(join(gbnfLiteral(hi[0] as string), s));
    midHi--;
  }
  if (midLo <= midHi) {
    const head = midLo === midHi ? gbnfLiteral(String(midLo)) : `[${midLo}-${midHi}]`;
    alts.push(join(head, rest === 0 ? "" : rest === 1 ? "[0-9]" : `[0-9]{${rest}}`));
  }
  return [...alts, ...tail];
}

/** `a b`, with two adjacent digit literals merged (`"12" "2"` -> `"122"`). */
function join(a: string, b: string): string {
  if (b === "") return a;
  const head = /^"(\d+)"/.exec(b);
  const tail = /"(\d+)"$/.exec(a);
  if (head && tail && (tail.index === 0 || a[tail.index - 1] === " ")) {
    return `${a.slice(0, tail.index)}"${tail[1]}${head[1]}"${b.slice(head[0].length)}`;
  }
  return `${a} ${b}`;
}

function alt(alts: readonly string[]): string {
  return alts.length === 1 ? (alts[0] as string) : `(${alts.join(" | ")})`;
}

/**
 * GBNF for the integer parts in [lo, hi] (integers): a `-` branch only for the negative part; -0 is not
 * written. Exported for the tests.
 */
export function intRangeGbnf(lo: number, hi: number): string {
  const branches: string[] = [];
  if (lo < 0) {
    // magnitudes of the negatives: [max(1, -hi), -lo]
    branches.push(join('"-"', alt(uintRangeAlternatives(Math.max(1, -hi), -lo))));
  }
  if (hi >= 0) branches.push(...uintRangeAlternatives(Math.max(0, lo), hi));
  return branches.join(" | ");
}

interface Bounds {
  min: number;
  max: number;
  decimals: number;
}

function boundsOf(o: Node, integer: boolean): Bounds | undefined {
  const num = (k: string): number | undefined => {
    const v = o[k];
    return typeof v === "number" && Number.isFinite(v) ? v : undefined;
  };
  const min = num("x-minimum") ?? num("minimum");
  const max = num("x-maximum") ?? num("maximum");
  if (min === undefined || max === undefined || min > max) return undefined;
  if (Math.abs(min) > MAX_BOUND || Math.abs(max) > MAX_BOUND) return undefined;
  const d = num("x-decimals");
  const decimals = integer ? 0 : d !== undefined && d >= 0 ? Math.min(Math.floor(d), 16) : DEFAULT_DECIMALS;
  return { min, max, decimals };
}

/** GBNF for a number node with bounds (see the header); `integer` for type integer. */
export function boundedNumberGbnf(b: Bounds, integer: boolean): string {
  if (integer || b.decimals === 0) {
    const lo = Math.ceil(b.min);
    const hi = Math.floor(b.max);
    if (lo > hi) throw new UnsupportedSchemaError(`no integer in [${b.min}, ${b.max}]`);
    if (hi - lo + 1 <= MAX_ENUMERATED_INTEGERS) {
      return Array.from({ length: hi - lo + 1 }, (_, i) => gbnfLiteral(String(lo + i))).join(" | ");
    }
    return intRangeGbnf(lo, hi);
  }
  const frac = `("." [0-9]{1,${b.decimals}})?`;
  const branches: string[] = [];
  // Negative values: "-" then the magnitude's integer part in [floor(max(0,-max)), floor(-min)].
  if (b.min < 0) {
    const loMag = Math.floor(Math.max(0, -b.max));
    const hiMag = Math.floor(-b.min);
    branches.push(`"-" ${alt(uintRangeAlternatives(loMag, hiMag))} ${frac}`);
  }
  if (b.max >= 0) {
    branches.push(`${alt(uintRangeAlternatives(Math.floor(Math.max(0, b.min)), Math.floor(b.max)))} ${frac}`);
  }
  return branches.join(" | ");
}

/** The grammar builder's state: named rules, deduplicated by content. */
class Rules {
  readonly rules = new Map<string, string>();
  private readonly byBody = new Map<string, string>();
  private readonly used = new Set<string>();
  private n = 0;

  base(name: keyof typeof BASE_RULES): string {
    this.use(name);
    return name;
  }

  private use(name: string): void {
    if (this.used.has(name)) return;
    this.used.add(name);
    const body = BASE_RULES[name];
    if (body === undefined) return;
    this.rules.set(name, body);
    // the base rules' own references
    for (const dep of Object.keys(BASE_RULES)) {
      if (dep !== name && new RegExp(`(^|[ (|])${dep}([ )*|]|$)`).test(body)) this.use(dep);
    }
  }

  /** A rule named for `body` (one per distinct body). */
  named(body: string, hint: string): string {
    const have = this.byBody.get(body);
    if (have) return have;
    const name = `${hint}${this.n++}`;
    this.rules.set(name, body);
    this.byBody.set(body, name);
    return name;
  }
}

function typesOf(o: Node): string[] | undefined {
  const t = o.type;
  if (t === undefined) return undefined;
  const list = Array.isArray(t) ? t : [t];
  if (!list.every((x): x is string => typeof x === "string")) {
    throw new UnsupportedSchemaError(`type must be a string or strings, got ${JSON.stringify(t)}`);
  }
  return list;
}

function node(rules: Rules, schema: unknown): string {
  if (
    schema === true ||
    (schema !== null && typeof schema === "object" && Object.keys(schema).length === 0)
  ) {
    return rules.base("value");
  }
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) {
    throw new UnsupportedSchemaError(`not a schema: ${JSON.stringify(schema)}`);
  }
  const o = schema as Node;
  for (const k of CHANGES_VALUES) {
    if (k in o) throw new UnsupportedSchemaError(`keyword ${k} is not supported`);
  }
  if ("const" in o) return rules.named(jsonLiteral(o.const), "const");
  if (Array.isArray(o.enum)) {
    if (o.enum.length === 0) throw new UnsupportedSchemaError("empty enum");
    return rules.named(o.enum.map(jsonLiteral).join(" | "), "enum");
  }
  const union = (o.anyOf ?? o.oneOf) as unknown;
  if (union !== undefined) {
    if (!Array.isArray(union) || union.length === 0) throw new UnsupportedSchemaError("empty anyOf/oneOf");
    // Sibling keywords of a union (other than annotations) would have to hold too: not expressed here.
    const { anyOf: _a, oneOf: _o, description: _d, title: _t, ...rest } = o;
    if (Object.keys(rest).some((k) => !k.startsWith("$") && k !== "default" && k !== "examples")) {
      throw new UnsupportedSchemaError("anyOf/oneOf next to other keywords");
    }
    return rules.named(union.map((u) => node(rules, u)).join(" | "), "alt");
  }
  const types = typesOf(o);
  if (types === undefined) {
    if ("properties" in o) return objectRule(rules, o);
    if ("items" in o || "prefixItems" in o) return arrayRule(rules, o);
    return rules.base("value");
  }
  const parts = types.map((t) => typed(rules, o, t));
  return parts.length === 1 ? (parts[0] as string) : rules.named(parts.join(" | "), "alt");
}

function typed(rules: Rules, o: Node, t: string): string {
  switch (t) {
    case "null":
      return rules.base("null");
    case "boolean":
      return rules.base("boolean");
    case "integer":
    case "number": {
      const integer = t === "integer";
      const b = boundsOf(o, integer);
      if (!b) return rules.base(integer ? "integer" : "number");
      return rules.named(boundedNumberGbnf(b, integer), integer ? "int" : "num");
    }
    case "string":
      return stringRule(rules, o);
    case "object":
      return objectRule(rules, o);
    case "array":
      return arrayRule(rules, o);
    default:
      throw new UnsupportedSchemaError(`type ${t} is not supported`);
  }
}

function stringRule(rules: Rules, o: Node): string {
  const f = o.format;
  if (f === "date" || f === "time") return rules.named(`"\\"" ${rules.base(f)} "\\""`, f);
  if (f === "date-time") {
    return rules.named(`"\\"" ${rules.base("date")} [T ] ${rules.base("time")} "\\""`, "datetime");
  }
  const min = typeof o.minLength === "number" ? Math.max(0, Math.floor(o.minLength)) : 0;
  const max = typeof o.maxLength === "number" ? Math.max(min, Math.floor(o.maxLength)) : undefined;
  if (min === 0 && max === undefined) return rules.base("string");
  rules.base("char");
  return rules.named(`"\\"" char{${min},${max ?? ""}} "\\""`, "str");
}

function objectRule(rules: Rules, o: Node): string {
  const ap = o.additionalProperties;
  if (ap !== undefined && ap !== false) {
    // A record / open object: any members (node-llama-cpp would type them; a rare shape in our schemas).
    if (!o.properties || Object.keys(o.properties as object).length === 0) {
      if (ap === true || (typeof ap === "object" && ap !== null && Object.keys(ap).length === 0)) {
        return rules.base("object");
      }
      const v = node(rules, ap);
      rules.base("string");
      return rules.named(
        `"{" ${WS} (string ${WS} ":" ${WS} ${v} (${WS} "," ${WS} string ${WS} ":" ${WS} ${v})*)? ${WS} "}"`,
        "record",
      );
    }
    throw new UnsupportedSchemaError("properties together with additionalProperties");
  }
  rules.base("ws");
  const props = Object.entries((o.properties ?? {}) as Record<string, unknown>);
  if (props.length === 0) return rules.named(`"{" ${WS} "}"`, "obj");
  const members = props.map(([k, v]) => `${jsonLiteral(k)} ${WS} ":" ${WS} ${node(rules, v)}`);
  return rules.named(`"{" ${WS} ${members.join(` ${WS} "," ${WS} `)} ${WS} "}"`, "obj");
}

function arrayRule(rules: Rules, o: Node): string {
  rules.base("ws");
  const prefix = Array.isArray(o.prefixItems) ? o.prefixItems.map((p) => node(rules, p)) : [];
  const minItems = Math.max(prefix.length, typeof o.minItems === "number" ? Math.floor(o.minItems) : 0);
  const maxItems = typeof o.maxItems === "number" ? Math.max(minItems, Math.floor(o.maxItems)) : undefined;
  const restMin = minItems - prefix.length;
  const restMax = maxItems === undefined ? undefined : maxItems - prefix.length;
  const parts: string[] = [...prefix];
  const sep = `${WS} "," ${WS}`;
  let body: string;
  if (restMax === 0) {
    body = parts.join(` ${sep} `);
  } else {
    const item = o.items === undefined || o.items === false ? rules.base("value") : node(rules, o.items);
    if (o.items === false && restMin === 0) {
      body = parts.join(` ${sep} `);
    } else if (parts.length > 0) {
      const rep = restMax === undefined ? `{${restMin},}` : `{${restMin},${restMax}}`;
      body = `${parts.join(` ${sep} `)} (${sep} ${item})${rep}`;
    } else if (restMin === 0) {
      const more = restMax === undefined ? "*" : `{0,${restMax - 1}}`;
      body = `(${item} (${sep} ${item})${more})?`;
    } else {
      const more = restMax === undefined ? `{${restMin - 1},}` : `{${restMin - 1},${restMax - 1}}`;
      body = `${item} (${sep} ${item})${more}`;
    }
  }
  return rules.named(body === "" ? `"[" ${WS} "]"` : `"[" ${WS} ${body} ${WS} "]"`, "arr");
}

/**
 * The GBNF grammar (first line `root ::= <one rule name>`) accepting exactly the JSON texts `schema` allows, numeric bounds
 * included. Throws UnsupportedSchemaError for keywords it cannot express.
 */
export function jsonSchemaToGbnf(schema: unknown): string {
  const rules = new Rules();
  const top = node(rules, schema);
  const lines = [`root ::= ${top}`];
  for (const [name, body] of rules.rules) lines.push(`${name} ::= ${body}`);
  return lines.join("\n");
}
