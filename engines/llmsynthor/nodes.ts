/**
 * The nodes of the LLMSynthor graph, each `(rt) => (state) => update`. The loop's pure decisions (T, n_t, the
 * total discrepancy) and the pool format are in state.ts; the nodes read the real table through `rt.real()` and
 * keep rows in the artifact store. Every node that calls a model or draws rows stores its result under a key
 * derived from (iteration) or (fill round) before returning, and on a re-run after a crash returns the stored
 * result without calling the model or drawing again.
 */
import { SynthgraphError } from "../../data/errors.ts";
import type { Metadata, Table } from "../../data/types.ts";
import { writeOutput } from "../../graph/finalize.ts";
import { memoModelCall } from "../../graph/model-call.ts";
import { appliedSteering, commonEffect, pausePoint, steeringEffects } from "../../graph/pause.ts";
import type { EngineRuntime } from "../../graph/runtime.ts";
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import type { SteeringRecord } from "../../state/steering.ts";
import { exactCopyMask } from "../../stats/privacy/exact-copies.ts";
import { inferJointGroups } from "./copula-agent.ts";
import { fillGroups, measureGroups, proposeGroups, sampleGroups, writeGroups } from "./group-nodes.ts";
import { jointDiscrepancy, marginalDiscrepancy } from "./discrepancy.ts";
import { renderJointGuidance, renderMarginalGuidance } from "./prompts.ts";
import { rescaleCounts } from "../../stats/primitives/apportion.ts";
import type { Proposal } from "./proposals.ts";
import { proposeSamples } from "./proposer.ts";
import { sampleProposals } from "./sampler.ts";
import {
  CopulaCallSchema,
  concatTables,
  copulaKey,
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
  plannedIterations,
  poolKey,
  proposalsKey,
  renumberIds,
  rowsForIteration,
  totalDiscrepancy,
} from "./state.ts";

/** The runtime parts the nodes use (tests build exactly these). */
export type LsRuntime = Pick<EngineRuntime, "config" | "store" | "real" | "env">;

// --- helpers the nodes share ----------------------------------------------------------------------------------

/** The pool so far: every stored chunk in pool order, stacked. */
export async function loadPool(rt: LsRuntime, s: LlmsynthorStateT, metadata: Metadata): Promise<Table> {
  const tables: Table[] = [];
  for (const key of s.chunks) tables.push(decodeChunk(await rt.store.require(key, PoolChunkSchema)));
  return concatTables(tables, metadata);
}

/** Drops exact copies of real rows when the privacy guard is on; the chunk records how many. */
export async function guardedChunk(
  rt: LsRuntime,
  drawn: Table,
  a: { requested: number; seed: number },
): Promise<PoolChunk> {
  let table = drawn;
  if (rt.config.privacyGuard && drawn.nRows > 0) {
    const mask = exactCopyMask((await rt.real()).table, drawn);
    for (let i = 0; i < mask.length; i++) mask[i] = 1 - mask[i];
    table = keepRows(drawn, mask);
  }
  return encodeChunk(table, { ...a, exact_copies: drawn.nRows - table.nRows });
}

/** The history with `change` applied to its last record (the iteration in progress). */
export function withLast(s: LlmsynthorStateT, change: Partial<LsIteration>): LsIteration[] {
  const last = s.history[s.history.length - 1];
  return [...s.history.slice(0, -1), { ...last, ...change }];
}

// --- nodes ----------------------------------------------------------------------------------------------------

/** Loads the real table, records its reference and metadata, and plans T. */
export const load =
  (rt: LsRuntime) =>
  async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    const real = await rt.real();
    return {
      phase: "iterate",
      dataset: real.dataset,
      metadata: real.metadata,
      // A conditional run plans T from its smallest group, so every group gets about 20 rows per iteration.
      iterations: plannedIterations(
        s.config.conditions === undefined
          ? s.config.rows
          : Math.min(...s.config.conditions.map((g) => g.rows)),
        rt.config.llmsynthor.iterations,
      ),
    };
  };

/** Infers the joint groups C (once before the loop, or before every iteration with reinferGroups). */
export const copula =
  (rt: LsRuntime) =>
  async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    const o = rt.config.llmsynthor;
    const real = await rt.real();
    const t = o.reinferGroups ? s.iteration + 1 : 0;
    const key = copulaKey(t);
    const { value } = await memoModelCall(rt, {
      key,
      schema: CopulaCallSchema,
      role: "copula",
      seed: deriveSeed(s.config.seed, SEED_STREAMS.llmsynthor.copula, t),
      call: async ({ endpoint, accounting, seed }) => {
        const r = await inferJointGroups({
          endpoint,
          metadata: real.metadata,
          nJoints: o.nJoints,
          seed,
          accounting,
        });
        return { groups: r.groups, reasons: r.reasons, attempts: r.attempts, seed };
      },
    });
    return { groups: value.groups, copulaKeys: [...s.copulaKeys, key], usage: value.usage };
  };

/**
 * Measures the pool's discrepancy; stops the loop (phase fill or write) after T iterations, with N rows, or
 * under the tolerance; otherwise stores the guidance of iteration t + 1 and opens its history record.
 */
export const measure =
  (rt: LsRuntime) =>
  async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    if (s.config.conditions !== undefined) return measureGroups(rt, s);
    const o = rt.config.llmsynthor;
    const discOpts = { mainBins: o.mainBins, subBins: o.subBins, splitBy: o.split };
    const real = await rt.real();
    const pool = await loadPool(rt, s, real.metadata);
    const marginals = marginalDiscrepancy(real.table, pool, discOpts);
    const joints = s.groups.map((g) => jointDiscrepancy(real.table, pool, g, discOpts));
    const discrepancy = {
      marginal: Object.fromEntries(marginals.map((m) => [m.column, m.tvd])),
      joint: joints.map((j) => ({ columns: j.columns, tvd: j.tvd })),
      total: totalDiscrepancy(marginals, joints),
    };
    const c = s.config;
    // A pool still empty after T iterations (every proposal reply unusable or dropped) has nothing to fill
    // from: the loop goes on, up to maxRounds more iterations, each asking for every missing row; the run-wide
    // unusable-reply budget stops it (exit 4, resumable) when the proposer keeps failing.
    const lastIteration = s.accepted === 0 ? s.iterations + c.maxRounds : s.iterations;
    const stop =
      s.accepted >= c.rows || s.iteration >= lastIteration
        ? "iterations"
        : s.iteration >= 1 && discrepancy.total < o.tolerance
          ? "tolerance"
          : null;
    if (stop !== null) {
      return {
        stoppedBecause: stop,
        finalDiscrepancy: discrepancy,
        phase: s.accepted >= c.rows ? "write" : "fill",
      };
    }
    const t = s.iteration + 1;
    await rt.store.put(guidanceKey(t), {
      joint: renderJointGuidance(joints),
      marginal: renderMarginalGuidance(marginals),
    });
    const record: LsIteration = {
      iteration: t,
      pool_rows: s.accepted,
      discrepancy,
      groups: s.groups,
      requested: rowsForIteration(c.rows, s.accepted, t, s.iterations),
      proposals_key: null,
      pool_key: null,
      accepted: 0,
      exact_copies: 0,
    };
    return { iteration: t, history: [...s.history, record] };
  };

/**
 * The state update of steering actions given at LLMSynthor's pause point (after measure): feedback joins the
 * proposer's guidance, rows change N (never below the pool: the pool only grows) and re-plan the open
 * iteration's request, stop ends the loop (the open iteration is dropped; the missing rows are filled from the
 * proposals so far). Pure.
 */
export function applyLlmsynthorSteering(
  s: LlmsynthorStateT,
  records: readonly SteeringRecord[],
): LlmsynthorUpdate {
  const e = steeringEffects(records);
  const rows = e.rows ?? s.config.rows;
  const config = { ...s.config, rows };
  const update: LlmsynthorUpdate = {
    userFeedback: [...s.userFeedback, ...e.feedback],
    ...(e.rows === null ? {} : { config }),
  };
  const iterating = s.phase === "iterate";
  const open = s.history[s.history.length - 1];
  if (iterating && e.stop && open !== undefined) {
    // A conditional run's open iteration has one record per group.
    update.history =
      open.group === undefined
        ? s.history.slice(0, -1)
        : s.history.filter((h) => h.iteration !== s.iteration);
    update.iteration = s.iteration - 1;
    update.stoppedBecause = "stopped";
    update.stopRequested = true;
    update.finalDiscrepancy = open.discrepancy;
    update.phase = s.accepted >= rows ? "write" : "fill";
  } else if (iterating && e.rows !== null && open !== undefined) {
    update.history = withLast(s, {
      requested: rowsForIteration(rows, s.accepted, s.iteration, s.iterations),
    });
  } else if (!iterating && e.rows !== null) {
    update.phase = s.accepted >= rows ? "write" : "fill";
  }
  const effect = (a: SteeringRecord["action"]): string =>
    a.type === "feedback"
      ? iterating && !e.stop
        ? "added to the proposer's guidance from the next iteration on"
        : "recorded; no proposal round follows (the loop has ended)"
      : a.type === "stop"
        ? iterating
          ? `loop stopped after ${s.iteration - 1} of ${s.iterations} iterations; missing rows are drawn from the proposals so far`
          : "the loop had already ended"
        : commonEffect(a);
  update.steering = [
    ...s.steering,
    ...appliedSteering(
      records,
      { iteration: Math.max(0, s.iteration - (iterating ? 1 : 0)), phase: s.phase },
      effect,
    ),
  ];
  return update;
}

/** The pause point's diagnostics: the pool's discrepancy after the iterations done. */
export function llmsynthorPausePoint(s: LlmsynthorStateT) {
  const iterating = s.phase === "iterate";
  const d = iterating ? s.history[s.history.length - 1]?.discrepancy : (s.finalDiscrepancy ?? undefined);
  const done = iterating ? s.iteration - 1 : s.iteration;
  return {
    engine: "llmsynthor",
    iteration: done,
    next: iterating ? ("iterate" as const) : ("final" as const),
    scores: { mean_tvd: d?.total ?? null },
    summary: `pool ${s.accepted}/${s.config.rows} rows after ${done} of ${s.iterations} iterations; mean TVD ${d === undefined ? "n/a" : d.total.toFixed(4)}`,
    rows: s.config.rows,
  };
}

/**
 * pause: LLMSynthor's pause point after each iteration (after measure: the pool's discrepancy is fresh, and
 * before the fill when the loop ended). None before the first iteration. No model call.
 */
export const pause =
  (_rt: LsRuntime) =>
  async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    if (s.chunks.length === 0) return {};
    const records = await pausePoint(s.runDir, llmsynthorPausePoint(s));
    return records === null || records.length === 0 ? {} : applyLlmsynthorSteering(s, records);
  };

/** Asks the proposer for iteration t's proposals, grounded on the stored guidance. */
export const propose =
  (rt: LsRuntime) =>
  async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    if (s.config.conditions !== undefined) return proposeGroups(rt, s);
    const o = rt.config.llmsynthor;
    const real = await rt.real();
    const t = s.iteration;
    const nSamples = s.history[s.history.length - 1].requested;
    const key = proposalsKey(t);
    const { value } = await memoModelCall(rt, {
      key,
      schema: ProposalsCallSchema,
      role: "proposer",
      seed: deriveSeed(s.config.seed, SEED_STREAMS.llmsynthor.proposer, t),
      call: async ({ endpoint, accounting, seed }) => {
        const guidance = await rt.store.require(guidanceKey(t), GuidanceRecordSchema);
        const r = await proposeSamples({
          endpoint,
          metadata: real.metadata,
          guidance,
          ...(s.userFeedback.length > 0 ? { userGuidance: s.userFeedback } : {}),
          nProposals: o.nProposals,
          nSamples,
          seed,
          accounting,
          missingVariable: o.missingVariable,
        });
        const { usage: _callUsage, ...report } = r.report;
        return { iteration: t, n_samples: nSamples, proposals: r.proposals, report, seed };
      },
    });
    return { history: withLast(s, { proposals_key: key }), usage: value.usage };
  };

/** Draws iteration t's rows from its proposals (no model call) and appends them to the pool, guarded. */
export const sample =
  (rt: LsRuntime) =>
  async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    if (s.config.conditions !== undefined) return sampleGroups(rt, s);
    const real = await rt.real();
    const t = s.iteration;
    const key = poolKey(t);
    const seed = deriveSeed(s.config.seed, SEED_STREAMS.llmsynthor.sampler, t);
    const { value } = await rt.store.memo(key, PoolChunkSchema, async () => {
      const { proposals, n_samples } = await rt.store.require(proposalsKey(t), ProposalsRecordSchema);
      const drawn = sampleProposals(proposals, real.metadata, seed, { idStart: s.accepted + 1 });
      return guardedChunk(rt, drawn, { requested: n_samples, seed });
    });
    return {
      chunks: [...s.chunks, key],
      accepted: value.rows,
      exactCopiesRemoved: value.exact_copies,
      history: withLast(s, { pool_key: key, accepted: value.rows, exact_copies: value.exact_copies }),
    };
  };

/**
 * One fill round: the rows still missing, drawn without a model call from the mixture of every accepted
 * proposal weighted by the rows it was given (the distribution the pool was drawn from), guarded. Throws after
 * maxRounds rounds.
 */
export const fill =
  (rt: LsRuntime) =>
  async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    if (s.config.conditions !== undefined) return fillGroups(rt, s);
    const real = await rt.real();
    const c = s.config;
    const round = s.fillRounds + 1;
    if (round > c.maxRounds) {
      throw new SynthgraphError(
        `after ${c.maxRounds} fill rounds the pool has ${s.accepted} of ${c.rows} rows (${s.exactCopiesRemoved} exact copies of real rows removed)`,
        {
          hint: "the proposals keep reproducing real rows (a small, mostly categorical table?): pass --no-privacy-guard if copies are acceptable",
        },
      );
    }
    const need = c.rows - s.accepted;
    const key = fillKey(round);
    const seed = deriveSeed(c.seed, SEED_STREAMS.llmsynthor.fill, round);
    const { value } = await rt.store.memo(key, PoolChunkSchema, async () => {
      const mixture: Proposal[] = [];
      for (const h of s.history) {
        if (h.proposals_key === null) continue;
        const rec = await rt.store.require(h.proposals_key, ProposalsRecordSchema);
        for (const p of rec.proposals) if (p.count > 0) mixture.push(p);
      }
      if (mixture.length === 0) {
        throw new SynthgraphError(
          `no usable proposal in ${s.history.length} iterations: the pool is empty, so there is nothing to fill it from`,
          {
            hint: "look at the proposer's replies in the run directory's artifacts; try a stronger model (--role-model proposer=...) or fewer proposals (--proposals)",
            exitCode: 4,
          },
        );
      }
      const counts = rescaleCounts(
        mixture.map((p) => p.count),
        need,
      );
      const drawn = sampleProposals(
        mixture.map((p, k) => ({ ...p, count: counts[k] })),
        real.metadata,
        seed,
        { idStart: s.accepted + 1 },
      );
      return guardedChunk(rt, drawn, { requested: need, seed });
    });
    return {
      phase: "fill",
      fillRounds: round,
      chunks: [...s.chunks, key],
      accepted: value.rows,
      exactCopiesRemoved: value.exact_copies,
    };
  };

/** Writes the pool (ids renumbered 1..N in pool order) as the output CSV. */
export const write =
  (rt: LsRuntime) =>
  async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    if (s.config.conditions !== undefined) return writeGroups(rt, s);
    const { metadata } = await rt.real();
    return writeOutput(s.config, renumberIds(await loadPool(rt, s, metadata)), metadata);
  };
