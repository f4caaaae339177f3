/**
 * The SYNTHIA graph end to end over the loopback LLM server with the real ChatOllama and ChatOpenAI clients:
 * convergence on "Real", the statistical guard overruling a "Real", max iterations with the best prompt,
 * messy generator output, the privacy guard, and transient faults.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readTable } from "../../../data/read.ts";
import { startRun } from "../../../graph/run.ts";
import { ArtifactStore, finalBatchKey, RowBatchSchema } from "../../../state/artifacts.ts";
import { batchSeed, deriveSeed, SEED_STREAMS } from "../../../state/seeds.ts";
import { readRunFile } from "../../../state/run-dir.ts";
import { csvRows, realRows, TEST_ENV, useLlmServer, useRunFiles } from "../../support/harness.ts";
import { PROVIDERS } from "../../support/llm-endpoints.ts";
import { type RecordedRequest, reply } from "../../support/llm-server.ts";
import {
  badRows,
  generatorPrompt,
  goodRows,
  kindOf,
  requestedRows,
  responder,
  rowsReply,
  seedOf,
  testConfig,
} from "../../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("synthia-graph-");

const generatorRequests = (): RecordedRequest[] =>
  server.chatRequests().filter((r) => kindOf(r) === "generator");

describe.each(PROVIDERS)("SYNTHIA graph over %s", (provider) => {
  it("converges on a Real verdict and writes exactly N valid rows from parallel batches", async () => {
    server.setDefault(responder());
    const p = files.paths();
    const config = testConfig(server, provider, { input: files.input, out: p.out, rows: 55 });
    const before = server.stats.completions;
    const { state } = await startRun(p.runDir, config, { env: TEST_ENV });

    expect(state.history).toHaveLength(1);
    expect(state.history[0]).toMatchObject({
      iteration: 1,
      verdict: "Real",
      overruled: false,
      valid: 20,
      requested: 20,
    });
    expect(state.finalChoice).toEqual({ reason: "converged", iteration: 1, feedback: [] });
    // 55 rows at 10 per batch: 6 batches (the last asks for 5), one probe.
    const gens = generatorRequests();
    // The probe comes first; the final batches run in parallel, so they reach the server in any order.
    expect(gens).toHaveLength(7);
    expect(requestedRows(gens[0])).toBe(20);
    expect(seedOf(gens[0])).toBe(deriveSeed(7, SEED_STREAMS.synthia.probe, 1));
    const batchOf = (req: RecordedRequest): number =>
      [0, 1, 2, 3, 4, 5].findIndex((b) => batchSeed(7, 1, b) === seedOf(req));
    expect(gens.slice(1).map(batchOf).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const req of gens.slice(1)) expect(requestedRows(req)).toBe(batchOf(req) === 5 ? 5 : 10);
    // Two discriminator turns (analysis, decision).
    expect(
      server
        .chatRequests()
        .map(kindOf)
        .filter((k) => k !== "generator"),
    ).toEqual(["analysis", "decision"]);

    const lines = csvRows(p.out);
    expect(lines).toHaveLength(55);
    // Batch order: the output is batch 0's rows, then batch 1's, ... (each batch's rows are goodRows(seed)).
    const expected = [0, 1, 2, 3, 4, 5]
      .flatMap((b) => goodRows(batchSeed(7, 1, b), b === 5 ? 5 : 10))
      .map((r) => r.join(","));
    expect(lines).toEqual(expected);
    const back = await readTable(p.out);
    expect(back.table.nRows).toBe(55);

    expect(state.usage.calls).toBe(server.stats.completions - before);
    expect(state.usage.by_role.generator.calls).toBe(7);
    expect(state.accepted).toBe(55);
    expect(state.exactCopiesRemoved).toBe(0);
    expect((await readRunFile(p.runDir)).status).toBe("done");
  });

  it("overrules a Real verdict when the probe is clearly off, then refines with the guard's reasons", async () => {
    // The generator writes degenerate rows until its prompt carries the guard's feedback.
    server.setDefault(
      responder({
        generator: (req) =>
          generatorPrompt(req).includes("statistical analyzer shows")
            ? rowsReply(goodRows(seedOf(req), requestedRows(req)))
            : rowsReply(badRows(requestedRows(req))),
      }),
    );
    const p = files.paths();
    const { state } = await startRun(
      p.runDir,
      testConfig(server, provider, { input: files.input, out: p.out, rows: 20 }),
      { env: TEST_ENV },
    );
    expect(state.history.map((h) => [h.verdict, h.overruled])).toEqual([
      ["Real", true],
      ["Real", false],
    ]);
    const first = state.history[0];
    expect(first.guard_reasons.length).toBeGreaterThan(0);
    expect(first.guard_reasons.join(" ")).toMatch(/age|hours/);
    expect(first.feedback).toContain(first.guard_reasons[0]);
    expect(state.history[1].feedback_in).toEqual([first.feedback]);
    expect(state.finalChoice).toMatchObject({ reason: "converged", iteration: 2 });
    expect(csvRows(p.out)).toHaveLength(20);
  });

  it("stops at maxIterations and finalizes with the best prompt so far", async () => {
    let decisions = 0;
    // Good rows only from the prompt of iteration 3 (feedback fix-1, fix-2): it is the best by similarity − divergence.
    server.setDefault(
      responder({
        generator: (req) => {
          const prompt = generatorPrompt(req);
          const good = prompt.includes("fix-2") && !prompt.includes("fix-3");
          return rowsReply(good ? goodRows(seedOf(req), requestedRows(req)) : badRows(requestedRows(req)));
        },
        decision: () => {
          decisions++;
          return JSON.stringify({ Type: "Synthetic", Feedback: `fix-${decisions}` });
        },
      }),
    );
    const p = files.paths();
    const config = testConfig(server, provider, {
      input: files.input,
      out: p.out,
      rows: 30,
      maxIterations: 4,
    });
    const { state } = await startRun(p.runDir, config, { env: TEST_ENV });
    expect(state.history.map((h) => h.verdict)).toEqual(["Synthetic", "Synthetic", "Synthetic", "Synthetic"]);
    expect(state.history.map((h) => h.feedback)).toEqual(["fix-1", "fix-2", "fix-3", "fix-4"]);
    const scores = state.history.map((h) => (h.scores.similarity ?? 0) - (h.scores.divergence ?? 0));
    expect(Math.max(...scores)).toBe(scores[2]);
    expect(state.finalChoice).toEqual({
      reason: "max_iterations",
      iteration: 3,
      feedback: ["fix-1", "fix-2"],
    });
    expect(state.prompt).toContain("fix-2");
    expect(state.prompt).not.toContain("fix-3");
    const finals = generatorRequests().slice(4);
    expect(finals).toHaveLength(3);
    for (const r of finals) expect(generatorPrompt(r)).toContain("Reply with exactly 10 rows");
    expect(csvRows(p.out)).toHaveLength(30);
  });

  it("keeps valid rows from messy replies, drops invalid ones with reasons, and plans extra rounds", async () => {
    // Fenced JSON with a trailing comment; per batch two invalid rows (age out of range, unknown category).
    server.setDefault(
      responder({
        generator: (req) => {
          const n = requestedRows(req);
          const rows = goodRows(seedOf(req), n);
          if (n >= 4) {
            rows[0] = [212, "Female", 30.5, "<=50K"];
            rows[1] = [30, "Robot", 30.5, "<=50K"];
          }
          return `Here you go:\n\`\`\`json\n${rowsReply(rows)}\n\`\`\`\nHope this helps.`;
        },
      }),
    );
    const p = files.paths();
    const { state } = await startRun(
      p.runDir,
      testConfig(server, provider, { input: files.input, out: p.out, rows: 30 }),
      { env: TEST_ENV },
    );
    expect(state.history[0]).toMatchObject({ valid: 18, invalid: 2 });
    expect(state.invalidRows).toBeGreaterThanOrEqual(6);
    // Round 1 plans 30 rows and gets 24; later rounds make up the rest.
    expect(state.roundRows[0]).toBe(30);
    expect(state.roundRows[1]).toBe(6);
    expect(state.accepted).toBe(30);
    const batch = await new ArtifactStore(join(p.runDir, "artifacts")).require(
      finalBatchKey(1, 0),
      RowBatchSchema,
    );
    expect(batch.invalid).toBe(2);
    expect(batch.reasons.join(" ")).toMatch(/212/);
    expect(batch.reasons.join(" ")).toMatch(/Robot/);
    const lines = csvRows(p.out);
    expect(lines).toHaveLength(30);
    expect(lines.some((l) => l.startsWith("212,") || l.includes("Robot"))).toBe(false);
  });

  it("removes exact copies of real rows (privacy guard) and reports them", async () => {
    const real = realRows();
    server.setDefault(
      responder({
        generator: (req) => {
          const n = requestedRows(req);
          const rows = goodRows(seedOf(req), n);
          const r = real[seedOf(req) % real.length];
          if (n > 1) rows[0] = [r.age, r.sex, r.hours, r.income];
          return rowsReply(rows);
        },
      }),
    );
    const p = files.paths();
    const { state } = await startRun(
      p.runDir,
      testConfig(server, provider, { input: files.input, out: p.out, rows: 30 }),
      { env: TEST_ENV },
    );
    // Every batch of more than one row holds one copy: round 1 (3 batches) keeps 27 rows, round 2 (3 rows)
    // keeps 2, round 3 (1 row) keeps 1.
    expect(state.roundRows).toEqual([30, 3, 1]);
    expect(state.exactCopiesRemoved).toBe(4);
    const realLines = new Set(real.map((r) => `${r.age},${r.sex},${r.hours},${r.income}`));
    const lines = csvRows(p.out);
    expect(lines).toHaveLength(30);
    expect(lines.filter((l) => realLines.has(l))).toEqual([]);
  });

  it("retries a 500 and still writes exactly N rows", async () => {
    const failed = new Set<number>();
    const base = responder();
    server.setDefault((req) => {
      if (kindOf(req) === "generator" && requestedRows(req) === 10 && !failed.has(seedOf(req))) {
        failed.add(seedOf(req));
        return reply.error(500, "internal error");
      }
      return base(req);
    });
    const p = files.paths();
    const { state } = await startRun(
      p.runDir,
      testConfig(server, provider, { input: files.input, out: p.out, rows: 20 }),
      { env: TEST_ENV },
    );
    expect(failed.size).toBe(2);
    expect(state.usage.failed_calls).toBe(2);
    expect(csvRows(p.out)).toHaveLength(20);
  });
});
