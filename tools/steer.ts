/**
 * steer_run and resume_run: steering from a tool call, with the one action set every interface shares
 * (state/steering.ts SteeringActionSchema, validated against the run by graph/steer.ts as the CLI's `steer`
 * does) and without blocking the call: where the CLI continues the run in the foreground, these tools
 * continue it in the background of this process (tools/run-registry.ts) and return at once.
 *
 *   the run is paused, failed or crashed   actions recorded; the run resumes here in the background and its
 *                                          pause node applies them (a run stopped mid-step is asked to pause at
 *                                          its next pause point, takes them there and goes on)
 *   the run executes in this process       actions recorded, a pause requested; when it pauses it resumes at
 *                                          once and applies them
 *   the run executes in another process    actions recorded, a pause requested; resume_run once it has paused
 *   resume: false                          actions recorded (a running run is asked to pause) and nothing else
 *   cancel                                 the run ends without output (a run executing here is stopped first)
 *
 * Before a run resumes here, its input, metadata, output and summary paths must lie under the root, like any
 * path a tool is given (a run directory under the root may have been made by a CLI run elsewhere).
 */
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { readRunState, steerRun } from "../graph/steer.ts";
import { type RunFile, RunStatusSchema } from "../state/run-dir.ts";
import { ownerAlive } from "../state/owner.ts";
import { readSteeringFile, requestPause, SteeringActionSchema } from "../state/steering.ts";
import type { ToolContext, ToolSpec } from "./context.ts";
import { findRun, RunIdField, statusHint } from "./runs.ts";

/** Checks that the run's files lie under the root before this process reads or writes them. */
export function guardRunFiles(run: RunFile, ctx: ToolContext): void {
  const c = run.config;
  ctx.guard.readable(c.input, "the run's input");
  if (c.metadata) ctx.guard.readable(c.metadata, "the run's metadata");
  ctx.guard.writable(c.out, "the run's output");
  if (c.summary) ctx.guard.writable(c.summary, "the run's summary");
}

/** Refuses a run another process is executing (it must pause there first). */
async function elsewhere(id: string, dir: string, run: RunFile, ctx: ToolContext): Promise<boolean> {
  return !ctx.runs.isRunning(id) && run.status === "running" && (await ownerAlive(dir));
}

function resumeHere(id: string, dir: string, run: RunFile, ctx: ToolContext): void {
  ctx.runs.resume(id, dir, {
    env: ctx.env,
    redact: ctx.redact,
    engine: run.config.engine,
    progress: run.progress,
  });
}

// ---- steer_run ----

export const MAX_STEERING_ACTIONS = 10;

export const SteerRunInput = z.object({
  run_id: RunIdField,
  actions: z
    .array(SteeringActionSchema)
    .min(1)
    .max(MAX_STEERING_ACTIONS)
    .describe(
      'steering actions, applied in order at the run\'s pause point: {"type":"feedback","text":"..."} advice for the generator; {"type":"rows","rows":N} output size; {"type":"condition","text":"age > 80"} a condition in the predicate language that every later output row must meet (checked against the table; joined to the run\'s own conditions; not for LLMSynthor); {"type":"stop"} stop iterating and generate from the best state; {"type":"continue"}; {"type":"cancel"} end without output',
    ),
  resume: z
    .boolean()
    .default(true)
    .describe(
      "continue the run after recording (in the background; this call returns at once). false: only record, and ask a running run to pause (a way to pause a run: actions [{type: continue}], resume false)",
    ),
});

const RecordOut = z.object({
  id: z.string(),
  at: z.string(),
  action: z
    .record(z.string(), z.unknown())
    .describe("the action as recorded (a condition in canonical form)"),
});

export const SteerRunOutput = z.object({
  run_id: z.string(),
  run_dir: z.string(),
  recorded: z.array(RecordOut),
  outcome: z
    .enum(["resumed", "apply_at_next_pause", "queued", "cancelled"])
    .describe(
      "resumed: the run goes on here in the background and applies the actions at its pause point; apply_at_next_pause: it runs here, pauses at its next pause point, applies them and goes on; queued: recorded only (resume_run continues it); cancelled: ended without output",
    ),
  status: RunStatusSchema,
  next: z.string(),
});

export const steerRunSpec: ToolSpec<typeof SteerRunInput, typeof SteerRunOutput> = {
  name: "steer_run",
  description:
    "Steers a run started by start_run or sample: feedback for the generator, a new row count, stop iterating, continue, cancel, or a condition (predicate language). Actions are validated against the run (a bad column, category or impossible condition is an error and nothing is recorded), recorded with their time, and applied at the run's pause point; the run then continues in the background. Returns at once; follow it with run_status.",
  input: SteerRunInput,
  output: SteerRunOutput,
  async run(i, ctx) {
    const { dir, file } = await findRun(i.run_id, ctx);
    const cancel = i.actions.some((a) => a.type === "cancel");
    const other = await elsewhere(i.run_id, dir, file, ctx);
    if (cancel && other) {
      throw new SynthgraphError(
        `run ${i.run_id} is running in another process: it cannot be cancelled from here`,
        {
          hint: 'pause it first (steer_run with [{"type": "continue"}] and resume false), then cancel once run_status says paused',
          exitCode: 2,
        },
      );
    }
    if (!cancel && i.resume && !other) guardRunFiles(file, ctx);
    // A run executing here stops first, so nothing writes after the cancel (its last step is kept).
    if (cancel && ctx.runs.isRunning(i.run_id)) await ctx.runs.abort(i.run_id);
    const outcome = await steerRun(dir, i.actions, { source: "tool", resume: false, env: ctx.env });
    const recorded = outcome.records.map((r) => ({ id: r.id, at: r.at, action: r.action }));
    const base = { run_id: i.run_id, run_dir: dir, recorded };
    if (outcome.status === "cancelled") {
      return {
        ...base,
        outcome: "cancelled" as const,
        status: "cancelled" as const,
        next: "the run has ended; start a new one with start_run or sample",
      };
    }
    if (!i.resume) {
      return {
        ...base,
        outcome: "queued" as const,
        status: ctx.runs.isRunning(i.run_id)
          ? ("running" as const)
          : (await findRun(i.run_id, ctx)).file.status,
        next: `the actions apply when the run resumes: call resume_run with run_id "${i.run_id}" (a running run pauses at its next pause point first)`,
      };
    }
    const launch = { env: ctx.env, redact: ctx.redact };
    if (ctx.runs.isRunning(i.run_id)) {
      ctx.runs.resumeAfterPause(i.run_id, launch);
      return {
        ...base,
        outcome: "apply_at_next_pause" as const,
        status: "running" as const,
        next: statusHint(i.run_id),
      };
    }
    const now = (await findRun(i.run_id, ctx)).file;
    if (await elsewhere(i.run_id, dir, now, ctx)) {
      return {
        ...base,
        outcome: "queued" as const,
        status: "running" as const,
        next: `the run executes in another process, which was asked to pause: call resume_run with run_id "${i.run_id}" once run_status says paused`,
      };
    }
    // Stopped mid-step (crashed, failed, aborted): pause at the next pause point to take the actions there.
    if ((await readRunState(dir)).pause === undefined) {
      await requestPause(dir);
      ctx.runs.resumeAfterPause(i.run_id, launch);
    }
    resumeHere(i.run_id, dir, now, ctx);
    return { ...base, outcome: "resumed" as const, status: "running" as const, next: statusHint(i.run_id) };
  },
};

// ---- resume_run ----

export const ResumeRunInput = z.object({ run_id: RunIdField });

export const ResumeRunOutput = z.object({
  run_id: z.string(),
  run_dir: z.string(),
  status: z.literal("running"),
  resumed_from: RunStatusSchema.describe("the status the run had"),
  pending_actions: z.number().int().describe("steering actions its pause point applies now"),
  next: z.string(),
});

export const resumeRunSpec: ToolSpec<typeof ResumeRunInput, typeof ResumeRunOutput> = {
  name: "resume_run",
  description:
    "Continues a paused, failed or interrupted run from its last checkpoint in the background and returns at once (nothing done is redone; steering actions recorded by steer_run apply at its pause point). Follow it with run_status.",
  input: ResumeRunInput,
  output: ResumeRunOutput,
  async run(i, ctx) {
    const { dir, file } = await findRun(i.run_id, ctx);
    if (ctx.runs.isRunning(i.run_id) || (await elsewhere(i.run_id, dir, file, ctx))) {
      throw new SynthgraphError(`run ${i.run_id} is already running`, {
        hint: "follow it with run_status; to change it use steer_run",
        exitCode: 2,
      });
    }
    if (file.status === "done" || file.status === "cancelled") {
      throw new SynthgraphError(`run ${i.run_id} is ${file.status}: there is nothing to resume`, {
        hint: "start a new run with start_run or sample",
        exitCode: 2,
      });
    }
    guardRunFiles(file, ctx);
    const pending = (await readSteeringFile(dir)).pending.length;
    resumeHere(i.run_id, dir, file, ctx);
    return {
      run_id: i.run_id,
      run_dir: dir,
      status: "running" as const,
      resumed_from: file.status,
      pending_actions: pending,
      next: statusHint(i.run_id),
    };
  },
};
