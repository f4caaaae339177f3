/**
 * End to end on the shipped example table examples/adult.csv (200 rows, 15 columns, integer and categorical
 * columns, missing cells, hyphenated names, `<=50K` labels): `synthgraph generate` in a child process for each
 * engine (Ollama; SYNTHIA also over OpenAI), every agent answered by the generic responder from the request and
 * the real table. Checks the exit code, the output table (rows, header, read back with the input's metadata,
 * values inside the real ranges and levels, no copy of a real row), SUMMARY.json (usage equal to what the
 * server served, a finite quality score) and the run listing.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runRuns } from "../../cli/generate.ts";
import { metadataToJson } from "../../data/metadata.ts";
import { readTable } from "../../data/read.ts";
import {
  captureIo,
  csvLines,
  exited,
  loopbackEnv,
  loopbackModel,
  synthgraphChild,
  useLlmServer,
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
import type { TestProvider } from "../support/llm-endpoints.ts";
import type { RecordedRequest } from "../support/llm-server.ts";

const INPUT = resolve(import.meta.dirname, "../../examples/adult.csv");
const ROWS = 60;

const server = useLlmServer();
let dir = "";
let real: RealView;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "e2e-adult-"));
  real = await readRealView(INPUT, "income");
});

interface Case {
  engine: "synthia" | "mallm-gan" | "llmsynthor";
  provider: TestProvider;
  args: string[];
  /** Agents that must have been asked at least once. */
  asked: GenericKind[];
  /** The engine's own part of SUMMARY.json, checked for what realistic data could break. */
  check: (summary: Record<string, unknown>, requests: readonly RecordedRequest[]) => void;
}

/** The responder's first decision is "Synthetic" with this feedback, later ones "Real". */
const FEEDBACK = "Cover the rarer categories of every categorical column in their real proportions.";

const synthiaCheck = (s: Record<string, unknown>, requests: readonly RecordedRequest[]): void => {
  const iterations = s.iterations as Array<{ verdict: string; feedback: string | null; valid_rows: number }>;
  expect(iterations.length).toBeGreaterThanOrEqual(2);
  expect(iterations[0]).toMatchObject({ verdict: "Synthetic", feedback: FEEDBACK, valid_rows: 20 });
  // Every probe row the responder wrote (nulls, hyphenated names, "<=50K") was valid.
  for (const it of iterations) expect(it.valid_rows).toBe(20);
  // The feedback reached the next probe's prompt (the final prompt uses the best iteration's, maybe none).
  const probes = requests.filter((r) => genericKindOf(r) === "synthia-generator");
  expect(probes.some((r) => r.messages[1]?.content.includes(JSON.stringify(FEEDBACK)))).toBe(true);
};

const mallmCheck = (s: Record<string, unknown>): void => {
  const steps = s.theta_trajectory as Array<{
    valid_rows: number;
    requested_rows: number;
    optimizer: { accepted: boolean; reasons: string[] } | null;
  }>;
  const optimized = steps.filter((x) => x.optimizer !== null);
  expect(optimized.length).toBeGreaterThan(0);
  // The optimizer's edges name hyphenated columns ('education-num', 'hours-per-week'): all accepted.
  for (const x of optimized) expect(x.optimizer).toMatchObject({ accepted: true, reasons: [] });
  for (const x of steps) expect(x.valid_rows).toBe(x.requested_rows);
};

const llmsynthorCheck = (s: Record<string, unknown>): void => {
  expect((s.joint_groups as string[][]).length).toBe(2);
  const iterations = s.iterations as Array<{
    proposal_report: { received: number; accepted: number; repaired: number; dropped: number };
  }>;
  expect(iterations).toHaveLength(2);
  // Every proposal names a real category ("<=50K", "Married-civ-spouse") or a range inside the real one.
  for (const it of iterations)
    expect(it.proposal_report).toMatchObject({ received: 4, accepted: 4, repaired: 0, dropped: 0 });
};

const CASES: Case[] = [
  {
    engine: "synthia",
    provider: "ollama",
    args: ["--max-iterations", "3", "--probe-rows", "20", "--batch-rows", "20", "--examples", "10"],
    asked: ["synthia-generator", "analysis", "decision"],
    check: synthiaCheck,
  },
  {
    engine: "synthia",
    provider: "openai",
    args: [
      ...["--max-iterations", "3", "--probe-rows", "20", "--batch-rows", "20", "--examples", "10"],
      "--describe-columns",
    ],
    asked: ["synthia-generator", "analysis", "decision", "metadata"],
    check: synthiaCheck,
  },
  {
    engine: "mallm-gan",
    provider: "ollama",
    // --causal-order: examples and rows go causes first, so the prompt's column order is not the file's.
    args: [
      ...["--epochs", "1", "--frozen-epochs", "1", "--mallm-batch", "100", "--examples-per-call", "10"],
      "--causal-order",
    ],
    asked: ["mallm-generator", "optimizer"],
    check: mallmCheck,
  },
  {
    engine: "llmsynthor",
    provider: "ollama",
    args: ["--iterations", "2", "--tolerance", "0", "--joints", "2", "--proposals", "4"],
    asked: ["copula", "proposer"],
    check: llmsynthorCheck,
  },
];

describe.each(CASES)("generate --engine $engine over $provider on examples/adult.csv", (c) => {
  it("exits 0 with valid, non-copied rows, SUMMARY.json and a done run", async () => {
    const g = genericResponder(real);
    server.setDefault(g.respond);
    const name = `${c.engine}-${c.provider}`;
    const root = join(dir, `runs-${name}`);
    const runDir = join(root, "r1");
    const out = join(dir, `${name}.csv`);
    const json = join(dir, `${name}.json`);
    const before = { ...server.stats };
    const done = await exited(
      synthgraphChild(
        [
          "generate",
          INPUT,
          ...["--rows", String(ROWS), "--out", out, "--json", json, "--run-dir", runDir],
          ...[
            "--engine",
            c.engine,
            "--model",
            loopbackModel(c.provider),
            "--target",
            "income",
            "--seed",
            "5",
          ],
          ...c.args,
        ],
        loopbackEnv(server, c.provider),
        dir,
      ),
    );
    expect(done.stderr).not.toMatch(/error/i);
    expect(done.code).toBe(0);
    for (const k of c.asked) expect(g.counts[k], k).toBeGreaterThan(0);
    // Every request came from a known agent (an unknown one would have thrown and failed the run).
    expect(server.stats.requests - before.requests).toBe(Object.values(g.counts).reduce((a, b) => a + b, 0));

    // The output: the requested rows under the input's header, readable with the input's metadata.
    const lines = csvLines(out);
    expect(lines[0]).toBe(csvLines(INPUT)[0]);
    expect(lines).toHaveLength(ROWS + 1);
    const back = await readTable(out, { metadata: metadataToJson(real.metadata) });
    expect(back.table.nRows).toBe(ROWS);
    expect(back.table.columns.map((x) => x.name)).toEqual(real.metadata.columns.map((x) => x.name));

    // Every value inside the real range / levels; missing only where the real column has missing values.
    const rows = tableRows(back.table);
    real.metadata.columns.forEach((m, j) => {
      const levels = new Set((m.levels ?? []).map((l) => l.value));
      for (const r of rows) {
        const v = r[j];
        if (v === null) {
          expect(m.missingRate, `${m.name} is never missing in the real data`).toBeGreaterThan(0);
        } else if (m.sdtype === "numerical") {
          expect(typeof v).toBe("number");
          expect(v as number).toBeGreaterThanOrEqual(m.min as number);
          expect(v as number).toBeLessThanOrEqual(m.max as number);
          if (m.integer) expect(Number.isInteger(v), `${m.name} = ${v}`).toBe(true);
        } else {
          expect(levels.has(v as string), `${m.name} = ${JSON.stringify(v)}`).toBe(true);
        }
      }
    });
    for (const r of rows) expect(real.keys.has(rowKey(r))).toBe(false);

    // SUMMARY.json: rows, run dir, usage equal to what the server served, a finite quality score.
    const summary = JSON.parse(readFileSync(json, "utf8"));
    expect(summary).toMatchObject({
      rows: ROWS,
      run_dir: runDir,
      engine: c.engine,
      privacy: { guard: true, exact_copies_removed: 0 },
      invalid_rows_dropped: 0,
    });
    c.check(summary, server.chatRequests());
    expect(summary.usage.calls).toBeGreaterThan(0);
    expect(summary.usage.prompt_tokens + summary.usage.completion_tokens).toBeGreaterThan(0);
    expect(summary.usage.calls).toBe(server.stats.completions - before.completions);
    expect(summary.usage.prompt_tokens).toBe(server.stats.promptTokens - before.promptTokens);
    expect(summary.usage.completion_tokens).toBe(server.stats.completionTokens - before.completionTokens);
    expect(summary.usage.estimated).toBe(false);
    expect(summary.evaluate.summary.rows).toMatchObject({ real: real.table.nRows, synthetic: ROWS });
    expect(Number.isFinite(summary.evaluate.quality_report.overall)).toBe(true);
    expect(summary.evaluate.quality_report.overall).toBeGreaterThan(0);

    // `runs` lists it as done.
    const listed = await runRuns({ root }, captureIo({}));
    expect(listed).toEqual([
      expect.objectContaining({
        id: "r1",
        engine: c.engine,
        status: "done",
        rows_done: ROWS,
        rows_requested: ROWS,
      }),
    ]);
  });
});
