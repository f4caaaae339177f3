/**
 * Runs survive what real models reply, for every engine, through `synthgraph` child processes and the real
 * ChatOllama client against the loopback server (answers from the generic responder, a test double):
 * (a) every 3rd reply is off-format: the run still writes exactly N valid rows (re-asks and the engine's own
 *     empty-batch paths absorb the bad replies);
 * (b) every reply ignores the schema: the run stops with exit code 4 once `maxUnusableCalls` calls in a row
 *     ended unusable (each call is a first ask plus at most 2 re-asks), quoting the most frequent reasons; the
 *     run directory stays resumable, and `synthgraph resume DIR` writes exactly N rows once the server answers
 *     properly again.
 * Requests before the stop ≤ (budget + parallel − 1) × attempts + the free-text calls answered before: the
 * sequential part is budget × attempts; calls already in flight when the budget trips finish their own
 * attempts (parallel − 1 of them at most).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { readRunFile } from "../../state/run-dir.ts";
import {
  csvLines,
  exited,
  loopbackEnv,
  loopbackModel,
  synthgraphChild,
  useLlmServer,
  useRunFiles,
} from "../support/harness.ts";
import {
  type GenericKind,
  genericKindOf,
  genericResponder,
  type RealView,
  readRealView,
  rowKey,
  tableRows,
} from "../support/generic-responder.ts";
import type { RecordedRequest } from "../support/llm-server.ts";
import { readTable } from "../../data/read.ts";
import { metadataToJson } from "../../data/metadata.ts";

const server = useLlmServer();
const files = useRunFiles("e2e-unusable-");
const ROWS = 30;
/** The default budget (RunConfig.maxUnusableCalls) and attempts per call (a first ask + models/structured.ts's 2 re-asks). */
const BUDGET = 6;
const ATTEMPTS = 3;
/** A reply that ignores any schema: no JSON at all. */
const OFF_FORMAT = "Sure! Here is a lovely table for you: | a | b |";

let real: RealView;
beforeAll(async () => {
  real = await readRealView(files.input);
});

interface Case {
  engine: "synthia" | "mallm-gan" | "llmsynthor" | "synllm";
  args: string[];
  /**
   * Model calls in flight at once: the final batches run 2 at a time (Ollama's default concurrency); the
   * MALLM-GAN loop here makes one call per batch, LLMSynthor's calls are sequential.
   */
  parallel: number;
  /** Agents whose replies carry rows or structure (what the off-format replies replace). */
  structured: GenericKind[];
}

const CASES: Case[] = [
  {
    engine: "synthia",
    args: ["--max-iterations", "2", "--probe-rows", "10", "--batch-rows", "10", "--examples", "8"],
    parallel: 2,
    structured: ["synthia-generator", "decision"],
  },
  {
    engine: "mallm-gan",
    // One call per batch (examples-per-call = batch): the loop's calls run one after the other.
    args: ["--epochs", "1", "--frozen-epochs", "1", "--mallm-batch", "10", "--examples-per-call", "10"],
    parallel: 1,
    structured: ["mallm-generator", "optimizer"],
  },
  {
    engine: "llmsynthor",
    // (b): the copula's and both proposer calls fail, the pool is empty after T = 2, so the loop goes on
    // (nothing to fill from) until the budget stops it.
    args: ["--iterations", "2", "--tolerance", "0", "--joints", "2", "--proposals", "3"],
    parallel: 1,
    structured: ["copula", "proposer"],
  },
  {
    engine: "synllm",
    args: ["--prompt-type", "seedex", "--mini-batch", "10"],
    parallel: 2,
    structured: ["synllm-generator"],
  },
];

function generateArgs(c: Case, runDir: string, out: string): string[] {
  return [
    "generate",
    files.input,
    ...["--rows", String(ROWS), "--out", out, "--run-dir", runDir],
    ...["--engine", c.engine, "--model", loopbackModel("ollama"), "--seed", "3"],
    ...c.args,
  ];
}

/** The output has exactly N rows under the input's header, each valid for the input's metadata. */
async function expectValidOutput(out: string): Promise<void> {
  const lines = csvLines(out);
  expect(lines[0]).toBe(csvLines(files.input)[0]);
  expect(lines).toHaveLength(ROWS + 1);
  const back = await readTable(out, { metadata: metadataToJson(real.metadata) });
  expect(back.table.nRows).toBe(ROWS);
  real.metadata.columns.forEach((m, j) => {
    const levels = new Set((m.levels ?? []).map((l) => l.value));
    for (const r of tableRows(back.table)) {
      const v = r[j];
      if (m.sdtype === "numerical") {
        expect(v as number).toBeGreaterThanOrEqual(m.min as number);
        expect(v as number).toBeLessThanOrEqual(m.max as number);
      } else {
        expect(levels.has(v as string), `${m.name} = ${JSON.stringify(v)}`).toBe(true);
      }
    }
  });
  for (const r of tableRows(back.table)) expect(real.keys.has(rowKey(r))).toBe(false);
}

describe.each(CASES)("--engine $engine", (c) => {
  it("(a) with every 3rd structured reply off-format, writes exactly N valid rows", async () => {
    const g = genericResponder(real);
    let structured = 0;
    let spoiled = 0;
    server.setDefault((req: RecordedRequest) => {
      const kind = genericKindOf(req);
      if (kind !== undefined && c.structured.includes(kind) && ++structured % 3 === 0) {
        spoiled++;
        return OFF_FORMAT;
      }
      return g.respond(req);
    });
    const p = files.paths();
    const done = await exited(
      synthgraphChild(generateArgs(c, p.runDir, p.out), loopbackEnv(server, "ollama"), files.dir),
    );
    expect(done.stderr).not.toMatch(/error/i);
    expect(done.code).toBe(0);
    // Bad replies were really served (so the rows below came through them).
    expect(spoiled).toBeGreaterThan(0);
    await expectValidOutput(p.out);
  });

  it("(b) with every reply ignoring the schema, stops with exit code 4 within the budget, then resumes to N rows", async () => {
    const g = genericResponder(real);
    let broken = true;
    let servedBroken = 0;
    let usableBefore = 0;
    server.setDefault((req: RecordedRequest) => {
      if (!broken) return g.respond(req);
      const kind = genericKindOf(req);
      // Free-text agents (SYNTHIA's analysis) are answered: their replies cannot be off-format.
      if (kind === "analysis" || kind === "metadata") {
        usableBefore++;
        return g.respond(req);
      }
      servedBroken++;
      return OFF_FORMAT;
    });
    const p = files.paths();
    const stopped = await exited(
      synthgraphChild(generateArgs(c, p.runDir, p.out), loopbackEnv(server, "ollama"), files.dir),
    );
    expect(stopped.code, stopped.stderr).toBe(4);
    // Every unusable call is a first ask plus its re-asks; the run stopped at the budget.
    expect(servedBroken).toBeGreaterThanOrEqual(BUDGET);
    // Requests ≤ (budget + calls in flight − 1) × (1 + re-asks) + the calls that succeeded before the stop.
    expect(servedBroken).toBeLessThanOrEqual((BUDGET + c.parallel - 1) * ATTEMPTS);
    expect(server.chatRequests().length).toBe(servedBroken + usableBefore);
    expect(stopped.stderr).toMatch(/answered, but its replies were unusable 6 calls in a row/);
    // The most frequent reasons are quoted (at most three, in quotes, separated by semicolons).
    const quoted = /most frequent reasons: (.*)$/m.exec(stopped.stderr)?.[1] ?? "";
    const reasons = quoted.match(/"[^"]+"/g) ?? [];
    expect(reasons.length).toBeGreaterThanOrEqual(1);
    expect(reasons.length).toBeLessThanOrEqual(3);
    expect(stopped.stderr).toContain("synthgraph resume");
    // Resumable: the run directory is there and not done; no output yet.
    expect((await readRunFile(p.runDir)).status).not.toBe("done");

    broken = false;
    const resumed = await exited(
      synthgraphChild(["resume", p.runDir], loopbackEnv(server, "ollama"), files.dir),
    );
    expect(resumed.stderr).not.toMatch(/error/i);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await readRunFile(p.runDir)).status).toBe("done");
    await expectValidOutput(p.out);
  });
});
