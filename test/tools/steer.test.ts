/**
 * steer_run and resume_run through `tool.invoke`, on SYNTHIA runs of the small hand-made table (realRows: age
 * 20..59, sex Female/Male) against the scripted loopback model (the discriminator always answers "Synthetic",
 * so the loop runs to max_iterations). Checked: a paused run steered with feedback, a condition and a row count
 * resumes in the background and applies them at its pause point (the next generator prompt carries the feedback,
 * the state records the actions with source "tool"); stop gives exactly the steered row count, every row meeting
 * the steered condition (the model's rows that miss it are dropped by code); a run steered
 * while it executes here pauses, applies the actions and goes on by itself, and so does one the server stopped
 * mid-step (as at shutdown), which first runs to its next pause point; resume_run continues a paused run
 * with its queued actions; cancel stops a run executing here; every bad input is an error that records nothing.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { beforeAll, describe, expect, it } from "vitest";
import { conditionsSummary } from "../../graph/conditions.ts";
import { readRunState } from "../../graph/steer.ts";
import { ArtifactStore } from "../../state/artifacts.ts";
import { RunConfigSchema } from "../../state/config.ts";
import { createRun, newRunId } from "../../state/run-dir.ts";
import { type AppliedSteering, readSteeringFile } from "../../state/steering.ts";
import { createToolContext } from "../../tools/context.ts";
import { synthgraphTools } from "../../tools/index.ts";
import { RunStatusOutput, StartRunOutput } from "../../tools/runs.ts";
import { ResumeRunOutput, SteerRunOutput } from "../../tools/steer.ts";
import { csvRows, loopbackModels, useLlmServer, writeRealCsv } from "../support/harness.ts";
import type { RecordedRequest } from "../support/llm-server.ts";
import {
  conditionHonouringGenerator,
  generatorPrompt,
  kindOf,
  responder,
  syntheticVerdict,
} from "../support/synthia.ts";

const server = useLlmServer();
const SECRET = "sk-live-secret-steer-0123456789";

let root: string;
let outside: string;
let tools: StructuredToolInterface[];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "steer-root-"));
  outside = mkdtempSync(join(tmpdir(), "steer-outside-"));
  writeRealCsv(root);
  writeRealCsv(outside);
  tools = synthgraphTools({
    root,
    env: { OPENAI_API_KEY: SECRET },
    models: loopbackModels(server, "ollama"),
  });
});

const named = (name: string): StructuredToolInterface => {
  const t = tools.find((x) => x.name === name);
  if (!t) throw new Error(`no tool ${name}`);
  return t;
};
const call = async (name: string, input: Record<string, unknown>): Promise<unknown> =>
  JSON.parse((await named(name).invoke(input)) as string);

/** The loop runs to max_iterations; the generator honours a steered condition but one row per batch. */
const synthetic = (): void =>
  server.setDefault(responder({ decision: syntheticVerdict, generator: conditionHonouringGenerator }));

let runNo = 0;
async function start(extra: Record<string, unknown> = {}) {
  const out = `out-${++runNo}.csv`;
  const started = StartRunOutput.parse(
    await call("start_run", {
      data: "real.csv",
      rows: 30,
      out,
      seed: 5,
      max_iterations: 3,
      probe_rows: 20,
      batch_rows: 10,
      examples: 8,
      ...extra,
    }),
  );
  return { id: started.run_id, dir: started.run_dir, out: join(root, out) };
}

/** run_status, waiting (bounded) until the run is no longer running. */
async function settled(id: string) {
  let s = RunStatusOutput.parse(await call("run_status", { run_id: id }));
  for (let i = 0; i < 60 && s.status === "running"; i++) {
    s = RunStatusOutput.parse(await call("run_status", { run_id: id, wait_seconds: 5 }));
  }
  return s;
}

const generatorPromptsAfter = (n: number): string[] =>
  server
    .chatRequests()
    .slice(n)
    .filter((r: RecordedRequest) => kindOf(r) === "generator")
    .map(generatorPrompt);

const applied = async (dir: string): Promise<AppliedSteering[]> =>
  ((await readRunState(dir)).state as { steering?: AppliedSteering[] }).steering ?? [];

async function until(cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("steer_run on a paused run", () => {
  it("records feedback, a condition and a row count, resumes in the background, applies them; stop ends with N rows", async () => {
    synthetic();
    const run = await start({ pause: true });
    const paused = await settled(run.id);
    expect(paused).toMatchObject({ status: "paused", live: false, pending_actions: 0 });
    expect(paused.paused_at).toMatchObject({ engine: "synthia", iteration: 1, next: "iterate" });

    const before = server.chatRequests().length;
    const steered = SteerRunOutput.parse(
      await call("steer_run", {
        run_id: run.id,
        actions: [
          { type: "feedback", text: "More people over 55." },
          { type: "condition", text: "age>50" },
          { type: "rows", rows: 20 },
        ],
      }),
    );
    expect(steered.outcome).toBe("resumed");
    expect(steered.status).toBe("running");
    // The condition is recorded in canonical form with the columns it reads.
    expect(steered.recorded.map((r) => r.action)).toEqual([
      { type: "feedback", text: "More people over 55." },
      { type: "condition", text: "age > 50", columns: ["age"] },
      { type: "rows", rows: 20 },
    ]);
    const second = await settled(run.id);
    expect(second).toMatchObject({ status: "paused", pending_actions: 0, progress: { rows_requested: 20 } });
    expect(second.paused_at).toMatchObject({ iteration: 2 });
    // Applied at the pause point: the next probe's prompt carries the feedback.
    expect(generatorPromptsAfter(before).some((p) => p.includes("More people over 55."))).toBe(true);
    const done = await applied(run.dir);
    expect(done.map((a) => [a.id, a.source, a.applied_at.iteration])).toEqual(
      steered.recorded.map((r) => [r.id, "tool", 1]),
    );

    const stop = SteerRunOutput.parse(
      await call("steer_run", { run_id: run.id, actions: [{ type: "stop" }] }),
    );
    expect(stop.outcome).toBe("resumed");
    const end = await settled(run.id);
    expect(end).toMatchObject({ status: "done", output: run.out, progress: { rows_done: 20 } });
    expect(csvRows(run.out)).toHaveLength(20);
    // The steered condition is enforced: the final prompts carried it, the model's off rows were dropped by
    // code, and every output row meets it (the age column read from the CSV text).
    const ages = csvRows(run.out).map((line) => Number(line.split(",")[0]));
    expect(ages.filter((a) => !(a > 50))).toEqual([]);
    const final = (await readRunState(run.dir)).state as { config: { conditions?: unknown } } | null;
    expect(final?.config.conditions).toEqual([{ where: "age > 50", rows: 20, steered_from: "" }]);
    const summary = await conditionsSummary(
      RunConfigSchema.parse(final?.config),
      new ArtifactStore(join(run.dir, "artifacts")),
    );
    expect(summary.map((c) => [c.where, c.rows])).toEqual([["age > 50", 20]]);
    expect(summary[0].unmet).toBeGreaterThan(0);

    await expect(named("steer_run").invoke({ run_id: run.id, actions: [{ type: "stop" }] })).rejects.toThrow(
      /is done: there is nothing to steer/,
    );
    await expect(named("resume_run").invoke({ run_id: run.id })).rejects.toThrow(
      /is done: there is nothing to resume/,
    );
  }, 120_000);
});

describe("resume_run", () => {
  it("continues a paused run with the actions steer_run queued (resume: false); cancel ends it", async () => {
    synthetic();
    const run = await start({ pause: true });
    expect((await settled(run.id)).status).toBe("paused");
    const queued = SteerRunOutput.parse(
      await call("steer_run", {
        run_id: run.id,
        actions: [{ type: "feedback", text: "Fewer people under 25." }],
        resume: false,
      }),
    );
    expect(queued).toMatchObject({ outcome: "queued", status: "paused" });
    expect((await settled(run.id)).pending_actions).toBe(1);

    const before = server.chatRequests().length;
    const resumed = ResumeRunOutput.parse(await call("resume_run", { run_id: run.id }));
    expect(resumed).toMatchObject({ status: "running", resumed_from: "paused", pending_actions: 1 });
    await expect(named("resume_run").invoke({ run_id: run.id })).rejects.toThrow(/already running/);
    const again = await settled(run.id);
    expect(again).toMatchObject({ status: "paused", pending_actions: 0, paused_at: { iteration: 2 } });
    expect(generatorPromptsAfter(before).some((p) => p.includes("Fewer people under 25."))).toBe(true);
    expect((await applied(run.dir)).map((a) => a.id)).toEqual(queued.recorded.map((r) => r.id));

    const cancelled = SteerRunOutput.parse(
      await call("steer_run", { run_id: run.id, actions: [{ type: "cancel" }] }),
    );
    expect(cancelled).toMatchObject({ outcome: "cancelled", status: "cancelled" });
    expect((await settled(run.id)).status).toBe("cancelled");
    await expect(named("resume_run").invoke({ run_id: run.id })).rejects.toThrow(/cancelled/);
    expect(existsSync(run.out)).toBe(false);
  }, 120_000);
});

describe("steer_run on a run executing in this process", () => {
  /** The scripted model, with the second generator call held until `release()`. */
  function gated() {
    let calls = 0;
    let held = false;
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    const base = responder({
      decision: syntheticVerdict,
    });
    server.setDefault(async (req) => {
      if (kindOf(req) === "generator" && ++calls === 2) {
        held = true;
        await released;
      }
      return base(req);
    });
    return { held: () => held, release };
  }

  it("pauses it at its next pause point, applies the actions there and goes on to the end by itself", async () => {
    const gate = gated();
    const run = await start();
    await until(gate.held);
    const before = server.chatRequests().length;
    const steered = SteerRunOutput.parse(
      await call("steer_run", {
        run_id: run.id,
        actions: [{ type: "feedback", text: "Wider ages, please." }],
      }),
    );
    expect(steered).toMatchObject({ outcome: "apply_at_next_pause", status: "running" });
    gate.release();
    const end = await settled(run.id);
    expect(end).toMatchObject({ status: "done", pending_actions: 0, progress: { rows_done: 30 } });
    expect(csvRows(run.out)).toHaveLength(30);
    // Applied at the pause point after iteration 2; iteration 3's probe carries it.
    const done = await applied(run.dir);
    expect(done.map((a) => [a.id, a.source, a.applied_at.iteration])).toEqual([
      [steered.recorded[0].id, "tool", 2],
    ]);
    expect(generatorPromptsAfter(before).some((p) => p.includes("Wider ages, please."))).toBe(true);
  }, 120_000);

  it("a run stopped mid-step (the server stopped it) resumes, takes the actions at its next pause point, and finishes", async () => {
    const gate = gated();
    const ctx = createToolContext({ root, env: {}, models: loopbackModels(server, "ollama") });
    const own = synthgraphTools(ctx);
    const invoke = async (name: string, input: Record<string, unknown>) =>
      JSON.parse((await own.find((t) => t.name === name)?.invoke(input)) as string) as unknown;
    const started = StartRunOutput.parse(
      await invoke("start_run", {
        data: "real.csv",
        rows: 30,
        out: "stopped.csv",
        seed: 5,
        max_iterations: 3,
        probe_rows: 20,
        batch_rows: 10,
        examples: 8,
      }),
    );
    await until(gate.held);
    // What a server shutdown does (stopAll): the run stops mid-step, resumable, not at a pause point.
    const stopping = ctx.runs.abort(started.run_id);
    gate.release();
    await stopping;
    expect((await readRunState(started.run_dir)).pause).toBeUndefined();
    const before = server.chatRequests().length;
    const steered = SteerRunOutput.parse(
      await invoke("steer_run", {
        run_id: started.run_id,
        actions: [{ type: "feedback", text: "Keep the hours spread out." }],
      }),
    );
    expect(steered.outcome).toBe("resumed");
    let s = RunStatusOutput.parse(await invoke("run_status", { run_id: started.run_id }));
    for (let i = 0; i < 60 && s.status === "running"; i++) {
      s = RunStatusOutput.parse(await invoke("run_status", { run_id: started.run_id, wait_seconds: 5 }));
    }
    expect(s).toMatchObject({ status: "done", pending_actions: 0, progress: { rows_done: 30 } });
    expect(csvRows(join(root, "stopped.csv"))).toHaveLength(30);
    expect((await applied(started.run_dir)).map((a) => a.id)).toEqual([steered.recorded[0].id]);
    expect(generatorPromptsAfter(before).some((p) => p.includes("Keep the hours spread out."))).toBe(true);
  }, 120_000);

  it("cancel stops it (nothing is written) and ends it", async () => {
    const gate = gated();
    const run = await start();
    await until(gate.held);
    const cancelled = SteerRunOutput.parse(
      await call("steer_run", { run_id: run.id, actions: [{ type: "cancel" }] }),
    );
    gate.release();
    expect(cancelled).toMatchObject({ outcome: "cancelled", status: "cancelled" });
    expect(await settled(run.id)).toMatchObject({ status: "cancelled", live: false });
    expect(existsSync(run.out)).toBe(false);
  }, 120_000);
});

describe("steer_run and resume_run with bad input", () => {
  it("refuses bad actions, conditions and ids; nothing is recorded", async () => {
    synthetic();
    const run = await start({ pause: true });
    expect((await settled(run.id)).status).toBe("paused");
    const steer = (actions: unknown) => named("steer_run").invoke({ run_id: run.id, actions });
    await expect(steer([])).rejects.toThrow(/schema/i);
    await expect(steer([{ type: "explode" }])).rejects.toThrow(/schema/i);
    await expect(steer([{ type: "rows", rows: 0 }])).rejects.toThrow(/schema/i);
    await expect(steer([{ type: "condition", text: "agee > 50" }])).rejects.toThrow(
      /steering condition rejected: invalid condition "agee > 50".*did you mean "age"/,
    );
    await expect(steer([{ type: "condition", text: 'sex == "Other"' }])).rejects.toThrow(
      /not a level of column "sex"/,
    );
    // realRows: ages 20..59.
    await expect(steer([{ type: "condition", text: "age > 100" }])).rejects.toThrow(
      /can never hold.*outside the real range 20 to 59/,
    );
    // A bad action anywhere in the list: none of them is recorded.
    await expect(
      steer([
        { type: "feedback", text: "ok" },
        { type: "condition", text: "age >" },
      ]),
    ).rejects.toThrow(/steering condition rejected/);
    expect((await readSteeringFile(run.dir)).history).toEqual([]);
    expect((await settled(run.id)).status).toBe("paused");

    await expect(
      named("steer_run").invoke({ run_id: "../etc", actions: [{ type: "stop" }] }),
    ).rejects.toThrow(/schema/i);
    await expect(named("resume_run").invoke({ run_id: "20990101-000000-abcdef" })).rejects.toThrow(/no run/);
    await call("steer_run", { run_id: run.id, actions: [{ type: "cancel" }] });
  }, 120_000);

  it("refuses to resume a run whose files lie outside the root; no key appears in the error", async () => {
    // A run directory under the root whose input is elsewhere (made by a CLI run with another working directory).
    const id = newRunId();
    const dir = join(root, "runs", id);
    await createRun(
      dir,
      RunConfigSchema.parse({
        input: join(outside, "real.csv"),
        out: join(outside, "out.csv"),
        rows: 10,
        models: loopbackModels(server, "ollama"),
      }),
    );
    const err = await named("resume_run")
      .invoke({ run_id: id })
      .catch((e: Error) => e);
    expect(String(err)).toMatch(/the run's input: .*real\.csv is outside the root/);
    expect(String(err)).not.toContain(SECRET);
    await expect(
      named("steer_run").invoke({ run_id: id, actions: [{ type: "feedback", text: "x" }] }),
    ).rejects.toThrow(/outside the root/);
    expect(existsSync(join(outside, "out.csv"))).toBe(false);
  });
});
