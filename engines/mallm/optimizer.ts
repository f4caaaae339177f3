/**
 * The MALLM-GAN optimizer (MALLM-GAN paper §3.2.3, OPRO; docs/papers.md): the listing-5 meta-prompt with the top-k (theta, score)
 * pairs (best last) → the model's revised causal structure and task instruction → a new theta.
 *
 * Listing 6 shows the answer as free text (`<Causal structure> ... [('A', 'B'), ...] </Causal structure>
 * <Task> ... </Task>`), so the reply is read as text (callText) and parsed tolerantly: tagged sections
 * (any case, `_`/`-`/space variants), a JSON or Python dict (fenced or not) with causal-structure and task
 * keys, or "Causal structure:" / "Task:" labels. Edges may be tuples, 2-lists, {from,to}-style objects or
 * "A -> B" strings. The answer is validated (known columns only, no self-loop, acyclic, at least one edge,
 * non-empty instruction); an invalid answer is re-asked once in the same conversation with the reasons
 * quoted, then skipped (theta null, reasons kept). Transport faults are retried below (models/resilience.ts)
 * and otherwise thrown. The temperature is the endpoint's (role "optimizer" defaults to 1.0, models/spec.ts).
 */
import { SynthgraphError } from "../../data/errors.ts";
import { rowColumns } from "../../data/schema.ts";
import type { Metadata } from "../../data/types.ts";
import type { Accounting } from "../../models/accounting.ts";
import { extractJson } from "../../models/extract.ts";
import type { Endpoint } from "../../models/factory.ts";
import { type ChatInput, callText } from "../../models/structured.ts";
import { buildOptimizerPrompt, optimizerReaskPrompt } from "./prompts.ts";
import { type Edge, MAX_THETA_TEXT_CHARS, type Theta, validateCausalEdges } from "./theta.ts";

export interface OptimizerInput {
  endpoint: Endpoint;
  metadata: Metadata;
  /** Every stored (theta, score) pair; score = discriminator accuracy, lower is better. */
  pairs: ReadonlyArray<{ theta: Theta; score: number }>;
  /** Pairs shown (default 3). */
  k?: number;
  /** Steering feedback from the user, shown to the optimizer. */
  userFeedback?: readonly string[];
  /** Seed of the retry jitter (the model's own seed is in the endpoint config). */
  seed: number;
  accounting?: Accounting;
  signal?: AbortSignal;
}

export interface OptimizerOutput {
  /** The revised theta (context kept from the best pair), or null when both answers were unusable. */
  theta: Theta | null;
  /** Why answers were rejected, prefixed with the attempt number. */
  reasons: string[];
  /** Model replies used (1 or 2). */
  attempts: number;
}

/** Answers requested per call: the first plus one re-ask. */
export const OPTIMIZER_MAX_ATTEMPTS = 2;

/** One optimizer step. */
export async function optimizeTheta(i: OptimizerInput): Promise<OptimizerOutput> {
  if (i.pairs.length === 0) {
    throw new SynthgraphError("the optimizer needs at least one (theta, score) pair");
  }
  const prompt = buildOptimizerPrompt({
    metadata: i.metadata,
    pairs: i.pairs,
    ...(i.k === undefined ? {} : { k: i.k }),
    ...(i.userFeedback === undefined ? {} : { userFeedback: i.userFeedback }),
  });
  const best = prompt.shown[prompt.shown.length - 1].theta;
  const columns = rowColumns(i.metadata).map((c) => c.name);
  const conversation: ChatInput[] = [
    { role: "system", content: prompt.system },
    { role: "user", content: prompt.user },
  ];
  const reasons: string[] = [];
  for (let attempt = 1; attempt <= OPTIMIZER_MAX_ATTEMPTS; attempt++) {
    const reply = await callText({
      role: "optimizer",
      endpoint: i.endpoint,
      messages: conversation,
      seed: i.seed + attempt - 1,
      ...(i.accounting ? { accounting: i.accounting } : {}),
      ...(i.signal ? { signal: i.signal } : {}),
    });
    const parsed = parseOptimizerAnswer(reply.text, columns);
    if (parsed.ok) {
      return {
        theta: {
          context: best.context,
          causalEdges: parsed.edges,
          causalNote: parsed.note,
          taskInstruction: parsed.task,
        },
        reasons,
        attempts: attempt,
      };
    }
    for (const r of parsed.reasons) reasons.push(`attempt ${attempt}: ${r}`);
    conversation.push(
      { role: "assistant", content: reply.text },
      { role: "user", content: optimizerReaskPrompt(parsed.reasons, columns) },
    );
  }
  return { theta: null, reasons, attempts: OPTIMIZER_MAX_ATTEMPTS };
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

export type OptimizerAnswer =
  { ok: true; edges: Edge[]; note: string; task: string } | { ok: false; reasons: string[] };

/** Reads and validates an optimizer reply against the generated columns (see the module comment). */
export function parseOptimizerAnswer(text: string, columns: readonly string[]): OptimizerAnswer {
  const sections = splitSections(text);
  const reasons: string[] = [];
  let edges: Array<[string, string]> | undefined;
  let note = "";
  if (sections.causal === undefined) {
    reasons.push(
      "the answer has no causal structure (expected <causal structure> [('A', 'B'), ...] </causal structure>)",
    );
  } else {
    const read = readEdges(sections.causal);
    if (read.ok) {
      edges = read.edges;
      note = read.note;
    } else reasons.push(read.reason);
  }
  const task = clip(sections.task ?? "");
  if (task === "") reasons.push("the task instruction is empty (expected <task> ... </task>)");
  let checked: Edge[] = [];
  if (edges !== undefined) {
    const v = validateCausalEdges(edges, columns);
    if (v.ok) checked = v.edges;
    else reasons.push(...v.problems);
  }
  if (reasons.length > 0) return { ok: false, reasons };
  return { ok: true, edges: checked, note: clip(note), task };
}

interface Sections {
  /** The causal-structure text, or its already-parsed value (from a dict answer). */
  causal?: string | unknown[] | Record<string, unknown>;
  task?: string;
}

const CAUSAL_TAG = String.raw`causal[\s_-]*(?:structure|graph|network)`;
const TASK_TAG = String.raw`(?:task(?:[\s_-]*instruction)?|instruction|guidance)`;

function splitSections(text: string): Sections {
  // 1. Tagged sections (listing 6). A missing closing tag ends at the next section or the end of the text.
  const causalTagged = new RegExp(
    String.raw`<\s*${CAUSAL_TAG}\s*>([\s\S]*?)(?:<\s*\/\s*${CAUSAL_TAG}\s*>|(?=<\s*${TASK_TAG}\s*>)|$)`,
    "i",
  ).exec(text);
  const taskTagged = new RegExp(
    String.raw`<\s*${TASK_TAG}\s*>([\s\S]*?)(?:<\s*\/\s*${TASK_TAG}\s*>|(?=<\s*${CAUSAL_TAG}\s*>)|$)`,
    "i",
  ).exec(text);
  if (causalTagged || taskTagged) {
    return {
      ...(causalTagged ? { causal: causalTagged[1] } : {}),
      ...(taskTagged ? { task: cleanText(taskTagged[1]) } : {}),
    };
  }
  // 2. A JSON / Python dict with causal-structure and task keys.
  const parsed = extractJson(text);
  if (parsed.ok && isRecord(parsed.value)) {
    const fromDict = dictSections(parsed.value);
    if (fromDict.causal !== undefined || fromDict.task !== undefined) return fromDict;
  }
  // 3. "Causal structure:" and "Task:" labels (markdown emphasis and headings allowed).
  const label = (name: string) =>
    String.raw`(?:^|\n)[ \t#*_>-]*${name}[ \t*_]*:[ \t*_]*|(?:^|\n)#+[ \t]*${name}[ \t]*\n`;
  const causalAt = new RegExp(label(CAUSAL_TAG), "i").exec(text);
  const taskAt = new RegExp(label(TASK_TAG), "i").exec(text);
  const out: Sections = {};
  if (causalAt) {
    const start = causalAt.index + causalAt[0].length;
    const end = taskAt && taskAt.index > causalAt.index ? taskAt.index : text.length;
    out.causal = text.slice(start, end);
  }
  if (taskAt) {
    const start = taskAt.index + taskAt[0].length;
    const end = causalAt && causalAt.index > taskAt.index ? causalAt.index : text.length;
    out.task = cleanText(text.slice(start, end));
  }
  // 4. No labels at all: an edge list anywhere in the text is the causal structure.
  if (out.causal === undefined && parsed.ok && Array.isArray(parsed.value)) out.causal = text;
  return out;
}

const CAUSAL_KEYS = [
  "causalstructure",
  "causalgraph",
  "causalnetwork",
  "causaledges",
  "edges",
  "graph",
  "dag",
  "causal",
];
const TASK_KEYS = [
  "taskinstruction",
  "task",
  "instruction",
  "instructions",
  "prompt",
  "guidance",
  "taskprompt",
];

function dictSections(obj: Record<string, unknown>): Sections {
  const byKey = new Map<string, unknown>();
  for (const [k, v] of Object.entries(obj)) byKey.set(k.toLowerCase().replace(/[^a-z]/g, ""), v);
  const out: Sections = {};
  for (const k of CAUSAL_KEYS) {
    const v = byKey.get(k);
    if (typeof v === "string" || Array.isArray(v) || isRecord(v)) {
      out.causal = v;
      break;
    }
  }
  for (const k of TASK_KEYS) {
    const v = byKey.get(k);
    if (typeof v === "string") {
      out.task = cleanText(v);
      break;
    }
  }
  // A nested theta ({"theta": {...}} / {"updated_prompt": {...}}): look one level down.
  if (out.causal === undefined && out.task === undefined) {
    for (const v of Object.values(obj)) {
      if (isRecord(v)) {
        const inner = dictSections(v);
        if (inner.causal !== undefined || inner.task !== undefined) return inner;
      }
    }
  }
  return out;
}

type EdgeRead = { ok: true; edges: Array<[string, string]>; note: string } | { ok: false; reason: string };

function readEdges(causal: string | unknown[] | Record<string, unknown>): EdgeRead {
  if (Array.isArray(causal)) return edgesFromValue(causal, "");
  if (isRecord(causal)) {
    for (const [k, v] of Object.entries(causal)) {
      if (Array.isArray(v) && /edge|graph|structure|relation/i.test(k)) {
        const note = Object.entries(causal).find(
          ([nk, nv]) => typeof nv === "string" && /note|guid|descr|explan|comment/i.test(nk),
        );
        return edgesFromValue(v, note ? String(note[1]) : "");
      }
    }
    return { ok: false, reason: "the causal structure object has no edge list" };
  }
  const span = findListSpan(causal);
  if (span === undefined) {
    return { ok: false, reason: "no edge list found in the causal structure (expected [('A', 'B'), ...])" };
  }
  const parsed = extractJson(causal.slice(span.start, span.end));
  if (!parsed.ok || !Array.isArray(parsed.value)) {
    return { ok: false, reason: "the causal structure's edge list could not be read" };
  }
  return edgesFromValue(parsed.value, cleanText(causal.slice(span.end)));
}

const FROM_KEYS = ["from", "source", "cause", "parent", "a", "head", "src"];
const TO_KEYS = ["to", "target", "effect", "child", "b", "tail", "dst"];
const ARROW = /^\s*(.+?)\s*(?:->|→|=>|-->)\s*(.+?)\s*$/;

function edgesFromValue(items: unknown[], note: string): EdgeRead {
  const edges: Array<[string, string]> = [];
  for (let j = 0; j < items.length; j++) {
    const item = items[j];
    if (
      Array.isArray(item) &&
      item.length === 2 &&
      typeof item[0] === "string" &&
      typeof item[1] === "string"
    ) {
      edges.push([item[0], item[1]]);
      continue;
    }
    if (typeof item === "string") {
      const m = ARROW.exec(item);
      if (m) {
        edges.push([unquote(m[1]), unquote(m[2])]);
        continue;
      }
    }
    if (isRecord(item)) {
      const lower = new Map(Object.entries(item).map(([k, v]) => [k.toLowerCase(), v]));
      const a = FROM_KEYS.map((k) => lower.get(k)).find((v) => typeof v === "string");
      const b = TO_KEYS.map((k) => lower.get(k)).find((v) => typeof v === "string");
      if (typeof a === "string" && typeof b === "string") {
        edges.push([a, b]);
        continue;
      }
    }
    return {
      ok: false,
      reason: `edge ${j + 1} is not a pair of column names: ${JSON.stringify(item)?.slice(0, 120)}`,
    };
  }
  return { ok: true, edges, note };
}

/**
 * The first bracketed list in `text` that looks like an edge list (`[` then a tuple, list, object or quoted
 * string), matched with quote-aware bracket counting so the prose after it becomes the note.
 */
function findListSpan(text: string): { start: number; end: number } | undefined {
  const starts = /\[\s*[([{'"]/g;
  for (let m = starts.exec(text); m !== null; m = starts.exec(text)) {
    const end = matchBracket(text, m.index);
    if (end !== undefined) return { start: m.index, end };
  }
  return undefined;
}

function matchBracket(text: string, start: number): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let j = start; j < text.length; j++) {
    const ch = text[j];
    if (quote !== undefined) {
      if (ch === "\\") j++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "[" || ch === "(" || ch === "{") depth++;
    else if (ch === "]" || ch === ")" || ch === "}") {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return undefined;
}

function unquote(s: string): string {
  const m = /^(['"`])(.*)\1$/.exec(s.trim());
  return m ? m[2] : s.trim();
}

/** Section text: fences and our own stray section tags removed, outer quotes unwrapped, ends trimmed. */
function cleanText(s: string): string {
  const t = s
    .replace(/```[a-z]*\n?/gi, "")
    .replace(STRAY_TAG, " ")
    .replace(/[ \t]+\n/g, "\n")
    .trim()
    .replace(/^[*:]+\s*/, "")
    .trim();
  const m = /^(["'])([\s\S]*)\1$/.exec(t);
  return m && !m[2].includes(m[1]) ? m[2].trim() : t;
}

const STRAY_TAG = new RegExp(
  String.raw`<\s*\/?\s*(?:${CAUSAL_TAG}|${TASK_TAG}|pair|example|context|schema|updated[\s_-]*prompt|prompt)\s*>`,
  "gi",
);

function clip(s: string): string {
  return s.length > MAX_THETA_TEXT_CHARS ? `${s.slice(0, MAX_THETA_TEXT_CHARS - 1)}…` : s;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
