/**
 * The bodies of measure, propose, sample, fill and write for a conditional LLMSynthor run (conditions.ts says
 * what a group sees). nodes.ts calls these when `config.conditions` is set; unconditional runs never reach
 * them. Same loop, same memo discipline: every proposer call and every draw is stored under a key derived from
 * (iteration or fill round, group) before the node returns, and a re-run after a crash reads it back.
 */
import { SynthgraphError } from "../../data/errors.ts";
import { takeTableRows } from "../../data/build.ts";
import type { Metadata, Table } from "../../data/types.ts";
import { writeOutput } from "../../graph/finalize.ts";
import { memoModelCall } from "../../graph/model-call.ts";
import { type AccountingSnapshot, emptySnapshot, mergeSnapshots } from "../../models/accounting.ts";
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import {
  groupViews,
  keepSatisfying,
  type LsGroupView,
  marginalProposal,
  outsideRegion,
} from "./conditions.ts";
import { jointDiscrepancy, marginalDiscrepancy } from "./discrepancy.ts";
import type { LsRuntime } from "./nodes.ts";
import { renderJointGuidance, renderMarginalGuidance } from "./prompts.ts";
import { rescaleCounts } from "../../stats/primitives/apportion.ts";
import { type Proposal, type ProposalIssue } from "./proposals.ts";
import { proposeSamples } from "./proposer.ts";
import { sampleProposals } from "./sampler.ts";
import {
  concatTables,
  decodeChunk,
  encodeChunk,
  fillKey,
  GuidanceRecordSchema,
  guidanceKey,
  keepRows,
  type LlmsynthorStateT,
  type LlmsynthorUpdate,
  type LsIteration,
  type PoolChunk,
  PoolChunkSchema,
  ProposalsCallSchema,
  ProposalsRecordSchema,
  poolKey,
  proposalsKey,
  renumberIds,
  rowsForIteration,
  totalDiscrepancy,
} from "./state.ts";
import { exactCopyMask } from "../../stats/privacy/exact-copies.ts";

/** A fill round draws at most this many times the rows a group misses (when few drawn rows meet the condition). */
const MAX_FILL_OVERDRAW = 50;

type Discrepancy = LsIteration["discrepancy"];

/** Rows requested per group (the conditions' counts). */
function wanted(s: LlmsynthorStateT): number[] {
  return (s.config.conditions ?? []).map((g) => g.rows);
}

/** Pool rows per group so far (the state's counter, zero-filled to the groups). */
function acceptedOf(s: LlmsynthorStateT, groups: number): number[] {
  return Array.from({ length: groups }, (_, g) => s.groupAccepted?.[g] ?? 0);
}

/** Each group's pool: its chunks in pool order, stacked (empty tables for groups with none yet). */
async function groupPools(
  rt: LsRuntime,
  s: LlmsynthorStateT,
  metadata: Metadata,
  groups: number,
): Promise<{ pools: Table[]; chunks: PoolChunk[][] }> {
  const chunks: PoolChunk[][] = Array.from({ length: groups }, () => []);
  for (const key of s.chunks) {
    const c = await rt.store.require(key, PoolChunkSchema);
    if (c.group === undefined)
      throw new SynthgraphError(`internal: pool chunk ${key} has no condition group`);
    chunks[c.group].push(c);
  }
  const pools = chunks.map((cs) => concatTables(cs.map(decodeChunk), metadata));
  return { pools, chunks };
}

/** Drops exact copies of real rows (privacy guard on); the chunk records the group, draws and misses. */
async function guarded(
  rt: LsRuntime,
  table: Table,
  a: { requested: number; seed: number; group: number; drawn: number; unmet: number },
): Promise<PoolChunk> {
  let kept = table;
  if (rt.config.privacyGuard && table.nRows > 0) {
    const mask = exactCopyMask((await rt.real()).table, table);
    for (let i = 0; i < mask.length; i++) mask[i] = 1 - mask[i];
    kept = keepRows(table, mask);
  }
  return encodeChunk(kept, { ...a, exact_copies: table.nRows - kept.nRows });
}

/** Draws `proposals` from the group's sampler metadata and keeps the rows that meet its condition. */
function drawChecked(
  view: LsGroupView,
  proposals: readonly Proposal[],
  seed: number,
  idStart: number,
): { table: Table; drawn: number; unmet: number } {
  const drawn = sampleProposals(proposals, view.samplerMetadata, seed, { idStart });
  const kept = keepSatisfying(view, drawn);
  return { table: kept.table, drawn: drawn.nRows, unmet: kept.unmet };
}

/**
 * measure, per group: the discrepancy of the group's pool against its reference; the loop stops after T
 * iterations, with every group full, or when every group is under the tolerance. Otherwise each group's
 * guidance for iteration t + 1 is stored and one history record per group opened.
 */
export async function measureGroups(rt: LsRuntime, s: LlmsynthorStateT): Promise<LlmsynthorUpdate> {
  const o = rt.config.llmsynthor;
  const discOpts = { mainBins: o.mainBins, subBins: o.subBins };
  const real = await rt.real();
  const views = groupViews(s.config, real);
  const { pools } = await groupPools(rt, s, real.metadata, views.length);
  const measured = views.map((v, g) => {
    const marginals = marginalDiscrepancy(v.reference, pools[g], discOpts);
    const joints = s.groups.map((cols) => jointDiscrepancy(v.reference, pools[g], cols, discOpts));
    const discrepancy: Discrepancy = {
      marginal: Object.fromEntries(marginals.map((m) => [m.column, m.tvd])),
      joint: joints.map((j) => ({ columns: j.columns, tvd: j.tvd })),
      total: totalDiscrepancy(marginals, joints),
    };
    return { marginals, joints, discrepancy };
  });
  const c = s.config;
  const full = s.accepted >= c.rows;
  const stop =
    full || s.iteration >= s.iterations
      ? "iterations"
      : s.iteration >= 1 && measured.every((m) => m.discrepancy.total < o.tolerance)
        ? "tolerance"
        : null;
  if (stop !== null) {
    // The worst group's discrepancy stands for the run (each group's is in its history records).
    const worst = measured.reduce((a, b) => (b.discrepancy.total > a.discrepancy.total ? b : a));
    return { stoppedBecause: stop, finalDiscrepancy: worst.discrepancy, phase: full ? "write" : "fill" };
  }
  const t = s.iteration + 1;
  const want = wanted(s);
  const have = acceptedOf(s, views.length);
  const records: LsIteration[] = [];
  for (const [g, m] of measured.entries()) {
    await rt.store.put(guidanceKey(t, g), {
      joint: renderJointGuidance(m.joints),
      marginal: renderMarginalGuidance(m.marginals),
    });
    records.push({
      iteration: t,
      group: g,
      pool_rows: have[g],
      discrepancy: m.discrepancy,
      groups: s.groups,
      requested: rowsForIteration(want[g], have[g], t, s.iterations),
      proposals_key: null,
      pool_key: null,
      accepted: 0,
      exact_copies: 0,
      unmet: 0,
    });
  }
  return { iteration: t, history: [...s.history, ...records] };
}

/** The open iteration's records (one per group) replaced by `change(record)`. */
function withOpen(s: LlmsynthorStateT, change: (h: LsIteration) => LsIteration): LsIteration[] {
  return s.history.map((h) => (h.iteration === s.iteration && h.group !== undefined ? change(h) : h));
}

/**
 * propose, per group with rows to request: the proposer sees the group's (narrowed) metadata, its guidance and
 * its condition; proposals naming a category outside the region are dropped, the rest rescaled to the request.
 */
export async function proposeGroups(rt: LsRuntime, s: LlmsynthorStateT): Promise<LlmsynthorUpdate> {
  const o = rt.config.llmsynthor;
  const real = await rt.real();
  const views = groupViews(s.config, real);
  const t = s.iteration;
  let usage: AccountingSnapshot = emptySnapshot();
  const keys = new Map<number, string>();
  for (const h of s.history) {
    if (h.iteration !== t || h.group === undefined || h.requested <= 0) continue;
    const g = h.group;
    const view = views[g];
    const key = proposalsKey(t, g);
    const { value } = await memoModelCall(rt, {
      key,
      schema: ProposalsCallSchema,
      role: "proposer",
      seed: deriveSeed(
        deriveSeed(s.config.seed, SEED_STREAMS.llmsynthor.proposer, t),
        SEED_STREAMS.llmsynthor.proposer,
        g,
      ),
      call: async ({ endpoint, accounting, seed }) => {
        const guidance = await rt.store.require(guidanceKey(t, g), GuidanceRecordSchema);
        const r = await proposeSamples({
          endpoint,
          metadata: view.proposerMetadata,
          guidance,
          ...(s.userFeedback.length > 0 ? { userGuidance: s.userFeedback } : {}),
          ...(view.promptLines === undefined ? {} : { condition: view.promptLines }),
          nProposals: o.nProposals,
          nSamples: h.requested,
          seed,
          accounting,
          missingVariable: o.missingVariable,
        });
        const { usage: _callUsage, ...report } = r.report;
        // The region check validateProposal cannot make (booleans; see conditions.ts), then the counts again.
        const issues: ProposalIssue[] = [...report.issues];
        const inside: Proposal[] = [];
        r.proposals.forEach((p, k) => {
          const why = outsideRegion(p, view);
          if (why === null) inside.push(p);
          else issues.push({ proposal: k, action: "dropped", reason: why });
        });
        const counts =
          inside.length > 0
            ? rescaleCounts(
                inside.map((p) => p.count),
                h.requested,
              )
            : [];
        const proposals = inside.map((p, k) => ({ ...p, count: counts[k] }));
        return {
          iteration: t,
          n_samples: h.requested,
          proposals,
          report: {
            ...report,
            accepted: proposals.length,
            dropped: report.dropped + (r.proposals.length - inside.length),
            issues,
          },
          seed,
        };
      },
    });
    keys.set(g, key);
    usage = mergeSnapshots(usage, value.usage);
  }
  return {
    history: withOpen(s, (h) => {
      const key = keys.get(h.group as number);
      return key === undefined ? h : { ...h, proposals_key: key };
    }),
    usage,
  };
}

/** sample, per group with proposals: draw, check the condition, guard, append to the group's pool. */
export async function sampleGroups(rt: LsRuntime, s: LlmsynthorStateT): Promise<LlmsynthorUpdate> {
  const real = await rt.real();
  const views = groupViews(s.config, real);
  const t = s.iteration;
  const have = acceptedOf(s, views.length);
  const chunks = [...s.chunks];
  let accepted = 0;
  let copies = 0;
  const done = new Map<number, PoolChunk & { key: string }>();
  for (const h of s.history) {
    if (h.iteration !== t || h.group === undefined || h.proposals_key === null) continue;
    const g = h.group;
    const key = poolKey(t, g);
    const seed = deriveSeed(
      deriveSeed(s.config.seed, SEED_STREAMS.llmsynthor.sampler, t),
      SEED_STREAMS.llmsynthor.sampler,
      g,
    );
    const { value } = await rt.store.memo(key, PoolChunkSchema, async () => {
      const { proposals, n_samples } = await rt.store.require(
        h.proposals_key as string,
        ProposalsRecordSchema,
      );
      const d = drawChecked(views[g], proposals, seed, s.accepted + accepted + 1);
      return guarded(rt, d.table, { requested: n_samples, seed, group: g, drawn: d.drawn, unmet: d.unmet });
    });
    chunks.push(key);
    have[g] += value.rows;
    accepted += value.rows;
    copies += value.exact_copies;
    done.set(g, { ...value, key });
  }
  return {
    chunks,
    accepted,
    exactCopiesRemoved: copies,
    groupAccepted: have,
    history: withOpen(s, (h) => {
      const v = done.get(h.group as number);
      return v === undefined
        ? h
        : { ...h, pool_key: v.key, accepted: v.rows, exact_copies: v.exact_copies, unmet: v.unmet ?? 0 };
    }),
  };
}

/**
 * One fill round, per group still short: drawn without a model call from the mixture of the group's accepted
 * proposals (the region's real marginals when it has none), over-drawn by the share of the group's draws that
 * met the condition so far, checked, cut to what the group misses, guarded.
 */
export async function fillGroups(rt: LsRuntime, s: LlmsynthorStateT): Promise<LlmsynthorUpdate> {
  const real = await rt.real();
  const views = groupViews(s.config, real);
  const c = s.config;
  const round = s.fillRounds + 1;
  const want = wanted(s);
  const have = acceptedOf(s, views.length);
  if (round > c.maxRounds) {
    const short = views
      .map((v, g) => ({ v, g }))
      .filter(({ g }) => have[g] < want[g])
      .map(({ v, g }) => `group ${g + 1} (${v.cond.where}): ${have[g]} of ${want[g]}`);
    throw new SynthgraphError(
      `after ${c.maxRounds} fill rounds some groups are short of rows: ${short.join("; ")} (${s.exactCopiesRemoved} exact copies of real rows removed)`,
      {
        hint: "few drawn rows meet the condition or the proposals keep reproducing real rows: widen the condition, or pass --no-privacy-guard if copies are acceptable",
      },
    );
  }
  const { chunks: stored } = await groupPools(rt, s, real.metadata, views.length);
  const chunks = [...s.chunks];
  let accepted = 0;
  let copies = 0;
  for (const [g, view] of views.entries()) {
    const need = want[g] - have[g];
    if (need <= 0) continue;
    const key = fillKey(round, g);
    const seed = deriveSeed(
      deriveSeed(c.seed, SEED_STREAMS.llmsynthor.fill, round),
      SEED_STREAMS.llmsynthor.fill,
      g,
    );
    const { value } = await rt.store.memo(key, PoolChunkSchema, async () => {
      const mixture: Proposal[] = [];
      for (const h of s.history) {
        if (h.group !== g || h.proposals_key === null) continue;
        const rec = await rt.store.require(h.proposals_key, ProposalsRecordSchema);
        for (const p of rec.proposals) if (p.count > 0) mixture.push(p);
      }
      // Share of the group's draws that met the condition (1 before any): how much to over-draw.
      let drawnSoFar = 0;
      let metSoFar = 0;
      for (const ch of stored[g]) {
        drawnSoFar += ch.drawn ?? 0;
        metSoFar += (ch.drawn ?? 0) - (ch.unmet ?? 0);
      }
      // No proposal, or proposals none of whose draws met the condition (possible without source
      // conditioning: a proposal fixes its categories): the sampler metadata's marginals join the mixture
      // with half its weight, so the group can still be filled by code.
      if (mixture.length === 0 || (drawnSoFar > 0 && metSoFar === 0)) {
        const weight = mixture.reduce((a, p) => a + p.count, 0);
        mixture.push(marginalProposal(view.samplerMetadata, Math.max(1, weight)));
      }
      const share = drawnSoFar > 0 ? Math.max(metSoFar / drawnSoFar, 1 / MAX_FILL_OVERDRAW) : 1;
      const draw = Math.min(need * MAX_FILL_OVERDRAW, Math.ceil(need / share));
      const counts = rescaleCounts(
        mixture.map((p) => p.count),
        draw,
      );
      const d = drawChecked(
        view,
        mixture.map((p, k) => ({ ...p, count: counts[k] })),
        seed,
        s.accepted + accepted + 1,
      );
      const cut =
        d.table.nRows > need
          ? takeTableRows(
              d.table,
              Int32Array.from({ length: need }, (_, i) => i),
            )
          : d.table;
      return guarded(rt, cut, { requested: need, seed, group: g, drawn: d.drawn, unmet: d.unmet });
    });
    chunks.push(key);
    have[g] += value.rows;
    accepted += value.rows;
    copies += value.exact_copies;
  }
  return {
    phase: "fill",
    fillRounds: round,
    chunks,
    accepted,
    exactCopiesRemoved: copies,
    groupAccepted: have,
  };
}

/** write: exactly the requested rows per group, group after group, each in pool order; ids renumbered 1..N. */
export async function writeGroups(rt: LsRuntime, s: LlmsynthorStateT): Promise<LlmsynthorUpdate> {
  const { metadata } = await rt.real();
  const want = wanted(s);
  const { pools } = await groupPools(rt, s, metadata, want.length);
  const parts = pools.map((p, g) =>
    p.nRows > want[g]
      ? takeTableRows(
          p,
          Int32Array.from({ length: want[g] }, (_, i) => i),
        )
      : p,
  );
  return writeOutput(s.config, renumberIds(concatTables(parts, metadata)), metadata);
}

/** SUMMARY.json's `conditions` for LLMSynthor: per group, the sampler's draws, misses and proposer usage. */
export async function llmsynthorConditionsSummary(
  s: LlmsynthorStateT,
  store: LsRuntime["store"],
): Promise<Record<string, unknown>[]> {
  const groups = s.config.conditions ?? [];
  const out = groups.map((g) => ({
    where: g.where,
    ...(g.request === undefined ? {} : { request: g.request }),
    rows: g.rows,
    model_rows: 0,
    unmet: 0,
    satisfied_share: null as number | null,
    batches: 0,
    calls: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
  }));
  for (const key of s.chunks) {
    const c = await store.require(key, PoolChunkSchema);
    const e = out[c.group ?? 0];
    e.model_rows += c.drawn ?? 0;
    e.unmet += c.unmet ?? 0;
    e.batches += 1;
  }
  for (const h of s.history) {
    if (h.group === undefined || h.proposals_key === null) continue;
    const u = (await store.require(h.proposals_key, ProposalsRecordSchema)).usage;
    const e = out[h.group];
    e.calls += u.calls;
    e.prompt_tokens += u.prompt_tokens;
    e.completion_tokens += u.completion_tokens;
  }
  for (const e of out) e.satisfied_share = e.model_rows > 0 ? (e.model_rows - e.unmet) / e.model_rows : null;
  return out;
}
