/**
 * Dates in several formats in one column (data/dates.ts, data/infer.ts): which formats are recognised, how the
 * order of numeric dates is settled, when the column is read as dates and when as text, and the note. Every
 * expected date is the same day written in ISO form and read by the ISO parser (data/cells.ts).
 */
import { describe, expect, it } from "vitest";
import { parseIsoDatetime } from "../../data/cells.ts";
import { inferMixedDates, parseDateAnyFormat } from "../../data/dates.ts";
import { columnFromCells, inferColumnSpec } from "../../data/infer.ts";

const iso = (s: string): number => {
  const d = parseIsoDatetime(s);
  if (!d) throw new Error(`not ISO: ${s}`);
  return d.ms;
};

describe("parseDateAnyFormat", () => {
  it("reads each recognised format as the same day", () => {
    const day = iso("2020-01-15");
    for (const cell of [
      "2020-01-15",
      "2020/01/15",
      "2020.1.15",
      "15 Jan 2020",
      "15-Jan-2020",
      "Jan 15, 2020",
      "January 15 2020",
    ])
      expect(parseDateAnyFormat(cell, undefined)?.ms, cell).toBe(day);
    // 15/01/2020 can only be day first (there is no month 15), so no order is needed.
    expect(parseDateAnyFormat("15/01/2020", undefined)?.ms).toBe(day);
    expect(parseDateAnyFormat("01/15/2020", undefined)?.ms).toBe(day);
  });
  it("needs the order for 03/04/2020, and follows it", () => {
    expect(parseDateAnyFormat("03/04/2020", undefined)).toBeUndefined();
    expect(parseDateAnyFormat("03/04/2020", "dmy")?.ms).toBe(iso("2020-04-03"));
    expect(parseDateAnyFormat("03.04.2020", "mdy")?.ms).toBe(iso("2020-03-04"));
  });
  it("rejects what is not a date", () => {
    for (const cell of ["31/02/2020", "45/45/2020", "Foo 3, 2020", "2020-13-01", "hello"])
      expect(parseDateAnyFormat(cell, "dmy"), cell).toBeUndefined();
  });
});

describe("inferMixedDates and inferColumnSpec", () => {
  const visits = ["2020-01-15", "2020-02-01", "15/03/2020", "02/04/2020", "3 May 2020"];
  it("dates in three formats whose order a cell settles: datetime, each cell converted, with the note", () => {
    const spec = inferColumnSpec("visit", visits);
    expect(spec).toMatchObject({ sdtype: "datetime", datetimeFormat: "date", mixedDates: { order: "dmy" } });
    const note = spec.notes?.[0] ?? "";
    expect(note).toContain('column "visit" has dates in 3 formats');
    expect(note).toContain('YYYY-MM-DD (2 cells, e.g. "2020-01-15")');
    expect(note).toContain('DD/MM/YYYY (2 cells, e.g. "15/03/2020")');
    expect(note).toContain('DD Mon YYYY (1 cell, e.g. "3 May 2020")');
    expect(note).toContain('read as dates (day first, as "15/03/2020" shows)');
    const col = columnFromCells("visit", visits, spec, { firstRow: 2 });
    expect(col.kind === "datetime" && Array.from(col.values)).toEqual(
      ["2020-01-15", "2020-02-01", "2020-03-15", "2020-04-02", "2020-05-03"].map(iso),
    );
  });
  it("month first when a cell shows it", () => {
    const spec = inferColumnSpec("d", ["2020-01-15", "03/25/2020", "04/02/2020"]);
    expect(spec.mixedDates).toEqual({ order: "mdy" });
    const col = columnFromCells("d", ["04/02/2020"], spec, { firstRow: 2 });
    expect(col.kind === "datetime" && col.values[0]).toBe(iso("2020-04-02"));
  });
  it("no cell settles the order, or cells settle it both ways: text, with the note saying how to declare it", () => {
    const open = inferColumnSpec("d", ["2020-01-15", "03/04/2020", "05/06/2020"]);
    expect(open.sdtype).toBe("categorical");
    expect(open.notes?.[0]).toContain(
      "no date with the year last settles whether the day or the month comes first",
    );
    expect(open.notes?.[0]).toContain('"datetime_format": "%d/%m/%Y"');
    const both = inferMixedDates("d", ["2020-01-15", "25/03/2020", "03/25/2020"]);
    expect(both?.order).toBeUndefined();
    expect(both?.note).toContain(
      'some dates put the day first ("25/03/2020") and others the month first ("03/25/2020")',
    );
  });
  it("one format only, or a cell that is no date: not a mixed-date column", () => {
    expect(inferMixedDates("d", ["2020-01-15", "2020-02-01"])).toBeUndefined();
    expect(inferMixedDates("d", ["15/01/2020", "16/01/2020"])).toBeUndefined();
    expect(inferMixedDates("d", ["2020-01-15", "15/01/2020", "soon"])).toBeUndefined();
    // A column of unique text with 20+ rows would be an id; dates in two formats never are.
    const many = Array.from({ length: 25 }, (_, i) =>
      i % 2 ? `2020-01-${String(i + 1).padStart(2, "0")}` : `${i + 1}/02/2020`,
    );
    expect(inferColumnSpec("d", many).sdtype).toBe("datetime");
  });
});
