/**
 * Usage counts every model call exactly once: the run's usage (SUMMARY.json's `usage` is the final state's) equals
 * what the loopback server answered, in calls, prompt tokens and completion tokens, for SYNTHIA and SynLLM:
 * - at --concurrency 1;
 * - after a stop at any checkpoint of a run. A finished run is rolled back to each of its checkpoints in turn
 *   (later checkpoints deleted from its SQLite file, run.json set back to "running"), which is the state a
 *   kill -9 right after that checkpoint leaves, and resumed. Three variants per checkpoint: the pending writes of
 *   the tasks that ran after it kept (killed before the next checkpoint), all dropped, or every other task's
 *   dropped (killed after a call's reply was stored but before its task's write: the stored reply is reused,
 *   its call counted once, not zero or twice). Every model reply is stored, so the resume asks for nothing
 *   the original run had answered; whatever it does ask for is counted too.
 */
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { beforeAll, describe, expect, it } from "vitest";
import { buildSummary } from "../../cli/generate.ts";
import type { EngineStateBase } from "../../graph/engine.ts";
import { resumeRun, startRun } from "../../graph/run.ts";
import type { AccountingSnapshot } from "../../models/accounting.ts";
import type { RunConfig } from "../../state/config.ts";
import { runPaths, updateRunFile } from "../../state/run-dir.ts";
import { DATASETS } from "../support/fixtures.ts";
import { genericResponder, readRealView } from "../support/generic-responder.ts";
import { csvLines, TEST_ENV, useLlmServer, useRunFiles } from "../support/harness.ts";
import type { LlmServerStats, RecordedRequest, Reply } from "../support/llm-server.ts";
import { responder, testConfig } from "../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("usage-");
let diabetes = "";

beforeAll(() => {
  diabetes = join(files.dir, "diabetes300.csv");
  writeFileSync(diabetes, `${csvLines(join(DATASETS, "diabetes.csv")).slice(0, 301).join("\n")}\n`);
});

interface EngineCase {
  engine: "synthia" | "synllm";
  /** The run's config (rows in several batches) and the server's responder. */
  setup(
    out: string,
    concurrency: number,
  ): Promise<{ config: RunConfig; respond: (r: RecordedRequest) => string | Reply }>;
}

const CASES: EngineCase[] = [
  {
    engine: "synthia",
    setup: async (out, concurrency) => ({
      // 100 rows in batches of 10: a wave of 8 batches then one of 2 at concurrency 2, after one iteration.
      config: testConfig(server, "ollama", { input: files.input, out, rows: 100, concurrency }),
      respond: responder(),
    }),
  },
  {
    engine: "synllm",
    setup: async (out, concurrency) => {
      const g = genericResponder(await readRealView(diabetes));
      return {
        config: testConfig(server, "ollama", {
          input: diabetes,
          out,
          rows: 100,
          engine: "synllm",
          concurrency,
          seed: 4,
          synllm: { batchRows: 10 } as RunConfig["synllm"],
        }),
        respond: g.respond,
      };
    },
  },
];

type Served = Pick<LlmServerStats, "completions" | "promptTokens" | "completionTokens">;
const served = (): Served => ({
  completions: server.stats.completions,
  promptTokens: server.stats.promptTokens,
  completionTokens: server.stats.completionTokens,
});
const asUsage = (s: Served) => ({
  calls: s.completions,
  prompt_tokens: s.promptTokens,
  completion_tokens: s.completionTokens,
});
const usageOf = (u: Pick<AccountingSnapshot, "calls" | "prompt_tokens" | "completion_tokens">) => ({
  calls: u.calls,
  prompt_tokens: u.prompt_tokens,
  completion_tokens: u.completion_tokens,
});

/** Checkpoint ids of the run's thread in order, each with the task ids of its pending writes. */
function checkpointsOf(runDir: string): Array<{ id: string; tasks: string[] }> {
  const saver = SqliteSaver.fromConnString(runPaths(runDir).checkpoints);
  try {
    const ids = saver.db
      .prepare("SELECT checkpoint_id AS id FROM checkpoints ORDER BY checkpoint_id")
      .all() as Array<{
      id: string;
    }>;
    return ids.map(({ id }) => ({
      id,
      tasks: (
        saver.db
          .prepare("SELECT DISTINCT task_id AS t FROM writes WHERE checkpoint_id = ? ORDER BY task_id")
          .all(id) as Array<{ t: string }>
      ).map((r) => r.t),
    }));
  } finally {
    saver.db.close();
  }
}

/** The run directory as a kill -9 right after checkpoint `id` leaves it, with the writes of `drop` lost. */
async function rollBack(runDir: string, id: string, drop: readonly string[]): Promise<void> {
  const saver = SqliteSaver.fromConnString(runPaths(runDir).checkpoints);
  try {
    saver.db.prepare("DELETE FROM checkpoints WHERE checkpoint_id > ?").run(id);
    saver.db.prepare("DELETE FROM writes WHERE checkpoint_id > ?").run(id);
    const del = saver.db.prepare("DELETE FROM writes WHERE checkpoint_id = ? AND task_id = ?");
    for (const t of drop) del.run(id, t);
  } finally {
    saver.db.close();
  }
  await updateRunFile(runDir, { status: "running" });
}

describe.each(CASES)("$engine: usage counts each model call once", (c) => {
  it("at --concurrency 1 (SUMMARY.json usage equals what the server answered)", async () => {
    const p = files.paths();
    const { config, respond } = await c.setup(p.out, 1);
    server.setDefault(respond);
    const before = served();
    const result = await startRun<EngineStateBase>(p.runDir, config, { env: TEST_ENV });
    expect(csvLines(p.out)).toHaveLength(101);
    const summary = await buildSummary(result);
    const after = served();
    const answered = {
      completions: after.completions - before.completions,
      promptTokens: after.promptTokens - before.promptTokens,
      completionTokens: after.completionTokens - before.completionTokens,
    };
    expect(answered.completions).toBeGreaterThanOrEqual(10);
    expect(usageOf(summary.usage)).toEqual(asUsage(answered));
  }, 120_000);

  it("resumed from any checkpoint, with its pending writes kept, dropped or half dropped", async () => {
    const p = files.paths();
    const { config, respond } = await c.setup(p.out, 2);
    server.setDefault(respond);
    const before = served();
    const { state } = await startRun<EngineStateBase>(p.runDir, config, { env: TEST_ENV });
    const original = served();
    const answered = {
      completions: original.completions - before.completions,
      promptTokens: original.promptTokens - before.promptTokens,
      completionTokens: original.completionTokens - before.completionTokens,
    };
    expect(usageOf(state.usage)).toEqual(asUsage(answered));

    const checkpoints = checkpointsOf(p.runDir);
    // The final generation's waves are among them: a checkpoint with several pending batch writes.
    expect(Math.max(...checkpoints.map((k) => k.tasks.length))).toBeGreaterThanOrEqual(8);
    const scratch = mkdtempSync(join(tmpdir(), `usage-${c.engine}-`));
    let resumes = 0;
    for (const [k, { id, tasks }] of checkpoints.entries()) {
      const variants = [
        { name: "kept", drop: [] as string[] },
        { name: "dropped", drop: tasks },
        { name: "half dropped", drop: tasks.filter((_, i) => i % 2 === 0) },
      ].filter((_, i) => i === 0 || tasks.length > 0);
      for (const v of variants) {
        const dir = join(scratch, `k${k}-${v.name.replace(" ", "-")}`);
        cpSync(p.runDir, dir, { recursive: true });
        await rollBack(dir, id, v.drop);
        const start = served();
        const resumed = await resumeRun<EngineStateBase>(dir, { env: TEST_ENV });
        const end = served();
        resumes++;
        const total = {
          completions: answered.completions + end.completions - start.completions,
          promptTokens: answered.promptTokens + end.promptTokens - start.promptTokens,
          completionTokens: answered.completionTokens + end.completionTokens - start.completionTokens,
        };
        expect(
          usageOf(resumed.state.usage),
          `checkpoint ${k} of ${checkpoints.length}, writes ${v.name}`,
        ).toEqual(asUsage(total));
        expect(csvLines(p.out)).toHaveLength(101);
      }
    }
    expect(resumes).toBeGreaterThan(checkpoints.length);
  }, 600_000);
});
