/**
 * SYNTHIA's final generation over the loopback server (real ChatOllama client): exact duplicates among synthetic
 * rows are removed across batches and rounds and counted, the count is a pure function of the stored batches
 * (so a resumed plan_round finds the same), --keep-duplicates keeps them, and SUMMARY.json scores the output
 * with the probes' analyzer.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildSummary } from "../../../cli/generate.ts";
import { readTable } from "../../../data/read.ts";
import type { Row } from "../../../data/types.ts";
import { analyze } from "../../../engines/synthia/analyzer.ts";
import { finalGeneration } from "../../../engines/synthia/nodes.ts";
import type { SynthiaStateT } from "../../../engines/synthia/state.ts";
import { emptySnapshot } from "../../../models/accounting.ts";
import { startRun } from "../../../graph/run.ts";
import type { EngineRuntime } from "../../../graph/runtime.ts";
import { ArtifactStore, finalBatchKey } from "../../../state/artifacts.ts";
import { csvRows, realRows, TEST_ENV, useLlmServer, useRunFiles } from "../../support/harness.ts";
import type { RecordedRequest } from "../../support/llm-server.ts";
import { requestedRows, responder, rowsReply, testConfig } from "../../support/synthia.ts";
import { realDataOf, smallRealTable } from "../../support/tables.ts";

const server = useLlmServer();
const files = useRunFiles("synthia-final-");

/** One row every batch repeats (age 59 with 20.5 hours is no real row: realRows has age 59 at 45.45 hours). */
const FIXED = [59, "Male", 20.5, "<=50K"];

/**
 * Generator replies: a batch of n ≥ 3 rows starts with FIXED twice, a batch of 2 with FIXED once, a batch of 1
 * has no FIXED; every other row is new (a running counter sets age and hours, never a real row, never FIXED).
 */
function duplicatingGenerator(): (req: RecordedRequest) => string {
  const realKeys = new Set(realRows().map((r) => `${r.age},${r.hours}`));
  let counter = 0;
  const fresh = (): unknown[] => {
    for (;;) {
      const k = counter++;
      const age = 20 + (k % 39);
      const hours = Math.round((21 + k * 0.01) * 100) / 100;
      if (!realKeys.has(`${age},${hours}`)) return [age, k % 2 === 0 ? "Female" : "Male", hours, "<=50K"];
    }
  };
  return (req) => {
    const n = requestedRows(req);
    const fixed = n >= 3 ? 2 : n === 2 ? 1 : 0;
    const rows = Array.from({ length: n }, (_, i) => (i < fixed ? FIXED : fresh()));
    return rowsReply(rows);
  };
}

describe("exact duplicates among synthetic rows", () => {
  it("are removed across batches and rounds, counted, and the output scored like the probes", async () => {
    server.setDefault(responder({ generator: duplicatingGenerator() }));
    const p = files.paths();
    const config = testConfig(server, "ollama", {
      input: files.input,
      out: p.out,
      rows: 30,
      batchRows: 10,
      dedupe: true,
    });
    const result = await startRun(p.runDir, config, { env: TEST_ENV });
    const { state } = result;
    // Round 1: 3 batches of 10, each with FIXED twice: 6 FIXED rows, 1 kept → 5 duplicates, 25 rows.
    // Round 2: 5 rows, one batch with FIXED twice (already seen) → 2 duplicates, 28 rows.
    // Round 3: 2 rows, one batch with FIXED once → 1 duplicate, 29 rows. Round 4: 1 fresh row → 30.
    expect(state.roundRows).toEqual([30, 5, 2, 1]);
    expect(state.duplicatesRemoved).toBe(5 + 2 + 1);
    expect(state.accepted).toBe(30);
    const lines = csvRows(p.out);
    expect(lines).toHaveLength(30);
    expect(new Set(lines).size).toBe(30);
    expect(lines.filter((l) => l === FIXED.join(","))).toHaveLength(1);

    const summary = await buildSummary(result);
    const real = await readTable(files.input);
    const out = await readTable(p.out);
    const d = analyze(real.table, out.table);
    expect(summary.final).toEqual({
      rows: 30,
      scores: {
        similarity: d.similarity,
        coverage: d.coverage,
        divergence: d.divergence,
        correlation_similarity: d.correlation_similarity,
      },
      duplicates_removed: 8,
    });
    // Same keys as each probe's scores, so the two read side by side.
    const probes = summary.iterations as Array<{ scores: Record<string, unknown> }>;
    expect(Object.keys((summary.final as { scores: object }).scores)).toEqual(Object.keys(probes[0].scores));
  });

  it("are kept with dedupe off (--keep-duplicates)", async () => {
    server.setDefault(responder({ generator: duplicatingGenerator() }));
    const p = files.paths();
    const config = testConfig(server, "ollama", {
      input: files.input,
      out: p.out,
      rows: 30,
      batchRows: 10,
      dedupe: false,
    });
    const { state } = await startRun(p.runDir, config, { env: TEST_ENV });
    expect(state.roundRows).toEqual([30]);
    expect(state.duplicatesRemoved).toBe(0);
    expect(csvRows(p.out).filter((l) => l === FIXED.join(","))).toHaveLength(6);
  });
});

describe("plan_round's duplicate count", () => {
  const table = smallRealTable();
  const real = realDataOf(table);
  const row = (age: number, hours: number): Row => ({ age, sex: "Male", hours, income: "<=50K" });

  const storedBatch = (rows: Row[]) => ({
    requested: 3,
    rows,
    invalid: 0,
    reasons: [],
    seed: 1,
    exact_copies: 0,
    usage: emptySnapshot(),
  });

  /** A store holding round 1 (batches of 3: [a, b, a], [c, b, d]) and the state plan_round sees after it. */
  async function afterRound1(): Promise<{ rt: EngineRuntime; state: SynthiaStateT }> {
    const config = testConfig(server, "ollama", {
      input: "memory/real.csv",
      out: "memory/out.csv",
      rows: 6,
      batchRows: 3,
      dedupe: true,
    });
    const store = ArtifactStore.inMemory();
    await store.put(finalBatchKey(1, 0), storedBatch([row(21, 30), row(22, 31), row(21, 30)]));
    await store.put(finalBatchKey(1, 1), storedBatch([row(23, 32), row(22, 31), row(24, 33)]));
    const rt: EngineRuntime = { config, store, real: async () => real, env: TEST_ENV, concurrency: 1 };
    const state = {
      config,
      phase: "finalize",
      roundRows: [6],
      nextBatch: 2,
      waveEnd: 2,
      accepted: 6,
      invalidRows: 0,
      exactCopiesRemoved: 0,
      duplicatesRemoved: 0,
    } as unknown as SynthiaStateT;
    return { rt, state };
  }

  it("is a function of the stored batches: a re-run (resume) plans the same, a counted duplicate is not counted twice", async () => {
    const { rt, state } = await afterRound1();
    const fin = finalGeneration(rt);
    // Unique in batch order: a, b, (a dup), c, (b dup), d → 4 rows, 2 duplicates; 2 rows still missing.
    const want = {
      accepted: -2,
      duplicatesRemoved: 2,
      phase: "finalize",
      roundRows: [6, 2],
      nextBatch: 0,
      waveEnd: 0,
    };
    expect(await fin.planRound(state)).toEqual(want);
    expect(await fin.planRound(state)).toEqual(want);
    // Once the checkpoint holds the correction, the same scan finds nothing new.
    const corrected = { ...state, accepted: 4, duplicatesRemoved: 2 } as SynthiaStateT;
    expect(await fin.planRound(corrected)).toEqual({
      phase: "finalize",
      roundRows: [6, 2],
      nextBatch: 0,
      waveEnd: 0,
    });
  });

  it("write emits the first occurrence of each row in batch order", async () => {
    const { rt, state } = await afterRound1();
    const fin = finalGeneration(rt);
    // Round 2 (the 2 missing rows): e and f.
    await rt.store.put(finalBatchKey(2, 0), { ...storedBatch([row(25, 34), row(26, 35)]), requested: 2 });
    const config = { ...state.config, out: join(files.dir, "write.csv") };
    const s = { ...state, config, roundRows: [6, 2], accepted: 6, duplicatesRemoved: 2 } as SynthiaStateT;
    expect(await fin.planRound(s)).toEqual({ phase: "write" });
    const up = await fin.write(s);
    expect(up.output).toEqual({ path: config.out, rows: 6 });
    const got = await readTable(config.out);
    const ages = Array.from((got.table.columns[0] as { values: Float64Array }).values);
    // a, b, c, d from round 1 (the second a and b skipped), then e and f from round 2.
    expect(ages).toEqual([21, 22, 23, 24, 25, 26]);
  });
});
