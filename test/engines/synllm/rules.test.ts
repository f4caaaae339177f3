/**
 * Rule calibration on the shared diabetes.csv (100,000 rows): the example, HbA1c > 6.5 ⇒ diabetes,
 * is broken by 7,857 of the 12,435 rows whose HbA1c exceeds 6.5 (counts from the CSV text here, independently
 * of the predicate compiler) and must be demoted; the inferred range rules hold on every real row. Also the
 * rules-file syntax (comments, errors naming the line).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readTable } from "../../../data/read.ts";
import type { Metadata, Table } from "../../../data/types.ts";
import { calibrateRules, inferRules, parseRules, ruleFilter } from "../../../engines/synllm/rules.ts";
import { DATASETS } from "../../support/fixtures.ts";

const PATH = join(DATASETS, "diabetes.csv");
let table: Table;
let metadata: Metadata;
let premise = 0;
let broken = 0;

beforeAll(async () => {
  ({ table, metadata } = await readTable(PATH));
  const lines = readFileSync(PATH, "utf8").trimEnd().split("\n").slice(1);
  for (const l of lines) {
    const c = l.split(",");
    if (Number(c[6]) > 6.5) {
      premise++;
      if (c[8] === "0") broken++;
    }
  }
});

describe("calibrateRules on diabetes.csv", () => {
  it("demotes HbA1c > 6.5 ⇒ diabetes with the real counts, keeps the ranges hard", () => {
    expect([premise, broken]).toEqual([12435, 7857]);
    const specs = [
      ...parseRules("implies(HbA1c_level > 6.5, diabetes == 1)   # ADA\n\n# comment only\n", metadata),
      ...inferRules(table, metadata),
    ];
    const rules = calibrateRules(specs, table, metadata, 0.005);
    const ada = rules.find((r) => r.source === "file");
    expect(ada).toMatchObject({ hard: false, broken, premise, share: broken / table.nRows });
    const ranges = rules.filter((r) => r.source === "range");
    expect(ranges.map((r) => r.text)).toEqual([
      "0.08 <= age <= 80",
      "0 <= hypertension <= 1",
      "0 <= heart_disease <= 1",
      "10.01 <= bmi <= 95.69",
      "3.5 <= HbA1c_level <= 9",
      "80 <= blood_glucose_level <= 300",
      "0 <= diabetes <= 1",
    ]);
    for (const r of ranges) expect(r).toMatchObject({ hard: true, broken: 0 });
    // A share threshold above the rule's share keeps it hard.
    expect(calibrateRules(specs.slice(0, 1), table, metadata, 0.08)[0].hard).toBe(true);
  });

  it("the row filter rejects a row breaking a hard rule and names the rule; soft rules are not enforced", () => {
    const rules = calibrateRules(
      [...parseRules("implies(HbA1c_level > 6.5, diabetes == 1)", metadata), ...inferRules(table, metadata)],
      table,
      metadata,
      0.005,
    );
    const breaks = ruleFilter(rules, metadata);
    const row = {
      gender: "Female",
      age: 50,
      hypertension: 0,
      heart_disease: 0,
      smoking_history: "never",
      bmi: 25,
      HbA1c_level: 7,
      blood_glucose_level: 140,
      diabetes: 0,
    };
    expect(breaks(row)).toBeNull(); // breaks only the soft rule
    expect(breaks({ ...row, age: 81 })).toBe("0.08 <= age <= 80");
  });
});

describe("parseRules", () => {
  it("skips comments and blank lines, and reports every bad line by its number", () => {
    const t = '# header\n\nsmoking_history != "never" # trailing\n';
    expect(parseRules(t, metadata).map((r) => r.text)).toEqual(['smoking_history != "never"']);
    expect(() => parseRules("age > 1\nagee > 60\nage > 2\nsex == 1\n", metadata, "r.txt")).toThrow(
      /2 rule\(s\) do not parse:\n  r\.txt line 2: unknown column "agee".*\n  r\.txt line 4: unknown column "sex"/,
    );
  });
});
