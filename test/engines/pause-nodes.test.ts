/**
 * Each engine's pause node and apply*Steering function, on the state a real run has at its first pause point
 * (scripted replies): the node alone in a one-node graph (interrupt with the engine's pause point as value,
 * resume with actions, a pass-through when no pause is wanted), and the pure state update of each action.
 */
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import {
  pause as lsPause,
  applyLlmsynthorSteering,
  llmsynthorPausePoint,
} from "../../engines/llmsynthor/nodes.ts";
import { LlmsynthorState, rowsForIteration } from "../../engines/llmsynthor/state.ts";
import { pause as mallmPause, applyMallmSteering, mallmPausePoint } from "../../engines/mallm/nodes.ts";
import { MallmState, scheduleOf } from "../../engines/mallm/state.ts";
import { bestIteration } from "../../engines/synthia/decisions.ts";
import {
  pause as synthiaPause,
  applySynthiaSteering,
  synthiaPausePoint,
} from "../../engines/synthia/nodes.ts";
import { SynthiaState } from "../../engines/synthia/state.ts";
import { startRun } from "../../graph/run.ts";
import { LlmsynthorOptionsSchema } from "../../state/config.ts";
import { newSteeringRecord, requestPause, type SteeringAction } from "../../state/steering.ts";
import { TEST_ENV, useLlmServer, useRunFiles } from "../support/harness.ts";
import { lsResponder } from "../support/llmsynthor.ts";
import { mallmConfig, mallmResponder } from "../support/mallm.ts";
import { responder, syntheticVerdict, testConfig } from "../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("pause-nodes-");

const rec = (a: SteeringAction) => newSteeringRecord(a, "library", new Date("2026-01-02T03:04:05Z"));
const F = "more rows with age over 55";

async function synthiaPaused() {
  server.setDefault(responder({ decision: syntheticVerdict }));
  const p = files.paths();
  const r = await startRun(
    p.runDir,
    testConfig(server, "ollama", { input: files.input, out: p.out, rows: 30, maxIterations: 4 }),
    { env: TEST_ENV, pauseEvery: true },
  );
  expect(r.status).toBe("paused");
  return r.state as unknown as typeof SynthiaState.State;
}

async function mallmPaused() {
  server.setDefault(mallmResponder());
  const p = files.paths();
  const r = await startRun(
    p.runDir,
    mallmConfig(server, "ollama", {
      input: files.input,
      out: p.out,
      rows: 30,
      mallm: { epochs: 2, batchSize: 20 },
    }),
    { env: TEST_ENV, pauseEvery: true },
  );
  expect(r.status).toBe("paused");
  return r.state as unknown as typeof MallmState.State;
}

async function llmsynthorPaused() {
  server.setDefault(lsResponder());
  const p = files.paths();
  const r = await startRun(
    p.runDir,
    testConfig(server, "ollama", {
      input: files.input,
      out: p.out,
      rows: 100,
      engine: "llmsynthor",
      llmsynthor: LlmsynthorOptionsSchema.parse({ tolerance: 0 }),
    }),
    { env: TEST_ENV, pauseEvery: true },
  );
  expect(r.status).toBe("paused");
  return r.state as unknown as typeof LlmsynthorState.State;
}

/** The pause node alone in a graph with a checkpointer: what it streams, its interrupt, its resume. */
async function runPauseNode<S extends { runDir: string; steering: unknown[] }>(
  schema: unknown,
  node: (s: S) => Promise<unknown>,
  state: S,
  opts: { wanted: boolean; actions: ReturnType<typeof rec>[] },
) {
  const runDir = mkdtempSync(join(tmpdir(), "pause-node-"));
  if (opts.wanted) await requestPause(runDir);
  // One node of an engine's graph wired alone: its typed builder would need the whole engine's node map.
  const g = new (StateGraph as any)(schema)
    .addNode("pause", node)
    .addEdge(START, "pause")
    .addEdge("pause", END)
    .compile({ checkpointer: new MemorySaver() });
  const cfg = { configurable: { thread_id: "t" }, streamMode: ["custom", "updates"] };
  const custom: unknown[] = [];
  const interrupts: unknown[] = [];
  const collect = async (input: unknown) => {
    for await (const [mode, chunk] of await g.stream(input, cfg)) {
      if (mode === "custom") custom.push(chunk);
      else if ((chunk as Record<string, unknown>).__interrupt__) {
        for (const i of (chunk as { __interrupt__: Array<{ value: unknown }> }).__interrupt__)
          interrupts.push(i.value);
      }
    }
  };
  await collect({ ...state, runDir });
  const requestKeptWhilePaused = existsSync(join(runDir, "pause.request"));
  const customBeforeResume = custom.length;
  if (interrupts.length > 0) await collect(new Command({ resume: { actions: opts.actions } }));
  const final = (await g.getState({ configurable: { thread_id: "t" } })).values as S;
  return {
    custom,
    customBeforeResume,
    interrupts,
    final,
    requestKeptWhilePaused,
    requestLeft: existsSync(join(runDir, "pause.request")),
  };
}

describe("SYNTHIA pause node and applySynthiaSteering", () => {
  it("interrupts with its pause point, applies the resume's actions, passes through when not wanted", async () => {
    const s = await synthiaPaused();
    const point = synthiaPausePoint(s);
    expect(point).toMatchObject({ engine: "synthia", iteration: 1, next: "iterate", rows: 30 });
    const node = synthiaPause(undefined as never);

    const quiet = await runPauseNode(SynthiaState, node, s, { wanted: false, actions: [] });
    expect(quiet.interrupts).toEqual([]);
    expect(quiet.custom).toEqual([{ event: "iteration", ...point }]);
    expect(quiet.final.steering).toEqual([]);

    const fb = rec({ type: "feedback", text: F });
    const paused = await runPauseNode(SynthiaState, node, s, { wanted: true, actions: [fb] });
    expect(paused.interrupts).toEqual([point]);
    expect(paused.requestKeptWhilePaused).toBe(true);
    expect(paused.requestLeft).toBe(false);
    // The node re-runs from its top on resume: it streams its point a second time (the runner drops it).
    expect(paused.customBeforeResume).toBe(1);
    expect(paused.custom).toHaveLength(2);
    expect(paused.final.feedback).toEqual([...s.feedback, F]);
    expect(paused.final.steering).toHaveLength(1);
  }, 60_000);

  it("feedback joins F_t; rows set N; stop ends the loop at the best iteration with the user's feedback", async () => {
    const s = await synthiaPaused();
    const fb = rec({ type: "feedback", text: F });
    const u1 = applySynthiaSteering(s, [fb]);
    expect(u1.feedback).toEqual([...s.feedback, F]);
    expect(u1.userFeedback).toEqual([F]);
    expect(u1.config).toBeUndefined();
    expect(u1.steering).toEqual([
      {
        ...fb,
        applied_at: { iteration: 1, phase: "iterate" },
        effect: "added to the generator's feedback F_t",
      },
    ]);

    const u2 = applySynthiaSteering(s, [rec({ type: "rows", rows: 7 }), fb, rec({ type: "stop" })]);
    expect(u2.config?.rows).toBe(7);
    expect(u2.phase).toBe("finalize");
    expect(u2.stopRequested).toBe(true);
    const best = bestIteration(s.history);
    expect(u2.finalChoice).toEqual({
      reason: "stopped",
      iteration: best?.iteration,
      feedback: [...(best?.feedback_in ?? []), F],
    });
    expect(u2.steering?.map((x) => x.effect)).toEqual([
      "the output will have 7 rows",
      "added to the generator's feedback F_t",
      `loop stopped; the final prompt uses iteration ${best?.iteration}'s feedback and the user's`,
    ]);
    // A condition joins the output's groups (one group of N here); a later row count rescales it.
    const u4 = applySynthiaSteering(s, [
      rec({ type: "condition", text: "age > 50" }),
      rec({ type: "rows", rows: 9 }),
    ]);
    expect(u4.config?.conditions).toEqual([{ where: "age > 50", rows: 9, steered_from: "" }]);
    expect(u4.config?.rows).toBe(9);
    expect(u4.steering?.[0].effect).toMatch(/^every output row will satisfy age > 50/);
    // After the loop has ended (a final choice exists), feedback goes to the final prompt and stop does nothing.
    const ended = { ...s, finalChoice: { reason: "max_iterations" as const, iteration: 1, feedback: ["x"] } };
    const u3 = applySynthiaSteering(ended, [fb, rec({ type: "stop" })]);
    expect(u3.finalChoice?.feedback).toEqual(["x", F]);
    expect(u3.phase).toBeUndefined();
    expect(u3.steering?.map((x) => x.effect)).toEqual([
      "added to the final prompt's feedback",
      "the loop had already ended",
    ]);
  }, 60_000);
});

describe("MALLM-GAN pause node and applyMallmSteering", () => {
  it("interrupts with its pause point and applies the resume's actions", async () => {
    const s = await mallmPaused();
    const point = mallmPausePoint(s);
    expect(point).toMatchObject({ engine: "mallm-gan", iteration: 1, next: "iterate", rows: 30 });
    const node = mallmPause(undefined as never);
    const quiet = await runPauseNode(MallmState, node, s, { wanted: false, actions: [] });
    expect(quiet.interrupts).toEqual([]);
    expect(quiet.custom).toEqual([{ event: "iteration", ...point }]);
    const fb = rec({ type: "feedback", text: F });
    const paused = await runPauseNode(MallmState, node, s, { wanted: true, actions: [fb] });
    expect(paused.interrupts).toEqual([point]);
    expect(paused.requestLeft).toBe(false);
    expect(paused.final.userFeedback).toEqual([F]);
    expect(paused.final.steering).toHaveLength(1);
  }, 60_000);

  it("feedback goes to the optimizer (or the final theta after the last step); rows; stop", async () => {
    const s = await mallmPaused();
    const fb = rec({ type: "feedback", text: F });
    const u1 = applyMallmSteering(s, [fb]);
    expect(u1.userFeedback).toEqual([F]);
    expect(u1.stopRequested).toBeUndefined();
    expect(u1.steering?.[0]).toMatchObject({ effect: "shown to the optimizer from its next step on" });
    // 40 real rows in batches of 20 = 2 batches per epoch, for the 2 learning epochs and the frozen ones; the
    // state is after step 1.
    const sch = scheduleOf(s);
    const steps = (2 + sch.frozenEpochs) * Math.ceil(40 / 20);
    const u2 = applyMallmSteering(s, [rec({ type: "rows", rows: 12 }), rec({ type: "stop" }), fb]);
    expect(u2.config?.rows).toBe(12);
    expect(u2.config?.conditions).toBeUndefined();
    const u4 = applyMallmSteering(s, [rec({ type: "condition", text: 'sex == "Female"' })]);
    expect(u4.config?.conditions).toEqual([{ where: 'sex == "Female"', rows: 30, steered_from: "" }]);
    expect(u2.stopRequested).toBe(true);
    expect(u2.steering?.map((x) => x.effect)).toEqual([
      "the output will have 12 rows",
      `loop stopped after 1 of ${steps} batches; the best stored theta generates the output`,
      "added to the final theta's guidance",
    ]);
    expect(mallmPausePoint({ ...s, stopRequested: true }).next).toBe("final");
    const last = applyMallmSteering({ ...s, iteration: steps }, [rec({ type: "stop" })]);
    expect(last.steering?.[0].effect).toBe("the loop had already ended");
  }, 60_000);
});

describe("LLMSynthor pause node and applyLlmsynthorSteering", () => {
  it("interrupts with its pause point, applies the resume's actions; no pause point before the first iteration", async () => {
    const s = await llmsynthorPaused();
    const point = llmsynthorPausePoint(s);
    expect(point).toMatchObject({ engine: "llmsynthor", iteration: 1, next: "iterate", rows: 100 });
    const node = lsPause(undefined as never);
    const none = await runPauseNode(
      LlmsynthorState,
      node,
      { ...s, chunks: [] },
      { wanted: true, actions: [] },
    );
    expect(none.interrupts).toEqual([]);
    expect(none.custom).toEqual([]);
    const fb = rec({ type: "feedback", text: F });
    const paused = await runPauseNode(LlmsynthorState, node, s, { wanted: true, actions: [fb] });
    expect(paused.interrupts).toEqual([point]);
    expect(paused.final.userFeedback).toEqual([F]);
    expect(paused.final.steering).toHaveLength(1);
  }, 60_000);

  it("rows re-plan the open iteration; stop drops it and fills from the proposals so far", async () => {
    const s = await llmsynthorPaused();
    expect(s.phase).toBe("iterate");
    const open = s.history[s.history.length - 1];
    const u1 = applyLlmsynthorSteering(s, [rec({ type: "rows", rows: 180 })]);
    expect(u1.config?.rows).toBe(180);
    expect(u1.history?.at(-1)?.requested).toBe(rowsForIteration(180, s.accepted, s.iteration, s.iterations));
    const u2 = applyLlmsynthorSteering(s, [rec({ type: "feedback", text: F }), rec({ type: "stop" })]);
    expect(u2.userFeedback).toEqual([F]);
    expect(u2.history).toEqual(s.history.slice(0, -1));
    expect(u2.iteration).toBe(s.iteration - 1);
    expect(u2.stoppedBecause).toBe("stopped");
    expect(u2.finalDiscrepancy).toEqual(open.discrepancy);
    expect(u2.phase).toBe(s.accepted >= s.config.rows ? "write" : "fill");
    expect(u2.steering?.map((x) => x.effect)).toEqual([
      "recorded; no proposal round follows (the loop has ended)",
      `loop stopped after ${s.iteration - 1} of ${s.iterations} iterations; missing rows are drawn from the proposals so far`,
    ]);
    expect(u2.steering?.every((x) => x.applied_at.iteration === s.iteration - 1)).toBe(true);
  }, 60_000);
});
