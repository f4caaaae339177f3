/**
 * The end-to-end checks both offline engines pass (not a test file; test/engines/{copula,bayesnet}/graph.test.ts
 * call it): `synthgraph generate --engine <name>` on examples/adult.csv as a child process (bin/synthgraph.js),
 * every model endpoint pointed at a loopback listener that counts connections:
 *  - exit 0, "no model needed" on the first line, no connection to the model endpoints;
 *  - exactly N rows, each valid against the real metadata with no repair, none an exact copy of a real row;
 *  - SUMMARY.json with the engine's fit;
 *  - the same seed gives a byte-identical CSV, another seed another CSV;
 *  - killed with SIGKILL mid-sampling (some chunks stored, not all) and resumed: the same CSV.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRowValidator } from "../../data/validate.ts";
import { readTable } from "../../data/read.ts";
import { metadataToJson } from "../../data/metadata.ts";
import { exactCopyMask } from "../../stats/privacy/exact-copies.ts";
import { exited, killThenResume, storedArtifacts, synthgraphChild } from "./harness.ts";
import { ADULT_EXAMPLE, adultModelInputs, connectionCounter, csvObjects } from "./offline-engines.ts";

export function offlineEngineEndToEnd(a: {
  engine: "copula" | "bayesnet";
  /** The engine's chunk-size flag. */
  chunkFlag: string;
  /** Checks of the engine's SUMMARY.json fields. */
  checkSummary: (summary: Record<string, unknown>, numericColumns: string[], columns: string[]) => void;
}): void {
  const rows = 3000;
  const chunk = 100;
  let dir = "";
  let counter: Awaited<ReturnType<typeof connectionCounter>>;
  let env: Record<string, string> = {};
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `synthgraph-${a.engine}-`));
    counter = await connectionCounter();
    env = { OLLAMA_HOST: counter.url, OPENAI_BASE_URL: `${counter.url}/v1`, OPENAI_API_KEY: "" };
  });
  afterAll(async () => {
    await counter.close();
  });
  const args = (name: string, seed: number): string[] => [
    "generate",
    ADULT_EXAMPLE,
    "--engine",
    a.engine,
    "--rows",
    String(rows),
    "--seed",
    String(seed),
    a.chunkFlag,
    String(chunk),
    "--out",
    join(dir, `${name}.csv`),
    "--json",
    join(dir, `${name}.json`),
    "--run-dir",
    join(dir, name),
  ];
  const run = (name: string, seed: number) => exited(synthgraphChild(args(name, seed), env, dir));
  const csv = (name: string): string => readFileSync(join(dir, `${name}.csv`), "utf8");

  describe(`synthgraph generate --engine ${a.engine} (child process, no model reachable)`, () => {
    it("writes exactly N valid, non-copied rows and SUMMARY.json without touching a model; seeded byte for byte; survives kill -9 mid-sampling", async () => {
      const first = await run("a", 5);
      expect(first.stderr.split("\n")[0]).toMatch(/^synthgraph: run .* \(no model needed\)$/);
      expect(first.code, first.stderr).toBe(0);

      // Exactly N rows, each valid against the real metadata as is (no repair), no exact copy of a real row.
      const real = await adultModelInputs();
      const objects = csvObjects(csv("a"));
      expect(objects).toHaveLength(rows);
      const validate = createRowValidator(real.metadata);
      for (const [i, o] of objects.entries()) {
        const v = validate(o);
        expect(v.ok && v.repairs.length === 0, `row ${i + 1}: ${JSON.stringify(v)}`).toBe(true);
      }
      const synthetic = await readTable(join(dir, "a.csv"), { metadata: metadataToJson(real.metadata) });
      expect(synthetic.table.nRows).toBe(rows);
      expect(exactCopyMask(real.table, synthetic.table).every((m) => m === 0)).toBe(true);

      const summary = JSON.parse(readFileSync(join(dir, "a.json"), "utf8")) as Record<string, unknown>;
      expect(summary).toMatchObject({ rows, engine: a.engine, privacy: { guard: true } });
      expect((summary.usage as { calls: number }).calls).toBe(0);
      const numeric = real.metadata.columns.filter((c) => c.sdtype === "numerical").map((c) => c.name);
      a.checkSummary(
        summary,
        numeric,
        real.metadata.columns.map((c) => c.name),
      );

      // Same seed: the same bytes; another seed: another table.
      expect((await run("b", 5)).code).toBe(0);
      expect(csv("b")).toBe(csv("a"));
      expect((await run("c", 6)).code).toBe(0);
      expect(csv("c")).not.toBe(csv("a"));

      // kill -9 once some chunks are stored (not all 30), then resume: the uninterrupted run's CSV.
      const runDir = join(dir, "d");
      const stored = () => storedArtifacts(runDir, `${a.engine}/sample`);
      await killThenResume({
        env,
        cwd: dir,
        args: args("d", 5),
        runDir,
        stored,
        atLeast: 2,
        below: rows / chunk,
        timeoutMs: 120_000,
        pollMs: 5,
      });
      expect(csv("d")).toBe(csv("a"));
      expect(stored()).toHaveLength(rows / chunk);

      // No model endpoint was ever contacted.
      expect(counter.count()).toBe(0);
    }, 600_000);
  });
}
