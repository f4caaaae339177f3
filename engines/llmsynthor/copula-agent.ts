/**
 * The LLMSynthor copula agent (LLMSynthor paper, §3.3 eq. 1, appendix E p_copula; docs/papers.md): the LLM names at most n_joints
 * groups of two or more related variables from the variable summaries. The reply is untrusted: every group is
 * checked against the metadata (names repaired ignoring case, unknown and id columns removed, duplicates and
 * groups left with fewer than two columns dropped, at most n_joints kept) and every change is reported.
 * A reply with no usable group is re-asked with the reasons; if the model still gives none, the result is no
 * groups (the loop then grounds on marginals only, the paper's ablation) with the reasons.
 */
import { z } from "zod";
import type { Metadata } from "../../data/types.ts";
import type { Accounting, CallUsage } from "../../models/accounting.ts";
import type { Endpoint } from "../../models/factory.ts";
import { callStructured, StructuredOutputError } from "../../models/structured.ts";
import { buildCopulaPrompt } from "./prompts.ts";

export const DEFAULT_N_JOINTS = 3;

export interface CopulaInput {
  endpoint: Endpoint;
  metadata: Metadata;
  nJoints?: number;
  /** Seed of the retry jitter. */
  seed: number;
  accounting?: Accounting;
  signal?: AbortSignal;
  /** Follow-up requests after a reply with no usable group (default 2). */
  maxReasks?: number;
}

export interface CopulaOutput {
  groups: string[][];
  /** Every repair or drop, and the reasons of rejected replies, in order. */
  reasons: string[];
  attempts: number;
  /** Tokens of the accepted call; zero when no usable reply came (the Accounting has every call's usage). */
  usage: CallUsage;
}

/** Reply shapes accepted: the paper's {"1": [...], "2": [...]}, {"groups": [[...]]}, or a bare list of lists. */
function normalizeGroups(input: unknown): unknown {
  if (Array.isArray(input)) return input;
  if (input === null || typeof input !== "object") return input;
  const o = input as Record<string, unknown>;
  if (Array.isArray(o.groups)) return o.groups;
  const keys = Object.keys(o).filter((k) => Array.isArray(o[k]));
  const numeric = keys.every((k) => /^\s*\d+\s*$/.test(k));
  if (numeric) keys.sort((a, b) => Number(a) - Number(b));
  return keys.map((k) => o[k]);
}

const q = (s: string): string => JSON.stringify(s);

/** Checks groups against the metadata (see the module comment); pure. */
export function validateJointGroups(
  raw: readonly (readonly unknown[])[],
  metadata: Metadata,
  nJoints: number = DEFAULT_N_JOINTS,
): { groups: string[][]; reasons: string[] } {
  const byName = new Map(metadata.columns.map((c) => [c.name, c]));
  const folded = new Map<string, string[]>();
  for (const c of metadata.columns) {
    const k = c.name.trim().toLowerCase();
    folded.set(k, [...(folded.get(k) ?? []), c.name]);
  }
  const groups: string[][] = [];
  const seen = new Set<string>();
  const reasons: string[] = [];
  raw.forEach((members, gi) => {
    const label = `group ${gi + 1}`;
    const names: string[] = [];
    for (const m of members) {
      if (typeof m !== "string") {
        reasons.push(`${label}: removed ${JSON.stringify(m)} (not a column name)`);
        continue;
      }
      let name = m;
      if (!byName.has(name)) {
        const hits = folded.get(m.trim().toLowerCase()) ?? [];
        if (hits.length !== 1) {
          reasons.push(`${label}: removed unknown column ${q(m)}`);
          continue;
        }
        name = hits[0];
        reasons.push(`${label}: ${q(m)} read as ${q(name)}`);
      }
      if (byName.get(name)?.sdtype === "id") {
        reasons.push(`${label}: removed id column ${q(name)}`);
        continue;
      }
      if (names.includes(name)) {
        reasons.push(`${label}: removed repeated ${q(name)}`);
        continue;
      }
      names.push(name);
    }
    if (names.length < 2) {
      reasons.push(`${label}: dropped, fewer than two valid columns`);
      return;
    }
    const key = JSON.stringify([...names].sort());
    if (seen.has(key)) {
      reasons.push(`${label}: dropped, same columns as an earlier group`);
      return;
    }
    if (groups.length >= nJoints) {
      reasons.push(`${label}: dropped, more than the ${nJoints} groups asked for`);
      return;
    }
    seen.add(key);
    groups.push(names);
  });
  return { groups, reasons };
}

/** Provider-side schema: the paper's keyed format, keys "1".."n", each a list of known column names. */
export function copulaJsonSchema(metadata: Metadata, nJoints: number): Record<string, unknown> {
  const names = metadata.columns.filter((c) => c.sdtype !== "id").map((c) => c.name);
  const group = { type: "array", items: { type: "string", enum: names } };
  const properties: Record<string, unknown> = {};
  for (let k = 1; k <= nJoints; k++) properties[String(k)] = group;
  return { type: "object", properties, required: ["1"], additionalProperties: false };
}

/** C ~ LLM(p_copula(s(D_real))): at most nJoints validated groups; role "copula". */
export async function inferJointGroups(i: CopulaInput): Promise<CopulaOutput> {
  const nJoints = i.nJoints ?? DEFAULT_N_JOINTS;
  if (!Number.isInteger(nJoints) || nJoints < 1)
    throw new RangeError(`nJoints must be an integer ≥ 1, got ${nJoints}`);
  const schema = z.preprocess(normalizeGroups, z.array(z.array(z.unknown()))).superRefine((raw, ctx) => {
    const v = validateJointGroups(raw, i.metadata, nJoints);
    if (v.groups.length === 0) {
      ctx.addIssue({
        code: "custom",
        message: `no usable group of two or more known variables (${v.reasons.join("; ") || "the reply has no groups"})`,
      });
    }
  });
  try {
    const r = await callStructured({
      role: "copula",
      endpoint: i.endpoint,
      messages: [{ role: "user", content: buildCopulaPrompt({ metadata: i.metadata, nJoints }) }],
      schema,
      jsonSchema: copulaJsonSchema(i.metadata, nJoints),
      schemaName: "joint_groups",
      seed: i.seed,
      ...(i.maxReasks === undefined ? {} : { maxReasks: i.maxReasks }),
      ...(i.accounting ? { accounting: i.accounting } : {}),
      ...(i.signal ? { signal: i.signal } : {}),
    });
    const v = validateJointGroups(r.value, i.metadata, nJoints);
    return {
      groups: v.groups,
      reasons: [...r.report.reasons, ...v.reasons],
      attempts: r.attempts,
      usage: r.usage,
    };
  } catch (err) {
    if (!(err instanceof StructuredOutputError)) throw err;
    return {
      groups: [],
      reasons: [...err.reasons, "no usable joint group: grounding on marginals only"],
      attempts: (i.maxReasks ?? 2) + 1,
      usage: { prompt_tokens: 0, completion_tokens: 0, estimated: true },
    };
  }
}
