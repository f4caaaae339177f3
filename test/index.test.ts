/** The library surface (index.ts): what an embedding developer imports works on its own. */
import { describe, expect, it } from "vitest";
import * as synthgraph from "../index.ts";
import { fixtureTable, tableFixtures } from "./support/fixtures.ts";

describe("index.ts", () => {
  it("exports the embedding API", () => {
    for (const name of [
      "readTable",
      "evaluateTables",
      "startRun",
      "resumeRun",
      "buildSynthiaGraph",
      "analyzeTool",
    ])
      expect(typeof (synthgraph as Record<string, unknown>)[name], name).not.toBe("undefined");
    expect(Object.keys(synthgraph.ENGINE_REGISTRY).sort()).toEqual([
      "bayesnet",
      "copula",
      "llmsynthor",
      "mallm-gan",
      "synllm",
      "synthia",
    ]);
  });

  it("parses a table and evaluates it against itself", () => {
    const { table, metadata } = synthgraph.parseTable("age,sex\n30,Male\n41,Female\n52,Female\n", {});
    expect(metadata.columns.map((c) => c.sdtype)).toEqual(["numerical", "categorical"]);
    const r = synthgraph.evaluateTables(table, table, undefined, { skip_random_forest: true });
    expect(r.quality_report.overall).toBe(1);
    expect(r.summary.exact_copies).toBe(3);
  });

  it("evaluateTables reproduces a fixture's quality report", () => {
    const fx = tableFixtures()[0];
    const r = synthgraph.evaluateTables(
      fixtureTable(fx.schema, fx.data.real),
      fixtureTable(fx.schema, fx.data.synthetic),
      undefined,
      { skip_random_forest: true },
    );
    const expected = fx.expected.quality_report as { overall: { value: number; atol: number } };
    expect(Math.abs(r.quality_report.overall - expected.overall.value)).toBeLessThanOrEqual(
      expected.overall.atol,
    );
  });
});
