/**
 * The `synthgraph chat` conversation: each line the user types goes to the steering agent (agents/steering.ts
 * chatTurn: a reply and tool calls), the calls run here (start a run, status, pause, steer, resume, evaluate,
 * output). A run started or resumed from the chat runs in the background: its progress streams into the
 * terminal (streamRun's typed events) while the user types. Actions given while it runs are queued and a pause
 * is requested: at the pause point they are applied (the run resumes with them) unless the user asked to
 * pause. Colours only when stdout is a TTY (and NO_COLOR is unset). Ctrl-C pauses; a second Ctrl-C leaves
 * with the run paused and resumable. End of input waits for the background run to pause or finish.
 */
import { existsSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { chatTurn, type ChatToolCall } from "../agents/steering.ts";
import { metadataToJson } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import { createEndpoint } from "../models/factory.ts";
import { resolveRoleConfigs } from "../models/spec.ts";
import type { ChatInput } from "../models/structured.ts";
import { realLoader } from "../graph/run.ts";
import type { RunStreamEvent } from "../graph/run.ts";
import { readRunState, steerRun, streamRun, validateForRun } from "../graph/steer.ts";
import { DEFAULT_RUNS_ROOT, newRunId, readRunFile } from "../state/run-dir.ts";
import { describeAction, newSteeringRecord, queueActions, requestPause } from "../state/steering.ts";
import { evaluateTables } from "../stats/metrics/evaluate.ts";
import { GenerateOptionsSchema, runConfigFromOptions } from "./generate.ts";
import { formatPausePoint } from "./pause.ts";

export interface ChatOptions {
  data?: string;
  run?: string;
  model?: string;
  out?: string;
  seed?: string;
  maxIterations?: string;
  probeRows?: string;
  batchRows?: string;
  examples?: string;
}

interface Style {
  you: string;
  agent: (s: string) => string;
  event: (s: string) => string;
}

function style(tty: boolean): Style {
  const c = (code: string) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { you: tty ? "\x1b[1myou>\x1b[0m " : "you> ", agent: c("36"), event: c("2") };
}

export async function runChat(o: ChatOptions): Promise<void> {
  const out = process.stdout;
  /** Line editing and in-place redraws need both ends on a terminal; colours need stdout on one. */
  const tty = out.isTTY === true && process.stdin.isTTY === true;
  const st = style(out.isTTY === true && process.env.NO_COLOR === undefined);
  const roles = resolveRoleConfigs({ flags: o.model ? { model: o.model } : {} });
  const endpoint = createEndpoint({ ...roles.steering, role: "steering" }, process.env);
  let dir: string | undefined = o.run ? resolve(o.run) : undefined;
  let columns: string[] = [];
  if (o.data) columns = (await readTable(resolve(o.data))).table.columns.map((c) => c.name);
  if (dir) columns = (await realLoader((await readRunFile(dir)).config)()).dataset.columns;

  let bg: Promise<void> | null = null;
  let controller: AbortController | null = null;
  /** Actions given while the run was running: applied (by resuming) when it reaches its pause point. */
  let applyAtPause = false;
  /** A cancel given while the run was running: it is cancelled once paused (nothing writes after it). */
  let cancelAtPause = false;
  let userPaused = false;
  let lastPause = "";
  let interrupts = 0;
  let lastRowsShown = -1;
  const history: ChatInput[] = [];

  const rl = createInterface({ input: process.stdin, output: out, terminal: tty, prompt: st.you });
  const say = (line: string): void => {
    if (tty) out.write("\r\x1b[K");
    out.write(`${line}\n`);
    if (tty) rl.prompt(true);
  };

  const onEvent = (e: RunStreamEvent): void => {
    switch (e.type) {
      case "started":
        say(st.event(`· run ${e.resumed ? "resumed" : "started"}: ${e.dir} (${e.engine})`));
        break;
      case "iteration_finished":
        lastPause = formatPausePoint(e.point);
        say(st.event(`· iteration ${e.point.iteration}: ${e.point.summary}`));
        break;
      case "batch_done":
        if (e.rowsDone === e.rowsRequested || e.rowsDone - lastRowsShown >= e.rowsRequested / 4) {
          lastRowsShown = e.rowsDone;
          say(st.event(`· rows ${e.rowsDone}/${e.rowsRequested}`));
        }
        break;
      case "paused":
        say(st.event(`· paused: ${formatPausePoint(e.point).replace(/\n\s*/g, "; ")}`));
        break;
      case "finished":
        say(st.event(`· done: ${e.output.rows} rows in ${e.output.path}`));
        break;
      default:
        break;
    }
  };

  /** Runs or resumes in the background; resolves once the run directory exists (its `started` event) or it failed. */
  const launch = (target: Parameters<typeof streamRun>[0]): Promise<void> => {
    controller = new AbortController();
    lastRowsShown = -1;
    const signal = controller.signal;
    let started: () => void = () => undefined;
    const isStarted = new Promise<void>((r) => {
      started = r;
    });
    bg = (async () => {
      try {
        const gen = streamRun(target, { env: process.env, signal });
        let next = await gen.next();
        while (!next.done) {
          onEvent(next.value);
          if (next.value.type === "started") started();
          next = await gen.next();
        }
        const result = next.value;
        if (result.status === "paused" && cancelAtPause) {
          cancelAtPause = false;
          applyAtPause = false;
          await steerRun(result.dir, { type: "cancel" }, { source: "chat" });
          say("  cancelled: the run ends without output");
        } else if (result.status === "paused" && applyAtPause && !userPaused) {
          applyAtPause = false;
          say(st.event("· applying the queued actions here and going on"));
          bg = null;
          void launch({ dir: result.dir });
          started();
          return;
        }
      } catch (err) {
        if (!signal.aborted) say(`run stopped: ${(err as Error).message}`);
      }
      bg = null;
      started();
    })();
    return isStarted;
  };

  const runLine = async (): Promise<string> => {
    if (!dir) return o.data ? `no run yet; data ${o.data}` : "no run and no data";
    const s = await readRunState(dir);
    const where = s.pause !== undefined ? formatPausePoint(s.pause).replace(/\n\s*/g, "; ") : lastPause;
    return `run ${s.run.id} (${s.run.config.engine}) ${bg ? "running" : s.run.status}, ${s.run.progress.rows_done}/${s.run.config.rows} rows${where ? `; ${where}` : ""}`;
  };

  const execute = async (call: ChatToolCall): Promise<void> => {
    switch (call.tool) {
      case "start_run": {
        if (!o.data) return say("  (no data file: start the chat as `synthgraph chat DATA`)");
        if (bg) return say("  (a run is already running)");
        const data = resolve(o.data);
        const opts = GenerateOptionsSchema.parse({
          data,
          rows: call.rows,
          engine: call.engine,
          out: o.out ?? join(process.cwd(), `${basename(data, extname(data))}_synth.csv`),
          ...(o.model ? { model: o.model } : {}),
          ...(o.seed ? { seed: o.seed } : {}),
          ...(o.maxIterations ? { maxIterations: o.maxIterations } : {}),
          ...(o.probeRows ? { probeRows: o.probeRows } : {}),
          ...(o.batchRows ? { batchRows: o.batchRows } : {}),
          ...(o.examples ? { examples: o.examples } : {}),
        });
        const runDir = resolve(join(DEFAULT_RUNS_ROOT, newRunId()));
        await launch({ dir: runDir, config: runConfigFromOptions(opts) });
        // A run that failed before creating its directory (unreadable data) leaves the chat without a run.
        if (existsSync(join(runDir, "run.json"))) dir = runDir;
        return;
      }
      case "status":
        return say(`  ${await runLine()}`);
      case "pause":
        if (!dir || !bg) return say("  (no run is running)");
        userPaused = true;
        await requestPause(dir);
        return say("  pause requested: the run pauses at its next pause point");
      case "steer": {
        if (!dir) return say("  (no run to steer)");
        const actions = await validateForRun(dir, call.actions);
        for (const a of actions) say(`  action: ${describeAction(a)}`);
        if (bg && actions.some((a) => a.type === "cancel")) {
          cancelAtPause = true;
          await requestPause(dir);
          return say("  cancelling at the next pause point");
        }
        if (bg) {
          await queueActions(
            dir,
            actions.map((a) => newSteeringRecord(a, "chat")),
          );
          applyAtPause = true;
          await requestPause(dir);
          return say("  queued: applied at the next pause point");
        }
        const outcome = await steerRun(dir, actions, { source: "chat", resume: false });
        if (outcome.status === "cancelled") return say("  cancelled");
        userPaused = false;
        await launch({ dir });
        return;
      }
      case "resume":
        if (!dir) return say("  (no run to resume)");
        if (bg) return say("  (the run is running)");
        userPaused = false;
        await launch({ dir });
        return;
      case "evaluate": {
        if (!dir) return say("  (no run)");
        const run = await readRunFile(dir);
        if (run.status !== "done") return say(`  (the run is ${run.status}: evaluate when it is done)`);
        const real = await realLoader(run.config)();
        const synth = await readTable(run.config.out, { metadata: metadataToJson(real.metadata) });
        const ev = evaluateTables(real.table, synth.table, undefined, {
          seed: run.config.seed,
          skip_random_forest: true,
        });
        const q = (ev.summary as { quality_overall?: number }).quality_overall;
        return say(`  quality ${typeof q === "number" ? q.toFixed(3) : "n/a"} (${synth.table.nRows} rows)`);
      }
      case "output": {
        if (!dir) return say("  (no run)");
        const run = await readRunFile(dir);
        return say(`  output: ${run.config.out} (${run.status})`);
      }
    }
  };

  const handle = async (line: string): Promise<void> => {
    const said = line.trim();
    if (said === "") return;
    try {
      const turn = await chatTurn({
        endpoint,
        context: { run: await runLine(), columns },
        history,
        said,
      });
      history.push({ role: "user", content: said }, { role: "assistant", content: turn.reply });
      say(st.agent(`synthgraph> ${turn.reply}`));
      for (const call of turn.calls) await execute(call);
    } catch (err) {
      say(`error: ${(err as Error).message}`);
    }
  };

  say(
    st.agent(
      `synthgraph> chat ready${o.data ? ` (data ${o.data})` : ""}. Ctrl-C pauses a run; twice leaves.`,
    ),
  );
  let queue = Promise.resolve();
  const closed = new Promise<void>((res) => rl.on("close", () => res()));
  rl.on("line", (line) => {
    interrupts = 0;
    queue = queue.then(() => handle(line));
  });
  const onInterrupt = (): void => {
    interrupts++;
    if (interrupts >= 2) {
      controller?.abort();
      say(dir ? `left; the run is paused and resumable: synthgraph resume ${dir}` : "left");
      rl.close();
      return;
    }
    if (dir && bg) {
      userPaused = true;
      void requestPause(dir);
      say("pausing at the next pause point (Ctrl-C again to leave)");
    } else say("(Ctrl-C again to leave)");
  };
  // In a terminal readline turns Ctrl-C into its SIGINT event; otherwise the process receives the signal.
  rl.on("SIGINT", onInterrupt);
  process.on("SIGINT", onInterrupt);
  await closed;
  process.removeListener("SIGINT", onInterrupt);
  await queue;
  if (interrupts < 2) {
    while (bg) await bg;
  } else if (bg) {
    await (bg as Promise<void>).catch(() => undefined);
  }
}
