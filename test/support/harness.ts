/**
 * The setup the engine, agent and CLI tests share (not a test file): the loopback LLM server's lifecycle, a temp
 * directory holding the small real table, fresh run paths, every role's model on the server, captured CLI
 * output, and `synthgraph` child processes for the kill -9 tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import type { CliIo } from "../../cli/generate.ts";
import { resolveRoleConfigs, type RoleConfigMap } from "../../models/spec.ts";
import { readRunFile } from "../../state/run-dir.ts";
import type { TestProvider } from "./llm-endpoints.ts";
import {
  type LlmServer,
  type LlmServerOptions,
  type RecordedRequest,
  type Reply,
  reply,
  startLlmServer,
} from "./llm-server.ts";

const ROOT = resolve(import.meta.dirname, "../..");

/**
 * The loopback server for a test file: started before all its tests, reset before each, closed after all. The
 * value returned forwards to that server, so it can be bound at module level before the server exists.
 */
export function useLlmServer(options: LlmServerOptions = {}): LlmServer {
  let current: LlmServer | undefined;
  beforeAll(async () => {
    current = await startLlmServer(options);
  });
  afterAll(async () => {
    await current?.close();
  });
  beforeEach(() => current?.reset());
  const live = (): LlmServer => {
    if (!current) throw new Error("the loopback server is used outside a test (it starts in beforeAll)");
    return current;
  };
  return {
    get url() {
      return live().url;
    },
    get ollamaUrl() {
      return live().ollamaUrl;
    },
    get openaiUrl() {
      return live().openaiUrl;
    },
    get requests() {
      return live().requests;
    },
    get stats() {
      return live().stats;
    },
    get models() {
      return live().models;
    },
    script: (...entries) => live().script(...entries),
    setDefault: (entry) => live().setDefault(entry),
    reset: () => live().reset(),
    chatRequests: () => live().chatRequests(),
    close: () => live().close(),
  };
}

export interface RealRow {
  age: number;
  sex: string;
  hours: number;
  income: string;
}

/** 40 hand-made rows: age 20–59 (one each), sex alternating, hours 20.13–49.76, income >50K for every 4th row. */
export function realRows(): RealRow[] {
  const out: RealRow[] = [];
  for (let i = 0; i < 40; i++) {
    out.push({
      age: 20 + i,
      sex: i % 2 === 0 ? "Female" : "Male",
      hours: Math.round((20 + ((i * 17) % 40) * 0.76 + 0.13) * 100) / 100,
      income: i % 4 === 3 ? ">50K" : "<=50K",
    });
  }
  return out;
}

export function writeRealCsv(dir: string): string {
  const path = join(dir, "real.csv");
  const lines = [
    "age,sex,hours,income",
    ...realRows().map((r) => `${r.age},${r.sex},${r.hours},${r.income}`),
  ];
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

export interface RunFiles {
  /** The temp directory of the test file. */
  readonly dir: string;
  /** The real table (realRows) as a CSV in `dir`. */
  readonly input: string;
  /** A fresh run directory and output path in `dir`. */
  paths(): { runDir: string; out: string };
}

/** A temp directory (made before all tests) holding real.csv, with numbered run paths. */
export function useRunFiles(prefix: string): RunFiles {
  let dir: string | undefined;
  let input: string | undefined;
  let runNo = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    input = writeRealCsv(dir);
  });
  const made = (x: string | undefined): string => {
    if (x === undefined) throw new Error("run files are used outside a test (they are made in beforeAll)");
    return x;
  };
  return {
    get dir() {
      return made(dir);
    },
    get input() {
      return made(input);
    },
    paths() {
      runNo++;
      const d = made(dir);
      return { runDir: join(d, `run-${runNo}`), out: join(d, `out-${runNo}.csv`) };
    },
  };
}

/** Every line of a CSV file, the header first. */
export const csvLines = (path: string): string[] => readFileSync(path, "utf8").trimEnd().split("\n");

/** The data lines of a CSV file (without the header). */
export const csvRows = (path: string): string[] => csvLines(path).slice(1);

/** Environment of runs on the loopback server (the OpenAI client wants a key even there). */
export const TEST_ENV = { OPENAI_API_KEY: "sk-test-dummy-key-0000" } as const;

export function baseUrlOf(server: { ollamaUrl: string; openaiUrl: string }, provider: TestProvider): string {
  return provider === "ollama" ? server.ollamaUrl : server.openaiUrl;
}

/** The model every role uses on the loopback server. */
export const loopbackModel = (provider: TestProvider): string =>
  provider === "ollama" ? "ollama:llama3.1:8b" : "openai:gpt-4o";

/** The environment that points the CLI's model clients at the loopback server. */
export function loopbackEnv(
  server: { ollamaUrl: string; openaiUrl: string },
  provider: TestProvider,
): Record<string, string> {
  return provider === "ollama"
    ? { OLLAMA_HOST: server.ollamaUrl }
    : { OPENAI_BASE_URL: server.openaiUrl, OPENAI_API_KEY: "sk-dummy-0000" };
}

/** Every role's model on the loopback server (loopbackModel). */
export function loopbackModels(
  server: { ollamaUrl: string; openaiUrl: string },
  provider: TestProvider,
  timeoutMs = 10_000,
): RoleConfigMap {
  return resolveRoleConfigs({
    flags: {
      model: loopbackModel(provider),
      baseUrl: baseUrlOf(server, provider),
      timeoutMs,
    },
  });
}

/** CLI io that keeps what the command writes. */
export function captureIo(env: Record<string, string>): CliIo & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env,
    out: () => out,
    err: () => err,
  };
}

/** `synthgraph <args>` as a child process through bin/synthgraph.js (cwd: `cwd`). */
export function synthgraphChild(args: string[], env: Record<string, string>, cwd: string): ChildProcess {
  return spawn(process.execPath, [join(ROOT, "bin/synthgraph.js"), ...args], {
    env: { ...process.env, ...env },
    cwd,
  });
}

export interface Exit {
  code: number | null;
  signal: string | null;
  stderr: string;
}

/** What `synthgraph <args>` wrote and returned when run in this process (synthgraphInProcess). */
export interface InProcessExit {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `synthgraph <args>` run in this process through cli/main.ts, the code bin/synthgraph.js runs, without a Node
 * start-up per command (seconds under load): `env` is set for the call, stdout and stderr are captured, and the
 * exit code is main()'s. Calls must not overlap (they share process.env and the standard streams).
 */
export async function synthgraphInProcess(
  args: string[],
  env: Record<string, string>,
): Promise<InProcessExit> {
  const { main } = await import("../../cli/main.ts");
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let stdout = "";
  let stderr = "";
  const capture =
    (append: (s: string) => void) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      append(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
      const done = rest.find((r): r is () => void => typeof r === "function");
      done?.();
      return true;
    };
  Object.assign(process.env, env);
  process.stdout.write = capture((s) => (stdout += s)) as typeof process.stdout.write;
  process.stderr.write = capture((s) => (stderr += s)) as typeof process.stderr.write;
  const exitCode = process.exitCode;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = exitCode;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

export function exited(child: ChildProcess): Promise<Exit> {
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  return new Promise((res) => child.on("exit", (code, signal) => res({ code, signal, stderr })));
}

/** Waits for a child to exit and returns its exit code with everything it wrote to stdout and stderr. */
export function finished(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = "";
  let err = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
  return new Promise((res) => child.on("exit", (code) => res({ code, out, err })));
}

/** Runs `synthgraph <args>` and kills it with SIGKILL once `ready()` holds (polled), or at the deadline. */
export async function killWhen(a: {
  args: string[];
  env: Record<string, string>;
  cwd: string;
  ready: () => boolean;
  timeoutMs: number;
  pollMs: number;
}): Promise<Exit> {
  const child = synthgraphChild(a.args, a.env, a.cwd);
  const done = exited(child);
  const deadline = Date.now() + a.timeoutMs;
  while (!a.ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, a.pollMs));
  child.kill("SIGKILL");
  return done;
}

/** Names of the artifacts stored under <runDir>/artifacts/<sub> that match `pattern`, sorted. */
export function storedArtifacts(runDir: string, sub: string, pattern = /^[^.].*\.json$/): string[] {
  const d = join(runDir, "artifacts", sub);
  return existsSync(d)
    ? readdirSync(d)
        .filter((f) => pattern.test(f))
        .sort()
    : [];
}

/**
 * Holds a run at a known point so a kill -9 lands there whatever the machine's load: the first `passFirst`
 * requests that `match` are answered by `base`; later matching requests hang (the server never answers) until
 * `release()`, after which every request is answered by `base` again (the resumed run).
 */
export function holdAfter(
  base: (req: RecordedRequest) => string | Reply,
  match: (req: RecordedRequest) => boolean,
  passFirst: number,
): { responder: (req: RecordedRequest) => string | Reply; release: () => void } {
  let passed = 0;
  let released = false;
  return {
    responder: (req) => {
      if (!released && match(req) && ++passed > passFirst) return reply.hang();
      return base(req);
    },
    release: () => {
      released = true;
    },
  };
}

/**
 * The kill -9 scenario: `synthgraph <args>` (a generate into `runDir`, models on `server`, or with `env` for a
 * run that needs none) is killed with SIGKILL once `stored()` lists `atLeast` artifacts (and fewer than
 * `below`: the kill landed mid-run), checked to have left the run "running", and resumed to a clean exit.
 * Returns the artifacts stored at the kill and the server's chat requests before the resume (0 without one).
 */
export async function killThenResume(a: {
  server?: LlmServer;
  env?: Record<string, string>;
  cwd: string;
  args: string[];
  runDir: string;
  stored: () => string[];
  atLeast: number;
  below: number;
  timeoutMs: number;
  pollMs: number;
  /** Called after the kill, before the resume (e.g. holdAfter's release). */
  afterKill?: () => void;
}): Promise<{ atKill: string[]; requestsBefore: number }> {
  const env = a.env ?? (a.server ? { OLLAMA_HOST: a.server.ollamaUrl } : {});
  const killed = await killWhen({
    args: a.args,
    env,
    cwd: a.cwd,
    ready: () => a.stored().length >= a.atLeast,
    timeoutMs: a.timeoutMs,
    pollMs: a.pollMs,
  });
  expect(killed.signal).toBe("SIGKILL");
  expect((await readRunFile(a.runDir)).status).toBe("running");
  const atKill = a.stored();
  expect(atKill.length).toBeGreaterThanOrEqual(a.atLeast);
  expect(atKill.length).toBeLessThan(a.below);
  a.afterKill?.();
  const requestsBefore = a.server?.chatRequests().length ?? 0;
  const resumed = await exited(synthgraphChild(["resume", a.runDir], env, a.cwd));
  expect(resumed.stderr).not.toMatch(/error/i);
  expect(resumed.code).toBe(0);
  return { atKill, requestsBefore };
}
