/**
 * Shared by the LLMSynthor engine tests and bench (not a test file): recognising copula and proposal requests
 * on the loopback server, scripted replies in the paper's formats, and the graph state and stored records the
 * node and router unit tests start from.
 */
import type { LlmsynthorStateT, ProposalsRecord } from "../../engines/llmsynthor/state.ts";
import type { Proposal } from "../../engines/llmsynthor/proposals.ts";
import { emptySnapshot } from "../../models/accounting.ts";
import type { RunConfig } from "../../state/config.ts";
import type { RecordedRequest, Reply } from "./llm-server.ts";

export type LsKind = "copula" | "proposer" | "other";

const lastContent = (req: RecordedRequest): string => req.messages[req.messages.length - 1]?.content ?? "";

/** The first message is the prompt; re-asks append turns, so the first user message decides the kind. */
export function lsKindOf(req: RecordedRequest): LsKind {
  const first = req.messages.find((m) => m.role === "user")?.content ?? "";
  if (first.includes("correlated variable groups")) return "copula";
  if (first.includes("## Rules:") && /Create no more than \d+ proposals/.test(first)) return "proposer";
  return "other";
}

/** n_samples of a proposal request. */
export function nSamplesOf(req: RecordedRequest): number {
  const first = req.messages.find((m) => m.role === "user")?.content ?? lastContent(req);
  const m = /proposals totaling (\d+) samples/.exec(first);
  if (!m) throw new Error(`request ${req.id}: no n_samples in the prompt`);
  return Number(m[1]);
}

export function proposalPrompt(req: RecordedRequest): string {
  return req.messages.find((m) => m.role === "user")?.content ?? "";
}

/** The paper's keyed proposal format, {"n_proposals": k, "proposal1": {...}, ...}. */
export function proposalsReply(
  items: ReadonlyArray<{ proposal: Record<string, unknown>; num: number; reason?: string }>,
): string {
  const o: Record<string, unknown> = { n_proposals: items.length };
  items.forEach((p, i) => {
    o[`proposal${i + 1}`] = { reason: p.reason ?? `proposal ${i + 1}`, proposal: p.proposal, num: p.num };
  });
  return JSON.stringify(o);
}

/** Four proposals over the test table of test/support/synthia.ts (age, sex, hours, income). */
export const CENSUS_PROPOSALS = [
  { proposal: { age: [20, 39], sex: "Female", hours: [20, 35], income: "<=50K" }, num: 3 },
  { proposal: { age: [40, 59], sex: "Male", hours: [35, 50], income: ">50K" }, num: 1 },
  { proposal: { age: [20, 59], sex: "Male", hours: [20, 50], income: "<=50K" }, num: 3 },
  { proposal: { age: [30, 50], sex: "Female", hours: [25, 45], income: ">50K" }, num: 1 },
] as const;

export interface LsScript {
  copula?: (req: RecordedRequest) => string | Reply;
  proposer?: (req: RecordedRequest) => string | Reply;
}

/** Server default answering copula and proposal requests (others get "{}"). */
export function lsResponder(s: LsScript = {}): (req: RecordedRequest) => string | Reply {
  return (req) => {
    switch (lsKindOf(req)) {
      case "copula":
        return s.copula ? s.copula(req) : JSON.stringify({ "1": ["age", "income"], "2": ["sex", "hours"] });
      case "proposer":
        return s.proposer ? s.proposer(req) : proposalsReply(CENSUS_PROPOSALS);
      default:
        return "{}";
    }
  };
}

/** The state a fresh run starts with (every field at its default), with `change` applied. */
export function lsState(config: RunConfig, change: Partial<LlmsynthorStateT> = {}): LlmsynthorStateT {
  return {
    runDir: "unused-run-dir",
    steering: [],
    userFeedback: [],
    stopRequested: false,
    config,
    phase: "init",
    dataset: null,
    metadata: null,
    iterations: 0,
    iteration: 0,
    groups: [],
    copulaKeys: [],
    history: [],
    stoppedBecause: null,
    finalDiscrepancy: null,
    fillRounds: 0,
    chunks: [],
    groupAccepted: [],
    usage: emptySnapshot(),
    accepted: 0,
    invalidRows: 0,
    exactCopiesRemoved: 0,
    output: null,
    ...change,
  };
}

/** A stored proposals record of iteration t holding `proposals` (as the proposer node stores it, no calls). */
export function proposalsRecord(t: number, proposals: Proposal[], seed = 0): ProposalsRecord {
  const n = proposals.length;
  return {
    iteration: t,
    n_samples: proposals.reduce((a, p) => a + p.count, 0),
    proposals,
    report: { received: n, accepted: n, repaired: 0, dropped: 0, issues: [], rejected: [], attempts: 1 },
    seed,
    usage: emptySnapshot(),
  };
}
