import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeRowObjects } from "../../data/compact.ts";
import { parseTable, readTable } from "../../data/read.ts";
import { tableToRows } from "../../data/rows.ts";
import type { Metadata } from "../../data/types.ts";
import { createRowValidator, type RowValidation } from "../../data/validate.ts";
import { DATASETS } from "../support/fixtures.ts";

function reasons(v: RowValidation): string[] {
  return v.ok ? [] : v.errors.map((e) => e.reason);
}

describe("createRowValidator on adult.csv", () => {
  let meta: Metadata;
  const good = {
    age: 39,
    workclass: "State-gov",
    fnlwgt: 77516,
    education: "Bachelors",
    "education-num": 13,
    "marital-status": "Never-married",
    occupation: "Adm-clerical",
    relationship: "Not-in-family",
    race: "White",
    sex: "Male",
    "capital-gain": 2174,
    "capital-loss": 0,
    "hours-per-week": 40,
    "native-country": "United-States",
    income: "<=50K",
  };
  beforeAll(async () => {
    meta = (await readTable(join(DATASETS, "adult.csv"))).metadata;
  });

  it("accepts a real row unchanged with no repairs", () => {
    expect(createRowValidator(meta)(good)).toEqual({ ok: true, row: good, repairs: [] });
  });

  it("coerces reasonable forms", () => {
    const v = createRowValidator(meta)({
      ...good,
      age: "53",
      fnlwgt: "77516.0",
      sex: " Male ",
      race: "white",
      "hours-per-week": 40.0,
    });
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.row.age).toBe(53);
    expect(v.row.fnlwgt).toBe(77516);
    expect(v.row.sex).toBe("Male");
    expect(v.row.race).toBe("White");
    expect(v.repairs).toEqual(['race: "white" read as "White"']);
  });

  it("rejects with precise reasons", () => {
    const v = createRowValidator(meta)({
      ...good,
      age: 212,
      workclass: "Spacecraft",
      "hours-per-week": 40.5,
      "capital-loss": -1,
    });
    expect(reasons(v)).toEqual([
      "age: 212 is above the real maximum 90",
      'workclass: "Spacecraft" is not one of 8 categories',
      "capital-loss: -1 is below the real minimum 0",
      "hours-per-week: 40.5 is not an integer",
    ]);
    expect(v.ok === false && v.errors[0]).toEqual({
      column: "age",
      value: 212,
      reason: "age: 212 is above the real maximum 90",
    });
  });

  it("rejects a missing column (no value is invented), even when an unknown key is there too", () => {
    const { sex: _sex, ...noSex } = good;
    expect(reasons(createRowValidator(meta)({ ...noSex, foo: 1 }))).toEqual(['missing column "sex"']);
  });

  it("drops a key that names no column, keeping the row, and reports it as the decoder does", () => {
    const v = createRowValidator(meta)({ name: "Ann", ...good, foo: 1 });
    expect(v).toEqual({
      ok: true,
      row: good,
      repairs: ['dropped unknown column "name"', 'dropped unknown column "foo"'],
    });
    // data/compact.ts drops the same keys with the same words.
    const decoded = decodeRowObjects(
      meta.columns.map((c) => c.name),
      [{ name: "Ann", ...good, foo: 1 }],
    ).items[0];
    expect(decoded.problems).toEqual([]);
    expect(decoded.repairs).toEqual(v.ok ? v.repairs : []);
    expect(decoded.row).toEqual(good);
  });

  it("renames a column whose name differs only in case, and reports it", () => {
    const { age: _age, ...rest } = good;
    const v = createRowValidator(meta)({ ...rest, AGE: 30 });
    expect(v.ok && v.row.age).toBe(30);
    expect(v.ok && v.repairs).toEqual(['column "AGE" read as "age"']);
  });

  it("missing markers become null; reported where the real column had none", () => {
    const v = createRowValidator(meta)({ ...good, workclass: "?", age: "NA", sex: null });
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect([v.row.workclass, v.row.age, v.row.sex]).toEqual([null, null, null]);
    expect(v.repairs).toEqual([
      "age: missing, but the real column has no missing values",
      "sex: missing, but the real column has no missing values",
    ]);
  });

  it("options: no min/max, rounding instead of rejecting, new categories", () => {
    const v = createRowValidator(meta, {
      enforceMinMax: false,
      enforceRounding: false,
      allowNewCategories: true,
    })({
      ...good,
      age: 212,
      "hours-per-week": 40.5,
      workclass: " Spacecraft ",
    });
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect([v.row.age, v.row["hours-per-week"], v.row.workclass]).toEqual([212, 41, "Spacecraft"]);
    expect(v.repairs).toEqual(['workclass: new category "Spacecraft"', "hours-per-week: 40.5 rounded to 41"]);
  });

  it("rejects non-objects and wrong JSON types", () => {
    expect(reasons(createRowValidator(meta)([1, 2]))).toEqual(["the row is not a JSON object: an array"]);
    expect(reasons(createRowValidator(meta)("row"))).toEqual(['the row is not a JSON object: "row"']);
    expect(reasons(createRowValidator(meta)({ ...good, age: "old", sex: { a: 1 }, fnlwgt: true }))).toEqual([
      'age: "old" is not a number',
      "fnlwgt: true is not a number",
      "sex: an object is not a category",
    ]);
  });

  it("every real row validates unchanged", async () => {
    const r = await readTable(join(DATASETS, "adult.csv"));
    const validate = createRowValidator(r.metadata);
    const rows = tableToRows(r.table, r.metadata);
    let bad = 0;
    for (const row of rows) {
      const v = validate(row);
      if (!v.ok || v.repairs.length > 0) bad++;
    }
    expect(bad).toBe(0);
  });
});

describe("createRowValidator: booleans, datetimes, ids, ambiguity", () => {
  const { metadata } = parseTable(
    "id,ok,day,ts,grade\n" +
      "a,yes,2021-01-01,2021-01-01T10:00:00Z,A\n" +
      "b,no,2021-06-30,2021-01-02T10:00:00Z,a\n" +
      "c,yes,,2021-01-03T10:00:00Z,B\n",
    { metadata: { columns: { id: { sdtype: "id" } } } },
  );
  const validate = createRowValidator(metadata);
  const base = { id: "x", ok: true, day: "2021-03-01", ts: "2021-01-02T00:00:00Z", grade: "B" };

  it("booleans from many spellings", () => {
    for (const [input, out] of [
      ["Yes", true],
      ["yes", true],
      [true, true],
      ["TRUE", true],
      [1, true],
      ["no", false],
      [0, false],
      ["F", false],
    ] as const) {
      const v = validate({ ...base, ok: input });
      expect(v.ok && v.row.ok).toBe(out);
    }
    expect(reasons(validate({ ...base, ok: "maybe" }))).toEqual(['ok: "maybe" is not true or false']);
    expect(reasons(validate({ ...base, ok: 2 }))).toEqual(["ok: 2 is not true or false"]);
  });

  it("datetimes: normalized to the column form, range-checked", () => {
    const v = validate({ ...base, day: "2021-03-01T00:00:00", ts: "2021-01-02 12:30:00+02:00" });
    expect(v.ok && [v.row.day, v.row.ts]).toEqual(["2021-03-01", "2021-01-02T10:30:00Z"]);
    expect(reasons(validate({ ...base, day: "2030-01-01" }))).toEqual([
      "day: 2030-01-01 is after the real maximum 2021-06-30",
    ]);
    expect(reasons(validate({ ...base, ts: "2020-01-01T00:00:00Z" }))).toEqual([
      "ts: 2020-01-01T00:00:00Z is before the real minimum 2021-01-01T10:00:00Z",
    ]);
    expect(reasons(validate({ ...base, day: "01/03/2021" }))).toEqual([
      'day: "01/03/2021" is not an ISO date (YYYY-MM-DD)',
    ]);
    expect(reasons(validate({ ...base, day: "2021-03-01T08:00:00" }))).toEqual([
      'day: "2021-03-01T08:00:00" has a time of day, but the column holds dates',
    ]);
    const missing = validate({ ...base, day: "" });
    expect(missing.ok && [missing.row.day, missing.repairs]).toEqual([null, []]); // the real column had missing days
  });

  it("ids may be absent and are never range-checked", () => {
    const { id: _id, ...noId } = base;
    const v = validate(noId);
    expect(v.ok && v.row.id).toBe(null);
    const n = validate({ ...base, id: 17 });
    expect(n.ok && n.row.id).toBe("17");
  });

  it("a case-insensitive match to several categories is ambiguous, an exact one is not", () => {
    expect(validate({ ...base, grade: "a" }).ok).toBe(true);
    expect(validate({ ...base, grade: "A" }).ok).toBe(true);
    expect(reasons(validate({ ...base, grade: "b" })).length).toBe(0);
    const ambiguous = createRowValidator(parseTable("g\nAb\naB\nab\n").metadata);
    expect(ambiguous({ g: "ab" }).ok).toBe(true);
    expect(reasons(ambiguous({ g: "AB" }))).toEqual([
      'g: "AB" matches several categories when case is ignored',
    ]);
  });
});

describe("createRowValidator: float columns keep the real decimals (insurance.csv)", () => {
  let meta: Metadata;
  // bmi has 3 decimals in the real data (min 15.96, max 53.13), charges 6; age is an integer column.
  const good = {
    age: 30,
    sex: "male",
    bmi: 27.9,
    children: 0,
    smoker: true,
    region: "southeast",
    charges: 16884.924,
  };
  beforeAll(async () => {
    meta = (await readTable(join(DATASETS, "insurance.csv"))).metadata;
  });

  it("a value with no more decimals than the real column is kept, with no repair", () => {
    expect(createRowValidator(meta)(good)).toEqual({ ok: true, row: good, repairs: [] });
  });

  it("more decimals than the real column: rounded (ties to even) and reported, not rejected", () => {
    const v = createRowValidator(meta)({ ...good, bmi: 27.123456, charges: "1234.56789012" });
    expect(v).toEqual({
      ok: true,
      row: { ...good, bmi: 27.123, charges: 1234.56789 },
      repairs: [
        "bmi: 27.123456 rounded to 27.123 (3 decimals, as in the real data)",
        "charges: 1234.56789012 rounded to 1234.56789 (6 decimals, as in the real data)",
      ],
    });
    const sum = createRowValidator(meta)({ ...good, bmi: 30.1 + 0.2 }); // 30.300000000000004
    expect(sum.ok && sum.row.bmi).toBe(30.3);
  });

  it("the range is checked on the rounded value", () => {
    const inside = createRowValidator(meta)({ ...good, bmi: 53.1304 });
    expect(inside.ok && inside.row.bmi).toBe(53.13);
    expect(reasons(createRowValidator(meta)({ ...good, bmi: 53.1306 }))).toEqual([
      "bmi: 53.131 is above the real maximum 53.13",
    ]);
  });

  it("integer columns still reject fractions; enforceRounding false keeps float values as given", () => {
    expect(reasons(createRowValidator(meta)({ ...good, age: 30.5 }))).toEqual([
      "age: 30.5 is not an integer",
    ]);
    const loose = createRowValidator(meta, { enforceRounding: false })({ ...good, bmi: 27.123456 });
    expect(loose).toEqual({ ok: true, row: { ...good, bmi: 27.123456 }, repairs: [] });
  });
});
