/**
 * Data-loss and crash cases through the CLI binary (bin/synthgraph.js in a child process): outputs that name an
 * input (directly, through `..`, through a symlink), outputs in missing folders, existing files synthgraph did
 * not write, missing --metadata files, --rows past the maximum, a server port fetch refuses, a 404 answered in
 * plain text, damaged checkpoints and artifacts on resume. Each checks the exit code, the message, that no stack
 * trace is printed, that the input is byte-for-byte unchanged, and that no model call was made where the case
 * must fail before any.
 */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readRunFile } from "../../state/run-dir.ts";
import {
  genericKindOf,
  genericResponder,
  type RealView,
  readRealView,
} from "../support/generic-responder.ts";
import { csvRows, storedArtifacts, synthgraphChild, useLlmServer, writeRealCsv } from "../support/harness.ts";
import { reply } from "../support/llm-server.ts";

const server = useLlmServer();
let dir = "";
let input = "";
let original = "";
let view: RealView;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "safety-"));
  input = writeRealCsv(dir);
  original = readFileSync(input, "utf8");
  view = await readRealView(input, "income");
});

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = { OLLAMA_HOST: server.ollamaUrl }): Promise<Done> {
  const child = synthgraphChild(args, env, dir);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  return new Promise((res) => child.on("exit", (code) => res({ code, stdout, stderr })));
}

const STACK = /\n\s+at .+:\d+:\d+/;

/** Exit 2 with `message` on stderr, no stack, no model call, the input unchanged. */
async function refused(args: string[], message: RegExp): Promise<Done> {
  const before = server.stats.requests;
  const r = await cli(args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(STACK);
  expect(r.stderr).not.toMatch(/internal error|unexpected error/);
  expect(server.stats.requests).toBe(before);
  expect(readFileSync(input, "utf8")).toBe(original);
  return r;
}

const gen = (...extra: string[]): string[] => [
  "generate",
  input,
  "--rows",
  "30",
  "--model",
  "ollama:llama3.1:8b",
  ...extra,
];

describe("outputs never overwrite inputs", () => {
  it("generate --out the input table", async () => {
    await refused(gen("--out", input), /--out .* is the same file as the input table/);
  });
  it("generate --out the input through .. and through a symlink", async () => {
    mkdirSync(join(dir, "sub"), { recursive: true });
    await refused(gen("--out", join(dir, "sub", "..", "real.csv")), /same file as the input table/);
    const link = join(dir, "link.csv");
    symlinkSync(input, link);
    await refused(gen("--out", link), /same file as the input table/);
  });
  it("generate --json the input table", async () => {
    await refused(
      gen("--out", join(dir, "o1.csv"), "--json", input),
      /--json .* is the same file as the input/,
    );
  });
  it("generate --metadata file as --json", async () => {
    const meta = join(dir, "meta.json");
    writeFileSync(meta, JSON.stringify({ columns: {} }));
    await refused(
      gen("--out", join(dir, "o2.csv"), "--metadata", meta, "--json", meta),
      /--json .* is the same file as --metadata/,
    );
  });
  it("generate --out and --json the same file", async () => {
    const o = join(dir, "same.csv");
    await refused(gen("--out", o, "--json", o), /--out and --json name the same file/);
  });
  it("evaluate --json the real table", async () => {
    await refused(
      ["evaluate", "--real", input, "--synthetic", input, "--json", input],
      /--json .* is the same file as --real/,
    );
  });
  it("an existing file synthgraph did not write is kept unless --force", async () => {
    const mine = join(dir, "notes.json");
    writeFileSync(mine, '{"my": "notes"}\n');
    await refused(
      ["evaluate", "--real", input, "--synthetic", input, "--json", mine],
      /--json .* already exists and was not written by synthgraph/,
    );
    expect(readFileSync(mine, "utf8")).toBe('{"my": "notes"}\n');
    const forced = await cli([
      "evaluate",
      "--real",
      input,
      "--synthetic",
      input,
      "--json",
      mine,
      "--force",
      "--no-random-forest",
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(readFileSync(mine, "utf8")).summary).toBeDefined();
    // Now it is a report of ours: replaced without --force.
    const again = await cli([
      "evaluate",
      "--real",
      input,
      "--synthetic",
      input,
      "--json",
      mine,
      "--no-random-forest",
    ]);
    expect(again.code, again.stderr).toBe(0);
  });
  it("generate --report the input table, and a --report file synthgraph did not write", async () => {
    await refused(
      gen("--out", join(dir, "r1.csv"), "--report", input),
      /--report .* is the same file as the input table/,
    );
    const page = join(dir, "page.html");
    writeFileSync(page, "<!DOCTYPE html><p>my notes</p>\n");
    await refused(
      gen("--out", join(dir, "r2.csv"), "--report", page),
      /--report .* already exists and was not written by synthgraph/,
    );
    expect(readFileSync(page, "utf8")).toBe("<!DOCTYPE html><p>my notes</p>\n");
  });
  it("generate --report replaces a report synthgraph wrote (offline engine: no model)", async () => {
    const page = join(dir, "ours.html");
    const first = await cli([
      "report",
      "--real",
      input,
      "--synthetic",
      input,
      "--out",
      page,
      "--no-random-forest",
    ]);
    expect(first.code, first.stderr).toBe(0);
    const r = await cli([
      ...["generate", input, "--rows", "30", "--engine", "bayesnet", "--quiet"],
      ...["--out", join(dir, "bn.csv"), "--run-dir", join(dir, "bn-run"), "--report", page],
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(page, "utf8")).toContain("Synthetic data report: ");
  });
  it("the --conditions file is an input: no output may replace it", async () => {
    const groups = join(dir, "groups.json");
    writeFileSync(groups, '[{"where": "age > 30", "rows": 10}]\n');
    await refused(
      [
        "generate",
        input,
        "--model",
        "ollama:llama3.1:8b",
        "--conditions",
        groups,
        "--out",
        join(dir, "c.csv"),
        "--json",
        groups,
      ],
      /--json .* is the same file as --conditions/,
    );
    expect(readFileSync(groups, "utf8")).toBe('[{"where": "age > 30", "rows": 10}]\n');
  });
  it("report --out the real table, and a page synthgraph did not write", async () => {
    await refused(
      ["report", "--real", input, "--synthetic", input, "--out", input],
      /--out .* is the same file as --real/,
    );
    const page = join(dir, "theirs.html");
    writeFileSync(page, "<html>theirs</html>\n");
    await refused(
      ["report", "--real", input, "--synthetic", input, "--out", page],
      /--out .* already exists and was not written by synthgraph/,
    );
  });
  it("generate --out over an existing file that no run wrote", async () => {
    const other = join(dir, "other.csv");
    writeFileSync(other, "a,b\n1,2\n");
    await refused(gen("--out", other), /--out .* already exists and was not written by synthgraph/);
    expect(readFileSync(other, "utf8")).toBe("a,b\n1,2\n");
  });
});

describe("missing files and folders are messages, before any model call", () => {
  it("generate --out into a folder that does not exist", async () => {
    const r = await refused(
      gen("--out", join(dir, "nowhere", "o.csv")),
      /the folder .*nowhere of --out .* does not exist/,
    );
    expect(r.stderr).toMatch(/mkdir -p/);
  });
  it("evaluate --json into a folder that does not exist", async () => {
    await refused(
      ["evaluate", "--real", input, "--synthetic", input, "--json", join(dir, "nowhere", "r.json")],
      /the folder .*nowhere of --json .* does not exist/,
    );
  });
  it("a --metadata file that does not exist (generate and evaluate)", async () => {
    const absent = join(dir, "absent-meta.json");
    await refused(
      gen("--out", join(dir, "o3.csv"), "--metadata", absent),
      /cannot read --metadata .*absent-meta.json/,
    );
    await refused(
      ["evaluate", "--real", input, "--synthetic", input, "--metadata", absent],
      /cannot read --metadata .*absent-meta.json/,
    );
  });
  it("--rows above the documented maximum", async () => {
    await refused(gen("--rows", "1e12", "--out", join(dir, "o4.csv")), /--rows must be at most 10,000,000/);
  });
  it("an Ollama host on a port fetch refuses", async () => {
    const r = await cli(gen("--out", join(dir, "o5.csv")), { OLLAMA_HOST: "127.0.0.1:6000" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/port 6000, which Node's fetch refuses/);
    expect(r.stderr).not.toMatch(/lost the connection|still running/);
  });
});

describe("a 404 in plain text", () => {
  it("prints the model error and no stray library line", async () => {
    const plain = createServer((_req, res) => {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("404 page not found");
    });
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    const port = (plain.address() as AddressInfo).port;
    try {
      const r = await cli(gen("--out", join(dir, "o6.csv"), "--run-dir", join(dir, "run-404")), {
        OLLAMA_HOST: `127.0.0.1:${port}`,
      });
      expect(r.code).toBe(3);
      expect(r.stdout + r.stderr).not.toMatch(/Getting text from response/);
      expect(r.stderr).not.toMatch(STACK);
    } finally {
      await new Promise<void>((r) => plain.close(() => r()));
    }
  });
});

describe("prompt limits", () => {
  it("a 5,000-character cell is cut in every prompt, with a note on stderr", async () => {
    // The real table with a `note` column: one in four rows holds a 5,000-character text.
    const long = "L".repeat(5_000);
    const lines = readFileSync(input, "utf8").trimEnd().split("\n");
    const table = join(dir, "long-cells.csv");
    writeFileSync(
      table,
      `${[`${lines[0]},note`, ...lines.slice(1).map((l, i) => `${l},${i % 4 === 0 ? long : "short"}`)].join("\n")}\n`,
    );
    const longView = await readRealView(table, "income");
    server.setDefault(genericResponder(longView).respond);
    const r = await cli([
      ...["generate", table, "--rows", "10", "--model", "ollama:llama3.1:8b", "--engine", "synthia"],
      ...["--out", join(dir, "long.csv"), "--run-dir", join(dir, "long-run"), "--quiet"],
      ...["--max-iterations", "1", "--probe-rows", "10", "--batch-rows", "10", "--examples", "8"],
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'note: column "note" has 1 value(s) longer than 500 characters (the longest 5,000): prompts show their first 500 characters',
    );
    const requests = server.chatRequests();
    expect(requests.filter((q) => genericKindOf(q) === "synthia-generator").length).toBeGreaterThan(0);
    // 5,000 − 500 = 4,500 characters left out of each long cell; the full text is in no prompt of any agent.
    const prompts = requests.map((q) => q.messages.map((m) => m.content).join("\n"));
    expect(prompts.some((t) => t.includes(`${"L".repeat(500)}…[+4500 characters]`))).toBe(true);
    for (const t of prompts) expect(t).not.toContain("L".repeat(501));
  });
  it("a prompt that cannot fit --num-ctx stops before it is sent, naming the flag", async () => {
    server.setDefault(genericResponder(view).respond);
    const before = server.stats.requests;
    const r = await cli(
      gen("--out", join(dir, "ctx.csv"), "--run-dir", join(dir, "ctx-run"), "--num-ctx", "256", "--quiet"),
    );
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /the prompt does not fit the model's context window: the prompt has [\d,]+ characters, so at least [\d,]+ tokens, and num_ctx is 256 tokens; it was not sent/,
    );
    expect(r.stderr).toContain("--num-ctx");
    expect(r.stderr).not.toMatch(STACK);
    expect(server.stats.requests).toBe(before);
  });
});

describe("damaged run directories on resume", () => {
  const args = (name: string): string[] => [
    ...gen("--out", join(dir, `${name}.csv`), "--run-dir", join(dir, name), "--quiet"),
    ...["--max-iterations", "1", "--probe-rows", "10", "--batch-rows", "10", "--concurrency", "1"],
  ];
  /** A run stopped by a server failing after `n` requests (inside final generation for n = 5). */
  async function stopped(name: string, n: number): Promise<string> {
    const g = genericResponder(view);
    let seen = 0;
    server.setDefault((req) =>
      genericKindOf(req) !== undefined && ++seen > n
        ? reply.error(500, "injected fault", { retryAfter: "0" })
        : g.respond(req),
    );
    const r = await cli(args(name));
    expect(r.code, r.stderr).toBe(3);
    server.setDefault(genericResponder(view).respond);
    return join(dir, name);
  }
  async function resumedClean(runDir: string, warning: RegExp): Promise<void> {
    const r = await cli(["resume", runDir, "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(warning);
    expect(r.stderr).not.toMatch(STACK);
    expect(csvRows(`${runDir}.csv`)).toHaveLength(30);
    expect((await readRunFile(runDir)).status).toBe("done");
  }
  it("a checkpoint truncated to half: set aside, the run finishes from its artifacts", async () => {
    const runDir = await stopped("half-checkpoint", 5);
    const cp = join(runDir, "checkpoints.sqlite");
    truncateSync(cp, Math.floor(readFileSync(cp).length / 2));
    const before = server.stats.requests;
    await resumedClean(runDir, /checkpoint .* is damaged .* no model call is repeated/);
    // The 5 stored replies were reused: only the batches that never succeeded were asked for.
    const probeAndBatches = server.stats.requests - before;
    expect(probeAndBatches).toBeLessThanOrEqual(3);
  });
  it("a 0-byte checkpoint is said, not silently restarted", async () => {
    const runDir = await stopped("empty-checkpoint", 5);
    truncateSync(join(runDir, "checkpoints.sqlite"), 0);
    await resumedClean(runDir, /checkpoint .* is empty \(0 bytes/);
  });
  it("a corrupt batch artifact is redone with a warning", async () => {
    const runDir = await stopped("corrupt-artifact", 5);
    const batches = storedArtifacts(runDir, "final");
    expect(batches.length).toBeGreaterThan(0);
    writeFileSync(join(runDir, "artifacts", "final", batches[0]), '{"requested": 10, "rows": [');
    await resumedClean(runDir, /artifact .*r001-b00000.json is damaged \(it is not valid JSON/);
  });
});
