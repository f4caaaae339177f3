/**
 * The shared graph of the engines that sample by code (graph/code-sampling-graph.ts), its nodes and routers run
 * for both engines (copula, bayesnet) against an in-memory artifact store: the fit is stored once and a stored
 * fit is used as is; each chunk is the guarded draw of its own seed, stored before the node returns and
 * returned again (not redrawn) by a re-run; the whole graph tops up rows the privacy guard removed to exactly N;
 * conditional runs plan per group, draw each chunk under its group's predicate, check every row by code
 * (a sampler that ignores the condition is caught and topped up) and write exactly the rows of each group,
 * group after group.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { metadataToJson } from "../../data/metadata.ts";
import { parsePredicate, predicateMask } from "../../data/predicate/index.ts";
import { readTable } from "../../data/read.ts";
import type { Table } from "../../data/types.ts";
import { buildBayesnetGraph } from "../../engines/bayesnet/graph.ts";
import { fitBayesNet } from "../../engines/bayesnet/fit.ts";
import { bayesnetSampler } from "../../engines/bayesnet/sampler.ts";
import { sampleUnder as bayesnetUnder } from "../../engines/bayesnet/sample-under.ts";
import { BayesnetState } from "../../engines/bayesnet/state.ts";
import { buildCopulaGraph } from "../../engines/copula/graph.ts";
import { CopulaState } from "../../engines/copula/state.ts";
import { fitCopula } from "../../engines/copula/fit.ts";
import { copulaSampler } from "../../engines/copula/sampler.ts";
import { sampleUnder as copulaUnder } from "../../engines/copula/sample-under.ts";
import { decodeChunk } from "../../engines/llmsynthor/state.ts";
import { chunkKey, chunkSeed, SampledChunkSchema } from "../../graph/code-sampling.ts";
import {
  afterPlan,
  afterSample,
  buildCodeSamplingGraph,
  type CodeSampler,
  type CodeSamplingUpdate,
  type CodeSamplingView,
  fitNode,
  planRoundNode,
  sampleNode,
} from "../../graph/code-sampling-graph.ts";
import type { EngineRuntime, RealData } from "../../graph/runtime.ts";
import { privacyFilterTable } from "../../graph/privacy-guard.ts";
import { ArtifactStore } from "../../state/artifacts.ts";
import type { RunConfig, RunConfigInput } from "../../state/config.ts";
import { deriveSeed, SEED_STREAMS } from "../../state/seeds.ts";
import { exactCopyMask } from "../../stats/privacy/exact-copies.ts";
import { halfCopiedTable, offlineConfig, runOfflineGraph } from "../support/offline-engines.ts";
import { realDataOf, smallRealTable } from "../support/tables.ts";

const tmp = mkdtempSync(join(tmpdir(), "synthgraph-code-sampling-"));

// The two samplers have different model and summary types; the cases use them through this view.
type AnySampler = CodeSampler<any, any>;

interface EngineCase {
  engine: "copula" | "bayesnet";
  sampler: AnySampler;
  build: (rt: EngineRuntime) => { compile(o: never): unknown };
  /** The engine's graph over another sampler (same state). */
  buildWith: (sampler: AnySampler, rt: EngineRuntime) => { compile(o: never): unknown };
  /** The engine's own chunk-size option. */
  chunk: (rows: number) => Partial<RunConfigInput>;
  /** The model the fit node must store: the engine's fit called directly with the fit stream's seed. */
  expectedFit: (real: RealData, config: RunConfig) => unknown;
  /** Another model of the same table, and how its summary differs from the default fit's. */
  otherModel: (real: RealData) => unknown;
  isOther: (summary: unknown) => boolean;
  /** Whether the engine conditions exactly on a level or a closed range (no draw rejected), or by rejection. */
  exact: boolean;
  /** The engine's conditional sampler, called directly. */
  under: (
    model: unknown,
    n: number,
    seed: number,
    pred: ReturnType<typeof parsePredicate> | null,
    real: RealData,
  ) => Table;
}

const CASES: EngineCase[] = [
  {
    engine: "copula",
    sampler: copulaSampler,
    exact: false,
    buildWith: (sampler, rt) => buildCodeSamplingGraph(CopulaState, sampler, rt) as never,
    build: buildCopulaGraph as EngineCase["build"],
    chunk: (rows) => ({ copula: { chunkRows: rows } }),
    expectedFit: (real, config) =>
      fitCopula(real.table, real.metadata, {
        distribution: "auto",
        seed: deriveSeed(config.seed, SEED_STREAMS.copula.fit, 0),
      }),
    otherModel: (real) => fitCopula(real.table, real.metadata, { distribution: "uniform" }),
    isOther: (f) =>
      (f as { marginals: Array<{ family: string }> }).marginals.every((m) => m.family === "uniform"),
    under: (model, n, seed, pred, real) => copulaUnder(model as never, n, seed, pred, real.metadata),
  },
  {
    engine: "bayesnet",
    sampler: bayesnetSampler,
    exact: true,
    buildWith: (sampler, rt) => buildCodeSamplingGraph(BayesnetState, sampler, rt) as never,
    build: buildBayesnetGraph as EngineCase["build"],
    chunk: (rows) => ({ bayesnet: { chunkRows: rows } }),
    expectedFit: (real, config) =>
      fitBayesNet(real.table, real.metadata, {
        bins: 5,
        maxParents: 3,
        pseudoCount: 1,
        restarts: 0,
        seed: deriveSeed(config.seed, SEED_STREAMS.bayesnet.fit, 0),
      }),
    otherModel: (real) => fitBayesNet(real.table, real.metadata, { bins: 2 }),
    isOther: (f) => (f as { bins: number }).bins === 2,
    under: (model, n, seed, pred, real) => bayesnetUnder(model as never, n, seed, pred, real.metadata),
  },
];

/** The state the nodes read at the start of a run. */
function startState(config: RunConfig): CodeSamplingView {
  return {
    config,
    phase: "fit",
    modelKey: null,
    roundRows: [],
    roundGroups: [],
    groupAccepted: [],
    nextChunk: 0,
    chunks: [],
    accepted: 0,
    exactCopiesRemoved: 0,
  };
}

/** Applies an update the way the state's fields do: counters add, everything else replaces. */
function apply(s: CodeSamplingView, u: CodeSamplingUpdate<unknown>): CodeSamplingView {
  return {
    ...s,
    ...u,
    modelKey: u.modelKey ?? s.modelKey,
    accepted: s.accepted + (u.accepted ?? 0),
    exactCopiesRemoved: s.exactCopiesRemoved + (u.exactCopiesRemoved ?? 0),
  };
}

/** The output CSV read back: rows and the mask of `where` over them. */
async function written(out: string, real: RealData, where?: string): Promise<{ t: Table; mask: number[] }> {
  const back = await readTable(out, { metadata: metadataToJson(real.metadata) });
  const mask = where ? [...predicateMask(parsePredicate(where, real.metadata), back.table)] : [];
  return { t: back.table, mask };
}

describe.each(CASES)("$engine on the shared code-sampling graph", (c) => {
  it("routers: write once N rows are in; the round's next chunk while chunks are left, then plan_round", () => {
    expect(afterPlan({ phase: "write" })).toBe("write");
    expect(afterPlan({ phase: "sample" })).toBe("sample");
    const config = offlineConfig({ out: "/tmp/x.csv", ...c.chunk(25) });
    const at = (nextChunk: number, roundRows = [60]) =>
      afterSample(c.sampler)({ config, roundRows, roundGroups: [], nextChunk });
    // ⌈60 / 25⌉ = 3 chunks; a top-up round of 10 rows is one chunk.
    expect([1, 2, 3].map((k) => at(k))).toEqual(["sample", "sample", "plan_round"]);
    expect(at(1, [60, 10])).toBe("plan_round");
    // Conditional: each group's rows cut separately, ⌈30 / 25⌉ + ⌈10 / 25⌉ = 3 chunks for 40 rows.
    const cond = offlineConfig({
      out: "/tmp/x.csv",
      rows: 40,
      conditions: [
        { where: "k >= 1", rows: 30 },
        { where: "k < 1", rows: 10 },
      ],
      ...c.chunk(25),
    });
    const atCond = (nextChunk: number) =>
      afterSample(c.sampler)({ config: cond, roundRows: [40], roundGroups: [[30, 10]], nextChunk });
    expect([1, 2, 3].map(atCond)).toEqual(["sample", "sample", "plan_round"]);
  });

  it("fit stores the model fitted with the fit stream's seed, and a stored model is used as is", async () => {
    const real = realDataOf(smallRealTable());
    const config = offlineConfig({ out: join(tmp, `${c.engine}-x.csv`) });
    const store = ArtifactStore.inMemory();
    const u = await fitNode({ store, real: async () => real }, c.sampler)(startState(config));
    expect(await store.require(c.sampler.modelKey, c.sampler.modelSchema)).toEqual(
      c.expectedFit(real, config),
    );
    expect(u.modelKey).toBe(c.sampler.modelKey);
    expect(c.isOther(u.fitSummary)).toBe(false);

    // A resumed run finds the artifact: the stored model wins over refitting with the config's options.
    const stored = ArtifactStore.inMemory();
    await stored.put(c.sampler.modelKey, c.otherModel(real));
    const again = await fitNode({ store: stored, real: async () => real }, c.sampler)(startState(config));
    expect(c.isOther(again.fitSummary)).toBe(true);
  });

  it("sample stores the guarded draw of chunk (round, c) with its seed; a re-run returns the stored chunk", async () => {
    const real = realDataOf(halfCopiedTable());
    const config = offlineConfig({ out: join(tmp, `${c.engine}-y.csv`), rows: 60, ...c.chunk(25) });
    const store = ArtifactStore.inMemory();
    const rt = { store, real: async () => real };
    let s = apply(startState(config), await fitNode(rt, c.sampler)(startState(config)));
    s = apply(s, await planRoundNode(rt)(s));
    expect(s.roundRows).toEqual([60]);
    const u = await sampleNode(rt, c.sampler)(s);
    const key = chunkKey(c.engine, 1, 0);
    expect(u.chunks).toEqual([key]);
    expect(u.nextChunk).toBe(1);
    const model = await store.require(c.sampler.modelKey, c.sampler.modelSchema);
    const seed = chunkSeed(config.seed, c.sampler.stream, 1, 0);
    const want = privacyFilterTable(real, c.under(model, 25, seed, null, real));
    const chunk = await store.require(key, SampledChunkSchema);
    expect(decodeChunk(chunk)).toEqual(want.table);
    expect(chunk).toMatchObject({ requested: 25, exact_copies: want.exactCopies, seed });
    // Unconditional chunks carry no group.
    expect(chunk.group).toBeUndefined();
    expect(u.accepted).toBe(want.table.nRows);
    expect(u.exactCopiesRemoved).toBe(want.exactCopies);
    expect(want.exactCopies).toBeGreaterThan(0);
    // Re-run after a crash before the checkpoint: the stored chunk, not a new draw (even from another model).
    await store.put(c.sampler.modelKey, c.otherModel(real));
    expect(await sampleNode(rt, c.sampler)(s)).toEqual(u);
  });

  it("the graph tops up the rows the privacy guard removed: exactly N rows, none a copy", async () => {
    const real = realDataOf(halfCopiedTable());
    const out = join(tmp, `${c.engine}-topup.csv`);
    const config = offlineConfig({ out, rows: 60, ...c.chunk(25) });
    const s = await runOfflineGraph<CodeSamplingView & { phase: string; output: unknown }>(
      c.build,
      config,
      real,
    );
    expect(s.phase).toBe("done");
    expect(s.output).toEqual({ path: out, rows: 60 });
    expect(s.accepted).toBe(60);
    expect(s.exactCopiesRemoved).toBeGreaterThan(0);
    expect(s.roundRows.length).toBeGreaterThan(1);
    // Round r + 1 plans what rounds 1..r left missing.
    expect(s.roundRows[0]).toBe(60);
    const back = await written(out, real);
    expect(back.t.nRows).toBe(60);
    expect(exactCopyMask(real.table, back.t).every((m) => m === 0)).toBe(true);
  });

  it("without the privacy guard one round draws N rows; with too few rounds the run fails saying why", async () => {
    const real = realDataOf(halfCopiedTable());
    const open = offlineConfig({
      out: join(tmp, `${c.engine}-open.csv`),
      privacyGuard: false,
      ...c.chunk(25),
    });
    const s = await runOfflineGraph<CodeSamplingView>(c.build, open, real);
    expect(s.roundRows).toEqual([60]);
    expect(s.chunks).toHaveLength(3);
    expect(s.exactCopiesRemoved).toBe(0);
    const tight = offlineConfig({ out: join(tmp, `${c.engine}-tight.csv`), maxRounds: 1, ...c.chunk(25) });
    await expect(runOfflineGraph(c.build, tight, real)).rejects.toThrow(
      /after 1 sampling rounds only \d+ of 60 rows passed the privacy guard/,
    );
  });

  it("conditional: each chunk is its group's guarded draw under the group's predicate; rows counted per group", async () => {
    const real = realDataOf(halfCopiedTable());
    const conditions = [
      { where: 's == "A"', rows: 30 },
      { where: "k >= 7", rows: 10 },
    ];
    const config = offlineConfig({
      out: join(tmp, `${c.engine}-cond.csv`),
      rows: 40,
      conditions,
      ...c.chunk(25),
    });
    const store = ArtifactStore.inMemory();
    const rt = { store, real: async () => real };
    let s = apply(startState(config), await fitNode(rt, c.sampler)(startState(config)));
    s = apply(s, await planRoundNode(rt)(s));
    expect(s.roundRows).toEqual([40]);
    expect(s.roundGroups).toEqual([[30, 10]]);
    // Chunks of 25: group 1's 30 rows as 25 + 5, then group 2's 10.
    const model = await store.require(c.sampler.modelKey, c.sampler.modelSchema);
    const plan = [
      { group: 0, n: 25 },
      { group: 0, n: 5 },
      { group: 1, n: 10 },
    ];
    for (const [k, p] of plan.entries()) {
      expect(afterSample(c.sampler)(s)).toBe("sample");
      const u = await sampleNode(rt, c.sampler)(s);
      const chunk = await store.require(chunkKey(c.engine, 1, k), SampledChunkSchema);
      const seed = chunkSeed(config.seed, c.sampler.stream, 1, k);
      const pred = parsePredicate(conditions[p.group].where, real.metadata);
      const want = privacyFilterTable(real, c.under(model, p.n, seed, pred, real));
      expect(decodeChunk(chunk)).toEqual(want.table);
      expect(chunk).toMatchObject({
        requested: p.n,
        group: p.group,
        unmet: 0,
        exact_copies: want.exactCopies,
      });
      // The Bayesian network conditions on a level and a closed range by evidence: no draw is rejected; the
      // copula rejects the draws outside the condition.
      if (c.exact) expect(chunk.drawn).toBe(p.n);
      else expect(chunk.drawn as number).toBeGreaterThan(p.n);
      expect(predicateMask(pred, decodeChunk(chunk)).every((m) => m === 1)).toBe(true);
      const before = s.groupAccepted[p.group] ?? 0;
      s = apply(s, u);
      expect(s.groupAccepted[p.group]).toBe(before + want.table.nRows);
    }
    expect(afterSample(c.sampler)(s)).toBe("plan_round");
    // The next round plans what each group still misses (the privacy guard removed copies in group 1).
    const next = await planRoundNode(rt)(s);
    const missing = [30 - s.groupAccepted[0], 10 - s.groupAccepted[1]];
    expect(missing[0]).toBeGreaterThan(0);
    expect(next.roundGroups).toEqual([[30, 10], missing]);
    expect(next.roundRows).toEqual([40, missing[0] + missing[1]]);
  });

  it("conditional graph: exactly the rows of each group, group after group, every row satisfying its group's predicate", async () => {
    const real = realDataOf(halfCopiedTable());
    const out = join(tmp, `${c.engine}-groups.csv`);
    const conditions = [
      { where: 's == "A"', rows: 30 },
      { where: 'k >= 7 or s == "B"', rows: 12 },
    ];
    const config = offlineConfig({ out, rows: 42, conditions, ...c.chunk(10) });
    const s = await runOfflineGraph<CodeSamplingView & { output: unknown }>(c.build, config, real);
    expect(s.output).toEqual({ path: out, rows: 42 });
    expect(s.groupAccepted).toEqual([30, 12]);
    // The guard removed copies of real rows (half the (k, "A") pairs are real), so top-up rounds ran.
    expect(s.exactCopiesRemoved).toBeGreaterThan(0);
    expect(s.roundGroups.length).toBeGreaterThan(1);
    const first = await written(out, real, conditions[0].where);
    const second = await written(out, real, conditions[1].where);
    expect(first.t.nRows).toBe(42);
    expect(first.mask.slice(0, 30)).toEqual(new Array(30).fill(1));
    expect(second.mask.slice(30)).toEqual(new Array(12).fill(1));
    expect(exactCopyMask(real.table, first.t).every((m) => m === 0)).toBe(true);
  });

  it("every row is checked by code: a sampler that ignores the condition is filtered and topped up", async () => {
    const real = realDataOf(halfCopiedTable());
    const out = join(tmp, `${c.engine}-ignores.csv`);
    const where = 'k <= 4 and s == "B"';
    const careless: AnySampler = {
      ...c.sampler,
      draw: (m, n, seed, _cond, meta, on) => c.sampler.draw(m, n, seed, null, meta, on),
    };
    const build = (rt: EngineRuntime) => c.buildWith(careless, rt);
    const config = offlineConfig({
      out,
      rows: 20,
      conditions: [{ where, rows: 20 }],
      privacyGuard: false,
      ...c.chunk(20),
    });
    const store = ArtifactStore.inMemory();
    const s = await runOfflineGraph<CodeSamplingView>(build, config, real, store);
    expect(s.groupAccepted).toEqual([20]);
    const chunks = await Promise.all(s.chunks.map((k) => store.require(k, SampledChunkSchema)));
    const unmet = chunks.reduce((a, ch) => a + (ch.unmet ?? 0), 0);
    expect(unmet).toBeGreaterThan(0);
    // The rows kept are the rows drawn minus those the check dropped.
    expect(chunks.reduce((a, ch) => a + ch.rows, 0)).toBe(
      chunks.reduce((a, ch) => a + ch.requested, 0) - unmet,
    );
    const back = await written(out, real, where);
    expect(back.mask).toEqual(new Array(20).fill(1));
  });
});
