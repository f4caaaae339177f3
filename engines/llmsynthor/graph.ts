/**
 * LLMSynthor (Algorithm 1 of ../shared/papers/002_2b2e7d3ed3575ce4.txt) as a LangGraph state machine.
 *
 *   load → copula → measure ─(iterate)→ propose → sample ─(reinferGroups)→ copula
 *                     ↑   │                          └────────────────────→ measure
 *                     │   ├─(T done or pool discrepancy < tolerance, rows missing)→ fill ⟲ → write → END
 *                     │   └─(N rows)→ write
 *
 * Wiring only: the loop's decisions and the pool format are in state/llmsynthor.ts, discrepancy and sampling in
 * stats/, prompts in prompts/llmsynthor.ts, model calls in agents/. Every node that calls a model or draws rows
 * stores its result under a key derived from (iteration) or (fill round) before returning, and on a re-run after
 * a crash returns the stored result without calling the model or drawing again.
 */
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import { END, START, StateGraph } from "@langchain/langgraph";
import { inferJointGroups } from "./copula-agent.ts";
import { proposeSamples } from "./proposer.ts";
import { SynthgraphError } from "../../data/errors.ts";
import type { Metadata, Table } from "../../data/types.ts";
import { Accounting } from "../../models/accounting.ts";
import { renderJointGuidance, renderMarginalGuidance } from "./prompts.ts";
import {
  CopulaRecordSchema,
  concatTables,
  copulaKey,
  decodeChunk,
  encodeChunk,
  fillKey,
  GuidanceRecordSchema,
  guidanceKey,
  keepRows,
  LlmsynthorState,
  type LlmsynthorStateT,
  type LlmsynthorUpdate,
  type LsIteration,
  PoolChunkSchema,
  ProposalsRecordSchema,
  plannedIterations,
  poolKey,
  proposalsKey,
  renumberIds,
  rowsForIteration,
  totalDiscrepancy,
} from "./state.ts";
import { exactCopyMask } from "../../stats/privacy/exact-copies.ts";
import { jointDiscrepancy, marginalDiscrepancy } from "./discrepancy.ts";
import { type Proposal, rescaleCounts } from "./proposals.ts";
import { sampleProposals } from "./sampler.ts";
import { writeOutput } from "../../graph/finalize.ts";
import { type EngineRuntime, endpointFor } from "../../graph/runtime.ts";

export function buildLlmsynthorGraph(rt: EngineRuntime) {
  const o = rt.config.llmsynthor;
  const discOpts = { mainBins: o.mainBins, subBins: o.subBins };

  const loadPool = async (s: LlmsynthorStateT, metadata: Metadata): Promise<Table> => {
    const tables: Table[] = [];
    for (const key of s.chunks) tables.push(decodeChunk(await rt.store.require(key, PoolChunkSchema)));
    return concatTables(tables, metadata);
  };

  /** Drops exact copies of real rows when the privacy guard is on; the chunk records how many. */
  const guarded = async (
    drawn: Table,
    a: { requested: number; seed: number },
  ): Promise<ReturnType<typeof encodeChunk>> => {
    let table = drawn;
    if (rt.config.privacyGuard && drawn.nRows > 0) {
      const mask = exactCopyMask((await rt.real()).table, drawn);
      for (let i = 0; i < mask.length; i++) mask[i] = 1 - mask[i];
      table = keepRows(drawn, mask);
    }
    return encodeChunk(table, { ...a, exact_copies: drawn.nRows - table.nRows });
  };

  const load = async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    const real = await rt.real();
    return {
      phase: "iterate",
      dataset: real.dataset,
      metadata: real.metadata,
      iterations: plannedIterations(s.config.rows, o.iterations),
    };
  };

  const copula = async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    const real = await rt.real();
    const t = o.reinferGroups ? s.iteration + 1 : 0;
    const key = copulaKey(t);
    const seed = deriveSeed(s.config.seed, SEED_STREAMS.llmsynthor.copula, t);
    const { value } = await rt.store.memo(key, CopulaRecordSchema, async () => {
      const accounting = new Accounting();
      const r = await inferJointGroups({
        endpoint: endpointFor(rt, "copula", seed),
        metadata: real.metadata,
        nJoints: o.nJoints,
        seed,
        accounting,
      });
      return {
        groups: r.groups,
        reasons: r.reasons,
        attempts: r.attempts,
        seed,
        usage: accounting.snapshot(),
      };
    });
    return { groups: value.groups, copulaKeys: [...s.copulaKeys, key], usage: value.usage };
  };

  const measure = async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    const real = await rt.real();
    const pool = await loadPool(s, real.metadata);
    const marginals = marginalDiscrepancy(real.table, pool, discOpts);
    const joints = s.groups.map((g) => jointDiscrepancy(real.table, pool, g, discOpts));
    const discrepancy = {
      marginal: Object.fromEntries(marginals.map((m) => [m.column, m.tvd])),
      joint: joints.map((j) => ({ columns: j.columns, tvd: j.tvd })),
      total: totalDiscrepancy(marginals, joints),
    };
    const c = s.config;
    const stop =
      s.accepted >= c.rows || s.iteration >= s.iterations
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

  const withLast = (s: LlmsynthorStateT, change: Partial<LsIteration>): LsIteration[] => {
    const last = s.history[s.history.length - 1];
    return [...s.history.slice(0, -1), { ...last, ...change }];
  };

  const propose = async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    const real = await rt.real();
    const t = s.iteration;
    const nSamples = s.history[s.history.length - 1].requested;
    const key = proposalsKey(t);
    const seed = deriveSeed(s.config.seed, SEED_STREAMS.llmsynthor.proposer, t);
    const { value } = await rt.store.memo(key, ProposalsRecordSchema, async () => {
      const guidance = await rt.store.require(guidanceKey(t), GuidanceRecordSchema);
      const accounting = new Accounting();
      const r = await proposeSamples({
        endpoint: endpointFor(rt, "proposer", seed),
        metadata: real.metadata,
        guidance,
        nProposals: o.nProposals,
        nSamples,
        seed,
        accounting,
        missingVariable: o.missingVariable,
      });
      const { usage: _callUsage, ...report } = r.report;
      return {
        iteration: t,
        n_samples: nSamples,
        proposals: r.proposals,
        report,
        seed,
        usage: accounting.snapshot(),
      };
    });
    return { history: withLast(s, { proposals_key: key }), usage: value.usage };
  };

  const sample = async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    const real = await rt.real();
    const t = s.iteration;
    const key = poolKey(t);
    const seed = deriveSeed(s.config.seed, SEED_STREAMS.llmsynthor.sampler, t);
    const { value } = await rt.store.memo(key, PoolChunkSchema, async () => {
      const { proposals, n_samples } = await rt.store.require(proposalsKey(t), ProposalsRecordSchema);
      const drawn = sampleProposals(proposals, real.metadata, seed, { idStart: s.accepted + 1 });
      return guarded(drawn, { requested: n_samples, seed });
    });
    return {
      chunks: [...s.chunks, key],
      accepted: value.rows,
      exactCopiesRemoved: value.exact_copies,
      history: withLast(s, { pool_key: key, accepted: value.rows, exact_copies: value.exact_copies }),
    };
  };

  const fill = async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
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
      // The mixture the pool was drawn from: every accepted proposal, weighted by the rows it was given.
      const mixture: Proposal[] = [];
      for (const h of s.history) {
        if (h.proposals_key === null) continue;
        const rec = await rt.store.require(h.proposals_key, ProposalsRecordSchema);
        for (const p of rec.proposals) if (p.count > 0) mixture.push(p);
      }
      if (mixture.length === 0) throw new SynthgraphError("internal: no proposals to fill the pool from");
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
      return guarded(drawn, { requested: need, seed });
    });
    return {
      phase: "fill",
      fillRounds: round,
      chunks: [...s.chunks, key],
      accepted: value.rows,
      exactCopiesRemoved: value.exact_copies,
    };
  };

  const write = async (s: LlmsynthorStateT): Promise<LlmsynthorUpdate> => {
    const { metadata } = await rt.real();
    return writeOutput(s.config, renumberIds(await loadPool(s, metadata)), metadata);
  };

  return new StateGraph(LlmsynthorState)
    .addNode("load", load)
    .addNode("copula", copula)
    .addNode("measure", measure)
    .addNode("propose", propose)
    .addNode("sample", sample)
    .addNode("fill", fill)
    .addNode("write", write)
    .addEdge(START, "load")
    .addEdge("load", "copula")
    .addEdge("copula", "measure")
    .addConditionalEdges(
      "measure",
      (s: LlmsynthorStateT) => (s.phase === "write" ? "write" : s.phase === "fill" ? "fill" : "propose"),
      ["propose", "fill", "write"],
    )
    .addEdge("propose", "sample")
    .addConditionalEdges(
      "sample",
      (s: LlmsynthorStateT) =>
        o.reinferGroups && s.iteration < s.iterations && s.accepted < s.config.rows ? "copula" : "measure",
      ["copula", "measure"],
    )
    .addConditionalEdges("fill", (s: LlmsynthorStateT) => (s.accepted >= s.config.rows ? "write" : "fill"), [
      "write",
      "fill",
    ])
    .addEdge("write", END);
}
