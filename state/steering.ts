/**
 * Steering a run: the one typed set of actions every interface shares (CLI flags, the steering agent, the chat,
 * the library), their validation against a run, and the run directory's steering file.
 *
 *   <run-dir>/steering.json   pause_every (started with --pause), pending actions (given, not yet applied by a
 *                             pause node) and the history of every action given, with its time and source
 *   <run-dir>/pause.request   present = pause at the next pause point (`synthgraph pause`, a chat, Ctrl-C)
 *
 * An action is applied by the engine's pause node when the run resumes (graph/pause.ts); the node records it
 * in the state's `steering` list (checkpointed: SUMMARY.json reads it), so pending actions whose id is already
 * in the state are dropped on the next resume and a kill -9 at any moment neither loses nor repeats one.
 */
import { randomUUID } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { assertFeasible } from "../data/predicate/feasibility.ts";
import { parsePredicate } from "../data/predicate/parse.ts";
import type { Metadata, Table } from "../data/types.ts";
import { writeFileAtomic } from "./atomic.ts";

export const SteeringActionSchema = z.discriminatedUnion("type", [
  /** Feedback for the generator: SYNTHIA's F_t, MALLM-GAN's optimizer input, LLMSynthor's proposer guidance. */
  z.object({ type: z.literal("feedback"), text: z.string().trim().min(1).max(2000) }),
  /** Change the number of output rows. */
  z.object({ type: z.literal("rows"), rows: z.number().int().positive() }),
  /**
   * A condition on the output in the predicate language (data/predicate/, e.g. `age > 80`): parsed against the
   * run's table (column names, category levels) and checked for feasibility before it is recorded; `columns`
   * (optional) are the columns it reads, filled in from the parsed condition. Applied by joining it with `and`
   * to each group's own condition (graph/conditions.ts steerConditions); every later output row is checked
   * against it by code. A later condition replaces an earlier one.
   */
  z.object({
    type: z.literal("condition"),
    text: z.string().trim().min(1).max(500),
    columns: z.array(z.string().min(1)).min(1).optional(),
  }),
  /** Stop iterating; the output is generated from the best state so far. */
  z.object({ type: z.literal("stop") }),
  /** Go on as planned. */
  z.object({ type: z.literal("continue") }),
  /** End the run without an output (it cannot be resumed). */
  z.object({ type: z.literal("cancel") }),
]);
export type SteeringAction = z.infer<typeof SteeringActionSchema>;

/** Who gave an action: a command, the steering agent, the chat, library code, or a tool call (tools/steer.ts). */
export const STEERING_SOURCES = ["cli", "agent", "chat", "library", "tool"] as const;

/** An action as given: its id, when, and from which interface. */
export const SteeringRecordSchema = z.object({
  id: z.string().min(1),
  at: z.string(),
  source: z.enum(STEERING_SOURCES),
  action: SteeringActionSchema,
});
export type SteeringRecord = z.infer<typeof SteeringRecordSchema>;

/** An action as applied by a pause node (the state's `steering` list, SUMMARY.json's `steering`). */
export const AppliedSteeringSchema = SteeringRecordSchema.extend({
  applied_at: z.object({ iteration: z.number().int(), phase: z.string() }),
  /** What the engine did with it, in a sentence. */
  effect: z.string(),
});
export type AppliedSteering = z.infer<typeof AppliedSteeringSchema>;

export const SteeringFileSchema = z.object({
  pause_every: z.boolean().default(false),
  pending: z.array(SteeringRecordSchema).default(() => []),
  history: z.array(SteeringRecordSchema).default(() => []),
});
export type SteeringFile = z.infer<typeof SteeringFileSchema>;

export const STEERING_FILE = "steering.json";
export const PAUSE_REQUEST_FILE = "pause.request";

export const steeringPath = (dir: string): string => join(dir, STEERING_FILE);
export const pauseRequestPath = (dir: string): string => join(dir, PAUSE_REQUEST_FILE);

export function newSteeringRecord(
  action: SteeringAction,
  source: SteeringRecord["source"],
  now: Date = new Date(),
): SteeringRecord {
  return { id: randomUUID(), at: now.toISOString(), source, action };
}

export async function readSteeringFile(dir: string): Promise<SteeringFile> {
  let text: string;
  try {
    text = await readFile(steeringPath(dir), "utf8");
  } catch {
    return SteeringFileSchema.parse({});
  }
  const r = SteeringFileSchema.safeParse(JSON.parse(text));
  if (!r.success) {
    throw new SynthgraphError(`${steeringPath(dir)} is not a steering file: ${z.prettifyError(r.error)}`, {
      hint: "restore it or delete it (pending steering actions in it are then lost)",
      exitCode: 2,
    });
  }
  return r.data;
}

export async function writeSteeringFile(dir: string, f: SteeringFile): Promise<void> {
  await writeFileAtomic(steeringPath(dir), `${JSON.stringify(f, null, 2)}\n`);
}

/** Adds actions to the pending list and the history. */
export async function queueActions(dir: string, records: readonly SteeringRecord[]): Promise<SteeringFile> {
  const f = await readSteeringFile(dir);
  const next = { ...f, pending: [...f.pending, ...records], history: [...f.history, ...records] };
  await writeSteeringFile(dir, next);
  return next;
}

/** Pending actions not yet applied (ids not in `applied`); the file is rewritten without the applied ones. */
export async function pendingActions(dir: string, applied: ReadonlySet<string>): Promise<SteeringRecord[]> {
  const f = await readSteeringFile(dir);
  const pending = f.pending.filter((r) => !applied.has(r.id));
  if (pending.length !== f.pending.length) await writeSteeringFile(dir, { ...f, pending });
  return pending;
}

export async function setPauseEvery(dir: string, on: boolean): Promise<void> {
  const f = await readSteeringFile(dir);
  await writeSteeringFile(dir, { ...f, pause_every: on });
}

export async function requestPause(dir: string): Promise<void> {
  await writeFile(pauseRequestPath(dir), `${new Date().toISOString()}\n`);
}

export async function clearPauseRequest(dir: string): Promise<void> {
  await rm(pauseRequestPath(dir), { force: true });
}

/** What an action is checked against: the run's table, and the rows already in the output (LLMSynthor). */
export interface SteeringContext {
  /** The run's real metadata: a condition's columns and category levels are checked against it. */
  metadata: Metadata;
  /** The run's real table (feasibility also counts the real rows that meet a condition; optional). */
  table?: Table;
  /** Rows the run already holds that a smaller row count cannot undo (LLMSynthor's pool); 0 otherwise. */
  minRows: number;
}

/**
 * Checks an action against the run; a SynthgraphError (exit 2) names the field and what to do. A condition is
 * returned in canonical predicate syntax with the columns it reads.
 */
export function validateAction(action: SteeringAction, ctx: SteeringContext): SteeringAction {
  const a = SteeringActionSchema.safeParse(action);
  if (!a.success) {
    throw new SynthgraphError(`invalid steering action: ${z.prettifyError(a.error)}`, {
      hint: "actions: feedback TEXT, rows N (> 0), condition EXPR (predicate language), stop, continue, cancel",
      exitCode: 2,
    });
  }
  const v = a.data;
  if (v.type === "rows" && v.rows < ctx.minRows) {
    throw new SynthgraphError(`rows ${v.rows} is below the ${ctx.minRows} rows the run already holds`, {
      hint: `ask for at least ${ctx.minRows} rows`,
      exitCode: 2,
    });
  }
  if (v.type === "condition") return validateCondition(v, ctx);
  return v;
}

type ConditionAction = Extract<SteeringAction, { type: "condition" }>;

/** The condition parsed (names, levels), checked for feasibility, and given back canonically. */
function validateCondition(v: ConditionAction, ctx: SteeringContext): ConditionAction {
  const names = ctx.metadata.columns.map((c) => c.name);
  const known = new Set(names);
  const unknown = (v.columns ?? []).filter((c) => !known.has(c));
  if (unknown.length > 0) {
    throw new SynthgraphError(`condition names unknown column(s): ${unknown.join(", ")}`, {
      hint: `columns of this run: ${names.join(", ")}`,
      exitCode: 2,
    });
  }
  let text: string;
  let columns: string[];
  try {
    const pred = parsePredicate(v.text, ctx.metadata);
    assertFeasible(pred, ctx.metadata, ctx.table);
    text = pred.toString();
    columns = pred.columns();
  } catch (err) {
    if (!(err instanceof SynthgraphError)) throw err;
    throw new SynthgraphError(`steering condition rejected: ${err.message}`, {
      hint: err.hint ?? 'write the condition in the predicate language, e.g. age > 60 and sex == "Female"',
      exitCode: 2,
      cause: err,
    });
  }
  return { type: "condition", text, columns };
}

/** One line describing an action (CLI, chat). */
export function describeAction(a: SteeringAction): string {
  switch (a.type) {
    case "feedback":
      return `feedback: ${a.text}`;
    case "rows":
      return `rows: ${a.rows}`;
    case "condition":
      return `condition: ${a.text}`;
    default:
      return a.type;
  }
}
