import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataError } from "../../data/errors.ts";
import { parseTable, readTable } from "../../data/read.ts";
import { rowsToTable, tableToRows } from "../../data/rows.ts";
import type { CodedColumn } from "../../data/types.ts";
import { DATASETS } from "../support/fixtures.ts";

const csv = "id,age,sex,ok,day\nk1,30,M,yes,2021-01-01\nk2,,F,no,\nk3,41,F,,2021-03-01\n";

describe("tableToRows / rowsToTable", () => {
  it("rows carry numbers, strings, booleans, ISO dates and null", () => {
    const r = parseTable(csv, { metadata: { columns: { id: { sdtype: "id" } } } });
    expect(tableToRows(r.table, r.metadata)).toEqual([
      { id: "k1", age: 30, sex: "M", ok: true, day: "2021-01-01" },
      { id: "k2", age: null, sex: "F", ok: false, day: null },
      { id: "k3", age: 41, sex: "F", ok: null, day: "2021-03-01" },
    ]);
  });

  it("round trip gives the identical table", () => {
    const r = parseTable(csv, { metadata: { columns: { id: { sdtype: "id" } } } });
    expect(rowsToTable(tableToRows(r.table, r.metadata), r.metadata)).toEqual(r.table);
  });

  it("round trip on adult.csv", async () => {
    const r = await readTable(join(DATASETS, "adult.csv"));
    expect(rowsToTable(tableToRows(r.table, r.metadata), r.metadata)).toEqual(r.table);
  });

  it("codes follow the metadata's level order; new categories are appended", () => {
    const r = parseTable("sex\nF\nM\nM\n");
    expect(r.metadata.columns[0].levels?.map((l) => l.value)).toEqual(["M", "F"]);
    const t = rowsToTable([{ sex: "F" }, { sex: "X" }, { sex: null }, {}], r.metadata);
    const c = t.columns[0] as CodedColumn;
    expect(c.levels).toEqual(["M", "F", "X"]);
    expect(Array.from(c.codes)).toEqual([1, 2, -1, -1]);
  });

  it("rejects a value of the wrong type", () => {
    const r = parseTable("age\n1\n2\n");
    expect(() => rowsToTable([{ age: "old" }], r.metadata)).toThrow(DataError);
    expect(() => rowsToTable([{ age: true }], r.metadata)).toThrow(/expected a number/);
  });
});
