/**
 * The LLMSynthor proposal agent (LLMSynthor paper, §3.4 eq. 4, appendix E p_proposal; docs/papers.md): the LLM writes at most
 * n_proposals proposals — one category for every discrete variable, a [min, max] range for every continuous
 * one, a count and a reason — that code then samples (engines/llmsynthor/sampler.ts). The reply is untrusted: each proposal
 * is validated and repaired or dropped against the metadata (engines/llmsynthor/proposals.ts, reasons reported), and the
 * counts are rescaled to n_samples exactly. A reply with no valid proposal is re-asked with the reasons.
 */
import { z } from "zod";
import type { ColumnMeta, Metadata } from "../../data/types.ts";
import type { Accounting, CallUsage } from "../../models/accounting.ts";
import type { Endpoint } from "../../models/factory.ts";
import { callStructured, StructuredOutputError } from "../../models/structured.ts";
import { buildProposalPrompt } from "./prompts.ts";
import {
  levelsOf,
  type Proposal,
  type ProposalIssue,
  type ProposalValidationOptions,
  type RawProposal,
  validateProposal,
  validateProposals,
} from "./proposals.ts";

export const DEFAULT_N_PROPOSALS = 5;
/** Categorical columns with more levels than this get a plain string in the provider schema. */
export const MAX_ENUM_LEVELS = 500;

export interface ProposerInput {
  endpoint: Endpoint;
  metadata: Metadata;
  /** {joint_guide} and {marginal_guide} from engines/llmsynthor/prompts.ts renderJointGuidance / renderMarginalGuidance. */
  guidance: { joint: string; marginal: string };
  /** Steering guidance from the user (shown after the measured guidance). */
  userGuidance?: readonly string[];
  nProposals?: number;
  /** Rows this iteration must produce in total (the counts are rescaled to it). */
  nSamples: number;
  /** Seed of the retry jitter. */
  seed: number;
  accounting?: Accounting;
  signal?: AbortSignal;
  /** A variable a proposal leaves out: fill it from the real marginal (default) or drop the proposal. */
  missingVariable?: ProposalValidationOptions["missingVariable"];
  /** Follow-up requests after a reply with no valid proposal (default 2). */
  maxReasks?: number;
  /** A conditional run's group: the condition lines of the prompt (conditions.ts proposalConditionLines). */
  condition?: readonly string[];
}

export interface ProposalReport {
  /** Proposals in the accepted reply. */
  received: number;
  /** Proposals kept (with rescaled counts). */
  accepted: number;
  /** Kept proposals with at least one repair. */
  repaired: number;
  dropped: number;
  /** Each repair and drop of the accepted reply, by proposal index. */
  issues: ProposalIssue[];
  /** Why earlier replies were rejected (prefixed by the attempt). */
  rejected: string[];
  attempts: number;
  usage: CallUsage;
}

export interface ProposerOutput {
  proposals: Proposal[];
  report: ProposalReport;
}

const ALIASES_NUM = ["num", "count", "n", "samples", "n_samples"];

function normalizeItem(item: unknown): unknown {
  if (item === null || typeof item !== "object" || Array.isArray(item)) return item;
  const o = item as Record<string, unknown>;
  let proposal = o.proposal ?? o.values ?? o.variables;
  if (typeof proposal === "string") {
    try {
      proposal = JSON.parse(proposal);
    } catch {
      // left as a string: the schema reports it
    }
  }
  const numKey = ALIASES_NUM.find((k) => k in o);
  if (proposal === undefined) {
    // Variables written beside reason and num, without the "proposal" wrapper.
    proposal = Object.fromEntries(
      Object.entries(o).filter(([k]) => k !== "reason" && !ALIASES_NUM.includes(k)),
    );
  }
  return {
    reason: typeof o.reason === "string" ? o.reason : "",
    proposal,
    num: numKey ? o[numKey] : undefined,
  };
}

/** Reply shapes accepted: the paper's {"n_proposals": n, "proposal1": {...}, ...}, {"proposals": [...]}, or a list. */
function normalizeReply(input: unknown): unknown {
  let items: unknown;
  if (Array.isArray(input)) items = input;
  else if (input !== null && typeof input === "object") {
    const o = input as Record<string, unknown>;
    if (Array.isArray(o.proposals)) items = o.proposals;
    else {
      const keyed = Object.keys(o)
        .map((k) => ({ k, m: /^\s*proposal[\s_-]*(\d+)\s*$/i.exec(k) }))
        .filter((e) => e.m !== null)
        .sort((a, b) => Number(a.m?.[1]) - Number(b.m?.[1]));
      items = keyed.map((e) => o[e.k]);
    }
  } else return input;
  return { proposals: Array.isArray(items) ? items.map(normalizeItem) : items };
}

const RawProposalSchema = z.object({
  reason: z.string(),
  proposal: z.record(z.string(), z.unknown()),
  num: z.unknown(),
});

function partSchema(c: ColumnMeta): Record<string, unknown> {
  const nullable = c.missingRate > 0;
  if (c.sdtype === "numerical" || c.sdtype === "datetime") {
    // The real range as `x-` bounds: only the llamacpp grammar reads them (models/structured.ts strips them
    // for other providers); the validator still checks every range.
    const items =
      c.sdtype === "numerical" && c.min !== undefined && c.max !== undefined
        ? { type: "number", "x-minimum": c.min, "x-maximum": c.max, "x-decimals": c.decimals ?? 6 }
        : { type: c.sdtype === "datetime" ? "string" : "number" };
    return { type: nullable ? ["array", "null"] : "array", items, minItems: 2, maxItems: 2 };
  }
  const levels = levelsOf(c);
  if (levels.length === 0 || levels.length > MAX_ENUM_LEVELS)
    return { type: nullable ? ["string", "null"] : "string" };
  return nullable ? { type: ["string", "null"], enum: [...levels, null] } : { type: "string", enum: levels };
}

/** Provider-side schema: the paper's keyed format with "proposal" an object holding every variable. */
export function proposalJsonSchema(metadata: Metadata, nProposals: number): Record<string, unknown> {
  const cols = metadata.columns.filter((c) => c.sdtype !== "id");
  const proposal = {
    type: "object",
    properties: Object.fromEntries(cols.map((c) => [c.name, partSchema(c)])),
    required: cols.map((c) => c.name),
    additionalProperties: false,
  };
  const item = {
    type: "object",
    properties: { reason: { type: "string" }, proposal, num: { type: "integer", minimum: 1 } },
    required: ["reason", "proposal", "num"],
    additionalProperties: false,
  };
  const properties: Record<string, unknown> = {
    n_proposals: { type: "integer", minimum: 1, maximum: nProposals },
  };
  for (let k = 1; k <= nProposals; k++) properties[`proposal${k}`] = item;
  return { type: "object", properties, required: ["n_proposals", "proposal1"], additionalProperties: false };
}

/** {π_i} ~ LLM(p_proposal(C, s(D_real), δ)): validated proposals with counts summing to nSamples; role "proposer". */
export async function proposeSamples(i: ProposerInput): Promise<ProposerOutput> {
  const nProposals = i.nProposals ?? DEFAULT_N_PROPOSALS;
  if (!Number.isInteger(nProposals) || nProposals < 1)
    throw new RangeError(`nProposals must be an integer ≥ 1, got ${nProposals}`);
  if (!Number.isInteger(i.nSamples) || i.nSamples < 1)
    throw new RangeError(`nSamples must be an integer ≥ 1, got ${i.nSamples}`);
  const vopts: ProposalValidationOptions = {
    maxProposals: nProposals,
    ...(i.missingVariable ? { missingVariable: i.missingVariable } : {}),
  };
  const schema = z
    .preprocess(normalizeReply, z.object({ proposals: z.array(RawProposalSchema) }))
    .superRefine((reply, ctx) => {
      const why: string[] = [];
      const ok = reply.proposals.some((p, k) => {
        const v = validateProposal(p, i.metadata, vopts);
        if (!v.ok) why.push(`proposal ${k + 1}: ${v.reason}`);
        return v.ok;
      });
      if (!ok) {
        ctx.addIssue({
          code: "custom",
          message: `no valid proposal (${why.join("; ") || "the reply has no proposals"})`,
        });
      }
    });
  const prompt = buildProposalPrompt({
    metadata: i.metadata,
    jointGuide: i.guidance.joint,
    marginalGuide: i.guidance.marginal,
    ...(i.userGuidance === undefined ? {} : { userGuide: i.userGuidance }),
    ...(i.condition === undefined ? {} : { condition: i.condition }),
    nProposals,
    nSamples: i.nSamples,
  });
  let r: Awaited<ReturnType<typeof callStructured<z.infer<typeof schema>>>>;
  try {
    r = await callStructured({
      role: "proposer",
      endpoint: i.endpoint,
      messages: [{ role: "user", content: prompt }],
      schema,
      jsonSchema: proposalJsonSchema(i.metadata, nProposals),
      schemaName: "proposals",
      seed: i.seed,
      ...(i.maxReasks === undefined ? {} : { maxReasks: i.maxReasks }),
      ...(i.accounting ? { accounting: i.accounting } : {}),
      ...(i.signal ? { signal: i.signal } : {}),
    });
  } catch (err) {
    // Replies that stayed unusable after the re-asks: no proposals this iteration (the pool does not grow; the
    // run-wide budget of models/unusable-budget.ts stops the run when this keeps happening).
    if (!(err instanceof StructuredOutputError)) throw err;
    return {
      proposals: [],
      report: {
        received: 0,
        accepted: 0,
        repaired: 0,
        dropped: 0,
        issues: [],
        rejected: err.reasons,
        attempts: err.attempts,
        usage: { prompt_tokens: 0, completion_tokens: 0, estimated: true },
      },
    };
  }
  const raws: RawProposal[] = r.value.proposals;
  const v = validateProposals(raws, i.metadata, i.nSamples, vopts);
  const repairedSet = new Set(v.issues.filter((x) => x.action === "repaired").map((x) => x.proposal));
  return {
    proposals: v.proposals,
    report: {
      received: raws.length,
      accepted: v.proposals.length,
      repaired: repairedSet.size,
      dropped: v.issues.filter((x) => x.action === "dropped").length,
      issues: v.issues,
      rejected: r.report.reasons,
      attempts: r.attempts,
      usage: r.usage,
    },
  };
}
