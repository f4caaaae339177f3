/**
 * Steering every engine over the loopback LLM server (scripted replies): start paused at every pause point,
 * steer with feedback and find it in the next generator / optimizer / proposer prompt the server recorded,
 * steer --stop with a new row count and get exactly that many rows; the actions recorded with their time in
 * the state, steering.json and SUMMARY.json; invalid actions rejected against the run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runGenerate } from "../../cli/generate.ts";
import { runPause } from "../../cli/pause.ts";
import { runSteer } from "../../cli/steer.ts";
import { startRun } from "../../graph/run.ts";
import { readRunState } from "../../graph/steer.ts";
import { LlmsynthorOptionsSchema, type RunConfig } from "../../state/config.ts";
import { readRunFile } from "../../state/run-dir.ts";
import { readSteeringFile } from "../../state/steering.ts";
import { captureIo, csvRows, TEST_ENV, useLlmServer, useRunFiles } from "../support/harness.ts";
import type { RecordedRequest } from "../support/llm-server.ts";
import { isOptimizer, mallmConfig, mallmResponder } from "../support/mallm.ts";
import { lsKindOf, lsResponder, proposalPrompt } from "../support/llmsynthor.ts";
import { generatorPrompt, kindOf, responder, syntheticVerdict, testConfig } from "../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("steering-");

const FEEDBACK = "Too few people over 55: add more of them, keep the rest.";

interface EngineCase {
  name: string;
  config: (p: { out: string }) => RunConfig;
  responder: () => (req: RecordedRequest) => string;
  /** The prompt that must carry the feedback after the steer: the next generator, optimizer or proposer call. */
  steeredPrompts: () => string[];
  /** Rows after the stop (LLMSynthor: not below its pool). */
  stopRows: number;
}

const CASES: EngineCase[] = [
  {
    name: "synthia",
    config: (p) =>
      testConfig(server, "ollama", { input: files.input, out: p.out, rows: 30, maxIterations: 4 }),
    // Never "Real": the loop would go on to max iterations without steering.
    responder: () =>
      responder({
        decision: syntheticVerdict,
      }) as (req: RecordedRequest) => string,
    steeredPrompts: () =>
      server
        .chatRequests()
        .filter((r) => kindOf(r) === "generator")
        .map(generatorPrompt),
    stopRows: 23,
  },
  {
    name: "mallm-gan",
    config: (p) =>
      mallmConfig(server, "ollama", {
        input: files.input,
        out: p.out,
        rows: 30,
        mallm: { epochs: 2, batchSize: 20 },
      }),
    responder: () => mallmResponder() as (req: RecordedRequest) => string,
    steeredPrompts: () =>
      server
        .chatRequests()
        .filter(isOptimizer)
        .map((r) => r.messages.map((m) => m.content).join("\n")),
    stopRows: 12,
  },
  {
    name: "llmsynthor",
    config: (p) =>
      testConfig(server, "ollama", {
        input: files.input,
        out: p.out,
        rows: 100,
        engine: "llmsynthor",
        llmsynthor: LlmsynthorOptionsSchema.parse({ tolerance: 0 }),
      }),
    responder: () => lsResponder() as (req: RecordedRequest) => string,
    steeredPrompts: () =>
      server
        .chatRequests()
        .filter((r) => lsKindOf(r) === "proposer")
        .map(proposalPrompt),
    stopRows: 150,
  },
];

describe.each(CASES)("steering $name", (c) => {
  it("pauses with --pause, takes feedback into the next prompt, stops with exactly N rows", async () => {
    server.setDefault(c.responder());
    const p = files.paths();
    const summaryPath = join(files.dir, `summary-${c.name}.json`);
    const config = { ...c.config(p), summary: summaryPath };

    const first = await startRun(p.runDir, config, { env: TEST_ENV, pauseEvery: true });
    expect(first.status).toBe("paused");
    expect(first.pause?.engine).toBe(c.name);
    expect(first.pause?.next).toBe("iterate");
    expect((await readRunFile(p.runDir)).status).toBe("paused");
    const snap = await readRunState(p.runDir);
    expect(snap.next).toEqual(["pause"]);
    expect(snap.pause?.iteration).toBe(first.pause?.iteration);
    const before = c.steeredPrompts().length;
    expect(c.steeredPrompts().some((t) => t.includes(FEEDBACK))).toBe(false);

    const io = captureIo(TEST_ENV);
    const afterFeedback = await runSteer({ dir: p.runDir, feedback: FEEDBACK, quiet: true }, io);
    expect(afterFeedback && "paused" in afterFeedback).toBe(true);
    expect(io.out()).toContain(`applied feedback: ${FEEDBACK}`);
    const steered = c.steeredPrompts().slice(before);
    expect(steered.length).toBeGreaterThan(0);
    expect(steered[0]).toContain(FEEDBACK);
    expect((await readRunFile(p.runDir)).status).toBe("paused");

    const io2 = captureIo(TEST_ENV);
    const done = await runSteer({ dir: p.runDir, stop: true, rows: c.stopRows, quiet: true }, io2);
    expect(done && "rows" in done ? done.rows : null).toBe(c.stopRows);
    expect(csvRows(config.out)).toHaveLength(c.stopRows);
    expect(io2.out()).toMatch(/^done: /m);
    const run = await readRunFile(p.runDir);
    expect(run.status).toBe("done");
    expect(run.config.rows).toBe(c.stopRows);

    const summary = JSON.parse(readFileSync(summaryPath, "utf8")) as {
      steering: Array<{
        action: { type: string };
        at: string;
        source: string;
        applied_at: { iteration: number };
      }>;
      stopped_because: string | null;
    };
    expect(summary.steering.map((s) => s.action.type)).toEqual(["feedback", "rows", "stop"]);
    for (const s of summary.steering) {
      expect(s.source).toBe("cli");
      expect(Number.isNaN(Date.parse(s.at))).toBe(false);
    }
    const file = await readSteeringFile(p.runDir);
    expect(file.history.map((h) => h.action.type)).toEqual(["feedback", "rows", "stop"]);
    expect(file.pending).toEqual([]);
  }, 120_000);
});

describe("steering validation", () => {
  it("rejects unknown columns, rows below an LLMSynthor pool, a condition on an LLMSynthor run, and steering a finished run", async () => {
    server.setDefault(lsResponder());
    const p = files.paths();
    const config = CASES[2].config(p);
    const first = await startRun(p.runDir, config, { env: TEST_ENV, pauseEvery: true });
    expect(first.status).toBe("paused");
    const pool = first.state.accepted;
    expect(pool).toBeGreaterThan(0);
    const io = captureIo(TEST_ENV);
    const low = await runSteer({ dir: p.runDir, rows: pool - 1, resume: false }, io).catch((e: unknown) => e);
    expect(low).toMatchObject({ exitCode: 2 });
    expect(String((low as Error).message)).toContain(`below the ${pool} rows`);
    const { steerRun } = await import("../../graph/steer.ts");
    const bad = await steerRun(p.runDir, { type: "condition", columns: ["agee"], text: "agee > 80" }).catch(
      (e: unknown) => e,
    );
    expect(String((bad as Error).message)).toContain("unknown column(s): agee");
    // Nothing invalid was recorded.
    expect((await readSteeringFile(p.runDir)).history).toEqual([]);
    // A valid condition is refused for LLMSynthor, whose pools grow per group from the start; nothing recorded.
    const fixed = await steerRun(
      p.runDir,
      { type: "condition", columns: ["age"], text: "age > 50" },
      { resume: false },
    ).catch((e: unknown) => e);
    expect(fixed).toMatchObject({ exitCode: 2 });
    expect(String((fixed as Error).message)).toContain("conditions are fixed when it starts");
    expect((await readSteeringFile(p.runDir)).history).toEqual([]);
    // A valid action is queued and the run stays paused with --no-resume.
    const ok = await steerRun(p.runDir, { type: "feedback", text: "more over 50" }, { resume: false });
    expect(ok.status).toBe("queued");
    expect((await readRunFile(p.runDir)).status).toBe("paused");
    await runSteer({ dir: p.runDir, cancel: true }, captureIo(TEST_ENV));
    expect((await readRunFile(p.runDir)).status).toBe("cancelled");
    const again = await runSteer({ dir: p.runDir, stop: true }, captureIo(TEST_ENV)).catch((e: unknown) => e);
    expect(String((again as Error).message)).toContain("cancelled");
  }, 120_000);

  it("pause DIR on a paused run says so; generate --pause exits with the run paused", async () => {
    server.setDefault(responder());
    const p = files.paths();
    const io = captureIo(TEST_ENV);
    const out = await runGenerate(
      {
        data: files.input,
        rows: "20",
        out: p.out,
        runDir: p.runDir,
        pause: true,
        probeRows: "20",
        examples: "8",
        batchRows: "10",
        model: "ollama:llama3.1:8b",
        seed: "7",
      },
      captureIo({ OLLAMA_HOST: server.ollamaUrl }),
    );
    expect("paused" in out).toBe(true);
    await runPause({ dir: p.runDir }, io);
    expect(io.out()).toContain("already paused");
  }, 60_000);
});
