/**
 * `synthgraph steer DIR`: one steering action from flags (`--feedback TEXT`, `--rows N`, `--where EXPR`, `--stop`,
 * `--continue`, `--cancel`), or a sentence turned into actions by the steering agent (`synthgraph steer DIR "TEXT"`). The
 * actions are validated against the run and recorded; unless `--no-resume` the run then continues in the
 * foreground until its next pause point or its end (exit 0 in both cases; the last line says which). A run
 * running in another process is asked to pause; `steer` waits for that pause, applies the actions and continues
 * the run itself (the other process exits with the run paused). With `--no-resume` it only queues the actions
 * and requests the pause. A crashed run (killed mid-step) resumes here, takes the actions at its next pause
 * point and goes on.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { interpretSteering } from "../agents/steering.ts";
import { SynthgraphError } from "../data/errors.ts";
import { endpointFor } from "../graph/runtime.ts";
import { realLoader } from "../graph/run.ts";
import { readRunState, steerRun } from "../graph/steer.ts";
import { type SteeringAction, describeAction } from "../state/steering.ts";
import type { CommandModule } from "./commands.ts";
import { type CliIo, finish, type GenerateSummary, type PausedRun } from "./generate.ts";
import { engineFor } from "../graph/registry.ts";
import { formatPausePoint } from "./pause.ts";
import { ProgressPrinter } from "./progress.ts";

const defaultIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

export const SteerOptionsSchema = z.object({
  dir: z.string().min(1),
  text: z.string().optional(),
  feedback: z.string().optional(),
  rows: z.coerce
    .number({ error: "--rows must be a number" })
    .int("--rows must be an integer")
    .positive("--rows must be at least 1")
    .optional(),
  where: z.string().trim().min(1, "--where must not be empty").optional(),
  stop: z.boolean().default(false),
  continue: z.boolean().default(false),
  cancel: z.boolean().default(false),
  resume: z.boolean().default(true),
  quiet: z.boolean().default(false),
});
export type SteerOptions = z.input<typeof SteerOptionsSchema>;

/** The actions the flags ask for (in a fixed order: feedback, rows, condition, stop, continue, cancel). */
export function actionsFromFlags(o: z.output<typeof SteerOptionsSchema>): SteeringAction[] {
  const out: SteeringAction[] = [];
  if (o.feedback !== undefined) out.push({ type: "feedback", text: o.feedback });
  if (o.rows !== undefined) out.push({ type: "rows", rows: o.rows });
  if (o.where !== undefined) out.push({ type: "condition", text: o.where });
  if (o.stop) out.push({ type: "stop" });
  if (o.continue) out.push({ type: "continue" });
  if (o.cancel) out.push({ type: "cancel" });
  return out;
}

/** The steering agent's reading of a sentence, against the run's columns and its pause point. */
async function actionsFromText(dir: string, text: string, io: CliIo): Promise<SteeringAction[]> {
  const snap = await readRunState(dir, { env: io.env });
  const real = await realLoader(snap.run.config)();
  const where = snap.pause ? formatPausePoint(snap.pause).replace(/\n\s*/g, "; ") : snap.run.status;
  const answer = await interpretSteering({
    endpoint: endpointFor({ config: snap.run.config, env: io.env }, "steering"),
    context: {
      run: `run ${snap.run.id} (${snap.run.config.engine}), ${where}`,
      columns: real.dataset.columns,
    },
    sentence: text,
  });
  io.stdout.write(
    `steering agent: ${answer.explanation || "actions"}\n${answer.actions.map((a) => `  - ${describeAction(a)}`).join("\n")}\n`,
  );
  return answer.actions;
}

/** `steer` action. Returns the run's outcome when it resumed (summary or paused), else null. */
export async function runSteer(
  raw: SteerOptions,
  io: CliIo = defaultIo(),
): Promise<GenerateSummary | PausedRun | null> {
  const r = SteerOptionsSchema.safeParse(raw);
  if (!r.success) {
    throw new SynthgraphError(r.error.issues[0].message, {
      hint: "see `synthgraph steer --help`",
      exitCode: 2,
    });
  }
  const o = r.data;
  const dir = resolve(o.dir);
  const flagged = actionsFromFlags(o);
  if (flagged.length > 0 && o.text !== undefined) {
    throw new SynthgraphError("give either a sentence or action flags, not both", { exitCode: 2 });
  }
  if (flagged.length === 0 && o.text === undefined) {
    throw new SynthgraphError("no steering action given", {
      hint: 'pass --feedback "TEXT", --rows N, --where EXPR, --stop, --continue or --cancel, or a sentence in quotes',
      exitCode: 2,
    });
  }
  const actions = o.text === undefined ? flagged : await actionsFromText(dir, o.text, io);
  const { run } = await readRunState(dir, { env: io.env });
  const printer = o.quiet
    ? undefined
    : new ProgressPrinter(io.stderr, engineFor(run.config.engine).progress(run.config));
  const outcome = await steerRun(dir, actions, {
    resume: o.resume,
    source: o.text === undefined ? "cli" : "agent",
    env: io.env,
    onWait: () =>
      io.stdout.write(
        `run ${run.id} is running in another process: a pause was requested; waiting for its next pause point\n`,
      ),
    ...(printer ? { onEvent: (e) => printer.handle(e) } : {}),
  });
  const unapplied = new Set(outcome.unapplied ?? []);
  for (const rec of outcome.records) {
    io.stdout.write(
      `${unapplied.has(rec.id) ? "not applied" : outcome.status === "queued" ? "queued" : "applied"} ${describeAction(rec.action)} (${rec.at})\n`,
    );
  }
  if (outcome.status === "cancelled") {
    io.stdout.write(`cancelled: run ${run.id} ends without output\n`);
    return null;
  }
  if (outcome.status === "queued") {
    io.stdout.write(
      unapplied.size > 0
        ? `not applied: run ${run.id} ended before its next pause point\n`
        : run.status === "running"
          ? "queued: a pause was requested; the actions apply when the run resumes from its next pause point (`synthgraph resume " +
            dir +
            "`)\n"
          : `queued: the actions apply when the run resumes (\`synthgraph resume ${dir}\`)\n`,
    );
    return null;
  }
  if (!outcome.result) throw new SynthgraphError("internal: resumed without a result");
  if (unapplied.size > 0) {
    io.stdout.write(
      "note: the run ended without reaching a pause point; the actions marked above were not applied\n",
    );
  }
  return finish(outcome.result, io);
}

export const steerCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("steer")
      .description(
        'steer a run: --feedback "TEXT" | --rows N | --where EXPR | --stop | --continue | --cancel, or a sentence for the steering agent; then continue it until its next pause or its end',
      )
      .argument("<dir>", "run directory")
      .argument("[text]", "what to change, in words (the steering agent turns it into actions)")
      .option("--feedback <text>", "feedback for the generator")
      .option("--rows <n>", "number of output rows")
      .option(
        "--where <expr>",
        "a condition every output row must meet, in the predicate language (joined with `and` to the run's own; replaces an earlier one)",
      )
      .option("--stop", "stop iterating; generate the output from the best state so far")
      .option("--continue", "go on as planned")
      .option("--cancel", "end the run without output")
      .option("--no-resume", "record the actions (asking a running run to pause) and leave the run paused")
      .option("--quiet", "no progress on stderr")
      .action(async (dir: string, text: string | undefined, opts: Record<string, unknown>) => {
        await runSteer({ ...opts, dir, ...(text === undefined ? {} : { text }) } as SteerOptions);
      });
  },
};
