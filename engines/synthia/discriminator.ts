/**
 * The SYNTHIA discriminator D (paper §3.3, appendix A.4), in two turns: a free-text analysis of a real sample,
 * an undetermined sample and the analyzer statistics; then, in the same conversation, the final decision
 * {"Type":"Real"} or {"Type":"Synthetic","Feedback":"..."} (the convergence edge). The decision is parsed
 * leniently (case variants of keys and values, fences, Python dicts, a bare "Real", the brace-less
 * `"Type": "Real"` the paper's own prompt shows) and re-asked once through models/structured.ts otherwise.
 */
import { z } from "zod";
import type { Metadata, Row } from "../../data/types.ts";
import type { Accounting } from "../../models/accounting.ts";
import { extractJson } from "../../models/extract.ts";
import type { Endpoint } from "../../models/factory.ts";
import { type ChatInput, callStructured, callText } from "../../models/structured.ts";
import { buildDiscriminatorAnalysisPrompt, DISCRIMINATOR_DECISION_PROMPT } from "./prompts.ts";

export type Verdict = { type: "Real" } | { type: "Synthetic"; feedback: string };

export interface DiscriminatorInput {
  endpoint: Endpoint;
  metadata: Metadata;
  realSample: Row[];
  syntheticSample: Row[];
  /** A.3 text from engines/synthia/analysis-text.ts renderAnalysis. */
  analysisText: string;
  seed: number;
  accounting?: Accounting;
  signal?: AbortSignal;
}

/** Provider-side schema of the decision (both keys required so OpenAI strict mode applies; "" when Real). */
export const DECISION_JSON_SCHEMA: Record<string, unknown> = {
  type: "object",
  properties: {
    Type: { type: "string", enum: ["Real", "Synthetic"] },
    Feedback: { type: "string", description: "empty when Type is Real" },
  },
  required: ["Type", "Feedback"],
  additionalProperties: false,
};

/** Keys and values matched ignoring case; a bare "Real" string is a Real verdict. */
function normalizeDecision(input: unknown): unknown {
  if (typeof input === "string") {
    const word = input.trim().toLowerCase();
    return word === "real" || word === "synthetic" ? { type: word } : input;
  }
  if (input === null || typeof input !== "object" || Array.isArray(input)) return input;
  let type: unknown;
  let feedback: unknown;
  for (const [k, v] of Object.entries(input)) {
    const key = k.trim().toLowerCase();
    if (key === "type") type = typeof v === "string" ? v.trim().toLowerCase() : v;
    else if (key === "feedback") feedback = v;
  }
  return feedback === undefined ? { type } : { type, feedback };
}

const NEEDS_FEEDBACK = 'a "Synthetic" decision needs a non-empty "Feedback" sentence';

/** The decision as zod parses it (input: any case variant; output: a Verdict). */
export const VerdictSchema: z.ZodType<Verdict> = z.preprocess(
  normalizeDecision,
  z.discriminatedUnion(
    "type",
    [
      z.object({ type: z.literal("real") }).transform((): Verdict => ({ type: "Real" })),
      z
        .object({
          type: z.literal("synthetic"),
          feedback: z.string({ error: NEEDS_FEEDBACK }).trim().min(1, NEEDS_FEEDBACK),
        })
        .transform((v): Verdict => ({ type: "Synthetic", feedback: v.feedback })),
    ],
    { error: 'expected {"Type": "Real"} or {"Type": "Synthetic", "Feedback": "..."}' },
  ),
);

// A verdict without JSON around it: `Real`, `**Real**`, `Type: Real`, `"Type": "Synthetic", "Feedback": "..."`.
const BARE_WORD =
  /^[\s"'`*_.:]*(?:(?:type|decision|verdict)["'\s]*[:=][\s"'`*]*)?(real|synthetic)[\s"'`*_.!]*$/i;
const BRACELESS =
  /^\s*["']?type["']?\s*:\s*["']?(real|synthetic)["']?\s*(?:,\s*["']?feedback["']?\s*:\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'))?\s*$/i;

export type VerdictParse = { ok: true; verdict: Verdict; repairs: string[] } | { ok: false; error: string };

/** Parses a decision reply as leniently as is safe; the error says what was wrong (for the re-ask). */
export function parseVerdict(text: string): VerdictParse {
  const extracted = extractJson(text);
  if (extracted.ok) {
    const r = VerdictSchema.safeParse(extracted.value);
    if (r.success) return { ok: true, verdict: r.data, repairs: extracted.repairs };
    return { ok: false, error: r.error.issues.map((i) => i.message).join("; ") };
  }
  const trimmed = text.trim().replace(/^```\w*\s*|\s*```$/g, "");
  const bare = BARE_WORD.exec(trimmed);
  if (bare) {
    const r = VerdictSchema.safeParse(bare[1]);
    return r.success
      ? { ok: true, verdict: r.data, repairs: ["read a bare verdict word"] }
      : { ok: false, error: r.error.issues.map((i) => i.message).join("; ") };
  }
  const braceless = BRACELESS.exec(trimmed);
  if (braceless) {
    const inner = extractJson(`{${trimmed}}`);
    if (inner.ok) {
      const r = VerdictSchema.safeParse(inner.value);
      if (r.success) return { ok: true, verdict: r.data, repairs: ["added the missing braces"] };
      return { ok: false, error: r.error.issues.map((i) => i.message).join("; ") };
    }
  }
  return { ok: false, error: `the reply is not a decision object: ${extracted.error}` };
}

function reask(error: string): string {
  return [
    `Your decision could not be read: ${error}.`,
    'Reply again with only one JSON object: {"Type": "Real"} or {"Type": "Synthetic", "Feedback": "one sentence"}.',
  ].join("\n");
}

/** A.4: analysis turn (free text), then the decision turn (JSON); role "discriminator". */
export async function discriminate(i: DiscriminatorInput): Promise<{ analysis: string; verdict: Verdict }> {
  const common = {
    role: "discriminator",
    endpoint: i.endpoint,
    seed: i.seed,
    ...(i.accounting ? { accounting: i.accounting } : {}),
    ...(i.signal ? { signal: i.signal } : {}),
  };
  const prompt = buildDiscriminatorAnalysisPrompt({
    realSample: i.realSample,
    syntheticSample: i.syntheticSample,
    analysisText: i.analysisText,
    metadata: i.metadata,
  });
  const first = await callText({ ...common, messages: [{ role: "user", content: prompt }] });
  const analysis = first.text.trim();
  const conversation: ChatInput[] = [
    { role: "user", content: prompt },
    { role: "assistant", content: analysis },
    { role: "user", content: DISCRIMINATOR_DECISION_PROMPT },
  ];
  const decision = await callText({
    ...common,
    messages: conversation,
    format: DECISION_JSON_SCHEMA,
    schemaName: "decision",
  });
  const parsed = parseVerdict(decision.text);
  if (parsed.ok) return { analysis, verdict: parsed.verdict };
  // One bounded re-ask through the structured path, quoting what was wrong.
  const retried = await callStructured({
    ...common,
    messages: [
      ...conversation,
      { role: "assistant", content: decision.text },
      { role: "user", content: reask(parsed.error) },
    ],
    schema: VerdictSchema,
    jsonSchema: DECISION_JSON_SCHEMA,
    schemaName: "decision",
    maxReasks: 1,
  });
  return { analysis, verdict: retried.value };
}
