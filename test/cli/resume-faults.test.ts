/**
 * Faults at every model call of every engine that calls a model: the loopback server answers the first N
 * requests and then fails with HTTP 500 on every later one; `generate` must stop with that failure (exit 3,
 * "HTTP 500", run.json failed with the same message), and `resume` against the healthy server must finish with
 * exactly the table the healthy run wrote (so nothing is lost, duplicated or left out by the recovery: SYNTHIA's
 * duplicate removal included). N runs over every request index of a healthy run, so the fault lands in every node
 * that calls a model (probes, discriminator, optimizer, copula, proposer, each final batch), at --concurrency 1
 * (one Send of a wave at a time) and above.
 *
 * The sweep runs the CLI in this process (test/support/harness.ts synthgraphInProcess: cli/main.ts, the code
 * bin/synthgraph.js runs, with argv, exit code and stderr as the binary has them) because a Node start-up per
 * command made this file take over 18 minutes; one fault, resume and finished-run resume go through the binary.
 */
import { mkdtempSync, readFileSync } from "node:fs";
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
import {
  csvRows,
  exited,
  synthgraphChild,
  synthgraphInProcess,
  useLlmServer,
  writeRealCsv,
} from "../support/harness.ts";
import { type RecordedRequest, type Reply, reply } from "../support/llm-server.ts";

const server = useLlmServer();
let dir = "";
let input = "";
let view: RealView;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "resume-faults-"));
  input = writeRealCsv(dir);
  view = await readRealView(input, "income");
});

const ROWS = 60;
const STACK = /\n\s+at .+:\d+:\d+/;

interface Case {
  name: string;
  engine: string;
  concurrency?: number;
  args: string[];
  /** SYNTHIA removes duplicate synthetic rows: the healthy run must have some, or the check proves nothing. */
  dedupes?: boolean;
}

const CASES: Case[] = [
  {
    name: "synthia",
    engine: "synthia",
    concurrency: 2,
    dedupes: true,
    args: ["--max-iterations", "2", "--probe-rows", "10", "--batch-rows", "20"],
  },
  {
    name: "synthia-c1",
    engine: "synthia",
    concurrency: 1,
    dedupes: true,
    args: ["--max-iterations", "2", "--probe-rows", "10", "--batch-rows", "20"],
  },
  {
    name: "mallm-gan-c1",
    engine: "mallm-gan",
    concurrency: 1,
    args: [
      ...["--epochs", "1", "--frozen-epochs", "1", "--mallm-batch", "20", "--examples-per-call", "10"],
      ...["--batch-rows", "20"],
    ],
  },
  {
    name: "llmsynthor",
    engine: "llmsynthor",
    args: ["--iterations", "2", "--tolerance", "0", "--joints", "2", "--proposals", "4"],
  },
  { name: "synllm-c1", engine: "synllm", concurrency: 1, args: ["--mini-batch", "20"] },
  { name: "synllm", engine: "synllm", concurrency: 2, args: ["--mini-batch", "20"] },
];

const env = (): Record<string, string> => ({ OLLAMA_HOST: server.ollamaUrl });

function generateArgs(c: Case, name: string): string[] {
  return [
    "generate",
    input,
    ...["--rows", String(ROWS), "--out", join(dir, `${name}.csv`), "--run-dir", join(dir, name)],
    ...["--engine", c.engine, "--model", "ollama:llama3.1:8b", "--target", "income", "--seed", "2"],
    ...(c.concurrency === undefined ? [] : ["--concurrency", String(c.concurrency)]),
    "--quiet",
    ...c.args,
  ];
}

/** Answers the first `n` agent requests as the healthy server does, then HTTP 500 until `heal()`. */
function failingAfter(n: number): {
  responder: (req: RecordedRequest) => string | Reply;
  heal: () => void;
} {
  const g = genericResponder(view);
  let seen = 0;
  let failing = true;
  return {
    responder: (req) =>
      failing && genericKindOf(req) !== undefined && ++seen > n
        ? reply.error(500, "injected fault", { retryAfter: "0" })
        : g.respond(req),
    heal: () => {
      failing = false;
    },
  };
}

/** The healthy run of a case: its output, and the kind of each agent request in order. */
async function healthyRun(c: Case, name = `${c.name}-healthy`): Promise<{ csv: string; kinds: string[] }> {
  server.setDefault(genericResponder(view).respond);
  const summary = join(dir, `${name}.json`);
  const healthy = await synthgraphInProcess([...generateArgs(c, name), "--json", summary], env());
  expect(healthy.code, healthy.stderr).toBe(0);
  // Chat requests only: the client may also ask the server other things (model listings).
  const kinds = server.chatRequests().map((r) => genericKindOf(r) ?? "other");
  expect(kinds.length).toBeGreaterThan(2);
  // --concurrency is a bound on model calls at once, whatever runs the final batches.
  if (c.concurrency !== undefined) expect(server.stats.maxInFlight).toBeLessThanOrEqual(c.concurrency);
  if (c.dedupes) {
    const s = JSON.parse(readFileSync(summary, "utf8")) as { final: { duplicates_removed: number } };
    expect(s.final.duplicates_removed).toBeGreaterThan(0);
  }
  const csv = readFileSync(join(dir, `${name}.csv`), "utf8");
  expect(csvRows(join(dir, `${name}.csv`))).toHaveLength(ROWS);
  return { csv, kinds };
}

describe.each(CASES)("a server failing from the Nth request on: $name", (c) => {
  it("stops with the HTTP 500 at every request, then resume writes the healthy run's table", async () => {
    const healthy = await healthyRun(c);
    const hit = new Set<string>();
    for (let n = 0; n < healthy.kinds.length; n++) {
      const name = `${c.name}-fail-${n}`;
      const fault = failingAfter(n);
      server.setDefault(fault.responder);
      const failed = await synthgraphInProcess(generateArgs(c, name), env());
      const at = `fault at request ${n} (${healthy.kinds[n]})`;
      expect(failed.code, `${at}: ${failed.stderr}`).toBe(3);
      expect(failed.stderr, at).toMatch(/HTTP 500/);
      expect(failed.stderr, at).not.toMatch(/stopped before writing|internal error/);
      expect(failed.stderr, at).not.toMatch(STACK);
      const run = await readRunFile(join(dir, name));
      expect(run.status, at).toBe("failed");
      expect(run.error?.message, at).toMatch(/HTTP 500/);
      hit.add(healthy.kinds[n]);

      fault.heal();
      const resumed = await synthgraphInProcess(["resume", join(dir, name), "--quiet"], env());
      expect(resumed.code, `resume after a ${at}: ${resumed.stderr}`).toBe(0);
      expect(resumed.stderr, at).not.toMatch(/error/i);
      expect(readFileSync(join(dir, `${name}.csv`), "utf8"), at).toBe(healthy.csv);
      expect((await readRunFile(join(dir, name))).status, at).toBe("done");

      // A finished run: resume says so and exits 0.
      const again = await synthgraphInProcess(["resume", join(dir, name)], env());
      expect(again.code, at).toBe(0);
      expect(again.stdout, at).toBe(`already complete: ${ROWS} rows in ${join(dir, `${name}.csv`)}\n`);
    }
    // Every agent the engine calls took a fault.
    expect([...hit].sort()).toEqual([...new Set(healthy.kinds)].sort());
  }, 600_000);
});

describe("through the binary (bin/synthgraph.js in a child process)", () => {
  it("--concurrency 1: a fault in the last final batch is reported, resume finishes, resume again says so", async () => {
    const c = CASES.find((x) => x.name === "synthia-c1") as Case;
    const healthy = await healthyRun(c, `${c.name}-binary-healthy`);
    const n = healthy.kinds.length - 1;
    expect(healthy.kinds[n]).toBe("synthia-generator");
    const name = `${c.name}-binary`;
    const fault = failingAfter(n);
    server.setDefault(fault.responder);
    const failed = await exited(synthgraphChild(generateArgs(c, name), env(), dir));
    expect(failed.code, failed.stderr).toBe(3);
    expect(failed.stderr).toMatch(/HTTP 500/);
    expect(failed.stderr).not.toMatch(/stopped before writing|internal error/);
    expect(failed.stderr).not.toMatch(STACK);
    fault.heal();
    const resumed = await exited(synthgraphChild(["resume", join(dir, name), "--quiet"], env(), dir));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readFileSync(join(dir, `${name}.csv`), "utf8")).toBe(healthy.csv);
    const again = synthgraphChild(["resume", join(dir, name)], env(), dir);
    let out = "";
    again.stdout?.on("data", (b: Buffer) => (out += b.toString()));
    expect((await exited(again)).code).toBe(0);
    expect(out).toBe(`already complete: ${ROWS} rows in ${join(dir, `${name}.csv`)}\n`);
  }, 300_000);
});
