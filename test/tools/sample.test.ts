/**
 * The sample tool through `tool.invoke`: offline engines draw conditional rows in the call (every row meets its
 * group's condition, exact counts per group, none copies a real row, the same seed gives the same rows), LLM
 * engines start a conditional run whose id comes back at once (scripted loopback model: the generic responder,
 * which meets a condition stated in a prompt for 70 % of the rows, so the code's check has rows to reject), and
 * bad requests are errors. References: realRows() of test/support/harness.ts filtered by hand-written
 * JavaScript tests of the same conditions, the predicate parser's canonical text, and the CSV read back.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { beforeAll, describe, expect, it } from "vitest";
import { metadataToJson } from "../../data/metadata.ts";
import { parsePredicate, predicateMask } from "../../data/predicate/index.ts";
import { readTable } from "../../data/read.ts";
import { tableToRows } from "../../data/rows.ts";
import type { Row } from "../../data/types.ts";
import { synthgraphTools } from "../../tools/index.ts";
import { RunStatusOutput } from "../../tools/runs.ts";
import { MAX_INLINE_ROWS, SampleOutput } from "../../tools/sample.ts";
import { genericResponder, readRealView } from "../support/generic-responder.ts";
import { loopbackModels, type RealRow, realRows, useLlmServer, writeRealCsv } from "../support/harness.ts";
import { commaTable } from "../support/tables.ts";

const server = useLlmServer();
const ADULT = resolve(import.meta.dirname, "../../examples/adult.csv");
// Weights written with a decimal comma, text unless read with decimal "," (test/support/tables.ts).
const COMMAS = commaTable();

let root: string;
let tools: StructuredToolInterface[];

const named = (name: string): StructuredToolInterface => {
  const t = tools.find((x) => x.name === name);
  if (!t) throw new Error(`no tool ${name}`);
  return t;
};
const sample = async (input: Record<string, unknown>) =>
  SampleOutput.parse(JSON.parse((await named("sample").invoke({ data: "real.csv", ...input })) as string));

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "sample-root-"));
  writeRealCsv(root);
  mkdirSync(join(root, "adult"));
  copyFileSync(ADULT, join(root, "adult", "adult.csv"));
  writeFileSync(join(root, "commas.csv"), COMMAS.csv);
  tools = synthgraphTools({ root, env: {}, models: loopbackModels(server, "ollama") });
});

const key = (r: Record<string, unknown>): string => JSON.stringify([r.age, r.sex, r.hours, r.income]);
const REAL_KEYS = new Set(realRows().map((r) => key(r as unknown as Record<string, unknown>)));
const asRows = (rows: unknown): RealRow[] => rows as RealRow[];

/** A CSV under the root read back as rows, with the real table's column types. */
async function readBack(file: string): Promise<Row[]> {
  const real = await readTable(join(root, "real.csv"));
  const t = await readTable(join(root, file), { metadata: metadataToJson(real.metadata) });
  return tableToRows(t.table, t.metadata);
}

describe("sample with an offline engine: rows drawn in the call", () => {
  it("bayesnet, one where: exactly N rows, all meeting it, no real row copied, reproducible by seed", async () => {
    const where = "age > 40 && sex == 'Female'";
    const out = await sample({ engine: "bayesnet", where, rows: 30, seed: 3 });
    expect(out).toMatchObject({ mode: "rows", status: "done", engine: "bayesnet", rows_requested: 30 });
    expect(out.run_id).toBeNull();
    expect(out.out).toBeNull();
    // realRows: age 20+i, Female for even i, so ages 42, 44, ..., 58 are the real rows meeting it.
    const realMatches = realRows().filter((r) => r.age > 40 && r.sex === "Female").length;
    expect(realMatches).toBe(9);
    expect(out.groups).toEqual([
      { where: 'age > 40 and sex == "Female"', rows: 30, real_matches: realMatches },
    ]);
    const rows = asRows(out.rows);
    expect(rows).toHaveLength(30);
    expect(rows.every((r) => r.age > 40 && r.sex === "Female")).toBe(true);
    expect(rows.every((r) => Number.isInteger(r.age) && r.age <= 59)).toBe(true);
    expect(rows.filter((r) => REAL_KEYS.has(key(r as unknown as Record<string, unknown>)))).toEqual([]);
    expect(out.exact_copies_removed).toBeGreaterThanOrEqual(0);
    expect(out.notes[0]).toBe(
      'condition: 30 rows where age > 40 and sex == "Female"  (9 of 40 real rows satisfy it)',
    );

    const again = await sample({ engine: "bayesnet", where, rows: 30, seed: 3 });
    expect(again.rows).toEqual(out.rows);
    const other = await sample({ engine: "bayesnet", where, rows: 30, seed: 4 });
    expect(other.rows).not.toEqual(out.rows);
  });

  it("copula, where and conditions together: each group meets both, exact counts group after group, CSV written", async () => {
    const out = await sample({
      engine: "copula",
      where: "hours > 25",
      conditions: [
        { where: 'sex == "Female"', rows: 10 },
        { where: 'sex == "Male" and income == ">50K"', rows: 15 },
      ],
      rows: 25,
      out: "groups.csv",
      seed: 1,
    });
    const realView = await readTable(join(root, "real.csv"));
    const canonical = (t: string): string => parsePredicate(t, realView.metadata).toString();
    expect(out.groups.map((g) => [g.where, g.rows])).toEqual([
      [canonical('hours > 25 and sex == "Female"'), 10],
      [canonical('hours > 25 and sex == "Male" and income == ">50K"'), 15],
    ]);
    expect(out.groups.map((g) => g.real_matches)).toEqual([
      realRows().filter((r) => r.hours > 25 && r.sex === "Female").length,
      realRows().filter((r) => r.hours > 25 && r.sex === "Male" && r.income === ">50K").length,
    ]);
    const rows = asRows(out.rows);
    expect(rows).toHaveLength(25);
    expect(rows.slice(0, 10).every((r) => r.hours > 25 && r.sex === "Female")).toBe(true);
    expect(rows.slice(10).every((r) => r.hours > 25 && r.sex === "Male" && r.income === ">50K")).toBe(true);
    expect(out.out).toBe(join(root, "groups.csv"));
    // The CSV holds the same rows, in the same order.
    expect(await readBack("groups.csv")).toEqual(rows);
  });

  it("copula with decimal ',': the comma weights are fitted and drawn as numbers, the condition on them met", async () => {
    const out = await sample({
      data: "commas.csv",
      engine: "copula",
      where: "weight > 5",
      rows: 12,
      decimal: ",",
    });
    // The real weights read with "," as the decimal mark, filtered by hand.
    expect(out.groups).toEqual([
      { where: "weight > 5", rows: 12, real_matches: COMMAS.weights.filter((w) => w > 5).length },
    ]);
    const weights = (out.rows as Array<{ weight: unknown }>).map((r) => r.weight);
    expect(weights).toHaveLength(12);
    for (const w of weights) {
      expect(w).toBeTypeOf("number");
      expect(w).toBeGreaterThan(5);
      expect(w).toBeLessThanOrEqual(Math.max(...COMMAS.weights));
    }
    // Read without decimal the weights are text levels ("1,100" … "9,114"): a numeric comparison is refused.
    await expect(
      named("sample").invoke({ data: "commas.csv", engine: "copula", where: "weight > 5", rows: 12 }),
    ).rejects.toThrow(/weight/);
  });

  it(`above ${MAX_INLINE_ROWS} rows the rows go to out only, and out is required`, async () => {
    const n = MAX_INLINE_ROWS + 200;
    await expect(
      named("sample").invoke({ data: "real.csv", engine: "bayesnet", where: "age >= 30", rows: n }),
    ).rejects.toThrow(/more than the 1000 returned in a result.*give out/);
    const out = await sample({ engine: "bayesnet", where: "age >= 30", rows: n, out: "big.csv" });
    expect(out.rows).toBeUndefined();
    const csv = asRows(await readBack("big.csv"));
    expect(csv).toHaveLength(n);
    expect(csv.every((r) => r.age >= 30)).toBe(true);
  });
});

describe("sample with an LLM engine: a conditional run in the background", () => {
  it("synthia returns a run id at once; the run writes exactly N rows that all meet the condition", async () => {
    const view = await readRealView(join(root, "adult", "adult.csv"), "income");
    server.setDefault(genericResponder(view).respond);
    const where = 'age >= 30 and age <= 50 and sex == "Female"';
    const out = await sample({
      data: "adult/adult.csv",
      where,
      rows: 20,
      target: "income",
      seed: 7,
      max_iterations: 1,
      probe_rows: 10,
      batch_rows: 10,
      examples: 8,
    });
    const canonical = parsePredicate(where, view.metadata).toString();
    expect(out).toMatchObject({ mode: "run", status: "running", engine: "synthia", rows_requested: 20 });
    // Brute force over the real rows: women aged 30 to 50.
    const adult = await readTable(join(root, "adult", "adult.csv"));
    const matches = tableToRows(adult.table, adult.metadata).filter(
      (r) => (r.age as number) >= 30 && (r.age as number) <= 50 && r.sex === "Female",
    ).length;
    expect(out.groups).toEqual([{ where: canonical, rows: 20, real_matches: matches }]);
    expect(out.rows).toBeUndefined();
    expect(out.run_dir).toBe(join(root, "runs", out.run_id as string));
    expect(out.out).toBe(join(root, "runs", out.run_id as string, "output.csv"));
    let status = RunStatusOutput.parse(
      JSON.parse((await named("run_status").invoke({ run_id: out.run_id })) as string),
    );
    for (let i = 0; i < 60 && status.status === "running"; i++) {
      status = RunStatusOutput.parse(
        JSON.parse((await named("run_status").invoke({ run_id: out.run_id, wait_seconds: 5 })) as string),
      );
    }
    expect(status).toMatchObject({
      status: "done",
      conditions: [{ where: canonical, rows: 20 }],
      output: out.out,
      error: null,
    });
    const back = await readTable(out.out as string, { metadata: metadataToJson(view.metadata) });
    expect(back.table.nRows).toBe(20);
    expect([...predicateMask(parsePredicate(where, view.metadata), back.table)]).toEqual(
      new Array(20).fill(1),
    );
  }, 120_000);
});

describe("sample with bad input: a tool error, and nothing is generated", () => {
  const bad = (input: Record<string, unknown>) => named("sample").invoke({ data: "real.csv", ...input });
  it("refuses requests without a condition or with inconsistent counts", async () => {
    await expect(bad({ rows: 5, engine: "copula" })).rejects.toThrow(/needs a condition.*start_run/);
    await expect(bad({ where: "age > 30", engine: "copula" })).rejects.toThrow(/rows is required with where/);
    await expect(
      bad({
        engine: "copula",
        rows: 7,
        conditions: [
          { where: "age > 30", rows: 5 },
          { where: "age < 30", rows: 3 },
        ],
      }),
    ).rejects.toThrow(/rows 7 disagrees with the conditions, whose groups ask for 8 rows \(5 \+ 3\)/);
    await expect(bad({ engine: "copula", where: "age > 30", rows: 60_000, out: "x.csv" })).rejects.toThrow(
      /more than the 50000/,
    );
    await expect(bad({ engine: "copula", conditions: [] })).rejects.toThrow(/schema/i);
    await expect(bad({ engine: "gan", where: "age > 30", rows: 5 })).rejects.toThrow(/schema/i);
  });

  it("refuses an unknown column or level, and a condition no value can meet, before any model call", async () => {
    const before = server.stats.requests;
    await expect(bad({ where: "agee > 30", rows: 5, out: "o.csv" })).rejects.toThrow(/did you mean "age"/);
    await expect(bad({ where: 'sex == "Other"', rows: 5, out: "o.csv" })).rejects.toThrow(
      /not a level of column "sex"/,
    );
    // realRows: ages 20..59.
    await expect(bad({ where: "age > 100", rows: 5, out: "o.csv" })).rejects.toThrow(
      /can never hold.*outside the real range 20 to 59/,
    );
    await expect(
      bad({
        engine: "bayesnet",
        conditions: [
          { where: "age > 30", rows: 2 },
          { where: "age > 50 and age < 40", rows: 2 },
        ],
      }),
    ).rejects.toThrow(/can never hold/);
    expect(server.stats.requests).toBe(before);
  });

  it("refuses paths outside the root", async () => {
    await expect(bad({ data: "../real.csv", where: "age > 30", rows: 5, engine: "copula" })).rejects.toThrow(
      /outside the root/,
    );
    await expect(
      bad({ where: "age > 30", rows: 5, engine: "copula", out: "/tmp/escape.csv" }),
    ).rejects.toThrow(/outside the root/);
    expect(readFileSync(join(root, "real.csv"), "utf8").split("\n")[0]).toBe("age,sex,hours,income");
  });
});
