/**
 * TEST DOUBLE. A scripted responder for the loopback LLM server that answers whatever agent is asking —
 * SYNTHIA's generator, discriminator (analysis, decision) and metadata agent, MALLM-GAN's generator and
 * optimizer, LLMSynthor's copula and proposer — from the request and the real table only (any table, e.g.
 * examples/adult.csv): rows are real rows drawn with an RNG seeded by the request, lightly perturbed but
 * valid (numbers inside the real range, integers integral, categories from the real levels, nulls only where
 * the real column has missing values) and never an exact copy of a real row. A condition the prompt states
 * (SYNTHIA's "Every row you write must satisfy: ...", MALLM-GAN's listing-4 "Generate n synthetic samples with
 * ...", SynLLM's prompts, which use SYNTHIA's sentence, and LLMSynthor's proposer's "Every sample must satisfy: ...")
 * is honoured for a share of the rows (proposals) only (`conditionShare`), so the code's check has rows to reject.
 * Not a test file.
 */
import { isNumeric } from "../../data/build.ts";
import type { Predicate } from "../../data/predicate/ast.ts";
import { rowSatisfies } from "../../data/predicate/compile.ts";
import { narrowMetadata } from "../../data/predicate/feasibility.ts";
import { parsePredicate } from "../../data/predicate/parse.ts";
import { readTable } from "../../data/read.ts";
import type { ColumnMeta, Metadata, Table } from "../../data/types.ts";
import { MALLM_GENERATOR_ROLE } from "../../engines/mallm/prompts.ts";
import { SYNLLM_SYSTEM_MARK } from "../../engines/synllm/prompts.ts";
import { DISCRIMINATOR_DECISION_PROMPT, GENERATOR_SYSTEM } from "../../engines/synthia/prompts.ts";
import { createRng, type Rng } from "../../stats/primitives/rng.ts";
import type { RecordedRequest, Reply } from "./llm-server.ts";
import { fnv } from "./mallm.ts";

export type GenericKind =
  | "synthia-generator"
  | "mallm-generator"
  | "synllm-generator"
  | "analysis"
  | "decision"
  | "metadata"
  | "optimizer"
  | "copula"
  | "proposer";

type Value = string | number | null;

/** The first user message: the agent's prompt (re-asks append later turns). */
const firstUser = (req: RecordedRequest): string =>
  req.messages.find((m) => m.role === "user")?.content ?? "";

/** Which agent a request comes from, by the fixed wording of its prompt; undefined for anything else. */
export function genericKindOf(req: RecordedRequest): GenericKind | undefined {
  const system = req.messages[0]?.role === "system" ? req.messages[0].content : "";
  const user = firstUser(req);
  const last = req.messages[req.messages.length - 1]?.content ?? "";
  if (system === GENERATOR_SYSTEM)
    return user.startsWith(MALLM_GENERATOR_ROLE) ? "mallm-generator" : "synthia-generator";
  if (system.includes(SYNLLM_SYSTEM_MARK)) return "synllm-generator";
  if (system.startsWith("Your task is to optimize prompts")) return "optimizer";
  if (last === DISCRIMINATOR_DECISION_PROMPT) return "decision";
  if (user.startsWith("You are the discriminator")) return "analysis";
  if (user.startsWith("Analyze the following CSV dataset")) return "metadata";
  if (user.includes("correlated variable groups")) return "copula";
  if (/## Rules:\nCreate no more than \d+ proposals totaling \d+ samples/.test(user)) return "proposer";
  return undefined;
}

/** The model seed the request carries (Ollama options.seed, OpenAI body.seed), or undefined. */
function seedOf(req: RecordedRequest): number | undefined {
  const s = req.provider === "ollama" ? req.options?.seed : req.body?.seed;
  return typeof s === "number" ? s : undefined;
}

/** An RNG keyed on the request's seed and prompt (two calls with one seed but different prompts differ). */
function rngOf(req: RecordedRequest): Rng {
  const seed = seedOf(req);
  if (seed === undefined) throw new Error(`request ${req.id} (${genericKindOf(req)}) carries no model seed`);
  return createRng(seed).fork(Number.parseInt(fnv(firstUser(req)), 16) | 0);
}

function match(re: RegExp, text: string, what: string): RegExpExecArray {
  const m = re.exec(text);
  if (!m) throw new Error(`generic responder: no ${what} in the prompt`);
  return m;
}

/** Python single-quoted literals (engines/synthia/analysis-text.ts pyStr) in `text`, unescaped. */
function pyStrings(text: string): string[] {
  return [...text.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) =>
    m[1].replace(/<\\\//g, "</").replace(/\\(['\\])/g, "$1"),
  );
}

/** What the responder knows about the real table: metadata, rows as values, and their keys. */
export interface RealView {
  readonly metadata: Metadata;
  readonly table: Table;
  /** Real rows in metadata column order (null = missing). */
  readonly rows: readonly Value[][];
  /** rowKey of every real row. */
  readonly keys: ReadonlySet<string>;
}

/** A row as a string key: cells in metadata column order, missing as the empty cell. */
export function rowKey(values: readonly Value[]): string {
  return values.map((v) => (v === null ? "" : String(v))).join("\u0001");
}

/** Rows of a typed table as values in column order (numbers as numbers, codes as their level). */
export function tableRows(table: Table): Value[][] {
  const out: Value[][] = [];
  for (let i = 0; i < table.nRows; i++) {
    out.push(
      table.columns.map((c) => {
        if (isNumeric(c)) {
          const v = c.values[i];
          return Number.isNaN(v) ? null : v;
        }
        const code = c.codes[i];
        return code < 0 ? null : c.levels[code];
      }),
    );
  }
  return out;
}

export async function readRealView(path: string, target?: string): Promise<RealView> {
  const { table, metadata } = await readTable(path, target === undefined ? {} : { target });
  const rows = tableRows(table);
  return { metadata, table, rows, keys: new Set(rows.map(rowKey)) };
}

// ---------------------------------------------------------------------------------------------------------
// Rows

function mostCommon(rows: readonly Value[][], j: number): Value {
  const counts = new Map<Value, number>();
  let best: Value = null;
  let bestN = 0;
  for (const r of rows) {
    const n = (counts.get(r[j]) ?? 0) + 1;
    counts.set(r[j], n);
    if (n > bestN) [best, bestN] = [r[j], n];
  }
  return best;
}

function distinct(rows: readonly Value[][], j: number): number {
  return new Set(rows.map((r) => r[j])).size;
}

/** A level drawn with the real frequencies. */
function drawLevel(c: ColumnMeta, rng: Rng): string {
  const levels = c.levels ?? [];
  let total = 0;
  for (const l of levels) total += l.count;
  let u = rng.next() * total;
  for (const l of levels) {
    u -= l.count;
    if (u < 0) return l.value;
  }
  return levels[levels.length - 1].value;
}

/** v moved by a small non-zero step inside [min, max], rounded to the column's decimals. */
function nudge(c: ColumnMeta, v: number, rng: Rng): number {
  const min = c.min ?? v;
  const max = c.max ?? v;
  const unit = c.integer ? 1 : 10 ** -(c.decimals ?? 2);
  const step = Math.max(unit, Math.round(((max - min) * 0.02 * (0.2 + rng.next())) / unit) * unit);
  const sign = rng.int(2) === 0 ? -1 : 1;
  let out = v + sign * step;
  if (out < min || out > max) out = v - sign * step;
  out = Math.min(max, Math.max(min, out));
  return c.integer ? Math.round(out) : Number(out.toFixed(c.decimals ?? 2));
}

/**
 * Makes synthetic rows for `columns` (output order): each a real row drawn by `rng`, the most varied numeric
 * column always nudged (so it differs from its source), other numbers nudged now and then unless at their most
 * common value (zeros of capital-gain stay zeros), a category now and then redrawn from the real frequencies;
 * a row that still equals some real row is nudged again.
 */
export function syntheticRows(view: RealView, columns: readonly string[], n: number, rng: Rng): Value[][] {
  const meta = view.metadata.columns;
  const index = new Map(meta.map((c, j) => [c.name, j] as const));
  for (const name of columns)
    if (!index.has(name)) throw new Error(`generic responder: unknown column ${JSON.stringify(name)}`);
  const numeric = meta.map((_, j) => j).filter((j) => meta[j].sdtype === "numerical");
  const always = numeric.reduce(
    (b, j) => (b < 0 || distinct(view.rows, j) > distinct(view.rows, b) ? j : b),
    -1,
  );
  const modes = meta.map((_, j) => mostCommon(view.rows, j));
  const out: Value[][] = [];
  for (let i = 0; i < n; i++) {
    const row = [...view.rows[rng.int(view.rows.length)]];
    for (let j = 0; j < meta.length; j++) {
      const c = meta[j];
      const v = row[j];
      if (v === null) continue;
      if (c.sdtype === "numerical" && typeof v === "number") {
        if (j === always || (v !== modes[j] && rng.next() < 0.3)) row[j] = nudge(c, v, rng);
      } else if (c.sdtype === "categorical" && rng.next() < 0.1) {
        row[j] = drawLevel(c, rng);
      }
    }
    for (let tries = 0; view.keys.has(rowKey(row)) && always >= 0 && tries < 20; tries++) {
      row[always] = nudge(meta[always], row[always] as number, rng);
    }
    if (view.keys.has(rowKey(row)))
      throw new Error("generic responder: could not move a row off the real rows");
    out.push(columns.map((name) => row[index.get(name) as number]));
  }
  return out;
}

/** A value row as a Row keyed by the metadata's column names (for rowSatisfies). */
function asRow(view: RealView, r: readonly Value[]): Record<string, Value> {
  return Object.fromEntries(view.metadata.columns.map((c, j) => [c.name, r[j]]));
}

/** The condition a generator prompt states (canonical text), or undefined. */
export function promptCondition(prompt: string): string | undefined {
  // SYNTHIA's and SynLLM's sentence, and LLMSynthor's proposer's.
  const synthia = /^Every (?:row you write|sample) must satisfy: (.*)$/m.exec(prompt);
  if (synthia) return synthia[1];
  const mallm = /Generate \d+ synthetic samples with (.+?) \("/.exec(prompt);
  return mallm?.[1];
}

/**
 * Rows for a prompt that states `pred`: each row, with probability `share`, is made from the real rows that
 * satisfy it (perturbed, redrawn until it still satisfies it) or, when no real row does, an ordinary row with
 * each narrowed column set to the lowest value or first level the condition allows; otherwise an ordinary row
 * (which may miss it).
 */
export function conditionedRows(
  view: RealView,
  columns: readonly string[],
  n: number,
  rng: Rng,
  pred: Predicate,
  share: number,
): Value[][] {
  const all = view.metadata.columns.map((c) => c.name);
  const sat = view.rows.filter((r) => rowSatisfies(pred, asRow(view, r), view.metadata));
  const region: RealView = { ...view, rows: sat };
  const index = new Map(all.map((name, j) => [name, j] as const));
  const narrowed = narrowMetadata(pred, view.metadata).columns;
  const out: Value[][] = [];
  for (let i = 0; i < n; i++) {
    let row = syntheticRows(view, all, 1, rng)[0];
    if (sat.length === 0 && rng.next() < share) {
      for (const c of narrowed) {
        const j = index.get(c.column) as number;
        if (c.levels !== undefined && c.levels.length > 0) row[j] = c.levels[0];
        else if (c.min !== undefined) row[j] = c.minInclusive === false ? c.min + 1 : c.min;
      }
    } else if (sat.length > 0 && rng.next() < share) {
      for (let tries = 0; tries < 50; tries++) {
        const cand = syntheticRows(region, all, 1, rng)[0];
        if (rowSatisfies(pred, asRow(view, cand), view.metadata)) {
          row = cand;
          break;
        }
      }
    }
    out.push(columns.map((name) => row[index.get(name) as number]));
  }
  return out;
}

/** Rows as the prompt asks for them: arrays, or objects keyed by position (`{"0": v1, ...}`) for OpenAI. */
function inPromptEncoding(prompt: string, rows: Value[][]): Array<Value[] | Record<string, Value>> {
  if (!prompt.includes('{"0": v1')) return rows;
  return rows.map((r) => Object.fromEntries(r.map((v, j) => [String(j), v])));
}

/** SYNTHIA: `... in this column order: "a", "b".` (JSON strings). */
function synthiaColumns(prompt: string): string[] {
  const m = match(/in this column order: (.*)\.$/m, prompt, "column order");
  return JSON.parse(`[${m[1].replace(/<\\\//g, "</")}]`) as string[];
}

/** MALLM-GAN: `... in this column order: ['a', 'b'], with null ...` (Python strings). */
function mallmColumns(prompt: string): string[] {
  const m = match(/in this column order: \[(.*?)\], with null/, prompt, "column order");
  return pyStrings(m[1]);
}

// ---------------------------------------------------------------------------------------------------------
// Other agents

/** A valid DAG over `columns`: edges only from an earlier to a later column of a seeded shuffle. */
function causalEdges(columns: readonly string[], rng: Rng, count: number): Array<[string, string]> {
  const order = [...columns];
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const edges = new Map<string, [string, string]>();
  for (let tries = 0; edges.size < Math.min(count, (order.length * (order.length - 1)) / 2); tries++) {
    const a = rng.int(order.length);
    const b = rng.int(order.length);
    if (a === b) continue;
    const [from, to] = a < b ? [order[a], order[b]] : [order[b], order[a]];
    edges.set(`${from}\u0001${to}`, [from, to]);
  }
  return [...edges.values()];
}

/** The `"name"` of each `- "name"; ...` line of an LLMSynthor {data_desc}. */
function describedVariables(prompt: string): string[] {
  return [...prompt.matchAll(/^- ("(?:[^"\\]|\\.)*");/gm)].map(
    (m) => JSON.parse(m[1].replace(/<\\\//g, "</")) as string,
  );
}

function metaOf(view: RealView, name: string): ColumnMeta {
  const c = view.metadata.columns.find((x) => x.name === name);
  if (!c) throw new Error(`generic responder: unknown column ${JSON.stringify(name)}`);
  return c;
}

/**
 * Proposals around real rows: for each, a real row drawn by `rng`; its category for every discrete variable
 * (the most frequent level when the row's is missing), and for every numeric one a range inside the real
 * range around the row's value; counts split `nSamples` as evenly as possible.
 */
function proposals(
  view: RealView,
  names: readonly string[],
  k: number,
  nSamples: number,
  rng: Rng,
  region: RealView = view,
  share = 1,
): string {
  const o: Record<string, unknown> = { n_proposals: k };
  for (let p = 0; p < k; p++) {
    const from = rng.next() < share ? region : view;
    const row = from.rows[rng.int(from.rows.length)];
    const proposal: Record<string, unknown> = {};
    for (const name of names) {
      const c = metaOf(view, name);
      const j = view.metadata.columns.indexOf(c);
      const v = row[j];
      if (c.sdtype === "numerical") {
        const min = c.min ?? 0;
        const max = c.max ?? 0;
        const mid = typeof v === "number" ? v : (min + max) / 2;
        const half = (max - min) * 0.1;
        const lo = Math.max(min, mid - half);
        const hi = Math.min(max, mid + half);
        proposal[name] = c.integer ? [Math.ceil(lo), Math.floor(hi)] : [lo, hi];
      } else {
        proposal[name] = typeof v === "string" ? v : (c.levels?.[0]?.value ?? null);
      }
    }
    const num = Math.floor(nSamples / k) + (p < nSamples % k ? 1 : 0);
    o[`proposal${p + 1}`] = { reason: `around real row ${p + 1}`, proposal, num: Math.max(1, num) };
  }
  return JSON.stringify(o);
}

/** A.1's metadata summary of the real table. */
function metadataSummary(view: RealView): string {
  return JSON.stringify({
    file_name: "real.csv",
    num_columns: view.metadata.columns.length,
    num_rows: view.metadata.rowCount,
    target_column: view.metadata.target ?? null,
    columns: view.metadata.columns.map((c, j) => ({
      name: c.name,
      type: c.sdtype === "numerical" ? (c.integer ? "integer" : "float") : c.sdtype,
      example_values: view.rows.slice(0, 3).map((r) => r[j]),
      description: `the ${c.name} of a person`,
    })),
  });
}

export interface GenericResponder {
  /** The server default. */
  respond: (req: RecordedRequest) => string | Reply;
  /** Requests answered, by kind. */
  counts: Record<GenericKind, number>;
}

/**
 * A fresh responder per run: SYNTHIA's decision is `{"Type": "Synthetic", "Feedback": ...}` for the first
 * decision request it sees and `{"Type": "Real"}` after (the only state it keeps); everything else is a
 * function of the request and the real table. A request from no known agent throws (the server answers 500).
 */
export function genericResponder(view: RealView, opts: { conditionShare?: number } = {}): GenericResponder {
  const share = opts.conditionShare ?? 0.7;
  /** Rows for a generator prompt: conditioned when it states a condition. */
  const rowsFor = (prompt: string, columns: string[], n: number, rng: Rng): Value[][] => {
    const where = promptCondition(prompt);
    return where === undefined
      ? syntheticRows(view, columns, n, rng)
      : conditionedRows(view, columns, n, rng, parsePredicate(where, view.metadata), share);
  };
  const counts: Record<GenericKind, number> = {
    "synthia-generator": 0,
    "mallm-generator": 0,
    "synllm-generator": 0,
    analysis: 0,
    decision: 0,
    metadata: 0,
    optimizer: 0,
    copula: 0,
    proposer: 0,
  };
  const respond = (req: RecordedRequest): string => {
    const kind = genericKindOf(req);
    if (kind === undefined) throw new Error(`generic responder: request ${req.id} is from no known agent`);
    counts[kind]++;
    const prompt = firstUser(req);
    switch (kind) {
      case "synthia-generator": {
        const n = Number(match(/Reply with exactly (\d+) rows/, prompt, "row count")[1]);
        return JSON.stringify({
          rows: inPromptEncoding(prompt, rowsFor(prompt, synthiaColumns(prompt), n, rngOf(req))),
        });
      }
      case "mallm-generator": {
        const n = Number(match(/holding (\d+) rows/, prompt, "row count")[1]);
        return JSON.stringify({
          rows: inPromptEncoding(prompt, rowsFor(prompt, mallmColumns(prompt), n, rngOf(req))),
        });
      }
      case "synllm-generator": {
        // JSON rows as the prompt's format sentence asks, or the templates' CSV lines (header first).
        const n = Number(match(/Reply with exactly (\d+) (?:rows|records)/, prompt, "row count")[1]);
        const columns = synthiaColumns(prompt);
        const rows = rowsFor(prompt, columns, n, rngOf(req));
        if (!prompt.includes("records as CSV lines"))
          return JSON.stringify({ rows: inPromptEncoding(prompt, rows) });
        const cell = (v: Value): string =>
          v === null ? "" : typeof v === "string" && /[",\\]/.test(v) ? JSON.stringify(v) : String(v);
        return [columns.join(","), ...rows.map((r) => r.map(cell).join(","))].join("\n");
      }
      case "analysis":
        return "Analysis: the undetermined sample follows the real ranges; the rarest categories are under-represented.";
      case "decision":
        return counts.decision === 1
          ? JSON.stringify({
              Type: "Synthetic",
              Feedback: "Cover the rarer categories of every categorical column in their real proportions.",
            })
          : JSON.stringify({ Type: "Real" });
      case "metadata":
        return metadataSummary(view);
      case "optimizer": {
        const system = req.messages[0].content;
        const columns = pyStrings(match(/from the list \[(.*?)\]\./, system, "column list")[1]);
        const edges = causalEdges(columns, rngOf(req), 4);
        const list = `[${edges.map(([a, b]) => `('${a}', '${b}')`).join(", ")}]`;
        return `<causal structure> ${list} </causal structure>\n<task> Keep every column close to the examples and follow the causal graph (revision ${fnv(req.messages[1]?.content ?? "")}). </task>`;
      }
      case "copula": {
        const names = describedVariables(prompt);
        if (names.length < 4)
          throw new Error("generic responder: the copula prompt names fewer than 4 variables");
        return JSON.stringify({ "1": [names[0], names[names.length - 1]], "2": [names[1], names[2]] });
      }
      case "proposer": {
        const m = match(
          /Create no more than (\d+) proposals totaling (\d+) samples/,
          prompt,
          "proposal count",
        );
        const k = Math.min(Number(m[1]), Number(m[2]));
        const where = promptCondition(prompt);
        if (where === undefined)
          return proposals(view, describedVariables(prompt), k, Number(m[2]), rngOf(req));
        // A stated condition: each proposal is built around a real row satisfying it with probability `share`.
        const pred = parsePredicate(where, view.metadata);
        const sat = view.rows.filter((r) => rowSatisfies(pred, asRow(view, r), view.metadata));
        const region: RealView = { ...view, rows: sat.length > 0 ? sat : view.rows };
        return proposals(view, describedVariables(prompt), k, Number(m[2]), rngOf(req), region, share);
      }
    }
  };
  return { respond, counts };
}
