/**
 * `synthgraph pause DIR`: asks a running run to pause at its next pause point (the engine's pause node sees
 * <run-dir>/pause.request; calls in flight finish and are kept). Also the line every command prints when a run
 * is paused, with what to do next.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { SynthgraphError } from "../data/errors.ts";
import type { EngineStateBase } from "../graph/engine.ts";
import type { PausePoint } from "../graph/pause.ts";
import type { RunResult } from "../graph/run.ts";
import { readRunFile } from "../state/run-dir.ts";
import { requestPause } from "../state/steering.ts";
import type { CommandModule } from "./commands.ts";
import type { CliIo, PausedRun } from "./generate.ts";

const defaultIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

/** The pause point in a few lines (CLI, chat). */
export function formatPausePoint(p: PausePoint | null): string {
  if (p === null) return "stopped by the user between steps";
  const scores = Object.entries(p.scores)
    .map(([k, v]) => `${k} ${v === null ? "n/a" : v.toFixed(3)}`)
    .join(", ");
  const next = p.next === "final" ? "the final generation" : "the next iteration";
  return `${p.engine} after iteration ${p.iteration}: ${p.summary}${scores ? `\n  scores: ${scores}` : ""}\n  next: ${next} (${p.rows} rows)`;
}

/** Prints a paused run and what to do; the CLI's result for it. */
export function printPaused(result: RunResult<EngineStateBase>, io: CliIo): PausedRun {
  io.stdout.write(
    [
      `paused: ${formatPausePoint(result.pause)}`,
      `  steer it: synthgraph steer ${result.dir} --feedback "TEXT" | --rows N | --where EXPR | --stop | --continue`,
      `  run directory: ${result.dir}`,
      "",
    ].join("\n"),
  );
  return { paused: true, run_dir: result.dir, pause: result.pause };
}

/** `pause` action. */
export async function runPause(raw: { dir: string }, io: CliIo = defaultIo()): Promise<void> {
  const dir = resolve(raw.dir);
  const run = await readRunFile(dir);
  if (run.status === "paused") {
    io.stdout.write(`run ${run.id} is already paused\n`);
    return;
  }
  if (run.status !== "running") {
    throw new SynthgraphError(`run ${run.id} is ${run.status}: only a running run can be paused`, {
      exitCode: 2,
      hint: run.status === "failed" ? `continue it with \`synthgraph resume ${dir}\`` : undefined,
    });
  }
  await requestPause(dir);
  io.stdout.write(
    `pause requested: run ${run.id} pauses at its next pause point (calls in flight finish and are kept)\n`,
  );
}

export const pauseCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("pause")
      .description("pause a running run at its next pause point (steer or resume it afterwards)")
      .argument("<dir>", "run directory")
      .action(async (dir: string) => {
        await runPause({ dir });
      });
  },
};
