import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isNumeric } from "../../data/build.ts";
import { DataError } from "../../data/errors.ts";
import { parseTable, readTable } from "../../data/read.ts";
import type { CodedColumn, Column, ColumnMeta, NumericColumn, Table } from "../../data/types.ts";
import { DATASETS } from "../support/fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "synthgraph-read-"));

function fileWith(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function col(t: Table, name: string): Column {
  const c = t.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}`);
  return c;
}

function num(t: Table, name: string): number[] {
  const c = col(t, name);
  if (!isNumeric(c)) throw new Error(`${name} is not numeric`);
  return Array.from((c as NumericColumn).values);
}

function text(t: Table, name: string): Array<string | null> {
  const c = col(t, name) as CodedColumn;
  return Array.from(c.codes, (k) => (k < 0 ? null : c.levels[k]));
}

function meta(m: { columns: readonly ColumnMeta[] }, name: string): ColumnMeta {
  const c = m.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}`);
  return c;
}

async function dataError(p: Promise<unknown> | (() => unknown)): Promise<DataError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error("expected a DataError");
}

describe("readTable: bad and unusual input", () => {
  it("rejects an empty file, naming it", async () => {
    const path = fileWith("empty.csv", "");
    const e = await dataError(readTable(path));
    expect(e.message).toContain(path);
    expect(e.message).toContain("empty");
  });

  it("rejects a file of blank lines as empty", async () => {
    await dataError(readTable(fileWith("blank.csv", "\n  \n\r\n")));
  });

  it("rejects a header-only file (no data rows)", async () => {
    const path = fileWith("header.csv", "a,b,c\n");
    const e = await dataError(readTable(path));
    expect(e.message).toContain("header row but no data rows");
    expect(e.file).toBe(path);
  });

  it("rejects ragged rows naming file, line, row and expected vs found field count", async () => {
    const path = fileWith("ragged.csv", "a,b,c\n1,2,3\n4,5\n");
    const e = await dataError(readTable(path));
    expect(e.file).toBe(path);
    expect(e.row).toBe(3); // spreadsheet row: header is row 1
    expect(e.message).toContain("line 3");
    expect(e.message).toContain("expected 3 fields");
    expect(e.message).toContain("found 2");
  });

  it("rejects a row with too many fields", async () => {
    const e = await dataError(() => parseTable("a,b\n1,2\n3,4\n5,6,7\n", { source: "x.csv" }));
    expect(e.row).toBe(4);
    expect(e.message).toContain("expected 2 fields");
    expect(e.message).toContain("found 3");
  });

  it("rejects duplicate column names, naming them", async () => {
    const e = await dataError(() => parseTable("a,b,a,c,b\n1,2,3,4,5\n", { source: "dup.csv" }));
    expect(e.message).toContain('"a"');
    expect(e.message).toContain('"b"');
    expect(e.message).not.toContain('"c"');
  });

  it("strips a UTF-8 BOM (bytes and string)", async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("age,sex\n30,M\n")]);
    const r = await readTable(fileWith("bom.csv", bytes));
    expect(r.table.columns.map((c) => c.name)).toEqual(["age", "sex"]);
    expect(parseTable("\ufeffage\n1\n").table.columns[0].name).toBe("age");
  });

  it("reads CRLF line ends", async () => {
    const r = await readTable(fileWith("crlf.csv", "x,y\r\n1,a\r\n2,b\r\n"));
    expect(num(r.table, "x")).toEqual([1, 2]);
    expect(text(r.table, "y")).toEqual(["a", "b"]);
  });

  it("reads mixed LF, CRLF and CR line ends", () => {
    const r = parseTable("a,b\r\n1,2\n3,4\r5,6\r\n");
    expect(num(r.table, "b")).toEqual([2, 4, 6]);
  });

  it("rejects non-UTF-8 bytes naming line and byte offset, suggesting re-encoding", async () => {
    // "name\nJosé\n" in Latin-1: é = 0xE9 at byte offset 8 on line 2.
    const bytes = Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x0a, 0x4a, 0x6f, 0x73, 0xe9, 0x0a]);
    const path = fileWith("latin1.csv", bytes);
    const e = await dataError(readTable(path));
    expect(e.file).toBe(path);
    expect(e.row).toBe(2);
    expect(e.message).toContain("byte offset 8");
    expect(e.message).toContain("0xE9");
    expect(e.hint).toContain("UTF-8");
  });

  it("finds the offset of an encoded surrogate after a valid two-byte character", async () => {
    // valid "é" (C3 A9) then an encoded surrogate ED A0 80 at offset 4.
    const bytes = Buffer.from([0x61, 0x0a, 0xc3, 0xa9, 0xed, 0xa0, 0x80, 0x0a]);
    const e = await dataError(() => parseTable(bytes));
    expect(e.message).toContain("byte offset 4");
  });

  it("reads a one-row table", () => {
    const r = parseTable("age,sex,score\n39,Male,1.5\n");
    expect(r.table.nRows).toBe(1);
    expect(meta(r.metadata, "age")).toMatchObject({ sdtype: "numerical", integer: true, min: 39, max: 39 });
    expect(meta(r.metadata, "sex")).toMatchObject({
      sdtype: "categorical",
      levels: [{ value: "Male", count: 1 }],
    });
    expect(meta(r.metadata, "score")).toMatchObject({ sdtype: "numerical", integer: false });
  });

  it("reads an all-missing column as numerical with a warning", () => {
    const r = parseTable("a,b\n1,\n2,NA\n3,?\n");
    const b = meta(r.metadata, "b");
    expect(b.sdtype).toBe("numerical");
    expect(b.missingRate).toBe(1);
    expect(b.min).toBeUndefined();
    expect(num(r.table, "b").every(Number.isNaN)).toBe(true);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('column "b" has no values');
  });

  it("reads every missing marker, trimmed and case-insensitive, but keeps quoted text", () => {
    const r = parseTable('v,w\n1,a\n,b\nNA,c\nn/a,d\nNaN,e\nnull,f\nNone,g\n?,h\n  na ,i\n"NA x",j\n');
    const v = text(r.table, "v");
    expect(v.filter((x) => x === null)).toHaveLength(8);
    expect(meta(r.metadata, "v").sdtype).toBe("categorical"); // "NA x" is text
    expect(v[9]).toBe("NA x");
  });

  it("reads a categorical with 10,000 levels", () => {
    const lines = ["city,n"];
    for (let i = 0; i < 20_000; i++) lines.push(`city${i % 10_000},${i}`);
    const r = parseTable(lines.join("\n"));
    const m = meta(r.metadata, "city");
    expect(m.sdtype).toBe("categorical");
    expect(m.levels).toHaveLength(10_000);
    expect(m.levels?.every((l) => l.count === 2)).toBe(true);
    const c = col(r.table, "city") as CodedColumn;
    expect(c.levels[c.codes[12_345]]).toBe("city2345");
  });

  it("reads a generated 100,000-row file", async () => {
    const lines = ["id,age,income,group,flag,day"];
    for (let i = 0; i < 100_000; i++) {
      lines.push(
        `${i + 1},${18 + (i % 70)},${(i * 0.25).toFixed(2)},g${i % 13},${i % 3 === 0 ? "yes" : "no"},2020-01-${String((i % 28) + 1).padStart(2, "0")}`,
      );
    }
    const r = await readTable(fileWith("big.csv", `${lines.join("\n")}\n`));
    expect(r.table.nRows).toBe(100_000);
    expect(r.metadata.columns.map((c) => c.sdtype)).toEqual([
      "id",
      "numerical",
      "numerical",
      "categorical",
      "boolean",
      "datetime",
    ]);
    expect(meta(r.metadata, "age")).toMatchObject({ min: 18, max: 87, integer: true });
    expect(meta(r.metadata, "income")).toMatchObject({ min: 0, max: 99_999 * 0.25, integer: false });
    expect(num(r.table, "day")[27]).toBe(Date.UTC(2020, 0, 28));
  });

  it("names the row and column when a cell does not fit a declared type", async () => {
    const e = await dataError(() =>
      parseTable("a,b\n1,x\n2,y\nthree,z\n", {
        source: "t.csv",
        metadata: { columns: { a: { sdtype: "numerical" } } },
      }),
    );
    expect(e.row).toBe(4);
    expect(e.column).toBe("a");
    expect(e.message).toContain('"three" is not a number');
  });

  it("names an empty header cell and warns", () => {
    const r = parseTable(",x\n1,a\n");
    expect(r.table.columns[0].name).toBe("column_1");
    expect(r.warnings[0]).toContain("column_1");
  });

  it("reads quoted fields with delimiters, quotes and newlines", () => {
    const r = parseTable('a,b\n"x, y","say ""hi"""\n"multi\nline",plain\n');
    expect(text(r.table, "a")).toEqual(["x, y", "multi\nline"]);
    expect(text(r.table, "b")).toEqual(['say "hi"', "plain"]);
  });

  it("reads TSV by extension and semicolon CSV by header", async () => {
    const tsv = await readTable(fileWith("t.tsv", "a\tb\n1\tx,y\n"));
    expect(text(tsv.table, "b")).toEqual(["x,y"]);
    // In a semicolon file "2,5" can only be a decimal comma (not a thousands group): read as 2.5, with a note.
    const semi = parseTable("a;b\n1;2,5\n");
    expect(num(semi.table, "b")).toEqual([2.5]);
    expect(semi.warnings.join("\n")).toMatch(/decimal/i);
  });

  it("rejects an unclosed quote with the line", async () => {
    const e = await dataError(() => parseTable('a,b\n1,"open\n2,3\n', { source: "q.csv" }));
    expect(e.message).toContain("cannot parse the CSV");
    expect(e.message).toContain("line");
  });

  it("rejects a target that is not a column, listing the columns", async () => {
    const e = await dataError(() => parseTable("a,b\n1,2\n", { target: "y" }));
    expect(e.message).toContain('"y"');
    expect(e.hint).toContain("a, b");
  });

  it("reports a missing file as a DataError", async () => {
    await dataError(readTable(join(dir, "nope.csv")));
  });
});

describe("readTable: JSON Lines", () => {
  it("reads .jsonl with typed values, nulls and absent keys", async () => {
    const body = [
      '{"age": 30, "sex": "M", "ok": true}',
      "",
      '{"age": null, "sex": "F", "ok": false, "x": "NA"}',
      '{"age": 41.5, "ok": true}',
    ];
    const r = await readTable(fileWith("t.jsonl", `${body.join("\n")}\n`));
    expect(r.table.columns.map((c) => c.name)).toEqual(["age", "sex", "ok", "x"]);
    expect(num(r.table, "age").map((x) => (Number.isNaN(x) ? null : x))).toEqual([30, null, 41.5]);
    expect(text(r.table, "sex")).toEqual(["M", "F", null]);
    expect(meta(r.metadata, "ok").sdtype).toBe("boolean");
    expect(text(r.table, "ok")).toEqual(["true", "false", "true"]);
    expect(meta(r.metadata, "x").missingRate).toBe(1);
  });

  it("rejects a bad JSON line with its line number", async () => {
    const path = fileWith("bad.ndjson", '{"a": 1}\n{"a": 2\n');
    const e = await dataError(readTable(path));
    expect(e.row).toBe(2);
    expect(e.message).toContain("line 2 is not valid JSON");
  });

  it("rejects nested values and non-object lines", async () => {
    const nested = await dataError(() => parseTable('{"a": [1]}\n', { format: "jsonl" }));
    expect(nested.column).toBe("a");
    await dataError(() => parseTable("[1,2]\n", { format: "jsonl" }));
  });
});

describe("readTable: shared datasets", () => {
  // Expected types follow the datasets README and inspection of the files; counts were taken with awk.
  it("adult.csv: integer age, categorical workclass with missing, categorical income", async () => {
    const r = await readTable(join(DATASETS, "adult.csv"), { target: "income" });
    expect(r.table.nRows).toBe(32_561);
    expect(r.metadata.target).toBe("income");
    expect(meta(r.metadata, "age")).toMatchObject({ sdtype: "numerical", integer: true, min: 17, max: 90 });
    const wc = meta(r.metadata, "workclass");
    expect(wc.sdtype).toBe("categorical");
    expect(wc.missingRate).toBeCloseTo(1836 / 32_561, 12);
    expect(wc.levels?.[0]).toEqual({ value: "Private", count: 22_696 });
    expect(wc.levels).toHaveLength(8);
    expect(new Set(meta(r.metadata, "income").levels?.map((l) => l.value))).toEqual(
      new Set(["<=50K", ">50K"]),
    );
    expect(r.warnings).toEqual([]);
  });

  it('mallm-gan adult test.csv: "?" is missing, padded cells are trimmed, 25.0 is an integer', async () => {
    const r = await readTable(join(DATASETS, "mallm-gan/adult/test.csv"));
    const wc = meta(r.metadata, "workclass");
    expect(wc.missingRate).toBeCloseTo(963 / 16_281, 12);
    expect(wc.levels?.map((l) => l.value)).toEqual([
      "Private",
      "Self-emp-not-inc",
      "Local-gov",
      "State-gov",
      "Self-emp-inc",
      "Federal-gov",
      "Without-pay",
      "Never-worked",
    ]);
    expect(meta(r.metadata, "age")).toMatchObject({ sdtype: "numerical", integer: true });
  });

  it("shoppers.csv: TRUE/FALSE columns are booleans", async () => {
    const r = await readTable(join(DATASETS, "shoppers.csv"));
    expect(meta(r.metadata, "Weekend").sdtype).toBe("boolean");
    const rev = meta(r.metadata, "Revenue");
    expect(rev.sdtype).toBe("boolean");
    expect(rev.levels).toEqual([
      { value: "false", count: 10_422 },
      { value: "true", count: 1908 },
    ]);
    expect(meta(r.metadata, "Month").sdtype).toBe("categorical");
    expect(meta(r.metadata, "OperatingSystems")).toMatchObject({ sdtype: "numerical", integer: true });
  });

  it("pima.csv: empty insulin and triceps cells are missing", async () => {
    const r = await readTable(join(DATASETS, "pima.csv"));
    expect(meta(r.metadata, "insulin")).toMatchObject({ sdtype: "numerical", integer: true });
    expect(meta(r.metadata, "insulin").missingRate).toBeCloseTo(374 / 768, 12);
    expect(meta(r.metadata, "triceps").missingRate).toBeCloseTo(227 / 768, 12);
    expect(meta(r.metadata, "pedigree")).toMatchObject({ sdtype: "numerical", integer: false });
    expect(meta(r.metadata, "diabetes").sdtype).toBe("categorical");
  });

  it("types of the other datasets", async () => {
    const expected: Record<string, Record<string, string>> = {
      "default_credit.csv": {
        ID: "id",
        LIMIT_BAL: "numerical",
        SEX: "numerical",
        "default payment next month": "numerical",
      },
      "heart.csv": {
        Sex: "categorical",
        ExerciseAngina: "boolean",
        HeartDisease: "numerical",
        Oldpeak: "numerical",
      },
      "insurance.csv": { sex: "categorical", smoker: "boolean", region: "categorical", charges: "numerical" },
      "asia.csv": { A: "boolean", D: "boolean" },
      "magic.csv": { fLength: "numerical", class: "categorical" },
      "diabetes.csv": {
        gender: "categorical",
        age: "numerical",
        smoking_history: "categorical",
        diabetes: "numerical",
      },
    };
    for (const [file, types] of Object.entries(expected)) {
      const r = await readTable(join(DATASETS, file));
      for (const [name, sdtype] of Object.entries(types))
        expect(`${file}:${name}:${meta(r.metadata, name).sdtype}`).toBe(`${file}:${name}:${sdtype}`);
      expect(r.warnings).toEqual([]);
    }
  });
});

describe("readTable: the real data's number and boolean formats", () => {
  // The most fraction digits in a column's text: an independent count to check decimals against.
  function textDecimals(csv: string, name: string): number {
    const lines = csv.trimEnd().split(/\r?\n/);
    const j = lines[0].split(",").indexOf(name);
    let most = 0;
    for (const l of lines.slice(1)) most = Math.max(most, l.split(",")[j].split(".")[1]?.length ?? 0);
    return most;
  }

  it("decimals: the most any value needs; integers 0; trailing zeros do not count; capped at 10", () => {
    const r = parseTable(
      "a,b,c,d,e,f\n1.5,3,2.50,1e-7,0.30000000000000004,\n2.25,4,1,,0.1,\n-7,-1,3.10,2,5,\n",
    );
    expect(meta(r.metadata, "a")).toMatchObject({ integer: false, decimals: 2 }); // 2.25
    expect(meta(r.metadata, "b")).toMatchObject({ integer: true, decimals: 0 });
    expect(meta(r.metadata, "c").decimals).toBe(1); // 2.50 and 3.10 are the numbers 2.5 and 3.1
    expect(meta(r.metadata, "d").decimals).toBe(7); // 1e-7 = 0.0000001
    expect(meta(r.metadata, "e").decimals).toBe(10); // 17 digits, capped
    expect(meta(r.metadata, "f").decimals).toBeUndefined(); // no values, nothing to round
  });

  it("decimals and spelling from JSON Lines numbers and booleans", () => {
    const r = parseTable('{"x": 1.25, "ok": true}\n{"x": 3, "ok": false}\n', { format: "jsonl" });
    expect(meta(r.metadata, "x").decimals).toBe(2);
    expect(meta(r.metadata, "ok").booleanLabels).toEqual({ true: "true", false: "false" });
  });

  it("boolean spelling as the file has it, for every vocabulary and declared 0/1", () => {
    const r = parseTable("w,x,y,z,d\nTRUE,Yes,Y,t,1\nFALSE,No,N,f,0\nTRUE,Yes,,t,1\n", {
      metadata: { columns: { d: { sdtype: "boolean" } } },
    });
    expect(meta(r.metadata, "w").booleanLabels).toEqual({ true: "TRUE", false: "FALSE" });
    expect(meta(r.metadata, "x").booleanLabels).toEqual({ true: "Yes", false: "No" });
    expect(meta(r.metadata, "y").booleanLabels).toEqual({ true: "Y", false: "N" });
    expect(meta(r.metadata, "z").booleanLabels).toEqual({ true: "t", false: "f" });
    expect(meta(r.metadata, "d").booleanLabels).toEqual({ true: "1", false: "0" });
    // The table itself is unchanged: booleans are "false"/"true" levels in memory.
    expect(text(r.table, "w")).toEqual(["true", "false", "true"]);
  });

  it("declared decimals and boolean_labels win over what the data shows", () => {
    const r = parseTable("x,b\n1.25,yes\n2,no\n", {
      metadata: {
        columns: {
          x: { sdtype: "numerical", decimals: 1 },
          b: { sdtype: "boolean", boolean_labels: { true: "Y", false: "N" } },
        },
      },
    });
    expect(meta(r.metadata, "x")).toMatchObject({ integer: false, decimals: 1 });
    expect(meta(r.metadata, "b").booleanLabels).toEqual({ true: "Y", false: "N" });
    // decimals > 0 alone makes a column of whole numbers a float column.
    const whole = parseTable("x\n1\n2\n", {
      metadata: { columns: { x: { sdtype: "numerical", decimals: 2 } } },
    });
    expect(meta(whole.metadata, "x")).toMatchObject({ integer: false, decimals: 2 });
  });

  it("insurance.csv: bmi has 3 decimals, charges 6 (7323.734819), age 0; smoker is spelled yes/no", async () => {
    const csv = readFileSync(join(DATASETS, "insurance.csv"), "utf8");
    const r = await readTable(join(DATASETS, "insurance.csv"));
    expect(meta(r.metadata, "bmi").decimals).toBe(3);
    expect(meta(r.metadata, "charges").decimals).toBe(6);
    expect(meta(r.metadata, "age")).toMatchObject({ integer: true, decimals: 0 });
    for (const name of ["age", "bmi", "children", "charges"])
      expect(`${name}:${meta(r.metadata, name).decimals}`).toBe(`${name}:${textDecimals(csv, name)}`);
    expect(meta(r.metadata, "smoker").booleanLabels).toEqual({ true: "yes", false: "no" });
  });

  it("shoppers.csv: Weekend and Revenue are spelled TRUE/FALSE; SpecialDay has 1 decimal", async () => {
    const r = await readTable(join(DATASETS, "shoppers.csv"));
    expect(meta(r.metadata, "Weekend").booleanLabels).toEqual({ true: "TRUE", false: "FALSE" });
    expect(meta(r.metadata, "Revenue").booleanLabels).toEqual({ true: "TRUE", false: "FALSE" });
    expect(meta(r.metadata, "SpecialDay").decimals).toBe(1); // 0, 0.2, 0.4, 0.6, 0.8, 1
    expect(meta(r.metadata, "Administrative")).toMatchObject({ integer: true, decimals: 0 });
  });
});
