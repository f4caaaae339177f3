/**
 * Each LLMSynthor node on its own: a runtime built here (the config on the loopback LLM server, an in-memory
 * artifact store, the 40-row real table of the harness read by the runner's own loader) and a state built by
 * hand. Model-calling nodes (copula, propose) are tested against the server and on their memoised path (the
 * artifact put beforehand: no request reaches the server).
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SynthgraphError } from "../../../data/errors.ts";
import {
  copula,
  fill,
  load,
  type LsRuntime,
  measure,
  propose,
  sample,
  write,
} from "../../../engines/llmsynthor/nodes.ts";
import type { Proposal } from "../../../engines/llmsynthor/proposals.ts";
import {
  CopulaRecordSchema,
  copulaKey,
  decodeChunk,
  encodeChunk,
  fillKey,
  GuidanceRecordSchema,
  guidanceKey,
  keepRows,
  type LsIteration,
  PoolChunkSchema,
  ProposalsRecordSchema,
  poolKey,
  proposalsKey,
} from "../../../engines/llmsynthor/state.ts";
import type { Table } from "../../../data/types.ts";
import { realLoader } from "../../../graph/run.ts";
import { emptySnapshot } from "../../../models/accounting.ts";
import { ArtifactStore } from "../../../state/artifacts.ts";
import { type RunConfig, LlmsynthorOptionsSchema } from "../../../state/config.ts";
import { deriveSeed, SEED_STREAMS } from "../../../state/seeds.ts";
import { realRows, TEST_ENV, useLlmServer, useRunFiles } from "../../support/harness.ts";
import {
  CENSUS_PROPOSALS,
  lsResponder,
  lsState,
  nSamplesOf,
  proposalPrompt,
  proposalsRecord,
} from "../../support/llmsynthor.ts";
import { seedOf, testConfig } from "../../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("llmsynthor-nodes-");

function config(
  change: Partial<RunConfig> & { tolerance?: number; reinferGroups?: boolean } = {},
): RunConfig {
  const { tolerance, reinferGroups, ...rest } = change;
  return testConfig(server, "ollama", {
    input: files.input,
    out: files.paths().out,
    rows: 60,
    seed: 7,
    engine: "llmsynthor",
    llmsynthor: LlmsynthorOptionsSchema.parse({
      tolerance: tolerance ?? 0,
      reinferGroups: reinferGroups ?? false,
    }),
    ...rest,
  });
}

function runtime(cfg: RunConfig): LsRuntime & { store: ArtifactStore } {
  return { config: cfg, store: ArtifactStore.inMemory(), real: realLoader(cfg), env: TEST_ENV };
}

/** A history record of iteration t as measure opens it, with `change` applied. */
function record(t: number, change: Partial<LsIteration> = {}): LsIteration {
  return {
    iteration: t,
    pool_rows: 0,
    discrepancy: { marginal: {}, joint: [], total: 0.5 },
    groups: [],
    requested: 0,
    proposals_key: null,
    pool_key: null,
    accepted: 0,
    exact_copies: 0,
    ...change,
  };
}

/** The real rows with index in [from, to) as a table. */
function realSlice(table: Table, from: number, to: number): Table {
  const keep = new Uint8Array(table.nRows);
  for (let i = from; i < to; i++) keep[i] = 1;
  return keepRows(table, keep);
}

/** The decoded chunk's rows as {sex, age, hours, income} objects. */
function chunkRows(chunk: ReturnType<typeof encodeChunk>) {
  const t = decodeChunk(chunk);
  const col = (name: string) => t.columns.find((c) => c.name === name);
  const rows: { age: number; sex: string; hours: number; income: string }[] = [];
  for (let i = 0; i < t.nRows; i++) {
    const [age, sex, hours, income] = [col("age"), col("sex"), col("hours"), col("income")];
    if (!age || !sex || !hours || !income) throw new Error("chunk lacks a column");
    if (!("values" in age) || !("codes" in sex) || !("values" in hours) || !("codes" in income))
      throw new Error("unexpected column kinds");
    rows.push({
      age: age.values[i],
      sex: sex.levels[sex.codes[i]],
      hours: hours.values[i],
      income: income.levels[income.codes[i]],
    });
  }
  return rows;
}

const proposal = (
  sex: string,
  age: [number, number],
  hours: [number, number],
  income: string,
  count: number,
): Proposal => ({
  parts: {
    age: { kind: "range", min: age[0], max: age[1] },
    sex: { kind: "category", value: sex },
    hours: { kind: "range", min: hours[0], max: hours[1] },
    income: { kind: "category", value: income },
  },
  count,
  reason: `${sex} ${income}`,
});

describe("load", () => {
  it("records the dataset and metadata and plans T = ⌊N / 20⌋ (60 rows: 3) unless configured", async () => {
    const cfg = config();
    const u = await load(runtime(cfg))(lsState(cfg));
    expect(u.phase).toBe("iterate");
    expect(u.iterations).toBe(3);
    expect(u.dataset).toMatchObject({
      path: files.input,
      rows: 40,
      columns: ["age", "sex", "hours", "income"],
    });
    expect(u.metadata?.columns.map((c) => c.name)).toEqual(["age", "sex", "hours", "income"]);
    const four = config({});
    four.llmsynthor = { ...four.llmsynthor, iterations: 4 };
    expect((await load(runtime(four))(lsState(four))).iterations).toBe(4);
  });
});

describe("copula", () => {
  it("asks the copula model once (seed of stream copula, index 0), stores the record and counts its usage", async () => {
    server.setDefault(lsResponder());
    const cfg = config();
    const rt = runtime(cfg);
    const u = await copula(rt)(lsState(cfg));
    const reqs = server.chatRequests();
    expect(reqs).toHaveLength(1);
    expect(seedOf(reqs[0])).toBe(deriveSeed(7, SEED_STREAMS.llmsynthor.copula, 0));
    expect(u.groups).toEqual([
      ["age", "income"],
      ["sex", "hours"],
    ]);
    expect(u.copulaKeys).toEqual(["llmsynthor/copula/it-000"]);
    expect(u.usage).toMatchObject({ calls: 1, by_role: { copula: { calls: 1 } } });
    const stored = await rt.store.require(copulaKey(0), CopulaRecordSchema);
    expect(stored.seed).toBe(deriveSeed(7, SEED_STREAMS.llmsynthor.copula, 0));
    expect(stored.usage).toEqual(u.usage);

    // A re-run (after a crash before the checkpoint) returns the stored groups and usage without a request.
    const again = await copula(rt)(lsState(cfg));
    expect(server.chatRequests()).toHaveLength(1);
    expect(again).toEqual(u);
  });

  it("with reinferGroups asks before iteration t + 1 under its own key and seed, appending the key", async () => {
    server.setDefault(lsResponder({ copula: () => JSON.stringify({ "1": ["sex", "income"] }) }));
    const cfg = config({ reinferGroups: true });
    const u = await copula(runtime(cfg))(lsState(cfg, { iteration: 1, copulaKeys: [copulaKey(1)] }));
    expect(seedOf(server.chatRequests()[0])).toBe(deriveSeed(7, SEED_STREAMS.llmsynthor.copula, 2));
    expect(u.copulaKeys).toEqual([copulaKey(1), copulaKey(2)]);
    expect(u.groups).toEqual([["sex", "income"]]);
  });

  it("returns a stored record without calling the model", async () => {
    const cfg = config();
    const rt = runtime(cfg);
    const { by_role: _none, ...zero } = emptySnapshot();
    const usage = { ...zero, calls: 1, by_role: { copula: { ...zero, calls: 1 } } };
    await rt.store.put(copulaKey(0), {
      groups: [["hours", "income"]],
      reasons: ["r"],
      attempts: 1,
      seed: 5,
      usage,
    });
    const u = await copula(rt)(lsState(cfg));
    expect(server.chatRequests()).toEqual([]);
    expect(u).toEqual({ groups: [["hours", "income"]], copulaKeys: [copulaKey(0)], usage });
  });
});

describe("measure", () => {
  it("on an empty pool: every TVD is ½·Σ real shares = 0.5, guidance stored, iteration 1 asks ⌈60 / 3⌉ = 20", async () => {
    const cfg = config();
    const rt = runtime(cfg);
    const groups = [["age", "income"]];
    const u = await measure(rt)(lsState(cfg, { iterations: 3, groups }));
    expect(u.iteration).toBe(1);
    expect(u.history).toHaveLength(1);
    const h = u.history?.[0];
    expect(h).toMatchObject({ iteration: 1, pool_rows: 0, groups, requested: 20, proposals_key: null });
    for (const tvd of Object.values(h?.discrepancy.marginal ?? {})) expect(tvd).toBeCloseTo(0.5, 12);
    expect(h?.discrepancy.joint.map((j) => j.columns)).toEqual(groups);
    expect(h?.discrepancy.total).toBeCloseTo(0.5, 12);
    const guidance = await rt.store.require(guidanceKey(1), GuidanceRecordSchema);
    // 20 of 40 real rows are Female, none of the 0 pool rows.
    expect(guidance.marginal).toContain('"sex" = "Female": real 50.0%, synthetic 0.0% (gap +50.0 pts');
    expect(u.stoppedBecause).toBeUndefined();
  });

  it("stops after T iterations: fill when rows are missing, write when N are there (no guidance stored)", async () => {
    const cfg = config();
    const rt = runtime(cfg);
    const missing = await measure(rt)(lsState(cfg, { iterations: 3, iteration: 3, accepted: 20 }));
    expect(missing).toMatchObject({ stoppedBecause: "iterations", phase: "fill" });
    expect(missing.finalDiscrepancy?.total).toBeCloseTo(0.5, 12);
    expect(await rt.store.has(guidanceKey(4))).toBe(false);
    // An empty pool after T iterations (every proposal unusable): the loop goes on, asking for all N rows,
    // until T + maxRounds iterations.
    const empty = await measure(rt)(lsState(cfg, { iterations: 3, iteration: 3 }));
    expect(empty.iteration).toBe(4);
    expect(empty.history?.[0]).toMatchObject({ iteration: 4, requested: cfg.rows });
    const exhausted = await measure(rt)(lsState(cfg, { iterations: 3, iteration: 3 + cfg.maxRounds }));
    expect(exhausted).toMatchObject({ stoppedBecause: "iterations", phase: "fill" });
    // N rows before T iterations are done (the pool itself is not read for the decision: it is empty here).
    const full = await measure(rt)(lsState(cfg, { iterations: 3, iteration: 1, accepted: 60 }));
    expect(full).toMatchObject({ stoppedBecause: "iterations", phase: "write" });
  });

  it("stops under the tolerance from iteration 1 on: a pool equal to the real table has discrepancy 0", async () => {
    const cfg = config({ tolerance: 0.1 });
    const rt = runtime(cfg);
    const real = await rt.real();
    await rt.store.put(poolKey(1), encodeChunk(real.table, { requested: 40, exact_copies: 0, seed: 0 }));
    const base = { iterations: 3, groups: [["age", "income"]], chunks: [poolKey(1)], accepted: 40 };
    const stopped = await measure(rt)(lsState(cfg, { ...base, iteration: 1 }));
    expect(stopped).toMatchObject({ stoppedBecause: "tolerance", phase: "fill" });
    expect(stopped.finalDiscrepancy?.total).toBe(0);
    // Before the first iteration the tolerance does not apply.
    const first = await measure(rt)(lsState(cfg, { ...base, iteration: 0 }));
    expect(first.iteration).toBe(1);
    // Tolerance 0: 0 < 0 is false, so iteration 2 asks ⌈(60 − 40) / (3 − 2 + 1)⌉ = 10 rows.
    const cfg0 = config({ tolerance: 0 });
    const rt0 = { ...rt, config: cfg0 };
    const on = await measure(rt0)(lsState(cfg0, { ...base, iteration: 1 }));
    expect(on.history?.[0]).toMatchObject({ iteration: 2, pool_rows: 40, requested: 10 });
    expect(on.history?.[0].discrepancy.total).toBe(0);
  });
});

describe("propose", () => {
  it("asks for the iteration's rows with its stored guidance, stores the proposals and marks the record", async () => {
    server.setDefault(lsResponder());
    const cfg = config();
    const rt = runtime(cfg);
    await rt.store.put(guidanceKey(1), { joint: "JOINT GUIDANCE TEXT", marginal: "MARGINAL GUIDANCE TEXT" });
    const s = lsState(cfg, { iterations: 3, iteration: 1, history: [record(1, { requested: 20 })] });
    const u = await propose(rt)(s);
    const [req] = server.chatRequests();
    expect(seedOf(req)).toBe(deriveSeed(7, SEED_STREAMS.llmsynthor.proposer, 1));
    expect(nSamplesOf(req)).toBe(20);
    expect(proposalPrompt(req)).toContain("MARGINAL GUIDANCE TEXT");
    expect(proposalPrompt(req)).toContain("JOINT GUIDANCE TEXT");
    expect(u.history).toEqual([record(1, { requested: 20, proposals_key: proposalsKey(1) })]);
    expect(u.usage).toMatchObject({ calls: 1, by_role: { proposer: { calls: 1 } } });
    const stored = await rt.store.require(proposalsKey(1), ProposalsRecordSchema);
    // Weights 3:1:3:1 of 20: quotas 7.5, 2.5, 7.5, 2.5 → 7, 2, 7, 2 plus the two remainders (ties first) → 8, 3, 7, 2.
    expect(stored.proposals.map((p) => p.count)).toEqual([8, 3, 7, 2]);
    expect(stored).toMatchObject({
      iteration: 1,
      n_samples: 20,
      report: { received: CENSUS_PROPOSALS.length },
    });
    expect(stored.usage).toEqual(u.usage);
  });

  it("returns stored proposals without calling the model (and without reading the guidance)", async () => {
    const cfg = config();
    const rt = runtime(cfg);
    await rt.store.put(
      proposalsKey(2),
      proposalsRecord(2, [proposal("Male", [30, 40], [20, 30], "<=50K", 5)]),
    );
    const s = lsState(cfg, { iteration: 2, history: [record(1), record(2, { requested: 5 })] });
    const u = await propose(rt)(s);
    expect(server.chatRequests()).toEqual([]);
    expect(u.history).toEqual([record(1), record(2, { requested: 5, proposals_key: proposalsKey(2) })]);
  });

  it("fails with a clear error when the iteration's guidance is missing", async () => {
    const cfg = config();
    const s = lsState(cfg, { iteration: 1, history: [record(1, { requested: 20 })] });
    const err = await propose(runtime(cfg))(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynthgraphError);
    expect((err as Error).message).toBe("artifact memory:llmsynthor/guidance/it-001 is missing");
  });
});

describe("sample", () => {
  const young = proposal("Female", [20, 29], [20, 30], "<=50K", 3);
  const old = proposal("Male", [40, 49], [35, 45], ">50K", 2);

  it("draws each proposal's count inside its parts and appends the chunk to the pool and the record", async () => {
    const cfg = config();
    const rt = runtime(cfg);
    await rt.store.put(proposalsKey(1), proposalsRecord(1, [young, old]));
    const s = lsState(cfg, {
      iteration: 1,
      history: [record(1, { requested: 5, proposals_key: proposalsKey(1) })],
    });
    const u = await sample(rt)(s);
    expect(u).toMatchObject({ chunks: [poolKey(1)], accepted: 5, exactCopiesRemoved: 0 });
    expect(u.history?.[0]).toMatchObject({ pool_key: poolKey(1), accepted: 5, exact_copies: 0 });
    const chunk = await rt.store.require(poolKey(1), PoolChunkSchema);
    expect(chunk).toMatchObject({ requested: 5, rows: 5, exact_copies: 0 });
    expect(chunk.seed).toBe(deriveSeed(7, SEED_STREAMS.llmsynthor.sampler, 1));
    const rows = chunkRows(chunk);
    const women = rows.filter((r) => r.sex === "Female");
    const men = rows.filter((r) => r.sex === "Male");
    expect([women.length, men.length]).toEqual([3, 2]);
    for (const r of women) expect(r.age >= 20 && r.age <= 29 && r.hours >= 20 && r.hours <= 30).toBe(true);
    for (const r of women) expect(r.income).toBe("<=50K");
    for (const r of men) expect(r.age >= 40 && r.age <= 49 && r.hours >= 35 && r.hours <= 45).toBe(true);
    for (const r of men) expect(r.income).toBe(">50K");
  });

  it("drops exact copies of real rows when the guard is on, keeps them when it is off", async () => {
    // Real row 0 is (20, Female, 20.13, <=50K): a point proposal reproduces it exactly.
    const r0 = realRows()[0];
    expect(r0).toEqual({ age: 20, sex: "Female", hours: 20.13, income: "<=50K" });
    const copy = proposal("Female", [20, 20], [20.13, 20.13], "<=50K", 2);
    for (const privacyGuard of [true, false]) {
      const cfg = config({ privacyGuard });
      const rt = runtime(cfg);
      await rt.store.put(proposalsKey(1), proposalsRecord(1, [copy]));
      const s = lsState(cfg, {
        iteration: 1,
        history: [record(1, { requested: 2, proposals_key: proposalsKey(1) })],
      });
      const u = await sample(rt)(s);
      const expected = privacyGuard ? { accepted: 0, exact_copies: 2 } : { accepted: 2, exact_copies: 0 };
      expect(u).toMatchObject({ accepted: expected.accepted, exactCopiesRemoved: expected.exact_copies });
      expect(u.history?.[0]).toMatchObject(expected);
      expect((await rt.store.require(poolKey(1), PoolChunkSchema)).rows).toBe(expected.accepted);
    }
  });

  it("returns a stored chunk without drawing (no proposals record is read)", async () => {
    const cfg = config();
    const rt = runtime(cfg);
    const real = await rt.real();
    const stored = encodeChunk(realSlice(real.table, 0, 4), { requested: 5, exact_copies: 1, seed: 3 });
    await rt.store.put(poolKey(1), stored);
    const s = lsState(cfg, { iteration: 1, history: [record(1, { requested: 5 })] });
    const u = await sample(rt)(s);
    expect(u).toMatchObject({ chunks: [poolKey(1)], accepted: 4, exactCopiesRemoved: 1 });
  });
});

describe("fill", () => {
  const women = proposal("Female", [20, 29], [20, 30], "<=50K", 3);
  const unused = proposal("Male", [50, 59], [40, 50], ">50K", 0);
  const men = proposal("Male", [40, 49], [35, 45], "<=50K", 1);

  it("draws the missing rows from the mixture of accepted proposals, weighted by their counts", async () => {
    const cfg = config();
    const rt = runtime(cfg);
    await rt.store.put(proposalsKey(1), proposalsRecord(1, [women, unused, men]));
    const history = [record(1, { proposals_key: proposalsKey(1) }), record(2)];
    const u = await fill(rt)(lsState(cfg, { history, accepted: 50, chunks: [poolKey(1)] }));
    expect(u).toMatchObject({ phase: "fill", fillRounds: 1, chunks: [poolKey(1), fillKey(1)], accepted: 10 });
    const chunk = await rt.store.require(fillKey(1), PoolChunkSchema);
    expect(chunk).toMatchObject({
      requested: 10,
      rows: 10,
      seed: deriveSeed(7, SEED_STREAMS.llmsynthor.fill, 1),
    });
    // Need 60 − 50 = 10 rows; weights 3 and 1 (the count-0 proposal is left out): quotas 7.5 and 2.5 → 7 and 2,
    // the one row left to the first of the tied remainders → 8 women and 2 men, none >50K.
    const rows = chunkRows(chunk);
    expect(rows.filter((r) => r.sex === "Female")).toHaveLength(8);
    expect(rows.filter((r) => r.sex === "Male")).toHaveLength(2);
    expect(rows.filter((r) => r.income === ">50K")).toEqual([]);
  });

  it("fails after maxRounds rounds, naming the rows and the copies removed", async () => {
    const cfg = config({ maxRounds: 2 });
    const s = lsState(cfg, { fillRounds: 2, accepted: 55, exactCopiesRemoved: 9 });
    const err = await fill(runtime(cfg))(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynthgraphError);
    expect((err as Error).message).toBe(
      "after 2 fill rounds the pool has 55 of 60 rows (9 exact copies of real rows removed)",
    );
  });

  it("fails when no iteration left proposals to fill from", async () => {
    const cfg = config();
    const err = await fill(runtime(cfg))(lsState(cfg, { history: [record(1)], accepted: 10 })).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toBe(
      "no usable proposal in 1 iterations: the pool is empty, so there is nothing to fill it from",
    );
    expect((err as { exitCode: number }).exitCode).toBe(4);
  });
});

describe("write", () => {
  it("writes the pool's chunks in order as the output CSV of exactly N rows", async () => {
    const cfg = config({ rows: 5 });
    const rt = runtime(cfg);
    const real = await rt.real();
    const meta = { requested: 0, exact_copies: 0, seed: 0 };
    await rt.store.put(poolKey(1), encodeChunk(realSlice(real.table, 0, 3), meta));
    await rt.store.put(fillKey(1), encodeChunk(realSlice(real.table, 3, 5), meta));
    const u = await write(rt)(lsState(cfg, { chunks: [poolKey(1), fillKey(1)] }));
    expect(u).toEqual({ phase: "done", output: { path: cfg.out, rows: 5 } });
    const lines = readFileSync(cfg.out, "utf8").trimEnd().split("\n");
    const expected = realRows()
      .slice(0, 5)
      .map((r) => `${r.age},${r.sex},${r.hours},${r.income}`);
    expect(lines).toEqual(["age,sex,hours,income", ...expected]);
  });

  it("refuses a pool that does not hold exactly N rows", async () => {
    const cfg = config({ rows: 6 });
    const rt = runtime(cfg);
    const real = await rt.real();
    await rt.store.put(
      poolKey(1),
      encodeChunk(realSlice(real.table, 0, 5), { requested: 6, exact_copies: 0, seed: 0 }),
    );
    const err = await write(rt)(lsState(cfg, { chunks: [poolKey(1)] })).catch((e: unknown) => e);
    expect((err as Error).message).toBe("internal: 5 output rows for 6 requested");
    expect(existsSync(cfg.out)).toBe(false);
  });
});
