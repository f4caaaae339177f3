/**
 * `synthgraph steer`: the free-text path (the steering agent's scripted translations: usable, unusable, and
 * usable-but-wrong for the run) and steering a run that is running in another process (the steer waits for its
 * pause point, applies the actions and continues in the foreground; --no-resume only queues and asks to pause).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { STEERING_SYSTEM } from "../../agents/steering-prompts.ts";
import { runSteer } from "../../cli/steer.ts";
import { startRun } from "../../graph/run.ts";
import { readRunState } from "../../graph/steer.ts";
import { ownerAlive } from "../../state/owner.ts";
import { readRunFile } from "../../state/run-dir.ts";
import { readSteeringFile } from "../../state/steering.ts";
import {
  captureIo,
  csvRows,
  exited,
  synthgraphChild,
  TEST_ENV,
  useLlmServer,
  useRunFiles,
} from "../support/harness.ts";
import type { RecordedRequest, Reply } from "../support/llm-server.ts";
import { generatorPrompt, kindOf, responder, testConfig } from "../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("steer-cli-");

const isSteering = (r: RecordedRequest): boolean => r.messages[0]?.content === STEERING_SYSTEM;

/** SYNTHIA's scripted replies (verdict always "Synthetic", so the loop runs to its max), steering agent aside. */
function withSteering(translate: (req: RecordedRequest) => string | Reply) {
  const base = responder({
    decision: () => JSON.stringify({ Type: "Synthetic", Feedback: "ages too narrow" }),
  });
  return (req: RecordedRequest): string | Reply => (isSteering(req) ? translate(req) : base(req));
}

async function pausedRun(rows = 30) {
  const p = files.paths();
  const config = testConfig(server, "ollama", { input: files.input, out: p.out, rows, maxIterations: 3 });
  const r = await startRun(p.runDir, config, { env: TEST_ENV, pauseEvery: true });
  expect(r.status).toBe("paused");
  return { ...p, config };
}

const SENTENCE = "too few people over 55, and make it 25 rows";

describe('steer DIR "free text"', () => {
  it("prints the agent's actions, applies them and continues", async () => {
    const translation = {
      actions: [
        { type: "feedback", text: "Add more people aged over 55." },
        { type: "rows", rows: 25 },
      ],
      explanation: "more older people; 25 rows",
    };
    server.setDefault(withSteering(() => JSON.stringify(translation)));
    const p = await pausedRun();
    const io = captureIo(TEST_ENV);
    const before = server.chatRequests().length;
    const out = await runSteer({ dir: p.runDir, text: SENTENCE, quiet: true }, io);
    expect(out && "paused" in out).toBe(true);
    const steeringCalls = server.chatRequests().filter(isSteering);
    expect(steeringCalls).toHaveLength(1);
    // The sentence goes to the agent as delimited data, with the run's columns and its pause point.
    const prompt = steeringCalls[0].messages.at(-1)?.content ?? "";
    expect(prompt).toContain(`<user>${SENTENCE}</user>`);
    expect(prompt).toContain("Columns: age, sex, hours, income");
    expect(prompt).toContain("synthia after iteration 1");
    expect(io.out()).toContain("steering agent: more older people; 25 rows");
    expect(io.out()).toContain("  - feedback: Add more people aged over 55.");
    expect(io.out()).toContain("  - rows: 25");
    expect(io.out()).toMatch(/^applied feedback: Add more people aged over 55\. /m);
    const f = await readSteeringFile(p.runDir);
    expect(f.history.map((h) => [h.source, h.action.type])).toEqual([
      ["agent", "feedback"],
      ["agent", "rows"],
    ]);
    // The next generator prompt carries the translated feedback.
    const next = server
      .chatRequests()
      .slice(before)
      .filter((r) => kindOf(r) === "generator");
    expect(generatorPrompt(next[0])).toContain("Add more people aged over 55.");
    expect((await readRunFile(p.runDir)).config.rows).toBe(25);
  }, 120_000);

  it("an unusable translation fails with exit 4 and records nothing; the run stays paused", async () => {
    server.setDefault(withSteering(() => "Sure! I will add more older people for you."));
    const p = await pausedRun();
    const err = await runSteer({ dir: p.runDir, text: SENTENCE, quiet: true }, captureIo(TEST_ENV)).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ exitCode: 4 });
    expect(String((err as Error).message)).toContain("steering model gave no usable JSON");
    // Asked again after the unusable reply (re-asks), then gave up.
    expect(server.chatRequests().filter(isSteering).length).toBeGreaterThan(1);
    expect((await readSteeringFile(p.runDir)).history).toEqual([]);
    expect((await readRunFile(p.runDir)).status).toBe("paused");
  }, 120_000);

  it("a well-formed translation naming an unknown column is rejected (exit 2) before anything is recorded", async () => {
    const bad = { actions: [{ type: "condition", columns: ["agee"], text: "agee > 55" }], explanation: "x" };
    server.setDefault(withSteering(() => JSON.stringify(bad)));
    const p = await pausedRun();
    const io = captureIo(TEST_ENV);
    const err = await runSteer({ dir: p.runDir, text: "only people over 55", quiet: true }, io).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ exitCode: 2 });
    expect(String((err as Error).message)).toContain("unknown column(s): agee");
    expect((await readSteeringFile(p.runDir)).history).toEqual([]);
    expect((await readRunFile(p.runDir)).status).toBe("paused");
  }, 120_000);
});

/**
 * A `generate` child whose second probe is held (answered only at `release()`): the run is running, mid-iteration,
 * as long as the test wants.
 */
function gatedGenerate(p: { runDir: string; out: string }) {
  let generatorCalls = 0;
  let held = 0;
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const base = responder({
    decision: () => JSON.stringify({ Type: "Synthetic", Feedback: "ages too narrow" }),
  });
  server.setDefault(async (req) => {
    if (kindOf(req) === "generator" && ++generatorCalls === 2) {
      held++;
      await released;
    }
    return base(req);
  });
  const args = [
    "generate",
    files.input,
    "--rows",
    "20",
    "--out",
    p.out,
    "--run-dir",
    p.runDir,
    "--model",
    "ollama:llama3.1:8b",
    "--seed",
    "5",
    "--probe-rows",
    "20",
    "--batch-rows",
    "10",
    "--examples",
    "8",
    "--max-iterations",
    "3",
    "--quiet",
  ];
  let stdout = "";
  const child = synthgraphChild(args, { OLLAMA_HOST: server.ollamaUrl }, files.dir);
  child.stdout?.on("data", (b: Buffer) => {
    stdout += b.toString();
  });
  const done = exited(child);
  return {
    child,
    done,
    stdout: () => stdout,
    held: () => held,
    release,
  };
}

async function until(cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("steer on a running run", () => {
  it("waits for the run's pause point, applies the actions, and continues it in the foreground", async () => {
    const p = files.paths();
    const g = gatedGenerate(p);
    await until(() => g.held() > 0);
    expect((await readRunFile(p.runDir)).status).toBe("running");
    expect(await ownerAlive(p.runDir)).toBe(true);
    const io = captureIo({ ...TEST_ENV, OLLAMA_HOST: server.ollamaUrl });
    const before = server.chatRequests().length;
    const steering = runSteer({ dir: p.runDir, feedback: "More people over 55.", quiet: true }, io);
    // The steer says it waits; then the held probe is answered, and the generate process pauses and exits 0.
    await until(() => io.out().includes("waiting for its next pause point"));
    expect(io.out()).toContain("is running in another process: a pause was requested");
    g.release();
    const gen = await g.done;
    expect(gen.code).toBe(0);
    expect(g.stdout()).toMatch(/^paused: synthia after iteration 2/m);
    const out = await steering;
    expect(out && "rows" in out ? out.rows : null).toBe(20);
    expect(io.out()).toMatch(/^applied feedback: More people over 55\. /m);
    expect(io.out()).toMatch(/^done: /m);
    const run = await readRunFile(p.runDir);
    expect(run.status).toBe("done");
    expect(csvRows(p.out)).toHaveLength(20);
    // Applied at the pause after iteration 2: the third probe's prompt (and the final ones) carry it.
    const snap = await readRunState(p.runDir);
    expect(
      (snap.state?.steering as Array<{ applied_at: { iteration: number } }>)[0].applied_at.iteration,
    ).toBe(2);
    const later = server
      .chatRequests()
      .slice(before)
      .filter((r) => kindOf(r) === "generator");
    expect(later.length).toBeGreaterThan(0);
    for (const r of later) expect(generatorPrompt(r)).toContain("More people over 55.");
    expect(readFileSync(`${p.runDir}/run.json`, "utf8")).toContain('"status": "done"');
  }, 180_000);

  it("a crashed run (killed mid-step) resumes here, takes the actions at its next pause point and goes on", async () => {
    const p = files.paths();
    const g = gatedGenerate(p);
    await until(() => g.held() > 0);
    g.child.kill("SIGKILL");
    expect((await g.done).signal).toBe("SIGKILL");
    g.release();
    expect((await readRunFile(p.runDir)).status).toBe("running");
    expect(await ownerAlive(p.runDir)).toBe(false);
    const io = captureIo({ ...TEST_ENV, OLLAMA_HOST: server.ollamaUrl });
    const before = server.chatRequests().length;
    const out = await runSteer({ dir: p.runDir, feedback: "More people over 55.", quiet: true }, io);
    expect(io.out()).not.toContain("waiting");
    expect(out && "rows" in out ? out.rows : null).toBe(20);
    expect(io.out()).toMatch(/^applied feedback: More people over 55\. /m);
    expect((await readRunFile(p.runDir)).status).toBe("done");
    expect(csvRows(p.out)).toHaveLength(20);
    // The killed probe 2 is redone without the feedback (it was asked before the steer); it is applied at the
    // pause after iteration 2, so probe 3 and the final batches carry it.
    const snap = await readRunState(p.runDir);
    expect(
      (snap.state?.steering as Array<{ applied_at: { iteration: number } }>).map(
        (x) => x.applied_at.iteration,
      ),
    ).toEqual([2]);
    const gens = server
      .chatRequests()
      .slice(before)
      .filter((r) => kindOf(r) === "generator");
    expect(generatorPrompt(gens[0])).not.toContain("More people over 55.");
    expect(gens.slice(1).length).toBeGreaterThan(0);
    for (const r of gens.slice(1)) expect(generatorPrompt(r)).toContain("More people over 55.");
    expect((await readSteeringFile(p.runDir)).pending).toEqual([]);
  }, 180_000);

  it("--no-resume queues the actions and asks the run to pause; a later resume applies them", async () => {
    const p = files.paths();
    const g = gatedGenerate(p);
    await until(() => g.held() > 0);
    const io = captureIo({ ...TEST_ENV, OLLAMA_HOST: server.ollamaUrl });
    const out = await runSteer({ dir: p.runDir, rows: 14, resume: false, quiet: true }, io);
    expect(out).toBeNull();
    expect(io.out()).toMatch(/^queued rows: 14 /m);
    expect(io.out()).toContain("queued: a pause was requested");
    g.release();
    const gen = await g.done;
    expect(gen.code).toBe(0);
    expect(g.stdout()).toMatch(/^paused: /m);
    expect((await readRunFile(p.runDir)).status).toBe("paused");
    const resumed = await exited(
      synthgraphChild(["resume", p.runDir, "--quiet"], { OLLAMA_HOST: server.ollamaUrl }, files.dir),
    );
    expect(resumed.code).toBe(0);
    expect((await readRunFile(p.runDir)).status).toBe("done");
    expect(csvRows(p.out)).toHaveLength(14);
    expect((await readSteeringFile(p.runDir)).pending).toEqual([]);
  }, 180_000);
});
