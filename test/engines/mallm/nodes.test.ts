/**
 * MALLM-GAN's nodes one at a time, against an in-memory artifact store and a runtime built here (the 40-row test
 * table). Model calls go to the loopback server; the memoised paths are tested by pre-putting the artifact. The
 * score node is checked against the scoring functions (score.ts, classifiers.ts) applied by hand, and its cache
 * against a fresh one: a resumed run (fresh cache) must give the same updates as the live discriminator.
 */
import { describe, expect, it } from "vitest";
import { takeTableRows } from "../../../data/build.ts";
import { rowsToTable, tableToRows } from "../../../data/rows.ts";
import type { Row } from "../../../data/types.ts";
import { realLoader } from "../../../graph/run.ts";
import type { EngineRuntime } from "../../../graph/runtime.ts";
import { emptySnapshot } from "../../../models/accounting.ts";
import {
  ArtifactStore,
  finalBatchKey,
  MemoryArtifactBackend,
  type RowBatch,
  RowBatchSchema,
} from "../../../state/artifacts.ts";
import type { RunConfig } from "../../../state/config.ts";
import { batchSeed, deriveSeed, SEED_STREAMS } from "../../../state/seeds.ts";
import { learnStructure } from "../../../stats/structure/hill-climb.ts";
import {
  anyDiscriminatorSnapshotSchema,
  createDiscriminator,
  snapshotChunkIds,
} from "../../../engines/mallm/classifiers.ts";
import { choose, finalGeneration, generate, init, optimize, score } from "../../../engines/mallm/nodes.ts";
import { scoreBatch, scoreFrozen } from "../../../engines/mallm/score.ts";
import { HeldOutSchema, MallmScoreCache } from "../../../engines/mallm/score-cache.ts";
import {
  type Candidate,
  discriminatorChunkKey,
  FINAL_THETA_KEY,
  finalExampleRows,
  heldOutKey,
  type MallmStateT,
  type MallmUpdate,
  optimizerKey,
  realBatchRows,
  resolveSchedule,
  STRUCTURE_KEY,
  type StepRecord,
  trainBatchKey,
} from "../../../engines/mallm/state.ts";
import { EdgeSchema, initialTheta, type Theta, ThetaSchema } from "../../../engines/mallm/theta.ts";
import { AccountingSnapshotSchema } from "../../../state/schemas.ts";
import { TEST_ENV, useLlmServer, useRunFiles } from "../../support/harness.ts";
import {
  examplesOf,
  isMallmGenerator,
  isOptimizer,
  mallmConfig,
  mallmRequestedRows,
  mallmResponder,
  taskOf,
} from "../../support/mallm.ts";
import { seedOf } from "../../support/synthia.ts";
import { z } from "zod";

const server = useLlmServer();
const files = useRunFiles("mallm-nodes-");

/** 40 real rows, batches of 20: 2 batches per epoch; 2 learning epochs + 1 frozen = 6 steps. */
function configOf(mallm: Partial<RunConfig["mallm"]> = {}): RunConfig {
  const p = files.paths();
  return mallmConfig(server, "ollama", {
    input: files.input,
    out: p.out,
    rows: 10,
    mallm: { epochs: 2, batchSize: 20, examplesPerCall: 5, ...mallm },
  });
}

/** What the runner builds for the nodes, with an in-memory store. */
function runtimeOf(config: RunConfig, store = ArtifactStore.inMemory()): EngineRuntime {
  return { config, store, real: realLoader(config), env: TEST_ENV, concurrency: 2 };
}

/** The state before init, every field at its default. */
function initialState(config: RunConfig): MallmStateT {
  return {
    runDir: "unused",
    steering: [],
    userFeedback: [],
    stopRequested: false,
    feedbackSeen: 0,
    config,
    phase: "init",
    dataset: null,
    metadata: null,
    schedule: null,
    theta: null,
    iteration: 0,
    discriminator: null,
    candidates: [],
    trajectory: [],
    finalChoice: null,
    usage: emptySnapshot(),
    accepted: 0,
    invalidRows: 0,
    exactCopiesRemoved: 0,
    output: null,
    roundRows: [],
    nextBatch: 0,
    waveEnd: 0,
    batchesDone: 0,
    duplicatesRemoved: 0,
  };
}

/** The state after an update (plain overwrite: the fields the loop nodes return have no reducer but usage). */
const after = (s: MallmStateT, u: MallmUpdate): MallmStateT => ({ ...s, ...u }) as MallmStateT;

/** The state right after init (its structure stored in rt.store). */
async function initialised(rt: EngineRuntime): Promise<MallmStateT> {
  const s = initialState(rt.config);
  return after(s, await init(rt)(s));
}

/** The real rows of a step, each with age moved by one (20–59 kept) and income flipped on every third: valid, not real. */
async function syntheticRows(rt: EngineRuntime, s: MallmStateT, step: number): Promise<Row[]> {
  const real = await rt.real();
  const sched = s.schedule ?? never();
  const per = sched.batchesPerEpoch;
  const idx = realBatchRows(40, sched, rt.config.seed, Math.floor(step / per), step % per);
  return tableToRows(takeTableRows(real.table, idx), real.metadata).map((r, i) => ({
    ...r,
    age: Math.min(59, Math.max(20, Number(r.age) + (i % 2 === 0 ? 1 : -1))),
    income: i % 3 === 0 ? (r.income === ">50K" ? "<=50K" : ">50K") : r.income,
  }));
}

/** A stored training batch of `rows` for `requested`, without a model call. */
async function putTrainBatch(rt: EngineRuntime, step: number, rows: Row[], requested = 20): Promise<void> {
  const batch: RowBatch = {
    requested,
    rows,
    invalid: requested - rows.length,
    exact_copies: 0,
    reasons: [],
    seed: 0,
    usage: emptySnapshot(),
  };
  await rt.store.put(trainBatchKey(step), batch);
}

/** Score steps 0..n-1 in order (the optimizer skipped: theta stays theta_0), one cache or a fresh one per step. */
async function scoreSteps(
  rt: EngineRuntime,
  n: number,
  cacheFor: (step: number) => MallmScoreCache,
): Promise<{ updates: MallmUpdate[]; states: MallmStateT[] }> {
  let s = await initialised(rt);
  const updates: MallmUpdate[] = [];
  const states = [s];
  for (let step = 0; step < n; step++) {
    if (!(await rt.store.has(trainBatchKey(step))))
      await putTrainBatch(rt, step, await syntheticRows(rt, s, step));
    const u = await score(rt, cacheFor(step))(s);
    updates.push(u);
    s = after(after(s, u), { iteration: step + 1 });
    states.push(s);
  }
  return { updates, states };
}

describe("init", () => {
  it("resolves the schedule, stores the learned structure and builds theta_0 from it", async () => {
    const rt = runtimeOf(configOf());
    const real = await rt.real();
    const u = await init(rt)(initialState(rt.config));
    const edges = learnStructure(real.table, { bins: rt.config.mallm.structureBins, seed: 7 }).dag.edges;
    expect(u.schedule).toEqual(resolveSchedule(40, rt.config.mallm));
    expect(await rt.store.require(STRUCTURE_KEY, z.object({ edges: z.array(EdgeSchema) }))).toEqual({
      edges: edges.map(([a, b]) => [a, b]),
    });
    expect(u.theta).toEqual(initialTheta({ metadata: real.metadata, edges: edges.map(([a, b]) => [a, b]) }));
    expect(u).toMatchObject({ phase: "train", iteration: 0, dataset: real.dataset, metadata: real.metadata });
  });

  it("reads a stored structure instead of learning it again", async () => {
    const rt = runtimeOf(configOf());
    await rt.store.put(STRUCTURE_KEY, { edges: [["sex", "income"]] });
    const u = await init(rt)(initialState(rt.config));
    const real = await rt.real();
    expect(u.theta).toEqual(initialTheta({ metadata: real.metadata, edges: [["sex", "income"]] }));
  });
});

describe("generate", () => {
  it("generates the step's batch from its real rows with the step's seed, and stores it with its usage", async () => {
    server.setDefault(mallmResponder());
    const rt = runtimeOf(configOf());
    const s = after(await initialised(rt), { iteration: 1 });
    const real = await rt.real();
    const u = await generate(rt)(s);
    const reqs = server.chatRequests().filter(isMallmGenerator);
    // 20 real rows, 5 examples and 5 rows per call.
    expect(reqs).toHaveLength(4);
    const seed = deriveSeed(7, SEED_STREAMS.mallm.generator, 1);
    for (const r of reqs) expect(seedOf(r)).toBe(seed);
    const idx = realBatchRows(40, s.schedule ?? never(), 7, 0, 1);
    const expected = tableToRows(takeTableRows(real.table, idx), real.metadata).map((r) =>
      [r.age, r.sex, r.hours, r.income].join(","),
    );
    expect(reqs.flatMap((r) => examplesOf(r).rows.map((c) => c.join(","))).sort()).toEqual(expected.sort());
    const stored = await rt.store.require(trainBatchKey(1), RowBatchSchema);
    expect(stored).toMatchObject({ requested: 20, invalid: 0, exact_copies: 0, seed });
    expect(stored.rows).toHaveLength(20);
    expect(stored.usage.calls).toBe(4);
    expect(u).toEqual({ usage: stored.usage });
  });

  it("returns a stored batch's usage without calling the model", async () => {
    server.setDefault(mallmResponder());
    const first = runtimeOf(configOf());
    await generate(first)(await initialised(first));
    const stored = await first.store.require(trainBatchKey(0), RowBatchSchema);
    const before = server.stats.completions;

    const rt = runtimeOf(first.config);
    await rt.store.put(trainBatchKey(0), stored);
    const u = await generate(rt)(await initialised(rt));
    expect(server.stats.completions).toBe(before);
    expect(u).toEqual({ usage: stored.usage });
    expect(stored.usage.calls).toBe(4);
  });
});

describe("score", () => {
  it("partial-fits on 80%, scores the held-out 20%, stores the pair and re-scores it at the next step", async () => {
    const rt = runtimeOf(configOf());
    const real = await rt.real();
    const { updates, states } = await scoreSteps(rt, 2, () => new MallmScoreCache(rt));
    const sched = states[0].schedule ?? never();

    // The same scoring by hand with a new discriminator.
    const disc = createDiscriminator("sgd", real.table, { standardize: rt.config.mallm.standardize });
    const scoredAt = async (step: number) => {
      const batch = await rt.store.require(trainBatchKey(step), RowBatchSchema);
      return scoreBatch(
        disc,
        takeTableRows(real.table, realBatchRows(40, sched, 7, 0, step)),
        rowsToTable(batch.rows, real.metadata),
        deriveSeed(7, SEED_STREAMS.mallm.split, step),
        sched.testFraction,
      );
    };
    const s0 = await scoredAt(0);
    expect(updates[0].trajectory?.[0]).toMatchObject({
      step: 0,
      score: s0.accuracy,
      stored: true,
      valid: 20,
    });
    expect(updates[0].candidates).toEqual([
      { step: 0, epoch: 0, heldOut: heldOutKey(0), initialScore: s0.accuracy, score: s0.accuracy },
    ]);
    // ceil(0.2 × 40) held-out rows, stored as rows.
    const h0 = await rt.store.require(heldOutKey(0), HeldOutSchema);
    expect(h0).toEqual({
      real: tableToRows(s0.heldOut.real, real.metadata),
      synthetic: tableToRows(s0.heldOut.synthetic, real.metadata),
    });
    expect(h0.real.length + h0.synthetic.length).toBe(8);
    expect(updates[0].discriminator).toEqual(anyDiscriminatorSnapshotSchema.parse(disc.snapshot()));

    // Step 1 updates the discriminator again; step 0's pair is re-scored by it, its initial score kept.
    const s1 = await scoredAt(1);
    expect(updates[1].discriminator).toEqual(anyDiscriminatorSnapshotSchema.parse(disc.snapshot()));
    const rescored0 = disc.accuracy(s0.heldOut.real, s0.heldOut.synthetic);
    expect(updates[1].candidates).toEqual([
      { step: 0, epoch: 0, heldOut: heldOutKey(0), initialScore: s0.accuracy, score: rescored0 },
      { step: 1, epoch: 0, heldOut: heldOutKey(1), initialScore: s1.accuracy, score: s1.accuracy },
    ]);
    expect(updates[1].trajectory?.map((r) => r.step)).toEqual([0, 1]);
  });

  it("scores a frozen step on the whole batch without updating the discriminator or re-scoring", async () => {
    const rt = runtimeOf(configOf());
    const real = await rt.real();
    const { states } = await scoreSteps(rt, 4, () => new MallmScoreCache(rt));
    const s4 = states[4];
    expect(s4.iteration).toBe(4);
    await putTrainBatch(rt, 4, await syntheticRows(rt, s4, 4));
    const u = await score(rt, new MallmScoreCache(rt))(s4);

    const disc = createDiscriminator("sgd", real.table, { standardize: rt.config.mallm.standardize });
    disc.restore(s4.discriminator ?? never());
    const batch = await rt.store.require(trainBatchKey(4), RowBatchSchema);
    const realBatch = takeTableRows(real.table, realBatchRows(40, s4.schedule ?? never(), 7, 2, 0));
    const frozen = scoreFrozen(disc, realBatch, rowsToTable(batch.rows, real.metadata));
    expect(u.discriminator).toEqual(s4.discriminator);
    expect(u.trajectory?.[4]).toMatchObject({ step: 4, epoch: 2, frozen: true, score: frozen.accuracy });
    expect(u.candidates?.slice(0, 4)).toEqual(s4.candidates);
    expect(u.candidates?.[4]).toEqual({
      step: 4,
      epoch: 2,
      heldOut: heldOutKey(4),
      initialScore: frozen.accuracy,
      score: frozen.accuracy,
    });
    const h = await rt.store.require(heldOutKey(4), HeldOutSchema);
    expect(h.real).toHaveLength(20);
    expect(h.synthetic).toEqual(batch.rows);
  });

  it("does not store a batch below the store threshold, and leaves everything but the record when no row is valid", async () => {
    const rt = runtimeOf(configOf());
    const s = await initialised(rt);
    const rows = await syntheticRows(rt, s, 0);
    // 15 of 20 requested rows valid: 75% < 80%.
    await putTrainBatch(rt, 0, rows.slice(0, 15));
    const u = await score(rt, new MallmScoreCache(rt))(s);
    expect(u.trajectory?.[0]).toMatchObject({ valid: 15, invalid: 5, stored: false });
    expect(u.trajectory?.[0].score).toBeTypeOf("number");
    expect(u.candidates).toEqual([]);
    expect(u.discriminator).not.toBeNull();
    expect(await rt.store.has(heldOutKey(0))).toBe(false);

    await putTrainBatch(rt, 1, []);
    const s1 = after(s, { iteration: 1 });
    const empty = await score(rt, new MallmScoreCache(rt))(s1);
    expect(Object.keys(empty)).toEqual(["trajectory"]);
    expect(empty.trajectory?.[0]).toMatchObject({
      step: 1,
      valid: 0,
      invalid: 20,
      score: null,
      stored: false,
    });
  });

  it.each(["sgd", "logistic", "forest"] as const)(
    "%s: one cache over the run and a fresh cache per step (a resume) give the same updates",
    async (kind) => {
      const config = configOf({ discriminator: kind });
      const live = runtimeOf(config);
      const cache = new MallmScoreCache(live);
      const a = await scoreSteps(live, 4, () => cache);
      // The same training batches, scored with a new cache at every step.
      const resumed = runtimeOf(config);
      for (let step = 0; step < 4; step++)
        await resumed.store.put(
          trainBatchKey(step),
          await live.store.require(trainBatchKey(step), RowBatchSchema),
        );
      const b = await scoreSteps(resumed, 4, () => new MallmScoreCache(resumed));
      expect(b.updates).toEqual(a.updates);
      // The refitting discriminators' chunks are in the store, so a fresh cache could restore them.
      const snap = a.updates[3].discriminator ?? never();
      expect(snapshotChunkIds(snap)).toHaveLength(kind === "sgd" ? 0 : 4);
      for (const id of snapshotChunkIds(snap))
        expect(await live.store.has(discriminatorChunkKey(id))).toBe(true);
    },
  );

  it("does not reuse the live discriminator for a retry from an earlier checkpoint", async () => {
    const rt = runtimeOf(configOf());
    const cache = new MallmScoreCache(rt);
    const { states, updates } = await scoreSteps(rt, 2, () => cache);
    // The live discriminator has seen step 1 already: reusing it would fit step 1 twice.
    const retry = await score(rt, cache)(states[1]);
    expect(retry).toEqual(updates[1]);
  });
});

describe("MallmScoreCache", () => {
  it("hands back the live discriminator only for the snapshot it left, and only once", async () => {
    const rt = runtimeOf(configOf({ discriminator: "logistic" }));
    const { states } = await scoreSteps(rt, 2, () => new MallmScoreCache(rt));
    const cache = new MallmScoreCache(rt);
    const d = await cache.discriminator(states[1]);
    expect(d.snapshot()).toEqual(states[1].discriminator);
    const snap = await cache.keep(d);
    expect(await cache.discriminator(after(states[1], { discriminator: snap }))).toBe(d);
    // Taken: the next call, even with the same snapshot, restores a new one.
    const again = await cache.discriminator(after(states[1], { discriminator: snap }));
    expect(again).not.toBe(d);
    expect(again.snapshot()).toEqual(snap);
    // Another snapshot in the state: the live one is not used.
    await cache.keep(again);
    const other = await cache.discriminator(states[2]);
    expect(other).not.toBe(again);
    expect(other.snapshot()).toEqual(states[2].discriminator);
  });

  it("reads each chunk from the store once and parses each held-out sample once", async () => {
    const backend = new CountingBackend();
    const rt = runtimeOf(configOf({ discriminator: "logistic" }), new ArtifactStore(backend));
    const { states } = await scoreSteps(rt, 2, () => new MallmScoreCache(rt));
    backend.reads.clear();
    const cache = new MallmScoreCache(rt);
    await cache.discriminator(states[2]);
    await cache.discriminator(states[2]);
    const ids = snapshotChunkIds(states[2].discriminator ?? never());
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(backend.reads.get(discriminatorChunkKey(id))).toBe(1);
    const h = await cache.heldOutRows(heldOutKey(0));
    expect(await cache.heldOutRows(heldOutKey(0))).toBe(h);
    expect(backend.reads.get(heldOutKey(0))).toBe(1);
  });
});

describe("optimize", () => {
  const theta0 = async (rt: EngineRuntime): Promise<Theta> => (await initialised(rt)).theta ?? never();

  /** The state after step `step` was scored and stored. */
  async function scoredState(rt: EngineRuntime, step: number): Promise<MallmStateT> {
    const s = await initialised(rt);
    const record: StepRecord = {
      step,
      epoch: 0,
      batch: step,
      frozen: false,
      theta: await theta0(rt),
      requested: 20,
      valid: 20,
      invalid: 0,
      score: 0.75,
      stored: true,
      optimizer: null,
    };
    const candidate: Candidate = {
      step,
      epoch: 0,
      heldOut: heldOutKey(step),
      initialScore: 0.75,
      score: 0.75,
    };
    return after(s, { iteration: step, trajectory: [record], candidates: [candidate] });
  }

  it("advances without a model call after the last step or when nothing is stored", async () => {
    const rt = runtimeOf(configOf());
    const before = server.stats.completions;
    const last = await scoredState(rt, 5);
    expect(await optimize(rt)(last)).toEqual({ iteration: 6 });
    const none = after(await initialised(rt), { iteration: 2 });
    expect(await optimize(rt)(none)).toEqual({ iteration: 3 });
    expect(server.stats.completions).toBe(before);
  });

  it("asks the optimizer with the stored pairs and takes its theta for the next step", async () => {
    server.setDefault(mallmResponder());
    const rt = runtimeOf(configOf());
    const s = await scoredState(rt, 0);
    const u = await optimize(rt)(s);
    const reqs = server.chatRequests().filter(isOptimizer);
    expect(reqs).toHaveLength(1);
    expect(seedOf(reqs[0])).toBe(deriveSeed(7, SEED_STREAMS.mallm.optimizer, 0));
    const stored = await rt.store.require(
      optimizerKey(0),
      z.object({ theta: ThetaSchema, usage: AccountingSnapshotSchema }),
    );
    expect(u.theta).toEqual(stored.theta);
    expect(u.theta?.taskInstruction).toMatch(
      /^Keep every column close to the examples \(revision [0-9a-f]{8}\)\.$/,
    );
    expect(u.iteration).toBe(1);
    expect(u.trajectory?.[0].optimizer).toEqual({ attempts: 1, accepted: true, reasons: [] });
    expect(u.usage).toEqual(stored.usage);
    expect(stored.usage.calls).toBe(1);
  });

  it("keeps the current theta when the stored answer was rejected, without a model call", async () => {
    const rt = runtimeOf(configOf());
    const s = await scoredState(rt, 0);
    const usage = { ...emptySnapshot(), calls: 2 };
    await rt.store.put(optimizerKey(0), {
      theta: null,
      reasons: ["unknown column Robot"],
      attempts: 2,
      usage,
    });
    const before = server.stats.completions;
    const u = await optimize(rt)(s);
    expect(server.stats.completions).toBe(before);
    expect("theta" in u).toBe(false);
    expect(u.trajectory?.[0].optimizer).toEqual({
      attempts: 2,
      accepted: false,
      reasons: ["unknown column Robot"],
    });
    expect(u).toMatchObject({ iteration: 1, usage });
  });
});

describe("choose", () => {
  /** Trajectory of 6 steps, step i with task "t<i>", and the candidates with the given (step, epoch, score). */
  async function chooseState(candidates: ReadonlyArray<readonly [number, number, number]>) {
    const rt = runtimeOf(configOf());
    const s = await initialised(rt);
    const base = s.theta ?? never();
    const trajectory: StepRecord[] = Array.from({ length: 6 }, (_, i) => ({
      step: i,
      epoch: Math.floor(i / 2),
      batch: i % 2,
      frozen: i >= 4,
      theta: { ...base, taskInstruction: `t${i}` },
      requested: 20,
      valid: 20,
      invalid: 0,
      score: 0.5,
      stored: true,
      optimizer: null,
    }));
    const cands: Candidate[] = candidates.map(([step, epoch, score]) => ({
      step,
      epoch,
      heldOut: heldOutKey(step),
      initialScore: score,
      score,
    }));
    return { rt, s: after(s, { trajectory, candidates: cands, iteration: 6 }) };
  }

  it.each([
    // Last epoch (2) has steps 4 and 5: the lower score wins; on ties the first stored.
    {
      cands: [
        [1, 0, 0.1],
        [4, 2, 0.6],
        [5, 2, 0.55],
      ],
      reason: "last_epoch",
      step: 5,
      score: 0.55,
    },
    {
      cands: [
        [4, 2, 0.6],
        [5, 2, 0.6],
      ],
      reason: "last_epoch",
      step: 4,
      score: 0.6,
    },
    // Nothing stored in the last epoch: the lowest stored overall.
    {
      cands: [
        [0, 0, 0.7],
        [2, 1, 0.52],
        [3, 1, 0.9],
      ],
      reason: "best_stored",
      step: 2,
      score: 0.52,
    },
    // Nothing stored: theta_0 (the first batch's theta).
    { cands: [], reason: "initial", step: null, score: null },
  ] as const)("$reason → step $step", async ({ cands, reason, step, score: sc }) => {
    const { rt, s } = await chooseState(cands);
    const u = await choose(rt)(s);
    expect(u.finalChoice).toEqual({ reason, step, score: sc });
    expect(u.phase).toBe("finalize");
    expect(u.theta?.taskInstruction).toBe(`t${step ?? 0}`);
    expect(await rt.store.require(FINAL_THETA_KEY, z.object({ theta: ThetaSchema }))).toEqual({
      theta: u.theta,
    });
  });
});

describe("final generation", () => {
  it("generates a final batch with the stored theta and the batch's own real examples", async () => {
    server.setDefault(mallmResponder());
    const rt = runtimeOf(configOf());
    const real = await rt.real();
    const theta = { ...((await initialised(rt)).theta ?? never()), taskInstruction: "FINAL task" };
    await rt.store.put(FINAL_THETA_KEY, { theta });
    const u = await finalGeneration(rt).batch({
      task: { round: 1, batch: 0, nRows: 7 },
      key: FINAL_THETA_KEY,
    });

    const reqs = server.chatRequests().filter(isMallmGenerator);
    // 7 rows at 5 per call: calls of 5 and 2, with the batch's seed and theta.
    expect(reqs.map(mallmRequestedRows).sort()).toEqual([2, 5]);
    const seed = batchSeed(7, 1, 0);
    for (const r of reqs) {
      expect(seedOf(r)).toBe(seed);
      expect(taskOf(r)).toBe("FINAL task");
    }
    const idx = finalExampleRows(40, 7, seed);
    const expected = tableToRows(takeTableRows(real.table, idx), real.metadata).map((r) =>
      [r.age, r.sex, r.hours, r.income].join(","),
    );
    expect(reqs.flatMap((r) => examplesOf(r).rows.map((c) => c.join(","))).sort()).toEqual(expected.sort());
    const stored = await rt.store.require(finalBatchKey(1, 0), RowBatchSchema);
    expect(stored.rows).toHaveLength(7);
    expect(stored.usage.calls).toBe(2);
    expect(u).toEqual({
      accepted: 7,
      invalidRows: 0,
      exactCopiesRemoved: 0,
      batchesDone: 1,
      usage: stored.usage,
    });
  });
});

/** An in-memory backend counting reads per key. */
class CountingBackend extends MemoryArtifactBackend {
  readonly reads = new Map<string, number>();
  override async read(key: string): Promise<string | undefined> {
    this.reads.set(key, (this.reads.get(key) ?? 0) + 1);
    return super.read(key);
  }
}

function never(): never {
  throw new Error("unreachable");
}
