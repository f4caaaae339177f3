/**
 * Steering survives kill -9, for every engine (CLI child processes over the loopback LLM server):
 *   1. the run is started paused at its first pause point;
 *   2. `steer --feedback F` resumes it; the next steered call (SYNTHIA generator, MALLM-GAN optimizer,
 *      LLMSynthor proposer) is held by the server and the process is killed there (running after a steer: F is
 *      applied in the checkpoint, steering.json still lists it as pending);
 *   3. `resume` goes on to the next pause point: F is applied once (one record, once in the feedback list,
 *      once in every later steered prompt);
 *   4. `steer --rows N --stop` is killed as soon as it has recorded the actions (while the run is paused, or at
 *      the latest while it resumes);
 *   5. SYNTHIA and MALLM-GAN: `resume` is killed mid final generation (the first final batch written, the others
 *      held); LLMSynthor's fill makes no model call, so there is no such point to hold;
 *   6. `resume` ends the run: exactly N rows, no written batch asked for again, every action applied once.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startRun } from "../../graph/run.ts";
import { readRunState } from "../../graph/steer.ts";
import { ArtifactStore, RowBatchSchema } from "../../state/artifacts.ts";
import { LlmsynthorOptionsSchema, type RunConfig } from "../../state/config.ts";
import { ownerAlive } from "../../state/owner.ts";
import { readRunFile } from "../../state/run-dir.ts";
import { readSteeringFile } from "../../state/steering.ts";
import {
  csvRows,
  exited,
  killWhen,
  storedArtifacts,
  synthgraphChild,
  TEST_ENV,
  useLlmServer,
  useRunFiles,
} from "../support/harness.ts";
import { type RecordedRequest, type Reply, reply } from "../support/llm-server.ts";
import { isMallmGenerator, isOptimizer, mallmConfig, mallmResponder } from "../support/mallm.ts";
import { lsKindOf, lsResponder, proposalPrompt } from "../support/llmsynthor.ts";
import { generatorPrompt, kindOf, responder, seedOf, testConfig } from "../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("steering-kill-");

const FEEDBACK = "More people over 55, please; keep the rest as it is.";

interface KillCase {
  name: string;
  config: (p: { out: string }) => RunConfig;
  base: () => (req: RecordedRequest) => string | Reply;
  /** The call that carries steering feedback. */
  steered: (req: RecordedRequest) => boolean;
  steeredText: (req: RecordedRequest) => string;
  /** A final-generation batch call (null: the final generation makes none). */
  finalBatch: ((req: RecordedRequest) => boolean) | null;
  stopRows: number;
}

const CASES: KillCase[] = [
  {
    name: "synthia",
    config: (p) =>
      testConfig(server, "ollama", { input: files.input, out: p.out, rows: 30, maxIterations: 4 }),
    base: () =>
      responder({ decision: () => JSON.stringify({ Type: "Synthetic", Feedback: "ages too narrow" }) }),
    steered: (r) => kindOf(r) === "generator",
    steeredText: generatorPrompt,
    finalBatch: (r) => kindOf(r) === "generator",
    stopRows: 23,
  },
  {
    name: "mallm-gan",
    config: (p) =>
      mallmConfig(server, "ollama", {
        input: files.input,
        out: p.out,
        rows: 30,
        batchRows: 5,
        mallm: { epochs: 2, batchSize: 20, examplesPerCall: 5 },
      }),
    base: () => mallmResponder(),
    steered: isOptimizer,
    steeredText: (r) => r.messages.map((m) => m.content).join("\n"),
    finalBatch: isMallmGenerator,
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
    base: () => lsResponder(),
    steered: (r) => lsKindOf(r) === "proposer",
    steeredText: proposalPrompt,
    finalBatch: null,
    stopRows: 150,
  },
];

/** The server's answers, with a switchable hold: matching requests hang (never answered) while it is on. */
function gate(base: (req: RecordedRequest) => string | Reply) {
  let hold: ((req: RecordedRequest) => boolean) | null = null;
  let held = 0;
  return {
    responder: (req: RecordedRequest): string | Reply => {
      if (hold?.(req)) {
        held++;
        return reply.hang();
      }
      return base(req);
    },
    holdWhen(f: (req: RecordedRequest) => boolean): void {
      hold = f;
      held = 0;
    },
    release(): void {
      hold = null;
    },
    held: () => held,
  };
}

const count = (xs: readonly string[], x: string): number => xs.filter((y) => y === x).length;
const occurrences = (text: string, x: string): number => text.split(x).length - 1;

async function resumeToExit(runDir: string, cwd: string): Promise<string> {
  const r = await exited(synthgraphChild(["resume", runDir, "--quiet"], TEST_ENV, cwd));
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  return r.stderr;
}

async function expectCrashed(runDir: string): Promise<void> {
  // kill -9 leaves "running" behind with a dead owner (or "paused" when the kill landed after the pause).
  expect(["running", "paused"]).toContain((await readRunFile(runDir)).status);
  expect(await ownerAlive(runDir)).toBe(false);
}

describe.each(CASES)("kill -9 around steering: $name", (c) => {
  it("loses nothing: exactly N rows, no batch counted twice, every action applied once", async () => {
    const g = gate(c.base());
    server.setDefault(g.responder);
    const p = files.paths();
    const summary = join(files.dir, `summary-kill-${c.name}.json`);
    const config = { ...c.config(p), summary };
    const cwd = files.dir;

    // 1. Paused at the first pause point.
    const first = await startRun(p.runDir, config, { env: TEST_ENV, pauseEvery: true });
    expect(first.status).toBe("paused");

    // 2. steer --feedback, killed while the run goes on with it (the next steered call is held).
    g.holdWhen(c.steered);
    const k1 = await killWhen({
      args: ["steer", p.runDir, "--feedback", FEEDBACK, "--quiet"],
      env: TEST_ENV,
      cwd,
      ready: () => g.held() > 0,
      timeoutMs: 60_000,
      pollMs: 10,
    });
    expect(k1.signal).toBe("SIGKILL");
    expect(g.held()).toBeGreaterThan(0);
    await expectCrashed(p.runDir);
    const heldPrompt = server.chatRequests().filter(c.steered).at(-1);
    expect(heldPrompt && c.steeredText(heldPrompt)).toContain(FEEDBACK);
    // Applied in the checkpoint; steering.json still lists it (pruned only when a segment ends).
    const afterKill = await readRunState(p.runDir);
    expect(
      (afterKill.state?.steering as Array<{ action: { type: string } }>).map((s) => s.action.type),
    ).toEqual(["feedback"]);
    expect((await readSteeringFile(p.runDir)).pending.map((r) => r.action.type)).toEqual(["feedback"]);

    // 3. resume: to the next pause point, F applied once.
    g.release();
    const before = server.chatRequests().length;
    await resumeToExit(p.runDir, cwd);
    expect((await readRunFile(p.runDir)).status).toBe("paused");
    const mid = await readRunState(p.runDir);
    expect(count(mid.state?.userFeedback as string[], FEEDBACK)).toBe(1);
    expect((mid.state?.steering as unknown[]).length).toBe(1);
    expect((await readSteeringFile(p.runDir)).pending).toEqual([]);
    const resumedPrompts = server.chatRequests().slice(before).filter(c.steered).map(c.steeredText);
    expect(resumedPrompts.length).toBeGreaterThan(0);
    for (const t of resumedPrompts) expect(occurrences(t, FEEDBACK)).toBe(1);

    // 4. steer --rows N --stop, killed once the actions are recorded.
    const k2 = await killWhen({
      args: ["steer", p.runDir, "--rows", String(c.stopRows), "--stop", "--quiet"],
      env: TEST_ENV,
      cwd,
      ready: () => {
        try {
          const f = JSON.parse(readFileSync(join(p.runDir, "steering.json"), "utf8")) as {
            pending: Array<{ action: { type: string } }>;
          };
          return f.pending.some((r) => r.action.type === "stop");
        } catch {
          return false;
        }
      },
      timeoutMs: 60_000,
      pollMs: 2,
    });
    expect(k2.signal).toBe("SIGKILL");
    await expectCrashed(p.runDir);

    // 5. resume, killed mid final generation (the first final batch written, the others held).
    let seedsAtKill = new Set<number>();
    let requestsBefore = server.chatRequests().length;
    const finalBatch = c.finalBatch;
    if (finalBatch !== null) {
      let passed = 0;
      g.holdWhen((r) => finalBatch(r) && ++passed > 1);
      const k3 = await killWhen({
        args: ["resume", p.runDir, "--quiet"],
        env: TEST_ENV,
        cwd,
        ready: () => storedArtifacts(p.runDir, "final").length >= 1 && g.held() > 0,
        timeoutMs: 60_000,
        pollMs: 10,
      });
      expect(k3.signal).toBe("SIGKILL");
      await expectCrashed(p.runDir);
      const store = new ArtifactStore(join(p.runDir, "artifacts"));
      const atKill = storedArtifacts(p.runDir, "final");
      expect(atKill.length).toBeGreaterThanOrEqual(1);
      seedsAtKill = new Set(
        await Promise.all(
          atKill.map(
            async (f) => (await store.require(`final/${f.replace(/\.json$/, "")}`, RowBatchSchema)).seed,
          ),
        ),
      );
      g.release();
      requestsBefore = server.chatRequests().length;
    }

    // 6. resume to the end.
    await resumeToExit(p.runDir, cwd);
    const run = await readRunFile(p.runDir);
    expect(run.status).toBe("done");
    expect(run.config.rows).toBe(c.stopRows);
    expect(run.progress.rows_done).toBe(c.stopRows);
    expect(csvRows(config.out)).toHaveLength(c.stopRows);
    if (finalBatch !== null) {
      const seedsAfter = server.chatRequests().slice(requestsBefore).filter(finalBatch).map(seedOf);
      // No batch written before the kill was asked for again, none asked twice.
      expect(seedsAfter.filter((s) => seedsAtKill.has(s))).toEqual([]);
      expect(new Set(seedsAfter).size).toBe(seedsAfter.length);
    }
    const s = JSON.parse(readFileSync(summary, "utf8")) as { steering: Array<{ action: { type: string } }> };
    expect(s.steering.map((x) => x.action.type)).toEqual(["feedback", "rows", "stop"]);
    const file = await readSteeringFile(p.runDir);
    expect(file.pending).toEqual([]);
    expect(file.history.map((h) => h.action.type)).toEqual(["feedback", "rows", "stop"]);
  }, 240_000);
});
