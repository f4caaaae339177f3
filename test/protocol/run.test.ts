/**
 * The protocol runner on a tiny protocol (the "real" pseudo-engine, 2 sizes × 2 repeats): one result file per
 * cell, the MLE equal to the best of the per-model TSTR scores computed directly, mean ± sd equal to the
 * definition, unavailable engines skipped with the reason, and a second run that reuses every finished cell.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBenchmark } from "../../cli/benchmark.ts";
import { metadataToJson } from "../../data/metadata.ts";
import { readTable } from "../../data/read.ts";
import { summarize } from "../../protocol/table.ts";
import { trainTestBinary } from "../../stats/metrics/table/utility-protocols.ts";
import { plainRows, writeRowsCsv } from "../support/protocol-tables.ts";

const dir = mkdtempSync(join(tmpdir(), "sg-protocol-"));
const data = join(dir, "data");
for (const n of [40, 60]) {
  const d = join(data, `toy${n}`);
  mkdirSync(d, { recursive: true });
  writeRowsCsv(join(d, "train.csv"), plainRows(n, n));
}
writeRowsCsv(join(data, "test.csv"), plainRows(50, 999));
const protocol = {
  name: "tiny",
  engines: ["real", "no-such-engine", "synthia"],
  datasets: [
    {
      name: "toy",
      train: "toy{n}/train.csv",
      test: "test.csv",
      target: "income",
      task: "classification",
      positive_label: ">50K",
      reference: { engine: "real", metric: "mle", values: { "40": 0.8 }, source: "made up for the test" },
    },
  ],
  sizes: [40, 60],
  repeats: 2,
  seed: 7,
  datasets_root: "data",
  mle: { metric: "f1_weighted", classifiers: ["logistic", "tree"], tree_depth: 3 },
  fidelity: false,
};
const protocolPath = join(dir, "tiny.json");
writeFileSync(protocolPath, JSON.stringify(protocol));
const quiet = { stdout: { write: () => true }, stderr: { write: () => true } };

describe("benchmark --protocol", () => {
  it("runs each cell once, scores it, and resumes", async () => {
    const out = join(dir, "out");
    const first = await runBenchmark({ protocol: protocolPath, out }, quiet);
    const files = readdirSync(join(out, "cells")).sort();
    expect(files).toEqual([
      "real__toy__n40__r0.json",
      "real__toy__n40__r1.json",
      "real__toy__n60__r0.json",
      "real__toy__n60__r1.json",
    ]);
    expect(first.run.reused).toEqual([]);
    // 2 sizes × 2 repeats for each unavailable engine, with the reason.
    expect(first.run.skipped).toHaveLength(8);
    expect(first.run.skipped[0].reason).toMatch(/"no-such-engine" is not available/);
    expect(first.run.skipped[4].reason).toMatch(/"synthia" needs a model/);

    // The MLE of the real pseudo-engine: best of the TSTR scores, training on the real rows themselves.
    const train = await readTable(join(data, "toy40/train.csv"), { target: "income" });
    const test = await readTable(join(data, "test.csv"), { metadata: metadataToJson(train.metadata) });
    const direct = (["logistic", "tree"] as const).map(
      (c) =>
        trainTestBinary(train.table, test.table, "income", ">50K", c, { seed: 7, treeDepth: 3 }).f1_weighted,
    );
    const cell = JSON.parse(readFileSync(join(out, "cells/real__toy__n40__r0.json"), "utf8"));
    expect(cell.metrics["f1_weighted.logistic"]).toBe(direct[0]);
    expect(cell.metrics["f1_weighted.tree"]).toBe(direct[1]);
    expect(cell.metrics.mle).toBe(Math.max(...direct));
    expect(cell.rows).toEqual({ train: 40, synthetic: 40, test: 50 });

    // Mean and sd of a row are the definition over the two repeat files.
    const r1 = JSON.parse(readFileSync(join(out, "cells/real__toy__n40__r1.json"), "utf8"));
    const row = first.table.rows.find((r) => r.size === 40);
    const mean = (cell.metrics.mle + r1.metrics.mle) / 2;
    expect(row?.metrics.mle.mean).toBeCloseTo(mean, 15);
    expect(row?.metrics.mle.sd).toBeCloseTo(Math.abs(cell.metrics.mle - r1.metrics.mle) / Math.SQRT2, 15);
    expect(row?.reference?.diff).toBeCloseTo(mean - 0.8, 15);
    expect(readFileSync(join(out, "results.md"), "utf8")).toContain("| 40 | real |");

    // Resume: a finished cell is read, not recomputed (a marker value written into it survives).
    cell.metrics.mle = 0.123;
    writeFileSync(join(out, "cells/real__toy__n40__r0.json"), JSON.stringify(cell));
    const second = await runBenchmark({ protocol: protocolPath, out }, quiet);
    expect(second.run.reused).toHaveLength(4);
    expect(second.table.rows.find((r) => r.size === 40)?.metrics.mle.mean).toBeCloseTo(
      (0.123 + r1.metrics.mle) / 2,
      15,
    );
    const saved = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(saved.rows).toHaveLength(2);

    // A changed protocol (another tree depth) redoes the cells its settings change; so does a cell file
    // written without settings (before they were recorded).
    const deeper = join(dir, "tiny-depth4.json");
    writeFileSync(deeper, JSON.stringify({ ...protocol, mle: { ...protocol.mle, tree_depth: 4 } }));
    const third = await runBenchmark({ protocol: deeper, out }, quiet);
    expect(third.run.reused).toEqual([]);
    const redone = JSON.parse(readFileSync(join(out, "cells/real__toy__n40__r0.json"), "utf8"));
    expect(redone.metrics.mle).not.toBe(0.123);
    expect(redone.settings.mle.tree_depth).toBe(4);
    const { settings: _settings, ...legacy } = redone;
    writeFileSync(join(out, "cells/real__toy__n40__r0.json"), JSON.stringify({ ...legacy, seconds: 99 }));
    const fourth = await runBenchmark({ protocol: deeper, out }, quiet);
    expect(fourth.run.reused).toHaveLength(3);
    expect(fourth.run.reused).not.toContain("real__toy__n40__r0");
  }, 120_000);

  it("summarize: mean, sample sd and standard error by hand", () => {
    // [1, 2, 3, 4, NaN]: mean 2.5; Σ(x − x̄)² = 2.25 + 0.25 + 0.25 + 2.25 = 5 → sd = √(5/3), se = sd/2.
    const s = summarize([1, 2, 3, 4, Number.NaN]);
    expect(s.n).toBe(4);
    expect(s.mean).toBe(2.5);
    expect(s.sd).toBeCloseTo(Math.sqrt(5 / 3), 15);
    expect(s.se).toBeCloseTo(Math.sqrt(5 / 3) / 2, 15);
    expect(summarize([null])).toEqual({ mean: null, sd: null, se: null, n: 0 });
  });
});
