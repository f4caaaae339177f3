/**
 * SYNTHIA's nodes one at a time, each against an in-memory artifact store and a runtime built here around the
 * 40-row table of test/support/tables.ts. Nodes that call a model talk to the loopback LLM server (test
 * double) through the real ChatOllama client, or find their result already stored (the memoised path: no
 * request reaches the server).
 */
import { describe, expect, it } from "vitest";
import type { Row } from "../../../data/types.ts";
import type { EngineRuntime } from "../../../graph/runtime.ts";
import { type AccountingSnapshot, emptySnapshot } from "../../../models/accounting.ts";
import {
  analyzeProbe,
  discriminateProbe,
  FINAL_PROMPT_KEY,
  generateFinalBatch,
  generateProbe,
  guardReasonsFeedback,
  init,
  planFinalRound,
  PromptInputsSchema,
  refinePrompt,
} from "../../../engines/synthia/nodes.ts";
import { analyze, stratifiedSample } from "../../../engines/synthia/analyzer.ts";
import { afterDiscriminate } from "../../../engines/synthia/routers.ts";
import type { SynthiaStateT, SynthiaUpdate } from "../../../engines/synthia/state.ts";
import {
  ArtifactStore,
  DESCRIPTIONS_KEY,
  discriminationKey,
  probeKey,
  type RowBatch,
  RowBatchSchema,
} from "../../../state/artifacts.ts";
import type { RunConfig } from "../../../state/config.ts";
import { AccountingSnapshotSchema, type IterationRecord, storeDiagnostics } from "../../../state/schemas.ts";
import { batchSeed, deriveSeed, SEED_STREAMS } from "../../../state/seeds.ts";
import { rowsToTable } from "../../../data/rows.ts";
import { realRows, TEST_ENV, useLlmServer } from "../../support/harness.ts";
import {
  badRows,
  generatorPrompt,
  goodRows,
  kindOf,
  responder,
  seedOf,
  testConfig,
} from "../../support/synthia.ts";
import { metadataOf, realDataOf, smallRealRows, smallRealTable } from "../../support/tables.ts";

const server = useLlmServer();

const table = smallRealTable();
const real = realDataOf(table, {
  metadata: metadataOf(table, { descriptions: { age: "user: age in years" } }),
});

function configOf(over: Partial<RunConfig> = {}): RunConfig {
  return testConfig(server, "ollama", { input: "memory/real.csv", out: "memory/out.csv", ...over });
}

function runtime(config: RunConfig): EngineRuntime {
  return { config, store: ArtifactStore.inMemory(), real: async () => real, env: TEST_ENV, concurrency: 2 };
}

/** A state as the graph would hold it after `over` (defaults as in engines/synthia/state.ts). */
function stateOf(config: RunConfig, over: Partial<SynthiaStateT> = {}): SynthiaStateT {
  return {
    runDir: "memory",
    steering: [],
    userFeedback: [],
    stopRequested: false,
    config,
    phase: "iterate",
    dataset: real.dataset,
    metadata: real.metadata,
    descriptions: {},
    xSub: [],
    feedback: [],
    prompt: "",
    iteration: 0,
    probe: null,
    diagnostics: null,
    verdict: null,
    guardReasons: [],
    history: [],
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
    ...over,
  };
}

/** Usage of `calls` calls of one role (what a stored artifact carries). */
function usageOf(role: string, calls: number): AccountingSnapshot {
  const t = { calls, failed_calls: 0, prompt_tokens: 10 * calls, completion_tokens: 5 * calls };
  const totals = { ...t, estimated: false, latency_ms: 1 };
  return { ...totals, by_role: { [role]: totals } };
}

/** The usage a node returned (the update type also admits LangGraph's Overwrite wrapper, never used here). */
const usageIn = (up: SynthiaUpdate): AccountingSnapshot => AccountingSnapshotSchema.parse(up.usage);

/** Positional generator rows (support/synthia.ts) as data rows. */
const asRows = (rows: unknown[][]): Row[] =>
  rows.map(([age, sex, hours, income]) => ({ age, sex, hours, income }) as Row);

/** A stored probe of `rows` (valid rows only) out of `requested`. */
function probeOf(rows: Row[], requested = rows.length, reasons: string[] = []): RowBatch {
  return {
    requested,
    rows,
    invalid: requested - rows.length,
    exact_copies: 0,
    reasons,
    seed: 1,
    usage: usageOf("generator", 1),
  };
}

/** The CSV line of real row i as the prompts show examples (harness.ts realRows, independent of the prompt code). */
const exampleLine = (i: number): string => {
  const r = realRows()[i];
  return `${r.age},${r.sex},${r.hours},${r.income}`;
};

describe("init", () => {
  it("draws X_sub stratified by the first categorical column, keeps user descriptions, builds P_0", async () => {
    const config = configOf();
    const up = await init(runtime(config))(stateOf(config, { phase: "init", dataset: null, metadata: null }));
    expect(up.phase).toBe("iterate");
    expect(up.dataset).toEqual(real.dataset);
    expect(up.metadata).toBe(real.metadata);
    // examples = 8 of 40 rows; strata = sex (even rows Female, odd rows Male, 20 each): 8·20/40 = 4 per stratum.
    const xSub = up.xSub ?? [];
    expect(xSub).toHaveLength(8);
    expect(new Set(xSub).size).toBe(8);
    expect([...xSub].sort((a, b) => a - b)).toEqual(xSub);
    expect(xSub.filter((i) => i % 2 === 0)).toHaveLength(4);
    expect(up.descriptions).toEqual({ age: "user: age in years" });
    expect(up.feedback).toEqual([]);
    expect(up.prompt).toContain("Reply with exactly 20 rows");
    expect(up.prompt).toContain('description: "user: age in years"');
    for (const i of xSub) expect(up.prompt).toContain(exampleLine(i));
    expect(up.prompt).not.toContain("## Feedback");
    expect(up.usage).toBeUndefined();
    expect(server.chatRequests()).toHaveLength(0);
  });

  it("describeColumns: a stored description artifact is used without a call; user descriptions win", async () => {
    const config = configOf({ describeColumns: true });
    const rt = runtime(config);
    const stored = usageOf("metadata", 1);
    await rt.store.put(DESCRIPTIONS_KEY, {
      descriptions: { age: "model: age", hours: "model: hours" },
      usage: stored,
    });
    const up = await init(rt)(stateOf(config, { phase: "init" }));
    expect(up.descriptions).toEqual({ age: "user: age in years", hours: "model: hours" });
    expect(up.usage).toEqual(stored);
    expect(server.chatRequests()).toHaveLength(0);
  });

  it("describeColumns: asks the metadata agent once (seeded), stores descriptions with their usage", async () => {
    server.script(
      JSON.stringify({
        file_name: "real.csv",
        num_columns: 4,
        num_rows: 40,
        columns: [
          { name: "sex", type: "categorical", example_values: ["Male"], description: "Sex" },
          { name: "hours", type: "float", example_values: [40], description: "Weekly hours" },
        ],
      }),
    );
    const config = configOf({ describeColumns: true });
    const rt = runtime(config);
    const up = await init(rt)(stateOf(config, { phase: "init" }));
    const [req, ...more] = server.chatRequests();
    expect(more).toHaveLength(0);
    expect(seedOf(req)).toBe(deriveSeed(7, SEED_STREAMS.synthia.metadata, 0));
    expect(up.descriptions).toEqual({ age: "user: age in years", sex: "Sex", hours: "Weekly hours" });
    expect(usageIn(up).calls).toBe(1);
    expect(usageIn(up).by_role.metadata?.calls).toBe(1);
    expect(await rt.store.has(DESCRIPTIONS_KEY)).toBe(true);
  });
});

describe("generateProbe", () => {
  it("asks for probeRows rows with the iteration's seed, stores the probe, and a re-run makes no call", async () => {
    server.setDefault(responder());
    const config = configOf();
    const rt = runtime(config);
    const s = stateOf(config, {
      iteration: 2,
      prompt: "Make rows. Reply with exactly 20 rows as one JSON object.",
    });
    const up = await generateProbe(rt)(s);
    const seed = deriveSeed(7, SEED_STREAMS.synthia.probe, 3);
    expect(up.iteration).toBe(3);
    expect(up.probe).toBe(probeKey(3));
    const [req, ...more] = server.chatRequests();
    expect(more).toHaveLength(0);
    expect(seedOf(req)).toBe(seed);
    expect(generatorPrompt(req)).toBe(s.prompt);
    const stored = await rt.store.require(probeKey(3), RowBatchSchema);
    expect(stored).toMatchObject({ requested: 20, invalid: 0, exact_copies: 0, seed });
    expect(stored.rows).toEqual(asRows(goodRows(seed, 20)));
    expect(up.usage).toEqual(stored.usage);
    expect(usageIn(up).by_role.generator?.calls).toBe(1);

    // After a crash before the checkpoint the node runs again: the stored probe and its usage, no request.
    const again = await generateProbe(rt)(s);
    expect(again).toEqual(up);
    expect(server.chatRequests()).toHaveLength(1);
  });
});

describe("analyzeProbe", () => {
  it("a probe identical to the real table scores similarity 1, coverage 1, divergence 0", async () => {
    const config = configOf();
    const rt = runtime(config);
    await rt.store.put(probeKey(1), probeOf(smallRealRows()));
    const up = await analyzeProbe(rt)(stateOf(config, { iteration: 1, probe: probeKey(1) }));
    const d = up.diagnostics;
    expect(d).not.toBeNull();
    expect(d?.similarity).toBe(1);
    expect(d?.coverage).toBe(1);
    expect(d?.divergence).toBeCloseTo(0, 12);
    expect(d?.rows).toBe(40);
  });

  it("a probe without valid rows has no diagnostics", async () => {
    const config = configOf();
    const rt = runtime(config);
    await rt.store.put(probeKey(1), probeOf([], 20, ["row 1: age 212 > 59"]));
    const up = await analyzeProbe(rt)(stateOf(config, { iteration: 1, probe: probeKey(1) }));
    expect(up).toEqual({ diagnostics: null });
  });
});

describe("discriminateProbe", () => {
  /** State after analyze for a stored probe of `rows` at iteration `iteration`. */
  async function analyzed(
    rt: EngineRuntime,
    rows: Row[],
    over: Partial<SynthiaStateT> = {},
  ): Promise<SynthiaStateT> {
    const iteration = over.iteration ?? 1;
    await rt.store.put(probeKey(iteration), probeOf(rows));
    const diagnostics =
      rows.length === 0 ? null : storeDiagnostics(analyze(table, rowsToTable(rows, real.metadata)));
    return stateOf(rt.config, { iteration, probe: probeKey(iteration), diagnostics, ...over });
  }

  it("no valid row: Synthetic with the validator's first reasons as feedback, no call, refine", async () => {
    const config = configOf();
    const rt = runtime(config);
    await rt.store.put(probeKey(1), probeOf([], 20, ["r1", "r2", "r3", "r4"]));
    const s = stateOf(config, { iteration: 1, probe: probeKey(1), feedback: ["earlier"] });
    const up = await discriminateProbe(rt)(s);
    const feedback =
      "None of the 20 rows was valid (r1; r2; r3): output exactly the requested format with values inside the stated ranges and categories.";
    expect(up.verdict).toEqual({ type: "Synthetic", feedback });
    expect(up.history).toEqual([
      {
        iteration: 1,
        feedback_in: ["earlier"],
        probe: probeKey(1),
        requested: 20,
        valid: 0,
        invalid: 20,
        scores: { similarity: null, coverage: null, divergence: null, correlation_similarity: null },
        verdict: "Synthetic",
        feedback,
        overruled: false,
        guard_reasons: [],
      },
    ]);
    expect(up.feedback).toEqual(["earlier", feedback]);
    expect(up.usage).toBeUndefined();
    expect(up.phase).toBeUndefined();
    expect(afterDiscriminate({ ...s, ...up } as SynthiaStateT)).toBe("refine");
    expect(server.chatRequests()).toHaveLength(0);
  });

  it("stored Real on a faithful probe, guard silent: converged, finalize with this iteration's feedback", async () => {
    const config = configOf();
    const rt = runtime(config);
    const stored = usageOf("discriminator", 2);
    await rt.store.put(discriminationKey(1), {
      analysis: "looks real",
      verdict: { type: "Real" },
      usage: stored,
    });
    const s = await analyzed(rt, smallRealRows(), { feedback: ["f0"] });
    const up = await discriminateProbe(rt)(s);
    expect(up.guardReasons).toEqual([]);
    expect(up.history?.[0]).toMatchObject({ verdict: "Real", overruled: false, valid: 40 });
    expect(up.history?.[0].feedback).toBeUndefined();
    expect(up.phase).toBe("finalize");
    expect(up.finalChoice).toEqual({ reason: "converged", iteration: 1, feedback: ["f0"] });
    expect(up.usage).toEqual(stored);
    expect(afterDiscriminate({ ...s, ...up } as SynthiaStateT)).toBe("plan_round");
    expect(server.chatRequests()).toHaveLength(0);
  });

  it("stored Real on a degenerate probe: the guard overrules it and its reasons become the feedback", async () => {
    const config = configOf();
    const rt = runtime(config);
    await rt.store.put(discriminationKey(1), {
      analysis: "fine",
      verdict: { type: "Real" },
      usage: usageOf("discriminator", 2),
    });
    const s = await analyzed(rt, asRows(badRows(20)));
    const up = await discriminateProbe(rt)(s);
    // Every synthetic age is 20 against real ages 20..59 (one each): KS statistic 39/40, complement 1/40 < 0.5.
    expect(up.guardReasons?.some((r) => r.startsWith("age: KS complement"))).toBe(true);
    const record = up.history?.[0];
    expect(record).toMatchObject({ verdict: "Real", overruled: true, guard_reasons: up.guardReasons });
    expect(record?.feedback).toBe(guardReasonsFeedback(up.guardReasons ?? []));
    expect(record?.feedback).toContain("statistical analyzer shows");
    expect(up.feedback).toEqual([record?.feedback]);
    expect(up.phase).toBeUndefined();
    expect(afterDiscriminate({ ...s, ...up } as SynthiaStateT)).toBe("refine");
  });

  it("Synthetic at maxIterations: finalize with the feedback of the best iteration so far", async () => {
    const config = configOf({ maxIterations: 3 });
    const rt = runtime(config);
    await rt.store.put(discriminationKey(3), {
      analysis: "off",
      verdict: { type: "Synthetic", feedback: "fix-3" },
      usage: usageOf("discriminator", 2),
    });
    const earlier = (iteration: number, similarity: number, divergence: number): IterationRecord => ({
      iteration,
      feedback_in: [`in-${iteration}`],
      probe: probeKey(iteration),
      requested: 20,
      valid: 20,
      invalid: 0,
      scores: { similarity, coverage: 1, divergence, correlation_similarity: null },
      verdict: "Synthetic",
      feedback: `fix-${iteration}`,
      overruled: false,
      guard_reasons: [],
    });
    // Scores similarity − divergence: iteration 1: 0.5 − 0.2 = 0.3; iteration 2: 0.9 − 0.1 = 0.8 (the best).
    const s = await analyzed(rt, asRows(badRows(20)), {
      iteration: 3,
      history: [earlier(1, 0.5, 0.2), earlier(2, 0.9, 0.1)],
      feedback: ["fix-1", "fix-2"],
    });
    const up = await discriminateProbe(rt)(s);
    const last = up.history?.[2];
    expect(last).toMatchObject({ iteration: 3, verdict: "Synthetic", feedback: "fix-3" });
    // Precondition of the expected choice: the degenerate probe of iteration 3 scores below iteration 2.
    expect((last?.scores.similarity ?? 1) - (last?.scores.divergence ?? 0)).toBeLessThan(0.8);
    expect(up.phase).toBe("finalize");
    expect(up.finalChoice).toEqual({ reason: "max_iterations", iteration: 2, feedback: ["in-2"] });
    expect(afterDiscriminate({ ...s, ...up } as SynthiaStateT)).toBe("plan_round");
  });

  it("nothing stored: asks the discriminator (analysis, decision) with the iteration's seed and stores it", async () => {
    server.setDefault(responder());
    const config = configOf();
    const rt = runtime(config);
    const s = await analyzed(rt, asRows(goodRows(5, 20)), { xSub: [0, 1, 2] });
    const up = await discriminateProbe(rt)(s);
    const reqs = server.chatRequests();
    expect(reqs.map(kindOf)).toEqual(["analysis", "decision"]);
    for (const r of reqs) expect(seedOf(r)).toBe(deriveSeed(7, SEED_STREAMS.synthia.discriminator, 1));
    expect(up.verdict).toEqual({ type: "Real" });
    expect(usageIn(up).calls).toBe(2);
    expect(usageIn(up).by_role.discriminator?.calls).toBe(2);
    expect(await rt.store.has(discriminationKey(1))).toBe(true);
    // The re-run (crash before the checkpoint) returns the same update without a request.
    expect(await discriminateProbe(rt)(s)).toEqual(up);
    expect(server.chatRequests()).toHaveLength(2);
  });
});

describe("refinePrompt", () => {
  it("P_{t+1} carries every feedback line, X_sub's rows and the probe size", async () => {
    const config = configOf();
    const up = await refinePrompt(runtime(config))(
      stateOf(config, { xSub: [0, 1], feedback: ["fix-1", "fix-2"] }),
    );
    expect(up.prompt).toContain('1. "fix-1"');
    expect(up.prompt).toContain('2. "fix-2"');
    expect(up.prompt).toContain(exampleLine(0));
    expect(up.prompt).toContain(exampleLine(1));
    expect(up.prompt).toContain("Reply with exactly 20 rows");
  });
});

describe("planFinalRound", () => {
  it("first round: stores P_final's inputs with the chosen feedback and plans every row", async () => {
    const config = configOf({ rows: 30 });
    const rt = runtime(config);
    const s = stateOf(config, {
      phase: "finalize",
      xSub: [0, 1],
      descriptions: { hours: "Weekly hours" },
      feedback: ["fix-1", "fix-2"],
      finalChoice: { reason: "max_iterations", iteration: 2, feedback: ["fix-1"] },
    });
    const up = await planFinalRound(rt)(s);
    expect(await rt.store.require(FINAL_PROMPT_KEY, PromptInputsSchema)).toEqual({
      feedback: ["fix-1"],
      xSub: [0, 1],
      descriptions: { hours: "Weekly hours" },
    });
    expect(up.prompt).toContain('1. "fix-1"');
    expect(up.prompt).not.toContain("fix-2");
    expect(up.prompt).toContain("Reply with exactly 10 rows");
    expect(up).toMatchObject({ phase: "finalize", roundRows: [30], nextBatch: 0, waveEnd: 0 });
  });

  it("later rounds plan the missing rows without storing again; all accepted → write", async () => {
    const config = configOf({ rows: 30 });
    const rt = runtime(config);
    const later = await planFinalRound(rt)(
      stateOf(config, { phase: "finalize", roundRows: [30], accepted: 24 }),
    );
    expect(later).toEqual({ phase: "finalize", roundRows: [30, 6], nextBatch: 0, waveEnd: 0 });
    expect(await rt.store.has(FINAL_PROMPT_KEY)).toBe(false);
    const done = await planFinalRound(rt)(
      stateOf(config, { phase: "finalize", roundRows: [30, 6], accepted: 30 }),
    );
    expect(done).toEqual({ phase: "write" });
  });
});

describe("generateFinalBatch", () => {
  it("builds the batch's prompt from the stored inputs for its own row count and uses the batch seed", async () => {
    server.setDefault(responder());
    const config = configOf();
    const rt = runtime(config);
    await rt.store.put(FINAL_PROMPT_KEY, { feedback: ["fix-1"], xSub: [0, 1], descriptions: {} });
    const seed = batchSeed(7, 1, 2);
    const out = await generateFinalBatch(rt)({
      task: { round: 1, batch: 2, nRows: 7 },
      seed,
      key: FINAL_PROMPT_KEY,
    });
    const [req, ...more] = server.chatRequests();
    expect(more).toHaveLength(0);
    expect(seedOf(req)).toBe(seed);
    expect(generatorPrompt(req)).toContain('1. "fix-1"');
    expect(generatorPrompt(req)).toContain("Reply with exactly 7 rows");
    // The examples rotate: a stratified sample (by "sex", the first categorical column) drawn with the batch seed.
    const drawn = (s: number): number[] =>
      Array.from(
        stratifiedSample(real.table, 8, undefined, deriveSeed(s, SEED_STREAMS.synthia.finalExamples, 0)),
      );
    for (const i of drawn(seed)) expect(generatorPrompt(req)).toContain(exampleLine(i));
    expect(out).toMatchObject({ requested: 7, invalid: 0, seed });
    expect(out.rows).toEqual(asRows(goodRows(seed, 7)));
    expect(out.usage.by_role.generator?.calls).toBe(1);
    // Another batch of the round shows other examples (4 of each sex out of 20: two draws are unlikely equal).
    const other = batchSeed(7, 1, 3);
    await generateFinalBatch(rt)({
      task: { round: 1, batch: 3, nRows: 7 },
      seed: other,
      key: FINAL_PROMPT_KEY,
    });
    const second = generatorPrompt(server.chatRequests()[1]);
    for (const i of drawn(other)) expect(second).toContain(exampleLine(i));
    expect(new Set(drawn(other))).not.toEqual(new Set(drawn(seed)));
  });
});
