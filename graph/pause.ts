/**
 * The pause point every engine shares. Each engine has a small `pause` node (its nodes.ts) placed between
 * iterations; the node calls `pausePoint` with the iteration's diagnostics, and:
 *   - streams them as a custom event (stream mode "custom": an `iteration` event for progress displays);
 *   - when the run was started with --pause or a pause was requested (steering.json pause_every, or
 *     <run-dir>/pause.request), calls LangGraph `interrupt()` with them: the run stops there, the runner
 *     records status "paused", and `Command({ resume: { actions } })` continues it;
 *   - on resume, returns the steering actions to apply (the engine's node turns them into its state update).
 *
 * LangGraph re-runs the interrupted node from its top on resume, so the pause node makes no model call and its
 * decision to interrupt must be the same on the re-run: the runner re-creates pause.request before resuming a
 * pending interrupt, and this function removes it only after the interrupt returned.
 */
import { access } from "node:fs/promises";
import { getWriter, interrupt } from "@langchain/langgraph";
import { z } from "zod";
import {
  type AppliedSteering,
  clearPauseRequest,
  pauseRequestPath,
  readSteeringFile,
  type SteeringAction,
  type SteeringRecord,
  SteeringRecordSchema,
} from "../state/steering.ts";
import type { RunConfig } from "../state/config.ts";
import { steerConditions } from "./conditions.ts";

/** What a pause point shows: the interrupt's value, the paused event, the custom `iteration` event. */
export const PausePointSchema = z.object({
  engine: z.string(),
  /** Iterations done (SYNTHIA probes, MALLM-GAN batches, LLMSynthor iterations). */
  iteration: z.number().int(),
  /** What happens when the run goes on: another iteration, or the final generation. */
  next: z.enum(["iterate", "final"]),
  /** The iteration's scores (names per engine; null = undefined for this iteration). */
  scores: z.record(z.string(), z.number().nullable()),
  /** One sentence: the verdict, the optimizer step, the discrepancy. */
  summary: z.string(),
  rows: z.number().int(),
});
export type PausePoint = z.infer<typeof PausePointSchema>;

/** The resume value of every pause point. */
export const ResumeValueSchema = z.object({ actions: z.array(SteeringRecordSchema) });
export type ResumeValue = z.infer<typeof ResumeValueSchema>;

/** Pause here? Started with --pause, or a pause was requested. */
export async function pauseWanted(runDir: string): Promise<boolean> {
  if ((await readSteeringFile(runDir)).pause_every) return true;
  return access(pauseRequestPath(runDir)).then(
    () => true,
    () => false,
  );
}

/**
 * The pause point: streams the diagnostics, pauses when wanted, and returns the actions given on resume (null
 * when the run did not pause). Call it from a node without model calls (see the header).
 */
export async function pausePoint(runDir: string, point: PausePoint): Promise<SteeringRecord[] | null> {
  emit({ event: "iteration", ...point });
  if (!(await pauseWanted(runDir))) return null;
  // Throws GraphInterrupt the first time (never catch it); returns the resume value on the re-run.
  const resumed = ResumeValueSchema.parse(interrupt(point));
  await clearPauseRequest(runDir);
  return resumed.actions;
}

/** Writes to the "custom" stream when the run streams it (a no-op otherwise, e.g. in unit tests). */
function emit(event: Record<string, unknown>): void {
  let writer: ((chunk: unknown) => void) | undefined;
  try {
    writer = getWriter();
  } catch {
    writer = undefined;
  }
  writer?.(event);
}

/** The actions of a resume, summed up: every engine applies these the same way and routes `feedback` itself. */
export interface SteeringEffects {
  feedback: string[];
  rows: number | null;
  /** The last steering condition (canonical predicate text), joined to every group of the output. */
  condition: string | null;
  stop: boolean;
}

export function steeringEffects(records: readonly SteeringRecord[]): SteeringEffects {
  return actionEffects(records.map((r) => r.action));
}

/** The same summing-up over bare actions (graph/steer.ts reads the row count and condition with it). */
export function actionEffects(actions: readonly SteeringAction[]): SteeringEffects {
  const e: SteeringEffects = { feedback: [], rows: null, condition: null, stop: false };
  for (const a of actions) {
    if (a.type === "feedback") e.feedback.push(a.text);
    else if (a.type === "rows") e.rows = a.rows;
    else if (a.type === "condition") e.condition = a.text;
    else if (a.type === "stop") e.stop = true;
  }
  return e;
}

/**
 * The state's config after the row count and condition of a resume (graph/conditions.ts steerConditions, the
 * rule graph/steer.ts also applies to run.json): `{ config }` when it changes, `{}` otherwise.
 */
export function steeredConfig(config: RunConfig, e: SteeringEffects): { config?: RunConfig } {
  const next = steerConditions(config, e);
  return next === config ? {} : { config: next };
}

/** The records as applied at (iteration, phase), each with the engine's sentence of what it did. */
export function appliedSteering(
  records: readonly SteeringRecord[],
  at: { iteration: number; phase: string },
  effect: (a: SteeringAction) => string,
): AppliedSteering[] {
  return records.map((r) => ({ ...r, applied_at: at, effect: effect(r.action) }));
}

/** The sentence for the actions every engine treats alike (the engine gives feedback's and stop's). */
export function commonEffect(a: SteeringAction): string {
  switch (a.type) {
    case "rows":
      return `the output will have ${a.rows} rows`;
    case "condition":
      return `every output row will satisfy ${a.text} (joined with each group's own condition), checked by code`;
    case "continue":
      return "continued";
    case "cancel":
      return "cancelled";
    default:
      return a.type;
  }
}
