/**
 * `synthgraph chat` as a terminal program: `node bin/synthgraph.js chat` runs in a tmux pane (200×50) with every
 * model on the loopback server; the steering agent's replies are scripted from what the user typed. The test
 * types with send-keys and reads the screen with capture-pane: start a run, ask for its status, give feedback
 * (queued while the run runs, applied at its next pause point, found in the next generator prompt), stop it,
 * read the output's line. Ctrl-C pauses, a second Ctrl-C leaves with the run paused and resumable. Without a
 * terminal (pipes) the chat writes no escape codes.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { CHAT_SYSTEM } from "../../agents/steering-prompts.ts";
import { readRunState } from "../../graph/steer.ts";
import { readRunFile } from "../../state/run-dir.ts";
import { csvRows, exited, synthgraphChild, useLlmServer, useRunFiles } from "../support/harness.ts";
import { type RecordedRequest, type Reply, reply } from "../support/llm-server.ts";
import { generatorPrompt, kindOf, responder, syntheticVerdict } from "../support/synthia.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const server = useLlmServer();
const files = useRunFiles("chat-");

const FEEDBACK = "Add more people over 55; keep the other columns as they are.";

/** The user's words in a chat turn's prompt (between <user> tags). */
const said = (req: RecordedRequest): string =>
  /<user>([\s\S]*)<\/user>/.exec(req.messages.at(-1)?.content ?? "")?.[1] ?? "";

/** The scripted steering agent: a reply and tool calls chosen from keywords of what the user typed. */
export function chatAgent(req: RecordedRequest): string {
  const t = said(req).toLowerCase();
  const turn = (reply: string, calls: unknown[] = []) => JSON.stringify({ reply, calls });
  if (t.includes("start")) {
    const rows = Number(/(\d+)/.exec(t)?.[1] ?? "30");
    return turn(`Starting a SYNTHIA run of ${rows} rows.`, [{ tool: "start_run", rows, engine: "synthia" }]);
  }
  if (t.includes("how") || t.includes("status"))
    return turn("Here is where the run is.", [{ tool: "status" }]);
  if (t.includes("over 55"))
    return turn("I will tell the generator to add more people over 55.", [
      { tool: "steer", actions: [{ type: "feedback", text: FEEDBACK }] },
    ]);
  if (t.includes("stop"))
    return turn("Stopping the refinement; the output comes from the best iteration so far.", [
      { tool: "steer", actions: [{ type: "stop" }] },
    ]);
  if (t.includes("where")) return turn("The output file:", [{ tool: "output" }]);
  return turn("I can start a run, report its status, steer it, pause or resume it.");
}

const isChat = (r: RecordedRequest): boolean => r.messages[0]?.content === CHAT_SYSTEM;

/** SYNTHIA never converges ("Synthetic"); generator replies take `delayMs` so there is time to type. */
function scripted(delayMs: number) {
  const base = responder({
    decision: syntheticVerdict,
  });
  return (req: RecordedRequest): string | Reply => {
    if (isChat(req)) return chatAgent(req);
    const r = base(req);
    return kindOf(req) === "generator" && typeof r === "string" ? reply.text(r, { delayMs }) : r;
  };
}

// --- tmux ---------------------------------------------------------------------------------------------------

beforeAll(() => {
  try {
    execFileSync("tmux", ["-V"]);
  } catch {
    throw new Error("the chat terminal tests need tmux: apt-get install -y tmux");
  }
});

const sessions: string[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) {
    try {
      execFileSync("tmux", ["kill-session", "-t", s]);
    } catch {
      // already gone
    }
  }
});

function chatCommand(extra: string[]): string {
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const args = [
    "chat",
    files.input,
    "--model",
    "ollama:llama3.1:8b",
    "--out",
    join(files.dir, "chat_out.csv"),
    "--max-iterations",
    "6",
    "--probe-rows",
    "20",
    "--batch-rows",
    "10",
    "--examples",
    "8",
    "--seed",
    "3",
    ...extra,
  ];
  return `OLLAMA_HOST=${q(server.ollamaUrl)} ${q(process.execPath)} ${q(join(ROOT, "bin/synthgraph.js"))} ${args.map(q).join(" ")}; echo "[exit $?]"`;
}

function startTmux(name: string, cmd: string): void {
  execFileSync("tmux", ["new-session", "-d", "-s", name, "-x", "200", "-y", "50", "-c", files.dir, cmd]);
  sessions.push(name);
  // Keep the pane (and its last screen) after the command ends.
  execFileSync("tmux", ["set-option", "-t", name, "remain-on-exit", "on"]);
}

const screen = (name: string): string =>
  execFileSync("tmux", ["capture-pane", "-p", "-J", "-t", name, "-S", "-200"], { encoding: "utf8" });

const keys = (name: string, ...k: string[]): void => {
  execFileSync("tmux", ["send-keys", "-t", name, ...k]);
};

async function waitFor(name: string, pattern: RegExp, timeoutMs = 90_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const s = screen(name);
    if (pattern.test(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`screen never showed ${pattern}:\n${screen(name)}`);
}

const type = async (name: string, text: string, echo: RegExp): Promise<void> => {
  keys(name, "-l", text);
  keys(name, "Enter");
  await waitFor(name, echo);
};

const runDirOf = (): string => {
  const root = join(files.dir, "runs");
  const dirs = readdirSync(root).sort();
  return join(root, dirs[dirs.length - 1]);
};

describe("synthgraph chat in a terminal", () => {
  it("starts a run, reports status, takes feedback at the next pause point, stops with the output", async () => {
    server.setDefault(scripted(700));
    const name = `sg-chat-${process.pid}`;
    startTmux(name, chatCommand([]));
    await waitFor(name, /chat ready/);
    await type(name, "start a run of 30 rows", /· run started: /);
    await type(
      name,
      "how is it going?",
      /synthgraph> Here is where the run is\.\n\s+run \S+ \(synthia\) running/,
    );
    await waitFor(name, /· iteration 1: /);
    const before = server.chatRequests().length;
    await type(name, "too few people over 55, keep the rest", /queued: applied at the next pause point/);
    await waitFor(name, /· applying the queued actions here and going on\n· run resumed: /);
    // The feedback reached the generator: every probe prompt after the resume carries it.
    const runDir = runDirOf();
    await waitFor(name, /· iteration [3-6]: /);
    const probes = server
      .chatRequests()
      .slice(before)
      .filter((r) => kindOf(r) === "generator");
    expect(probes.some((r) => generatorPrompt(r).includes(FEEDBACK))).toBe(true);
    await type(name, "stop iterating and write the output", /· done: 30 rows in /);
    await type(name, "where is the file?", /output: .*chat_out\.csv \(done\)/);
    keys(name, "C-d");
    const final = await waitFor(name, /\[exit 0\]/);
    writeFileSync(join(files.dir, "transcript.txt"), final);
    if (process.env.SYNTHGRAPH_CHAT_TRANSCRIPT) writeFileSync(process.env.SYNTHGRAPH_CHAT_TRANSCRIPT, final);

    expect(csvRows(join(files.dir, "chat_out.csv"))).toHaveLength(30);
    const run = await readRunFile(runDir);
    expect(run.status).toBe("done");
    const snap = await readRunState(runDir);
    const steering = snap.state?.steering as Array<{ source: string; action: { type: string } }>;
    expect(steering.map((s) => [s.source, s.action.type])).toEqual([
      ["chat", "feedback"],
      ["chat", "stop"],
    ]);
    // Colours on a terminal: the agent's lines are cyan (tmux keeps them with -e).
    const coloured = execFileSync("tmux", ["capture-pane", "-p", "-e", "-t", name, "-S", "-200"], {
      encoding: "utf8",
    });
    expect(coloured).toContain("\x1b[36m");
  }, 240_000);

  it("Ctrl-C pauses, a second Ctrl-C leaves with the run paused and resumable", async () => {
    server.setDefault(scripted(700));
    const name = `sg-chat-int-${process.pid}`;
    startTmux(name, chatCommand([]));
    await waitFor(name, /chat ready/);
    await type(name, "start a run of 20 rows", /· run started: /);
    keys(name, "C-c");
    await waitFor(name, /pausing at the next pause point \(Ctrl-C again to leave\)/);
    await waitFor(name, /· paused: synthia after iteration \d/);
    keys(name, "C-c");
    const s = await waitFor(name, /\[exit \d+\]/);
    expect(s).toMatch(/left; the run is paused and resumable: synthgraph resume /);
    expect(s).toContain("[exit 0]");
    const runDir = runDirOf();
    expect((await readRunFile(runDir)).status).toBe("paused");
    const resumed = await exited(
      synthgraphChild(["resume", runDir, "--quiet"], { OLLAMA_HOST: server.ollamaUrl }, files.dir),
    );
    expect(resumed.code).toBe(0);
    expect((await readRunFile(runDir)).status).toBe("done");
    expect(csvRows(join(files.dir, "chat_out.csv"))).toHaveLength(20);
  }, 240_000);
});

describe("synthgraph chat without a terminal", () => {
  it("reads lines from a pipe, writes no escape codes, and waits for the run at end of input", async () => {
    server.setDefault(scripted(0));
    const child = spawn(
      process.execPath,
      [
        join(ROOT, "bin/synthgraph.js"),
        ...["chat", files.input, "--model", "ollama:llama3.1:8b"],
        "--out",
        join(files.dir, "pipe_out.csv"),
        "--max-iterations",
        "2",
        "--probe-rows",
        "20",
        "--batch-rows",
        "10",
        "--examples",
        "8",
      ],
      {
        cwd: files.dir,
        env: { ...process.env, OLLAMA_HOST: server.ollamaUrl },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    const done = exited(child);
    child.stdin.write("start a run of 20 rows\n");
    child.stdin.end("how is it going?\n");
    const r = await done;
    expect(r.code).toBe(0);
    expect(out).not.toContain("\x1b[");
    expect(out).toMatch(/^synthgraph> chat ready/m);
    expect(out).toMatch(/^synthgraph> Starting a SYNTHIA run of 20 rows\.$/m);
    expect(out).toMatch(/^· run started: /m);
    expect(out).toMatch(/^ {2}run \S+ \(synthia\) running/m);
    expect(out).toMatch(/^· done: 20 rows in .*pipe_out\.csv$/m);
    expect(csvRows(join(files.dir, "pipe_out.csv"))).toHaveLength(20);
    expect(readFileSync(join(files.dir, "pipe_out.csv"), "utf8").split("\n")[0]).toBe("age,sex,hours,income");
  }, 240_000);
});
