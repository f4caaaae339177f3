/**
 * graph/recover.ts completeFromArtifacts: the output of a stopped final generation from its batches, with and
 * without duplicate removal. The batches are scripted per (round, batch), so every expected table below is
 * worked out by hand in the comments.
 */
import { describe, expect, it } from "vitest";
import type { Row } from "../../data/types.ts";
import { emptySnapshot } from "../../models/accounting.ts";
import { resolveRoleConfigs } from "../../models/spec.ts";
import { completeFromArtifacts, type FinalBatchRunner } from "../../graph/recover.ts";
import type { RowBatch } from "../../state/artifacts.ts";
import { RunConfigSchema } from "../../state/config.ts";
import type { BatchTask } from "../../state/finalize.ts";

const row = (id: string): Row => ({ id });
const config = RunConfigSchema.parse({
  input: "/in.csv",
  out: "/out.csv",
  rows: 5,
  batchRows: 3,
  maxRounds: 4,
  models: resolveRoleConfigs({}),
});

/** Round 1 plans 5 rows: batches of 3 and 2. Later rounds' batches are scripted by their size. */
const SCRIPT: Record<string, string[]> = {
  "1/0": ["a", "b", "a"],
  "1/1": ["c", "d"],
  // Round 2 plans the 1 row round 1 left missing when duplicates are removed.
  "2/0": ["e"],
};

function scripted(): { run: FinalBatchRunner; asked: BatchTask[] } {
  const asked: BatchTask[] = [];
  const run: FinalBatchRunner = async (task) => {
    asked.push(task);
    const ids = SCRIPT[`${task.round}/${task.batch}`];
    if (ids === undefined) throw new Error(`no batch ${task.round}/${task.batch} was expected`);
    const value: RowBatch = {
      requested: task.nRows,
      rows: ids.map(row),
      invalid: 0,
      exact_copies: 0,
      reasons: [],
      seed: 0,
      usage: emptySnapshot(),
    };
    return { value, cached: false };
  };
  return { run, asked };
}

describe("completeFromArtifacts", () => {
  it("without a row key: the first 5 rows in batch order, duplicates kept, no further round", async () => {
    const s = scripted();
    const done = await completeFromArtifacts({ config, roundRows: [5], run: s.run, concurrency: 1 });
    // a b a | c d → 5 rows accepted after round 1.
    expect(done.rows.map((r) => r.id)).toEqual(["a", "b", "a", "c", "d"]);
    expect(done.roundRows).toEqual([5]);
    expect(done.duplicates).toBe(0);
    expect(s.asked.map((t) => [t.round, t.batch, t.nRows])).toEqual([
      [1, 0, 3],
      [1, 1, 2],
    ]);
  });

  it("with a row key: the second a is left out and counted, and one more round plans the missing row", async () => {
    const s = scripted();
    const done = await completeFromArtifacts({
      config,
      roundRows: [5],
      run: s.run,
      concurrency: 2,
      rowKey: (r) => String(r.id),
    });
    // a b (a: duplicate) | c d → 4 distinct; round 2 plans 5 − 4 = 1 row: e.
    expect(done.rows.map((r) => r.id)).toEqual(["a", "b", "c", "d", "e"]);
    expect(done.roundRows).toEqual([5, 1]);
    expect(done.duplicates).toBe(1);
    expect(s.asked.map((t) => [t.round, t.batch, t.nRows])).toEqual([
      [1, 0, 3],
      [1, 1, 2],
      [2, 0, 1],
    ]);
  });
});
