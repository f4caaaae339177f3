/**
 * The predicate language (data/predicate/): parsing, checking against metadata, the compiled closures and the
 * row checker against hand-written JS closures per expression (independent of the compiler), canonical text
 * round trips, errors with suggestions, feasibility and narrowing; and a few conditions over Adult compared
 * with closures over the CSV's raw cells.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseIsoDatetime } from "../../data/cells.ts";
import { parseMetadataJson } from "../../data/metadata.ts";
import {
  assertFeasible,
  compilePredicate,
  compilePredicateClosures,
  countMatches,
  describePredicate,
  didYouMean,
  editDistance,
  feasibility,
  InfeasibleConditionError,
  narrowMetadata,
  parsePredicate,
  PredicateError,
  predicateFromNode,
  predicateMask,
  predicateNodeSchema,
  rowSatisfies,
} from "../../data/predicate/index.ts";
import { parseTable, readTable } from "../../data/read.ts";
import { tableToRows } from "../../data/rows.ts";
import type { Metadata, Table } from "../../data/types.ts";
import { DATASETS } from "../support/fixtures.ts";

// ---------------------------------------------------------------------------------------------------------
// The small table: every column kind, missing values in each, a name that is not an identifier.

interface Raw {
  age: number | null; // integer
  bmi: number | null; // float
  sex: string | null; // categorical
  region: string | null; // categorical
  smoker: boolean | null; // boolean, spelled Yes / No in the file
  admitted: string | null; // date
  pay: number | null; // column "default payment next month"
  stage: string | null; // categorical with numeric-looking levels (declared in the metadata)
}

const RAW: Raw[] = [
  { age: 30, bmi: 22.5, sex: "F", region: "north", smoker: true, admitted: "2019-03-01", pay: 0, stage: "1" },
  {
    age: 65,
    bmi: 31.2,
    sex: "M",
    region: "south",
    smoker: false,
    admitted: "2020-01-01",
    pay: 1,
    stage: "4",
  },
  {
    age: null,
    bmi: 27.0,
    sex: "F",
    region: "east",
    smoker: true,
    admitted: "2021-06-15",
    pay: 0,
    stage: "2",
  },
  { age: 80, bmi: null, sex: null, region: "north", smoker: true, admitted: null, pay: 1, stage: "4" },
  { age: 45, bmi: 35.9, sex: "M", region: null, smoker: null, admitted: "2019-12-31", pay: null, stage: "3" },
  {
    age: 60,
    bmi: 18.4,
    sex: "F",
    region: "west",
    smoker: false,
    admitted: "2020-02-29",
    pay: 0,
    stage: null,
  },
  { age: 61, bmi: 25.0, sex: "M", region: "south", smoker: true, admitted: "2022-11-30", pay: 1, stage: "1" },
  { age: 79, bmi: 29.9, sex: "F", region: "east", smoker: false, admitted: "2018-07-04", pay: 0, stage: "2" },
  { age: 18, bmi: 40.1, sex: "M", region: "west", smoker: true, admitted: "2020-01-02", pay: 1, stage: "3" },
  {
    age: 50,
    bmi: 23.3,
    sex: "F",
    region: "north",
    smoker: false,
    admitted: "2023-05-05",
    pay: 0,
    stage: "4",
  },
];

function csvOf(rows: Raw[]): string {
  const cell = (v: unknown): string =>
    v === null ? "" : typeof v === "boolean" ? (v ? "Yes" : "No") : String(v);
  const lines = ["age,bmi,sex,region,smoker,admitted,default payment next month,stage"];
  for (const r of rows) {
    lines.push([r.age, r.bmi, r.sex, r.region, r.smoker, r.admitted, r.pay, r.stage].map(cell).join(","));
  }
  return `${lines.join("\n")}\n`;
}

const { table, metadata } = parseTable(csvOf(RAW), {
  metadata: parseMetadataJson({ columns: { stage: { sdtype: "categorical" } } }),
});

const has = <T>(x: T | null): x is T => x !== null;
const ms = (iso: string): number => (parseIsoDatetime(iso) as { ms: number }).ms;
const date = (r: Raw): number | null => (r.admitted === null ? null : ms(r.admitted));

/** [expression, the hand-written meaning under three-valued logic keeping only true rows]. */
const CASES: Array<[string, (r: Raw) => boolean]> = [
  ["age > 60", (r) => has(r.age) && r.age > 60],
  ["age >= 60", (r) => has(r.age) && r.age >= 60],
  ["age < 60", (r) => has(r.age) && r.age < 60],
  ["age <= 60", (r) => has(r.age) && r.age <= 60],
  ["age == 65", (r) => r.age === 65],
  ["age != 65", (r) => has(r.age) && r.age !== 65],
  ["60 > age", (r) => has(r.age) && r.age < 60],
  ["bmi >= 30.0", (r) => has(r.bmi) && r.bmi >= 30],
  ["bmi < -1", () => false],
  ['sex == "F"', (r) => r.sex === "F"],
  ["sex == 'F'", (r) => r.sex === "F"],
  ['sex != "F"', (r) => has(r.sex) && r.sex !== "F"],
  ['"M" == sex', (r) => r.sex === "M"],
  ['region in ["north", "south"]', (r) => r.region === "north" || r.region === "south"],
  ['region not in ["north", "south"]', (r) => has(r.region) && r.region !== "north" && r.region !== "south"],
  ['not (region in ["north"])', (r) => has(r.region) && r.region !== "north"],
  ["age in [30, 65, 99]", (r) => r.age === 30 || r.age === 65 || r.age === 99],
  ["age not in [30, 65]", (r) => has(r.age) && r.age !== 30 && r.age !== 65],
  [
    'age BETWEEN 60 AND 80 OR region NOT IN ["north"]',
    (r) => (has(r.age) && r.age >= 60 && r.age <= 80) || (has(r.region) && r.region !== "north"),
  ],
  // Longer than the inline limit of the generated code (a Set is used instead).
  ["age in [1, 2, 3, 4, 5, 6, 7, 8, 30, 65]", (r) => r.age === 30 || r.age === 65],
  ["age not in [1, 2, 3, 4, 5, 6, 7, 8, 30, 65]", (r) => has(r.age) && r.age !== 30 && r.age !== 65],
  ["smoker == true", (r) => r.smoker === true],
  ["smoker", (r) => r.smoker === true],
  ['smoker == "Yes"', (r) => r.smoker === true],
  ['smoker == "no"', (r) => r.smoker === false],
  ["smoker == 0", (r) => r.smoker === false],
  ["smoker != true", (r) => r.smoker === false],
  ["not smoker", (r) => r.smoker === false],
  ['admitted >= "2020-01-01"', (r) => has(date(r)) && (date(r) as number) >= ms("2020-01-01")],
  [
    'admitted < "2020-01-01T12:00:00Z"',
    (r) => has(date(r)) && (date(r) as number) < Date.UTC(2020, 0, 1, 12),
  ],
  ['admitted == "2020-02-29"', (r) => r.admitted === "2020-02-29"],
  [
    '"2019-01-01" <= admitted < "2021-01-01"',
    (r) => has(r.admitted) && r.admitted >= "2019-01-01" && r.admitted < "2021-01-01",
  ],
  ["60 <= age <= 80", (r) => has(r.age) && r.age >= 60 && r.age <= 80],
  ["60 < age < 80", (r) => has(r.age) && r.age > 60 && r.age < 80],
  ["80 >= age > 60", (r) => has(r.age) && r.age > 60 && r.age <= 80],
  ["age between 60 and 80", (r) => has(r.age) && r.age >= 60 && r.age <= 80],
  ["between(bmi, 20, 30)", (r) => has(r.bmi) && r.bmi >= 20 && r.bmi <= 30],
  [
    'admitted between "2020-01-01" and "2020-12-31"',
    (r) => has(r.admitted) && r.admitted >= "2020-01-01" && r.admitted <= "2020-12-31",
  ],
  ["not (60 <= age <= 80)", (r) => has(r.age) && (r.age < 60 || r.age > 80)],
  ["`default payment next month` == 1", (r) => r.pay === 1],
  ['col("default payment next month") == 0', (r) => r.pay === 0],
  ["stage == 4", (r) => r.stage === "4"],
  ['stage in ["1", "2"]', (r) => r.stage === "1" || r.stage === "2"],
  ["is_missing(age)", (r) => r.age === null],
  ["not is_missing(bmi)", (r) => r.bmi !== null],
  ["is_missing(smoker) or is_missing(region)", (r) => r.smoker === null || r.region === null],
  // Three-valued logic: not of a test on a missing cell is still unknown, so the row is not kept.
  ["not (age > 60)", (r) => has(r.age) && !(r.age > 60)],
  ["not (age > 60) or is_missing(age)", (r) => r.age === null || r.age <= 60],
  ['not (sex == "F" and age > 60)', (r) => (has(r.sex) && r.sex !== "F") || (has(r.age) && r.age <= 60)],
  ['age > 60 and sex == "F"', (r) => has(r.age) && r.age > 60 && r.sex === "F"],
  ['age > 60 or sex == "F"', (r) => (has(r.age) && r.age > 60) || r.sex === "F"],
  [
    'age > 60 and (sex == "F" or smoker) and not is_missing(bmi)',
    (r) => has(r.age) && r.age > 60 && (r.sex === "F" || r.smoker === true) && r.bmi !== null,
  ],
  [
    'age > 60 && (sex == "M" || !smoker)',
    (r) => has(r.age) && r.age > 60 && (r.sex === "M" || r.smoker === false),
  ],
  // implies(A, B) = not A or B under the same logic: a missing A leaves only "B holds".
  ["implies(age > 60, smoker == false)", (r) => (has(r.age) && r.age <= 60) || r.smoker === false],
  ['not implies(smoker, sex == "F")', (r) => r.smoker === true && has(r.sex) && r.sex !== "F"],
  [
    'implies(region == "north", bmi < 25)',
    (r) => (has(r.region) && r.region !== "north") || (has(r.bmi) && r.bmi < 25),
  ],
];

describe("compiled predicates against hand-written closures", () => {
  const rows = tableToRows(table, metadata);
  it.each(CASES)("%s", (text, expected) => {
    const p = parsePredicate(text, metadata);
    const want = Uint8Array.from(RAW, (r) => (expected(r) ? 1 : 0));
    expect([...predicateMask(p, table)]).toEqual([...want]);
    const test = compilePredicate(p, table);
    expect(RAW.map((_, i) => (test(i) ? 1 : 0))).toEqual([...want]);
    const closures = compilePredicateClosures(p, table);
    expect(RAW.map((_, i) => (closures(i) ? 1 : 0))).toEqual([...want]);
    expect(countMatches(p, table)).toBe(want.reduce((a, b) => a + b, 0));
    // One Row at a time (the LLM boundary), from the table's rows.
    expect(rows.map((r) => (rowSatisfies(p, r, metadata) ? 1 : 0))).toEqual([...want]);
  });

  it("every case selects some rows and leaves some out (so the table can tell right from wrong)", () => {
    const trivial = CASES.filter(([t, f]) => t !== "bmi < -1" && (RAW.every(f) || !RAW.some(f)));
    expect(trivial.map(([t]) => t)).toEqual([]);
  });

  it("canonical text parses back to the same tree, and the tree survives JSON", () => {
    for (const [text] of CASES) {
      const p = parsePredicate(text, metadata);
      const again = parsePredicate(p.toString(), metadata);
      expect(again.root, text).toEqual(p.root);
      const stored = predicateNodeSchema.parse(JSON.parse(JSON.stringify(p)));
      expect(predicateFromNode(stored, metadata).root).toEqual(p.root);
    }
  });

  it("canonical forms", () => {
    const canon = (t: string) => parsePredicate(t, metadata).toString();
    expect(canon("age between 60 and 80")).toBe("60 <= age <= 80");
    expect(canon("80 >= age > 60")).toBe("60 < age <= 80");
    expect(canon('col("default payment next month") == 1')).toBe("`default payment next month` == 1");
    expect(canon('smoker == "Yes" && !(sex == "F")')).toBe('smoker == true and not (sex == "F")');
    expect(canon('region not in ["north"]')).toBe('region not in ["north"]');
    expect(canon("stage == 4")).toBe('stage == "4"');
    expect(canon('"F" == sex')).toBe('sex == "F"');
    expect(canon("(age > 1 or age < 0) and bmi > 2")).toBe("(age > 1 or age < 0) and bmi > 2");
  });

  it("rows from an LLM: labels, strings and unknown values", () => {
    const p = parsePredicate('smoker and sex != "F" and admitted > "2020-01-01"', metadata);
    const row = { age: 70, bmi: 20, sex: "M", region: "north", smoker: true, admitted: "2021-01-01" };
    expect(rowSatisfies(p, row, metadata)).toBe(true);
    expect(rowSatisfies(p, { ...row, smoker: "Yes" }, metadata)).toBe(true);
    expect(rowSatisfies(p, { ...row, smoker: null }, metadata)).toBe(false);
    // A value outside the levels is present and unequal to "F".
    expect(rowSatisfies(p, { ...row, sex: "X" }, metadata)).toBe(true);
    expect(rowSatisfies(p, { ...row, sex: null }, metadata)).toBe(false);
    expect(rowSatisfies(p, { ...row, admitted: "2019-01-01" }, metadata)).toBe(false);
    expect(rowSatisfies(p, { ...row, admitted: "not a date" }, metadata)).toBe(false);
  });

  it("a table without some levels (e.g. generated rows): absent levels match nothing", () => {
    const small: Table = {
      nRows: 3,
      columns: [
        { kind: "categorical", name: "region", codes: Int32Array.from([0, -1, 0]), levels: ["north"] },
      ],
    };
    const mask = (t: string) => [...predicateMask(parsePredicate(t, metadata), small)];
    expect(mask('region == "south"')).toEqual([0, 0, 0]);
    expect(mask('region != "south"')).toEqual([1, 0, 1]);
    expect(mask('region in ["south", "west"]')).toEqual([0, 0, 0]);
    expect(mask('region not in ["south"]')).toEqual([1, 0, 1]);
    expect(mask('region == "north"')).toEqual([1, 0, 1]);
  });

  it("a table coded in another level order reads the same", () => {
    const p = parsePredicate('sex == "F" and region in ["east", "west"]', metadata);
    const sex = table.columns.find((c) => c.name === "sex");
    if (sex === undefined || !("codes" in sex)) throw new Error("sex is coded");
    const flipped = sex.levels.slice().reverse();
    const codes = Int32Array.from(sex.codes, (c) => (c < 0 ? c : flipped.indexOf(sex.levels[c])));
    const other: Table = {
      nRows: table.nRows,
      columns: table.columns.map((c) => (c.name === "sex" ? { ...sex, codes, levels: flipped } : c)),
    };
    expect([...predicateMask(p, other)]).toEqual([...predicateMask(p, table)]);
  });
});

// ---------------------------------------------------------------------------------------------------------

function problemOf(text: string, meta: Metadata = metadata): PredicateError {
  try {
    parsePredicate(text, meta);
  } catch (e) {
    expect(e).toBeInstanceOf(PredicateError);
    return e as PredicateError;
  }
  throw new Error(`"${text}" parsed`);
}

describe("errors", () => {
  it("are exit code 2 with a hint", () => {
    const e = problemOf("agee > 60");
    expect(e.exitCode).toBe(2);
    expect(e.hint).toContain('"age"');
  });

  // [text, column named, message pattern, suggestion]
  const ERRORS: Array<[string, string | undefined, RegExp, string | undefined]> = [
    ["agee > 60", "agee", /unknown column "agee"; did you mean "age"\?/, "age"],
    ["Age > 60", "Age", /did you mean "age"\?/, "age"],
    ['sx == "F"', "sx", /unknown column "sx"; did you mean "sex"\?/, "sex"],
    [
      "`default payment next mnth` == 1",
      "default payment next mnth",
      /did you mean "default payment next month"/,
      "default payment next month",
    ],
    ["salary > 5", "salary", /unknown column "salary"$/, undefined],
    ['sex == "f"', "sex", /"f" is not a level of column "sex"; did you mean "F"\?/, "F"],
    [
      'region in ["north", "suoth"]',
      "region",
      /"suoth" is not a level of column "region"; did you mean "south"\?/,
      "south",
    ],
    ['region == "mars"', "region", /"mars" is not a level of column "region"$/, undefined],
    [
      "sex == 1",
      "sex",
      /column "sex" is categorical: compare it with a quoted level, not the number 1/,
      undefined,
    ],
    ['sex > "F"', "sex", /column "sex" is categorical and has no order/, undefined],
    ['age > "sixty"', "age", /column "age" is numerical: compare it with a number, not "sixty"/, undefined],
    [
      'admitted > "2020-02-30"',
      "admitted",
      /column "admitted" holds dates: compare it with a quoted ISO date/,
      undefined,
    ],
    ["admitted > 2020", "admitted", /column "admitted" holds dates/, undefined],
    ['smoker == "maybe"', "smoker", /column "smoker" is boolean: compare it with true or false/, undefined],
    ["smoker > true", "smoker", /column "smoker" is boolean and has no order/, undefined],
    ["age", "age", /column "age" is numerical, not a condition by itself/, undefined],
    ["bmi == null", "bmi", /is tested with is_missing\(bmi\)/, undefined],
    [
      "default payment next month == 1",
      "default payment next month",
      /"default payment next month" is not one name: a column name with spaces goes in backticks; did you mean `default payment next month`\?/,
      "default payment next month",
    ],
    [
      "60 <= sex <= 80",
      "sex",
      /column "sex" is categorical and has no order, so it cannot be in a range/,
      undefined,
    ],
  ];
  it.each(ERRORS)("%s", (text, column, pattern, suggestion) => {
    const e = problemOf(text);
    expect(e.problems).toHaveLength(1);
    const [p] = e.problems;
    expect(p.message).toMatch(pattern);
    expect(p.column).toBe(column);
    expect(p.suggestion).toBe(suggestion);
    expect(e.message).toContain(p.message);
  });

  it("an assignment suggests ==", () => {
    const e = problemOf("age = 99");
    expect(e.message).toMatch(/"=" at character 5 assigns a value; to compare, write "=="/);
    expect(e.hint).toBe("e.g. age == 99");
  });

  it("several problems are listed together (for one re-ask)", () => {
    const e = problemOf('agee > 60 and sex == "female" and regon == "north"');
    expect(e.problems.map((p) => p.suggestion)).toEqual(["age", undefined, "region"]);
    expect(e.problems.map((p) => p.column)).toEqual(["agee", "sex", "regon"]);
  });

  const SYNTAX: Array<[string, RegExp]> = [
    ["isna(age)", /unknown function isna\(\)/],
    ["is_mising(age)", /unknown function is_mising\(\); did you mean is_missing\(\)\?/],
    ["age > 1 + 2", /is an expression; a condition compares a column with a plain value/],
    ["age > bmi", /compares two columns/],
    ["age > 60 xor bmi > 3", /xor is not part of the condition language/],
    ["age 60", /an operator is missing between "age" and "60"/],
    ["hours per week > 40", /"hours per week" is not one name: a column name with spaces goes in backticks$/],
    ["age > 60; bmi > 2", /a condition is one expression/],
    ["age > 60 and", /syntax error: .*\(character 13\)/],
    ['region not in ["a" and', /syntax error/],
    ["a.b > 1", /reads a property; a column name with dots or spaces goes in backticks/],
    ["`age > 1", /no closing backtick/],
    ['sex == "F', /has no closing "/],
    ["age to 5", /"to" is not part of the condition language/],
    ["age in 5", /the right side of "in" must be a list in brackets/],
    ["age in []", /empty list, which never holds/],
    ["60 < age > 10", /is not a range/],
    ["1 < age < 5 < 9", /chains too many comparisons/],
    ["age > 60 ? 1 : 0", /is not a condition/],
    ["", /the condition is empty/],
    ["between(age, 1)", /between\(\) takes 3 arguments/],
    ["age > Infinity", /not a finite number/],
  ];
  it.each(SYNTAX)("%s", (text, pattern) => {
    expect(problemOf(text).message).toMatch(pattern);
  });

  it("a column named like an operator is quoted with backticks", () => {
    const t = parseTable("in,not,x y\n1,a,2\n3,b,4\n");
    const p = parsePredicate('`in` > 2 and `not` == "a" or `x y` == 4', t.metadata);
    expect(p.toString()).toBe('`in` > 2 and `not` == "a" or `x y` == 4');
    expect([...predicateMask(p, t.table)]).toEqual([0, 1]);
    const q = parsePredicate("`it``s` > 1", parseTable("it`s\n1\n2\n").metadata);
    expect(q.toString()).toBe("`it``s` > 1");
  });
});

describe("suggestions", () => {
  it("edit distance: hand-computed cases", () => {
    expect(editDistance("kitten", "sitting")).toBe(3); // k→s, e→i, +g
    expect(editDistance("abcd", "abdc")).toBe(1); // one adjacent swap
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("flaw", "lawn")).toBe(2); // -f, +n
  });
  it("case first, then the closest within a third of the length", () => {
    expect(didYouMean("FEMALE", ["Male", "Female"])).toBe("Female");
    expect(didYouMean("smokr", ["never smoked", "smokes", "formerly smoked"])).toBe("smokes");
    expect(didYouMean("xyz", ["age", "sex"])).toBeUndefined();
    expect(didYouMean("glucose", ["age", "avg glucose"])).toBe("avg glucose");
    expect(didYouMean("status", ["work status", "marital status"])).toBeUndefined(); // ambiguous
  });
});

// ---------------------------------------------------------------------------------------------------------

describe("feasibility", () => {
  // Real ranges: age 18..80 (integers), bmi 18.4..40.1, admitted 2018-07-04..2023-05-05.
  const INFEASIBLE: Array<[string, string, RegExp, object]> = [
    ["age > 80", "age", /age > 80 is outside the real range 18 to 80/, { realRange: { min: 18, max: 80 } }],
    ["age < 18", "age", /outside the real range 18 to 80/, { realRange: { min: 18, max: 80 } }],
    ["bmi >= 40.2", "bmi", /outside the real range 18.4 to 40.1/, { realRange: { min: 18.4, max: 40.1 } }],
    [
      'admitted < "2018-01-01"',
      "admitted",
      /outside the real range 2018-07-04 to 2023-05-05/,
      { realRange: { min: "2018-07-04", max: "2023-05-05" } },
    ],
    ["age > 60 and age < 50", "age", /age > 60 and age < 50 cannot all hold together/, {}],
    ["60 < age < 61", "age", /no whole number does/, {}],
    ['sex == "F" and sex == "M"', "sex", /sex == "F" and sex == "M" cannot all hold together/, {}],
    ['sex != "F" and sex != "M"', "sex", /leaves none of its levels \("F", "M"\)/, { levels: ["F", "M"] }],
    ['region in ["north", "south"] and region in ["east"]', "region", /cannot all hold together/, {}],
    ["smoker and not smoker", "smoker", /cannot all hold together/, {}],
    ["is_missing(bmi) and bmi > 20", "bmi", /asks for it both missing and present/, {}],
    ["age == 30 and age != 30", "age", /cannot all hold together/, {}],
    ['(age > 85 or bmi > 50) and sex == "F"', "age", /outside the real range/, {}],
  ];
  it.each(INFEASIBLE)("%s", (text, column, pattern, extra) => {
    const p = parsePredicate(text, metadata);
    const r = feasibility(p, metadata, table);
    expect(r.ok).toBe(false);
    const issue = r.errors.find((e) => e.column === column);
    expect(issue?.message).toMatch(pattern);
    expect(issue).toMatchObject(extra);
    expect(() => assertFeasible(p, metadata, table)).toThrow(InfeasibleConditionError);
    try {
      assertFeasible(p, metadata, table);
    } catch (e) {
      expect((e as InfeasibleConditionError).exitCode).toBe(2);
      expect((e as Error).message).toContain(`column "${column}"`);
    }
  });

  it("an or is feasible when one branch is; DNF terms are checked jointly", () => {
    expect(feasibility(parsePredicate("age > 90 or bmi > 30", metadata), metadata).ok).toBe(true);
    // Each or alone is fine; only the combinations are contradictory.
    const p = parsePredicate("(age < 20 or age > 70) and (age > 30 and age < 60)", metadata);
    expect(feasibility(p, metadata).ok).toBe(false);
    const q = parsePredicate(
      '(sex == "F" or sex == "M") and (sex != "F") and (sex != "M" or age > 20)',
      metadata,
    );
    expect(feasibility(q, metadata).ok).toBe(true);
    // implies(A, B) and A and not B is a contradiction.
    const r = parsePredicate("implies(smoker, age > 60) and smoker and age < 40", metadata);
    expect(feasibility(r, metadata).ok).toBe(false);
  });

  it("within ranges but met by no real row: a warning, and the count", () => {
    // Real rows over 70: ages 80 (sex missing) and 79 (F, non-smoker); so "over 70, female smoker" has none.
    const p = parsePredicate('age > 70 and sex == "F" and smoker', metadata);
    const r = feasibility(p, metadata, table);
    expect(r.ok).toBe(true);
    expect(r.realMatches).toBe(0);
    expect(r.warnings.join()).toMatch(/no real row satisfies .* the model has no examples/);
    const q = feasibility(parsePredicate("age > 60", metadata), metadata, table);
    expect(q).toMatchObject({
      ok: true,
      warnings: [],
      realMatches: RAW.filter((x) => (x.age ?? 0) > 60).length,
    });
  });

  it("past the step budget the search stops, assumes feasible and says so", () => {
    // 15 two-way ors, each branch fine, every one of the 2^15 combinations contradicted by the last atom:
    // visiting them all takes more than FEASIBILITY_STEP_BUDGET steps; 3 ors (8 combinations) do not.
    const ors = (k: number) => Array.from({ length: k }, () => "(age < 20 or age < 21)").join(" and ");
    const big = feasibility(parsePredicate(`${ors(15)} and age > 70`, metadata), metadata);
    expect(big.ok).toBe(true);
    expect(big.warnings.join()).toMatch(/too many or-branches to check fully/);
    const small = feasibility(parsePredicate(`${ors(3)} and age > 70`, metadata), metadata);
    expect(small.ok).toBe(false);
    expect(small.warnings).toEqual([]);
  });

  it("is_missing on a column that is never missing in the real data is infeasible", () => {
    const t = parseTable("a,b\n1,x\n2,\n");
    const r = feasibility(parsePredicate("is_missing(a)", t.metadata), t.metadata);
    expect(r.errors[0].message).toMatch(/the real data has no missing "a"/);
    expect(feasibility(parsePredicate("is_missing(b)", t.metadata), t.metadata).ok).toBe(true);
  });
});

describe("narrowMetadata", () => {
  const col = (m: Metadata, name: string) => m.columns.find((c) => c.name === name);

  it("top-level conjunction: levels restricted, integer bounds made whole, missing forbidden", () => {
    const p = parsePredicate('age > 60 and sex == "F" and bmi < 30 and region not in ["north"]', metadata);
    const n = narrowMetadata(p, metadata);
    expect(col(n.metadata, "age")).toMatchObject({ min: 61, max: 80, missingRate: 0 });
    expect(col(n.metadata, "bmi")).toMatchObject({ min: 18.4, max: 30, missingRate: 0 });
    expect(col(n.metadata, "sex")?.levels?.map((l) => l.value)).toEqual(["F"]);
    expect(
      col(n.metadata, "region")
        ?.levels?.map((l) => l.value)
        .sort(),
    ).toEqual(["east", "south", "west"]);
    expect(col(n.metadata, "smoker")).toEqual(col(metadata, "smoker"));
    expect(n.columns.map((c) => c.column)).toEqual(["age", "bmi", "sex", "region"]);
    expect(n.columns.find((c) => c.column === "bmi")).toMatchObject({
      max: 30,
      maxInclusive: false,
      missing: "forbidden",
    });
  });

  it("an or narrows a column only when every branch does, to their union", () => {
    const p = parsePredicate('(age < 30 and sex == "F") or (age > 70 and smoker)', metadata);
    const n = narrowMetadata(p, metadata);
    expect(n.columns.map((c) => c.column)).toEqual(["age"]);
    expect(col(n.metadata, "age")).toMatchObject({ min: 18, max: 80 });
    const q = narrowMetadata(parsePredicate('region == "north" or region == "east"', metadata), metadata);
    expect(
      col(q.metadata, "region")
        ?.levels?.map((l) => l.value)
        .sort(),
    ).toEqual(["east", "north"]);
  });

  it("dates, listed values, booleans and required missing", () => {
    const p = parsePredicate(
      'admitted >= "2020-01-01" and age in [30, 45, 99] and smoker == false and is_missing(stage)',
      metadata,
    );
    const n = narrowMetadata(p, metadata);
    expect(col(n.metadata, "admitted")).toMatchObject({ min: ms("2020-01-01"), max: ms("2023-05-05") });
    expect(n.columns.find((c) => c.column === "age")).toMatchObject({ values: [30, 45], min: 30, max: 45 });
    expect(col(n.metadata, "smoker")?.levels?.map((l) => l.value)).toEqual(["false"]);
    expect(col(n.metadata, "stage")).toMatchObject({ missingRate: 1 });
  });
});

describe("describePredicate", () => {
  it("plain English with names and values quoted", () => {
    const d = (t: string) => describePredicate(parsePredicate(t, metadata));
    expect(d('age > 60 and sex == "F"')).toBe('"age" is greater than 60 and "sex" is "F"');
    expect(d('60 <= age <= 80 or region not in ["north", "south"]')).toBe(
      '"age" is between 60 and 80 (both included) or "region" is none of "north", "south"',
    );
    expect(d("not (age > 60) and not is_missing(bmi)")).toBe('"age" is at most 60 and "bmi" is not missing');
    expect(d("implies(smoker, age >= 18)")).toBe('if "smoker" is true then "age" is at least 18');
    expect(d('`default payment next month` == 1 and (sex == "F" or smoker)')).toBe(
      '"default payment next month" is 1 and ("sex" is "F" or "smoker" is true)',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------

describe("over Adult (32,561 rows), against closures over the raw CSV cells", async () => {
  const path = join(DATASETS, "adult.csv");
  const adult = await readTable(path);
  // Independent of data/read.ts: split the file's lines (Adult has no quoted cells), empty cell = missing.
  const [header, ...lines] = readFileSync(path, "utf8").trim().split("\n");
  const names = header.split(",");
  const cells = lines.map((l) => l.split(",").map((c) => c.trim()));
  const at = (name: string) => names.indexOf(name);
  const num = (row: string[], name: string) => (row[at(name)] === "" ? null : Number(row[at(name)]));
  const str = (row: string[], name: string) => (row[at(name)] === "" ? null : row[at(name)]);

  const ADULT: Array<[string, (r: string[]) => boolean]> = [
    ['age > 60 and sex == "Female"', (r) => (num(r, "age") as number) > 60 && str(r, "sex") === "Female"],
    [
      "`hours-per-week` >= 40 and `capital-gain` > 0",
      (r) => (num(r, "hours-per-week") as number) >= 40 && (num(r, "capital-gain") as number) > 0,
    ],
    [
      'workclass in ["Private", "State-gov"] or is_missing(occupation)',
      (r) => ["Private", "State-gov"].includes(str(r, "workclass") ?? "") || str(r, "occupation") === null,
    ],
    ['workclass != "Private"', (r) => str(r, "workclass") !== null && str(r, "workclass") !== "Private"],
    [
      '30 <= age < 40 and income == ">50K" and `native-country` not in ["United-States"]',
      (r) => {
        const a = num(r, "age") as number;
        const c = str(r, "native-country");
        return a >= 30 && a < 40 && str(r, "income") === ">50K" && c !== null && c !== "United-States";
      },
    ],
    [
      'implies(education == "Doctorate", `education-num` == 16)',
      (r) => str(r, "education") !== "Doctorate" || num(r, "education-num") === 16,
    ],
  ];
  it.each(ADULT)("%s", (text, expected) => {
    const p = parsePredicate(text, adult.metadata);
    const mask = predicateMask(p, adult.table);
    expect(mask.length).toBe(cells.length);
    let mismatches = 0;
    let selected = 0;
    for (let i = 0; i < cells.length; i++) {
      const want = expected(cells[i]) ? 1 : 0;
      selected += want;
      if (mask[i] !== want) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(selected).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe("docs/predicates.md", () => {
  // A table with every column the page's examples name, and the real ranges its messages quote.
  const docCsv = [
    "age,sex,smoking_status,bmi,stroke,hypertension,admitted,hours per week,avg glucose,region,income,hours-per-week,education,education-num,pregnant",
    "18,Female,never smoked,22.5,true,false,2019-01-03,40,80.5,north,<=50K,40,Bachelors,13,false",
    "45,Male,smokes,,false,true,2020-05-01,38,120,south,>50K,50,Doctorate,16,false",
    "61,Female,smokes,31,true,false,2021-07-09,20,99,east,<=50K,45,HS-grad,9,true",
    "67,Male,formerly smoked,27.4,false,true,2022-02-01,0,200.5,north,>50K,60,Doctorate,16,false",
    "72,Female,,35.2,false,false,2020-01-01,45,150,south,<=50K,20,Bachelors,13,false",
    "90,Male,Unknown,19.9,false,true,2023-03-04,50,88,east,<=50K,40,HS-grad,9,false",
  ].join("\n");
  const doc = parseTable(docCsv);
  const page = readFileSync(join(import.meta.dirname, "../../docs/predicates.md"), "utf8");
  const blocks = [...page.matchAll(/```text\n([\s\S]*?)```/g)].map((m) =>
    m[1].split("\n").filter((l) => l !== ""),
  );
  const [examples, errors, infeasible, warning] = blocks;

  it("every example parses, and its canonical form parses back to it", () => {
    expect(examples.length).toBeGreaterThan(3);
    for (const text of examples) {
      const p = parsePredicate(text, doc.metadata);
      expect(parsePredicate(p.toString(), doc.metadata).root).toEqual(p.root);
    }
  });

  // "condition   message": the message (up to a "(hint" aside) is what the error says.
  const split = (line: string) => {
    const m = /^(\S.*?)\s{2,}(.*?)(?:\s+\(hint: .*\))?$/.exec(line);
    if (m === null) throw new Error(`cannot read the docs line ${line}`);
    return [m[1], m[2]] as const;
  };

  it("every error shown is the error given", () => {
    expect(errors.length).toBeGreaterThan(10);
    for (const line of errors.filter((l) => !/^\s/.test(l))) {
      const [text, message] = split(line);
      expect(problemOf(text, doc.metadata).message, text).toContain(message);
    }
  });

  it("every infeasible condition shown is rejected with that message, and the warning is given", () => {
    expect(infeasible.length).toBeGreaterThan(5);
    for (const line of infeasible) {
      const [text, message] = split(line);
      const r = feasibility(parsePredicate(text, doc.metadata), doc.metadata, doc.table);
      expect(r.errors.map((e) => e.message).join("\n"), text).toContain(message);
    }
    const w = feasibility(parsePredicate("age > 85 and stroke", doc.metadata), doc.metadata, doc.table);
    expect(`warning: ${w.warnings[0]}`).toBe(warning[0]);
  });
});
