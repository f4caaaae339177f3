/**
 * The LLMSynthor engine end to end over the loopback LLM server with the real ChatOllama and ChatOpenAI
 * clients: the loop (copula once, T proposal rounds grounded on the pool's discrepancy), exactly N rows, the
 * tolerance stop with the fill from the proposals' mixture, the privacy guard, re-inferred groups, SUMMARY.json
 * through `generate --engine llmsynthor`, determinism, and a resume after kill -9 of the CLI process.
 */
import { deriveSeed, SEED_STREAMS } from "../../../state/seeds.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runGenerate, runRuns } from "../../../cli/generate.ts";
import { SynthgraphError } from "../../../data/errors.ts";
import { readTable } from "../../../data/read.ts";
import { startRun } from "../../../graph/run.ts";
import { ArtifactStore } from "../../../state/artifacts.ts";
import {
  type LlmsynthorStateT,
  PoolChunkSchema,
  plannedIterations,
  poolKey,
  rowsForIteration,
} from "../../../engines/llmsynthor/state.ts";
import { LlmsynthorOptionsSchema } from "../../../state/config.ts";
import { readRunFile } from "../../../state/run-dir.ts";
import {
  captureIo,
  csvLines,
  holdAfter,
  killThenResume,
  loopbackEnv,
  loopbackModel,
  realRows,
  storedArtifacts,
  TEST_ENV,
  useLlmServer,
  useRunFiles,
} from "../../support/harness.ts";
import { PROVIDERS, type TestProvider } from "../../support/llm-endpoints.ts";
import type { RecordedRequest } from "../../support/llm-server.ts";
import {
  CENSUS_PROPOSALS,
  lsKindOf,
  lsResponder,
  nSamplesOf,
  proposalPrompt,
  proposalsReply,
} from "../../support/llmsynthor.ts";
import { seedOf, testConfig } from "../../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("llmsynthor-graph-");

const requestsOf = (kind: "copula" | "proposer"): RecordedRequest[] =>
  server.chatRequests().filter((r) => lsKindOf(r) === kind);

function config(provider: TestProvider, a: { out: string; rows: number; tolerance?: number; seed?: number }) {
  return testConfig(server, provider, {
    input: files.input,
    out: a.out,
    rows: a.rows,
    seed: a.seed ?? 7,
    engine: "llmsynthor",
    llmsynthor: LlmsynthorOptionsSchema.parse({ tolerance: a.tolerance ?? 0 }),
  });
}

describe("plan", () => {
  it("T = min(10, ⌊N / 20⌋) ≥ 1 and n_t spreads the missing rows over the iterations left", () => {
    expect([1, 19, 20, 60, 199, 200, 1000, 20000].map((n) => plannedIterations(n))).toEqual([
      1, 1, 1, 3, 9, 10, 10, 10,
    ]);
    expect(plannedIterations(1000, 4)).toBe(4);
    // N = 1000, T = 10: 100 each; after a loss of 3 rows in iteration 1, iteration 2 asks ⌈903 / 9⌉ = 101.
    expect(rowsForIteration(1000, 0, 1, 10)).toBe(100);
    expect(rowsForIteration(1000, 97, 2, 10)).toBe(101);
    expect(rowsForIteration(1000, 990, 10, 10)).toBe(10);
    expect(rowsForIteration(55, 0, 1, 2)).toBe(28);
  });
});

describe.each(PROVIDERS)("LLMSynthor graph over %s", (provider) => {
  it("infers groups once, runs T proposal rounds on the pool's discrepancy, and writes exactly N rows", async () => {
    server.setDefault(lsResponder());
    const p = files.paths();
    const before = server.stats.completions;
    const { state } = await startRun<LlmsynthorStateT>(p.runDir, config(provider, { out: p.out, rows: 60 }), {
      env: TEST_ENV,
    });

    // N = 60: T = 3 iterations of 20 rows; one copula call, before the loop.
    expect(state.iterations).toBe(3);
    const copula = requestsOf("copula");
    const props = requestsOf("proposer");
    expect(copula).toHaveLength(1);
    expect(seedOf(copula[0])).toBe(deriveSeed(7, SEED_STREAMS.llmsynthor.copula, 0));
    expect(props.map(nSamplesOf)).toEqual([20, 20, 20]);
    expect(props.map(seedOf)).toEqual(
      [1, 2, 3].map((t) => deriveSeed(7, SEED_STREAMS.llmsynthor.proposer, t)),
    );
    expect(state.groups).toEqual([
      ["age", "income"],
      ["sex", "hours"],
    ]);
    expect(state.stoppedBecause).toBe("iterations");
    expect(state.fillRounds).toBe(0);

    // Iteration 1 measures an empty pool: every real cell is a gap, so each TVD is ½·Σ real shares = 0.5.
    const [h1, h2, h3] = state.history;
    expect(h1.pool_rows).toBe(0);
    // (Summed over cells in floating point: equal to 0.5 within rounding.)
    for (const tvd of Object.values(h1.discrepancy.marginal)) expect(tvd).toBeCloseTo(0.5, 12);
    expect(Object.keys(h1.discrepancy.marginal)).toEqual(["age", "sex", "hours", "income"]);
    for (const j of h1.discrepancy.joint) expect(j.tvd).toBeCloseTo(0.5, 12);
    expect(h1.discrepancy.total).toBeCloseTo(0.5, 12);
    expect(proposalPrompt(props[0])).toContain('"sex" = "Female": real 50.0%, synthetic 0.0% (gap +50.0 pts');
    // Counts 3:1:3:1 of 20 rows → 8, 3, 7, 2 (largest remainder, ties first): Female 8 + 2 = 10 of 20 and
    // >50K 3 + 2 = 5 of 20, exactly the real 50% and 25%; the second prompt is grounded on that pool.
    expect(h2.pool_rows).toBe(20);
    expect(h2.discrepancy.marginal.sex).toBe(0);
    expect(h2.discrepancy.marginal.income).toBe(0);
    expect(proposalPrompt(props[1])).toContain('"sex" = "Female": real 50.0%, synthetic 50.0% (gap 0.0 pts)');
    expect(proposalPrompt(props[1])).toContain(
      '"income" = ">50K": real 25.0%, synthetic 25.0% (gap 0.0 pts)',
    );
    expect(h3.pool_rows).toBe(40);
    expect(h2.discrepancy.total).toBeLessThan(h1.discrepancy.total);
    expect(state.history.map((h) => [h.requested, h.accepted, h.exact_copies])).toEqual([
      [20, 20, 0],
      [20, 20, 0],
      [20, 20, 0],
    ]);
    expect(state.finalDiscrepancy?.total).toBeLessThan(0.5);

    // Pool chunk of iteration 1 = the sampled rows (ids none; sampler seed from the sampler stream).
    const chunk = await new ArtifactStore(join(p.runDir, "artifacts")).require(poolKey(1), PoolChunkSchema);
    expect(chunk.seed).toBe(deriveSeed(7, SEED_STREAMS.llmsynthor.sampler, 1));
    expect(chunk.rows).toBe(20);

    const lines = csvLines(p.out);
    expect(lines[0]).toBe("age,sex,hours,income");
    expect(lines).toHaveLength(61);
    const back = await readTable(p.out);
    expect(back.table.nRows).toBe(60);
    for (const line of lines.slice(1)) {
      const [age, , hours] = line.split(",").map(Number);
      expect(Number.isInteger(age) && age >= 20 && age <= 59).toBe(true);
      expect(hours >= 20 && hours <= 50).toBe(true);
    }
    expect(state.usage.calls).toBe(server.stats.completions - before);
    expect(state.usage.by_role.proposer.calls).toBe(3);
    expect(state.usage.by_role.copula.calls).toBe(1);
    const run = await readRunFile(p.runDir);
    expect(run.status).toBe("done");
    expect(run.engine).toBe("llmsynthor");
    expect(run.progress).toEqual({ iterations: 3, rows_done: 60, rows_requested: 60 });
  });

  it("stops under the tolerance and fills the rest from the proposals' mixture without an LLM call", async () => {
    server.setDefault(lsResponder());
    const p = files.paths();
    const { state } = await startRun<LlmsynthorStateT>(
      p.runDir,
      config(provider, { out: p.out, rows: 100, tolerance: 0.9 }),
      { env: TEST_ENV },
    );
    // Iteration 1 (pool empty, total 0.5) always proposes; at iteration 2 the pool's mean TVD is < 0.9.
    expect(state.iterations).toBe(5);
    expect(requestsOf("proposer")).toHaveLength(1);
    expect(state.history).toHaveLength(1);
    expect(state.stoppedBecause).toBe("tolerance");
    expect(state.finalDiscrepancy?.total).toBeLessThan(0.9);
    expect(state.fillRounds).toBe(1);
    expect(state.accepted).toBe(100);
    const fill = await new ArtifactStore(join(p.runDir, "artifacts")).require(
      "llmsynthor/pool/fill-001",
      PoolChunkSchema,
    );
    expect(fill).toMatchObject({
      requested: 80,
      rows: 80,
      seed: deriveSeed(7, SEED_STREAMS.llmsynthor.fill, 1),
    });
    expect(csvLines(p.out)).toHaveLength(101);
  });

  it("removes exact copies of real rows and makes them up in later iterations and the fill", async () => {
    const r0 = realRows()[0];
    // A point proposal that reproduces real row 0 exactly: all its rows are copies.
    const copyProposal = {
      proposal: { age: [r0.age, r0.age], sex: r0.sex, hours: [r0.hours, r0.hours], income: r0.income },
      num: 1,
    };
    server.setDefault(lsResponder({ proposer: () => proposalsReply([...CENSUS_PROPOSALS, copyProposal]) }));
    const p = files.paths();
    const { state } = await startRun<LlmsynthorStateT>(p.runDir, config(provider, { out: p.out, rows: 60 }), {
      env: TEST_ENV,
    });
    // Weights 3:1:3:1:1 of 20 → the copy proposal gets 2 rows in iteration 1 (⌊20/9⌋ = 2, remainder 0.22).
    expect(state.history[0]).toMatchObject({ requested: 20, accepted: 18, exact_copies: 2 });
    // Iteration 2 asks ⌈42 / 2⌉ = 21 rows; the last one everything left; the final copies come from the fill.
    expect(state.history[1].requested).toBe(21);
    expect(state.exactCopiesRemoved).toBeGreaterThanOrEqual(6);
    expect(state.fillRounds).toBeGreaterThanOrEqual(1);
    const realLines = new Set(realRows().map((r) => `${r.age},${r.sex},${r.hours},${r.income}`));
    const lines = csvLines(p.out).slice(1);
    expect(lines).toHaveLength(60);
    expect(lines.filter((l) => realLines.has(l))).toEqual([]);
  });

  it("re-infers the joint groups every iteration when asked", async () => {
    let calls = 0;
    server.setDefault(
      lsResponder({
        copula: () => {
          calls++;
          return JSON.stringify(calls === 1 ? { "1": ["age", "income"] } : { "1": ["sex", "income"] });
        },
      }),
    );
    const p = files.paths();
    const cfg = { ...config(provider, { out: p.out, rows: 60 }) };
    cfg.llmsynthor = { ...cfg.llmsynthor, reinferGroups: true };
    const { state } = await startRun<LlmsynthorStateT>(p.runDir, cfg, { env: TEST_ENV });
    expect(requestsOf("copula").map(seedOf)).toEqual(
      [1, 2, 3].map((t) => deriveSeed(7, SEED_STREAMS.llmsynthor.copula, t)),
    );
    expect(state.history.map((h) => h.groups)).toEqual([
      [["age", "income"]],
      [["sex", "income"]],
      [["sex", "income"]],
    ]);
    expect(state.history[1].discrepancy.joint[0].columns).toEqual(["sex", "income"]);
    expect(csvLines(p.out)).toHaveLength(61);
  });

  it("gives a byte-identical CSV for the same seed and scripted responses", async () => {
    server.setDefault(lsResponder());
    const outs: string[] = [];
    for (const seed of [7, 7, 8]) {
      const p = files.paths();
      await startRun(p.runDir, config(provider, { out: p.out, rows: 45, seed }), { env: TEST_ENV });
      outs.push(readFileSync(p.out, "utf8"));
    }
    expect(outs[1]).toBe(outs[0]);
    // A different seed draws different rows from the same proposals (the comparison above can fail).
    expect(outs[2]).not.toBe(outs[0]);
  });
});

// --- the CLI -------------------------------------------------------------------------------------------------

describe.each(PROVIDERS)("generate --engine llmsynthor over %s", (provider) => {
  it("writes OUT.csv and SUMMARY.json with the discrepancy, groups and proposals per iteration", async () => {
    server.setDefault(lsResponder());
    const root = join(files.dir, `runs-${provider}`);
    const runDir = join(root, "ls1");
    const out = join(files.dir, `cli-${provider}.csv`);
    const json = join(files.dir, `cli-${provider}.json`);
    const t = captureIo(loopbackEnv(server, provider));
    const before = { ...server.stats };
    await runGenerate(
      {
        data: files.input,
        rows: "80",
        out,
        json,
        runDir,
        engine: "llmsynthor",
        model: loopbackModel(provider),
        seed: "3",
        iterations: "2",
        tolerance: "0",
        joints: "2",
        proposals: "4",
      },
      t,
    );
    const summary = JSON.parse(readFileSync(json, "utf8"));
    expect(summary).toMatchObject({
      rows: 80,
      engine: "llmsynthor",
      stopped_because: "iterations",
      iterations_planned: 2,
      joint_groups: [
        ["age", "income"],
        ["sex", "hours"],
      ],
      fill_rounds: 0,
      privacy: { guard: true, exact_copies_removed: 0 },
      invalid_rows_dropped: 0,
    });
    expect(summary.iterations).toHaveLength(2);
    const [i1, i2] = summary.iterations;
    expect(i1.discrepancy.total).toBeCloseTo(0.5, 12);
    expect(i1.discrepancy.joint).toEqual([
      { columns: ["age", "income"], tvd: expect.closeTo(0.5, 12) },
      { columns: ["sex", "hours"], tvd: expect.closeTo(0.5, 12) },
    ]);
    expect(i2.pool_rows).toBe(40);
    expect(i1.proposals).toHaveLength(4);
    expect(i1.proposals.map((x: { count: number }) => x.count)).toEqual([15, 5, 15, 5]);
    expect(i1.proposals[0].parts.sex).toEqual({ kind: "category", value: "Female" });
    expect(i1.proposals[0].parts.age).toEqual({ kind: "range", min: 20, max: 39 });
    expect(i1.proposal_report).toMatchObject({ received: 4, accepted: 4, dropped: 0 });
    expect(i1.usage.by_role.proposer.calls).toBe(1);
    expect(summary.copula).toHaveLength(1);
    // The copula prompt asked for at most 2 groups, the proposal prompt for at most 4 proposals.
    expect(proposalPrompt(requestsOf("copula")[0])).toContain("at most 2 correlated variable groups");
    expect(proposalPrompt(requestsOf("proposer")[0])).toContain(
      "Create no more than 4 proposals totaling 40",
    );
    expect(summary.usage.calls).toBe(server.stats.completions - before.completions);
    expect(summary.usage.prompt_tokens).toBe(server.stats.promptTokens - before.promptTokens);
    expect(summary.usage.completion_tokens).toBe(server.stats.completionTokens - before.completionTokens);
    expect(summary.evaluate.summary.rows).toEqual({ real: 40, synthetic: 80, holdout: null });
    expect(csvLines(out)).toHaveLength(81);

    const err = t.err();
    expect(err).toContain("loaded 40 real rows × 4 columns; 2 iterations planned");
    expect(err).toContain("joint groups: [age, income] [sex, hours]");
    expect(err).toContain("iteration 1: pool 0 rows, mean TVD 0.500; proposing 40 rows");
    expect(err).toMatch(/pool 80\/80 rows \(\+40, exact copies removed 0\)/);
    expect(t.out()).toContain(`done: 80 rows in ${out}`);

    const runs = await runRuns({ root }, captureIo({}));
    expect(runs).toEqual([
      expect.objectContaining({
        id: "ls1",
        engine: "llmsynthor",
        status: "done",
        rows_done: 80,
        iterations: 2,
      }),
    ]);
  });
});

describe("generate --engine errors", () => {
  it("rejects an unknown engine with exit code 2", async () => {
    const err = await runGenerate(
      { data: files.input, rows: "10", out: join(files.dir, "x.csv"), engine: "gan" as never },
      captureIo({}),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynthgraphError);
    expect((err as SynthgraphError).exitCode).toBe(2);
    expect((err as SynthgraphError).message).toBe(
      "--engine must be one of synthia, mallm-gan, llmsynthor, copula, bayesnet",
    );
  });
});

// --- resume after kill -9 ------------------------------------------------------------------------------------

const poolFiles = (runDir: string): string[] => storedArtifacts(runDir, "llmsynthor/pool", /^it-\d+\.json$/);

describe("resume after kill -9", () => {
  it("continues to exactly N rows without asking again for a stored iteration, same CSV as an uninterrupted run", async () => {
    // Iterations 1–3 get their proposals; the 4th proposal request hangs until the kill, so the kill lands
    // between iterations however loaded the machine is.
    const held = holdAfter(
      (req) => (lsKindOf(req) === "proposer" ? proposalsReply(CENSUS_PROPOSALS) : lsResponder()(req)),
      (req) => lsKindOf(req) === "proposer",
      3,
    );
    server.setDefault(held.responder);
    const runDir = join(files.dir, "killed");
    const out = join(files.dir, "killed.csv");
    const args = ["generate", files.input, "--engine", "llmsynthor", "--rows", "200", "--out", out];
    args.push("--run-dir", runDir, "--model", "ollama:llama3.1:8b", "--seed", "11", "--tolerance", "0");
    const { atKill, requestsBefore } = await killThenResume({
      server,
      cwd: files.dir,
      args,
      runDir,
      stored: () => poolFiles(runDir),
      atLeast: 3,
      below: 10,
      timeoutMs: 30_000,
      pollMs: 10,
      afterKill: held.release,
    });
    const storedAtKill = atKill.length;
    const after = server.chatRequests().slice(requestsBefore);
    // The copula result was stored: not asked again. No proposal of a stored iteration was asked again.
    expect(after.filter((r) => lsKindOf(r) === "copula")).toEqual([]);
    const storedSeeds = new Set(
      Array.from({ length: storedAtKill }, (_, k) => deriveSeed(11, SEED_STREAMS.llmsynthor.proposer, k + 1)),
    );
    const seedsAfter = after.filter((r) => lsKindOf(r) === "proposer").map(seedOf);
    expect(seedsAfter.filter((s) => storedSeeds.has(s))).toEqual([]);
    expect(new Set(seedsAfter).size).toBe(seedsAfter.length);
    expect(poolFiles(runDir)).toHaveLength(10);
    expect(csvLines(out)).toHaveLength(201);
    const run = await readRunFile(runDir);
    expect(run.status).toBe("done");
    expect(run.progress.rows_done).toBe(200);

    // The same run without the kill writes the same bytes.
    server.setDefault(lsResponder());
    const fresh = join(files.dir, "unkilled.csv");
    const cfg = testConfig(server, "ollama", {
      input: files.input,
      out: fresh,
      rows: 200,
      seed: 11,
      engine: "llmsynthor",
      llmsynthor: LlmsynthorOptionsSchema.parse({ tolerance: 0 }),
    });
    await startRun(join(files.dir, "unkilled"), cfg, { env: TEST_ENV });
    expect(readFileSync(fresh, "utf8")).toBe(readFileSync(out, "utf8"));
  });
});
