/**
 * The MALLM-GAN graph end to end over the loopback LLM server with the real ChatOllama and ChatOpenAI clients:
 * the schedule (learning epochs, frozen epoch, store rule, re-scoring, top-k optimizer prompts, best last), an
 * invalid optimizer answer skipped, the final theta choice, exactly N rows with the privacy guard, resume after
 * kill -9 and determinism.
 */
import { deriveSeed, SEED_STREAMS } from "../../../state/seeds.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { readTable } from "../../../data/read.ts";
import { rowsToTable, tableToRows } from "../../../data/rows.ts";
import { realLoader, startRun } from "../../../graph/run.ts";
import { ArtifactStore, RowBatchSchema, RowSchema } from "../../../state/artifacts.ts";
import { heldOutKey, type MallmStateT, realBatchRows, trainBatchKey } from "../../../engines/mallm/state.ts";
import { readRunFile } from "../../../state/run-dir.ts";
import { DEFAULT_TASK_INSTRUCTION } from "../../../engines/mallm/theta.ts";
import { takeTableRows } from "../../../data/build.ts";
import { createIncrementalDiscriminator } from "../../../stats/classifiers/sgd.ts";
import {
  csvRows,
  holdAfter,
  killThenResume,
  realRows,
  storedArtifacts,
  TEST_ENV,
  useLlmServer,
  useRunFiles,
} from "../../support/harness.ts";
import { PROVIDERS } from "../../support/llm-endpoints.ts";
import type { RecordedRequest } from "../../support/llm-server.ts";
import {
  examplesOf,
  isMallmGenerator,
  isOptimizer,
  mallmConfig,
  mallmRequestedRows,
  mallmResponder,
  optimizerAnswer,
  perturbedRows,
  shownScores,
  taskOf,
} from "../../support/mallm.ts";
import { rowsReply, seedOf } from "../../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("mallm-graph-");

const generatorRequests = (): RecordedRequest[] => server.chatRequests().filter(isMallmGenerator);
const optimizerRequests = (): RecordedRequest[] => server.chatRequests().filter(isOptimizer);

/** The answer the default responder gave to a recorded optimizer request (replies are functions of the request). */
const defaultAnswerTask = (req: RecordedRequest): string => {
  const r = mallmResponder()(req);
  const m = /<task>([\s\S]*?)<\/task>/.exec(typeof r === "string" ? r : "");
  return m ? m[1].trim() : "";
};

/** The step an optimizer or generator request belongs to, from the model seed it carries. */
function stepOfSeed(stream: number, steps: number): (req: RecordedRequest) => number {
  const bySeed = new Map(Array.from({ length: steps }, (_, i) => [deriveSeed(7, stream, i), i]));
  return (req) => bySeed.get(seedOf(req)) ?? -1;
}

describe.each(PROVIDERS)("MALLM-GAN graph over %s", (provider) => {
  it("runs the schedule, re-scores stored thetas, freezes the discriminator, and writes exactly N rows", async () => {
    server.setDefault(mallmResponder());
    const p = files.paths();
    // 40 real rows, batches of 20: 2 batches per epoch, 2 learning epochs + 1 frozen = 6 steps of 4 calls.
    const config = mallmConfig(server, provider, {
      input: files.input,
      out: p.out,
      rows: 30,
      mallm: { epochs: 2, batchSize: 20, examplesPerCall: 5 },
    });
    const before = server.stats.completions;
    const { state } = await startRun<MallmStateT>(p.runDir, config, { env: TEST_ENV });
    const store = new ArtifactStore(join(p.runDir, "artifacts"));
    const real = await realLoader(config)();

    expect(state.schedule).toMatchObject({
      epochs: 2,
      frozenEpochs: 1,
      batchesPerEpoch: 2,
      examplesPerCall: 5,
    });
    expect(state.trajectory.map((r) => [r.epoch, r.batch, r.frozen])).toEqual([
      [0, 0, false],
      [0, 1, false],
      [1, 0, false],
      [1, 1, false],
      [2, 0, true],
      [2, 1, true],
    ]);
    expect(state.trajectory.every((r) => r.valid === 20 && r.requested === 20 && r.stored)).toBe(true);
    // Batches in a batch: every loop call carries 5 real examples and asks for 5 rows; 4 calls per step.
    const gens = generatorRequests();
    const loopSeeds = new Set(
      Array.from({ length: 6 }, (_, i) => deriveSeed(7, SEED_STREAMS.mallm.generator, i)),
    );
    const loop = gens.filter((r) => loopSeeds.has(seedOf(r)));
    expect(loop).toHaveLength(24);
    for (const r of loop) {
      expect(examplesOf(r).rows).toHaveLength(5);
      expect(mallmRequestedRows(r)).toBe(5);
    }
    // Step 0's examples are exactly the real rows of epoch 0, batch 0.
    const batch0 = realBatchRows(40, state.schedule ?? never(), 7, 0, 0);
    const expectedExamples = tableToRows(takeTableRows(real.table, batch0), real.metadata).map((row) =>
      [row.age, row.sex, row.hours, row.income].join(","),
    );
    const step0 = loop.filter((r) => seedOf(r) === deriveSeed(7, SEED_STREAMS.mallm.generator, 0));
    expect(step0.flatMap((r) => examplesOf(r).rows.map((c) => c.join(","))).sort()).toEqual(
      [...expectedExamples].sort(),
    );

    // The optimizer runs after every batch but the last, sees at most 3 pairs, best (lowest) last, and its
    // answer is the next batch's theta.
    const opts = optimizerRequests();
    expect(opts).toHaveLength(5);
    expect(opts.map((r) => shownScores(r).length)).toEqual([1, 2, 3, 3, 3]);
    for (const r of opts) {
      const shown = shownScores(r);
      for (let i = 1; i < shown.length; i++) expect(shown[i]).toBeLessThanOrEqual(shown[i - 1]);
    }
    const stepOfOpt = stepOfSeed(SEED_STREAMS.mallm.optimizer, 6);
    for (const r of opts) {
      const step = stepOfOpt(r);
      expect(state.trajectory[step + 1].theta.taskInstruction).toBe(defaultAnswerTask(r));
      expect(state.trajectory[step].optimizer).toEqual({ attempts: 1, accepted: true, reasons: [] });
    }
    expect(state.trajectory[5].optimizer).toBeNull();
    expect(state.trajectory[0].theta.taskInstruction).toBe(DEFAULT_TASK_INSTRUCTION);

    // Re-scoring: the discriminator last learned at step 3 (frozen steps do not update it), so every stored
    // pair's latest score is its held-out accuracy under the final weights; frozen pairs are scored on the
    // whole batch and never re-scored.
    const disc = createIncrementalDiscriminator(real.table);
    disc.restore(state.discriminator);
    const HeldOut = z.object({ real: z.array(RowSchema), synthetic: z.array(RowSchema) });
    for (const c of state.candidates) {
      const h = await store.require(heldOutKey(c.step), HeldOut);
      const acc = disc.accuracy(rowsToTable(h.real, real.metadata), rowsToTable(h.synthetic, real.metadata));
      expect(c.score).toBe(acc);
      expect(c.initialScore).toBe(state.trajectory[c.step].score);
      expect(h.real.length + h.synthetic.length).toBe(c.epoch === 2 ? 40 : Math.ceil(0.2 * 40));
      if (c.epoch === 2) {
        const train = await store.require(trainBatchKey(c.step), RowBatchSchema);
        expect(h.synthetic).toEqual(train.rows);
        expect(c.score).toBe(c.initialScore);
      }
    }
    // Step 0 was scored by the discriminator after one update; the final weights score it differently.
    expect(state.candidates.some((c) => c.epoch < 2 && c.score !== c.initialScore)).toBe(true);

    // Final theta: the lowest-scoring of the last (frozen) epoch, first on ties.
    const last = state.candidates.filter((c) => c.epoch === 2);
    const best = last.reduce((a, b) => (b.score < a.score ? b : a));
    expect(state.finalChoice).toEqual({ reason: "last_epoch", step: best.step, score: best.score });
    expect(state.theta).toEqual(state.trajectory[best.step].theta);
    const finals = gens.filter((r) => !loopSeeds.has(seedOf(r)));
    expect(finals.length).toBeGreaterThan(0);
    for (const r of finals) expect(taskOf(r)).toBe(state.trajectory[best.step].theta.taskInstruction);
    // 30 rows at 25 per final batch: batches of 25 (5 calls) and 5 (1 call).
    expect(finals.map(mallmRequestedRows)).toEqual(Array(6).fill(5));

    const lines = csvRows(p.out);
    expect(lines).toHaveLength(30);
    expect((await readTable(p.out)).table.nRows).toBe(30);
    expect(state.accepted).toBe(30);
    expect(state.usage.calls).toBe(server.stats.completions - before);
    expect(state.usage.by_role.optimizer.calls).toBe(5);
    const run = await readRunFile(p.runDir);
    expect(run.status).toBe("done");
    expect(run.engine).toBe("mallm-gan");
    expect(run.progress).toEqual({ iterations: 6, rows_done: 30, rows_requested: 30 });
  });

  it("skips an invalid optimizer answer, does not store a mostly invalid batch, and generates with the chosen frozen theta", async () => {
    const genStep = stepOfSeed(SEED_STREAMS.mallm.generator, 6);
    const optStep = stepOfSeed(SEED_STREAMS.mallm.optimizer, 6);
    const base = mallmResponder();
    server.setDefault(
      mallmResponder({
        generator: (req) => {
          // Step 0: 3 of 5 rows valid per call (60% < 80%): scored but not stored.
          if (genStep(req) === 0) {
            const rows = perturbedRows(req);
            rows[0] = [212, "Female", 30.5, "<=50K"];
            rows[1] = [30, "Robot", 30.5, "<=50K"];
            return rowsReply(rows);
          }
          // Degenerate rows (all one old man with few hours; no real row) when the task says so.
          if (taskOf(req).startsWith("BAD")) return rowsReply(Array(5).fill([59, "Male", 20.13, ">50K"]));
          return base(req);
        },
        optimizer: (req) => {
          const step = optStep(req);
          // After step 1 both answers name an unknown column: skipped, theta kept.
          if (step === 1) return optimizerAnswer([["age", "Robot"]], "use the robot column");
          // Steps 3 (learning: the discriminator sees them) and 4 (frozen) generate degenerate rows, step 5 good ones.
          if (step === 2 || step === 3) return optimizerAnswer([["age", "income"]], "BAD: repeat one row");
          if (step === 4) return optimizerAnswer([["sex", "income"]], "Mimic the examples closely.");
          return base(req);
        },
      }),
    );
    const p = files.paths();
    const config = mallmConfig(server, provider, {
      input: files.input,
      out: p.out,
      rows: 12,
      mallm: { epochs: 2, batchSize: 20, examplesPerCall: 5 },
    });
    const { state } = await startRun<MallmStateT>(p.runDir, config, { env: TEST_ENV });
    const t = state.trajectory;

    expect(t[0]).toMatchObject({ valid: 12, requested: 20, invalid: 8, stored: false });
    expect(t[0].score).not.toBeNull();
    expect(state.candidates.map((c) => c.step)).toEqual([1, 2, 3, 4, 5]);
    // Nothing stored after step 0: no optimizer call, the same theta for step 1.
    expect(t[0].optimizer).toBeNull();
    expect(t[1].theta).toEqual(t[0].theta);
    // The invalid answer is re-asked once with the reason, then skipped.
    const step1 = optimizerRequests().filter((r) => optStep(r) === 1);
    expect(step1).toHaveLength(2);
    expect(step1[1].messages.at(-1)?.content).toMatch(/could not be used[\s\S]*Robot/);
    expect(t[1].optimizer?.accepted).toBe(false);
    expect(t[1].optimizer?.attempts).toBe(2);
    expect(t[1].optimizer?.reasons.join(" ")).toMatch(/Robot/);
    expect(t[2].theta).toEqual(t[1].theta);

    expect(t[3].theta.taskInstruction).toBe("BAD: repeat one row");
    expect(t[4].theta.taskInstruction).toBe("BAD: repeat one row");
    expect(t[5].theta.taskInstruction).toBe("Mimic the examples closely.");
    expect(t[5].theta.causalEdges).toEqual([["sex", "income"]]);
    const frozen = state.candidates.filter((c) => c.epoch === 2);
    expect(frozen.map((c) => c.step)).toEqual([4, 5]);
    // The final theta is the lowest-scoring of the last epoch, the first stored on ties (official min()).
    const bestScore = Math.min(...frozen.map((c) => c.score));
    const chosen = frozen.find((c) => c.score === bestScore) ?? frozen[0];
    expect(state.finalChoice).toEqual({ reason: "last_epoch", step: chosen.step, score: bestScore });
    expect(state.theta).toEqual(t[chosen.step].theta);
    const finals = generatorRequests().filter((r) => genStep(r) === -1);
    expect(finals.length).toBeGreaterThan(0);
    for (const r of finals) expect(taskOf(r)).toBe(t[chosen.step].theta.taskInstruction);
    expect(csvRows(p.out)).toHaveLength(12);
  });

  it("removes exact copies of real rows from the final batches and still writes exactly N rows", async () => {
    const genStep = stepOfSeed(SEED_STREAMS.mallm.generator, 6);
    const base = mallmResponder();
    // Final calls of more than one row echo their first example unchanged: an exact copy of a real row.
    server.setDefault(
      mallmResponder({
        generator: (req) => {
          if (genStep(req) !== -1 || mallmRequestedRows(req) === 1) return base(req);
          const rows = perturbedRows(req);
          const { rows: ex } = examplesOf(req);
          rows[0] = [Number(ex[0][0]), ex[0][1], Number(ex[0][2]), ex[0][3]];
          return rowsReply(rows);
        },
      }),
    );
    const p = files.paths();
    const config = mallmConfig(server, provider, {
      input: files.input,
      out: p.out,
      rows: 20,
      batchRows: 10,
      mallm: { epochs: 1, batchSize: 20, frozenEpochs: 1, examplesPerCall: 5 },
    });
    const { state } = await startRun<MallmStateT>(p.runDir, config, { env: TEST_ENV });
    // Round 1: 2 batches × 2 calls, one copy per call → 16 kept; round 2 (4 rows, 1 call) keeps 3; round 3 keeps 1.
    expect(state.roundRows).toEqual([20, 4, 1]);
    expect(state.exactCopiesRemoved).toBe(5);
    const realLines = new Set(realRows().map((r) => `${r.age},${r.sex},${r.hours},${r.income}`));
    const lines = csvRows(p.out);
    expect(lines).toHaveLength(20);
    expect(lines.filter((l) => realLines.has(l))).toEqual([]);
  });
});

describe.each(PROVIDERS)("MALLM-GAN determinism over %s", (provider) => {
  it("gives a byte-identical CSV for the same seed and scripted responses", async () => {
    server.setDefault(mallmResponder());
    const outs: string[] = [];
    for (const seed of [7, 7, 8]) {
      const p = files.paths();
      const config = mallmConfig(server, provider, {
        input: files.input,
        out: p.out,
        rows: 25,
        seed,
        mallm: { epochs: 1, batchSize: 20, examplesPerCall: 5 },
      });
      await startRun(p.runDir, config, { env: TEST_ENV });
      outs.push(readFileSync(p.out, "utf8"));
    }
    expect(outs[1]).toBe(outs[0]);
    // A different seed shuffles other real rows into the batches (the comparison above can fail).
    expect(outs[2]).not.toBe(outs[0]);
  });
});

// --- resume after kill -9, through the CLI in a child process ---------------------------------------------

const trainFiles = (runDir: string): string[] => storedArtifacts(runDir, "mallm/train");

describe("MALLM-GAN with --mallm-max-batches", () => {
  it("stops the loop after the cap, chooses the final theta from the epoch it ended in, and writes exactly N rows", async () => {
    server.setDefault(mallmResponder());
    const p = files.paths();
    // 40 real rows in batches of 20: the full schedule would be 6 steps; the cap stops it after 3.
    const config = mallmConfig(server, "ollama", {
      input: files.input,
      out: p.out,
      rows: 12,
      mallm: { epochs: 2, batchSize: 20, examplesPerCall: 5, maxBatches: 3 },
    });
    const optimizersBefore = optimizerRequests().length;
    const { state } = await startRun<MallmStateT>(p.runDir, config, { env: TEST_ENV });
    expect(state.schedule).toMatchObject({ batchesPerEpoch: 2, maxSteps: 3 });
    expect(state.trajectory.map((r) => [r.epoch, r.batch, r.frozen])).toEqual([
      [0, 0, false],
      [0, 1, false],
      [1, 0, false],
    ]);
    // One optimizer call after each step but the last.
    expect(optimizerRequests().length - optimizersBefore).toBe(2);
    // The loop ended in epoch 1: the final theta is that epoch's lowest-scoring stored one.
    const inLast = state.candidates.filter((c) => c.epoch === 1);
    expect(inLast.length).toBeGreaterThan(0);
    const best = inLast.reduce((a, b) => (b.score < a.score ? b : a));
    expect(state.finalChoice).toEqual({ reason: "last_epoch", step: best.step, score: best.score });
    expect(csvRows(p.out)).toHaveLength(12);
    expect((await readRunFile(p.runDir)).progress).toMatchObject({ iterations: 3, rows_done: 12 });
  });
});

describe("MALLM-GAN resume after kill -9", () => {
  it("continues from the last checkpoint without re-asking a stored step and ends with the uninterrupted CSV", async () => {
    // Steps 0 and 1 (8 generator calls each) are answered; step 2's calls hang until the kill, so the kill
    // lands between steps however loaded the machine is.
    const held = holdAfter(mallmResponder(), isMallmGenerator, 16);
    server.setDefault(held.responder);
    const runDir = join(files.dir, "killed");
    const out = join(files.dir, "killed.csv");
    // 40 real rows with the defaults: 5 learning epochs + 1 frozen, one batch of 40 rows (8 calls) each.
    const args = ["generate", files.input, "--engine", "mallm-gan", "--rows", "60", "--out", out];
    const summaryPath = join(files.dir, "killed-summary.json");
    args.push("--run-dir", runDir, "--model", "ollama:llama3.1:8b", "--seed", "11", "--top-k", "2");
    args.push("--examples-per-call", "5");
    args.push("--json", summaryPath);
    const { atKill: storedAtKill, requestsBefore } = await killThenResume({
      server,
      cwd: files.dir,
      args,
      runDir,
      stored: () => trainFiles(runDir),
      atLeast: 2,
      below: 6,
      timeoutMs: 60_000,
      pollMs: 5,
      afterKill: held.release,
    });
    const atKill = storedAtKill.length;

    // No step whose batch was stored at the kill is generated again.
    const stepOf = (req: RecordedRequest): number => {
      for (let i = 0; i < 6; i++)
        if (seedOf(req) === deriveSeed(11, SEED_STREAMS.mallm.generator, i)) return i;
      return -1;
    };
    const after = server.chatRequests().slice(requestsBefore).filter(isMallmGenerator).map(stepOf);
    expect(after.filter((s) => s >= 0 && s < atKill)).toEqual([]);
    expect(trainFiles(runDir)).toHaveLength(6);
    const run = await readRunFile(runDir);
    expect(run.status).toBe("done");
    expect(run.progress).toEqual({ iterations: 6, rows_done: 60, rows_requested: 60 });
    expect(run.config.mallm.topK).toBe(2);
    const shown = server
      .chatRequests()
      .filter(isOptimizer)
      .map((r) => shownScores(r).length);
    expect(Math.max(...shown)).toBe(2);

    // SUMMARY.json: the common fields plus the theta trajectory per batch.
    const summary = JSON.parse(readFileSync(summaryPath, "utf8"));
    expect(summary).toMatchObject({ engine: "mallm-gan", rows: 60, stopped_because: "last_epoch" });
    expect(summary.theta_trajectory).toHaveLength(6);
    for (const r of summary.theta_trajectory) {
      expect(Array.isArray(r.causal_edges)).toBe(true);
      expect(typeof r.task).toBe("string");
      expect(typeof r.score).toBe("number");
      expect(typeof r.rescored).toBe("number");
    }
    expect(summary.theta_trajectory[0].task).toBe(DEFAULT_TASK_INSTRUCTION);
    expect(summary.final_choice.reason).toBe("last_epoch");
    expect(summary.evaluate.summary).toBeDefined();

    // The same run without the interruption writes the same bytes.
    const ref = files.paths();
    await startRun(
      ref.runDir,
      mallmConfig(server, "ollama", {
        input: files.input,
        out: ref.out,
        rows: 60,
        seed: 11,
        mallm: { topK: 2, examplesPerCall: 5 },
      }),
      {
        env: TEST_ENV,
      },
    );
    expect(csvRows(out)).toHaveLength(60);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(ref.out, "utf8"));
  });
});

function never(): never {
  throw new Error("unreachable");
}
