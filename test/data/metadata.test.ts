import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codedColumn, numericColumn, tableOf } from "../../data/build.ts";
import { DataError } from "../../data/errors.ts";
import {
  deriveMetadata,
  metadataToJson,
  parseMetadataJson,
  parseMetadataText,
  readMetadataFile,
} from "../../data/metadata.ts";
import { parseTable } from "../../data/read.ts";
import type { CodedColumn } from "../../data/types.ts";

function dataError(f: () => unknown): DataError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error("expected a DataError");
}

describe("SDV metadata JSON", () => {
  it("parses the SDV single-table form", () => {
    const m = parseMetadataJson({
      METADATA_SPEC_VERSION: "SINGLE_TABLE_V1",
      primary_key: "id",
      columns: {
        id: { sdtype: "id", regex_format: "[0-9]{5}" },
        age: { sdtype: "numerical", computer_representation: "Int64" },
        sex: { sdtype: "categorical", description: "self-reported" },
        seen: { sdtype: "datetime", datetime_format: "%Y-%m-%d" },
      },
    });
    expect(m.columns.age).toEqual({ sdtype: "numerical", computer_representation: "Int64" });
    expect(m.primary_key).toBe("id");
  });

  it("rejects unknown sdtypes with the supported list", () => {
    const e = dataError(() => parseMetadataJson({ columns: { email: { sdtype: "email" } } }, "meta.json"));
    expect(e.message).toContain("meta.json");
    expect(e.message).toContain('columns.email.sdtype: unknown sdtype "email"');
    expect(e.message).toContain("numerical, categorical, boolean, datetime, id");
  });

  it("rejects a missing sdtype, unknown keys, misplaced options and non-ISO formats", () => {
    expect(dataError(() => parseMetadataJson({ columns: { a: {} } })).message).toContain(
      "columns.a.sdtype: sdtype is required",
    );
    expect(
      dataError(() => parseMetadataJson({ columns: { a: { sdtype: "id", sdtpye: "x" } } })).message,
    ).toContain("sdtpye");
    expect(dataError(() => parseMetadataJson({ columns: {}, tablez: 1 })).message).toContain("tablez");
    expect(
      dataError(() =>
        parseMetadataJson({ columns: { a: { sdtype: "categorical", computer_representation: "Int64" } } }),
      ).message,
    ).toContain("computer_representation applies to numerical columns only");
    expect(
      dataError(() =>
        parseMetadataJson({ columns: { a: { sdtype: "datetime", datetime_format: "%Y%m%d" } } }),
      ).message,
    ).toContain('datetime_format "%Y%m%d" is not one synthgraph reads');
    // The order of numeric dates (data/dates.ts) is the one non-ISO format a metadata file may give.
    for (const f of ["%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%m-%d-%Y"])
      expect(
        parseMetadataJson({ columns: { a: { sdtype: "datetime", datetime_format: f } } }).columns.a
          .datetime_format,
      ).toBe(f);
    expect(dataError(() => parseMetadataJson({ tables: {} })).message).toContain("multi-table");
    expect(dataError(() => parseMetadataText("{oops", "m.json")).message).toContain("not valid JSON");
  });

  it("reads a metadata file", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "synthgraph-meta-")), "m.json");
    writeFileSync(path, JSON.stringify({ columns: { a: { sdtype: "categorical" } } }));
    expect((await readMetadataFile(path)).columns.a.sdtype).toBe("categorical");
  });
});

describe("metadata overrides when reading", () => {
  const csv = "id,code,age,flag,when\n1,7,30,1,2021-01-01T00:00:00\n2,7,41,0,2021-01-02T00:00:00\n3,9,,1,\n";

  it("override types win over inference, 0/1 booleans only when declared", () => {
    const r = parseTable(csv, {
      metadata: {
        columns: {
          code: { sdtype: "categorical" },
          flag: { sdtype: "boolean" },
          age: { sdtype: "numerical", computer_representation: "Float", description: "age in years" },
        },
        primary_key: "id",
      },
    });
    const byName = Object.fromEntries(r.metadata.columns.map((c) => [c.name, c]));
    expect(byName.id.sdtype).toBe("id");
    expect(byName.code).toMatchObject({
      sdtype: "categorical",
      levels: [
        { value: "7", count: 2 },
        { value: "9", count: 1 },
      ],
    });
    expect(byName.flag).toMatchObject({
      sdtype: "boolean",
      levels: [
        { value: "true", count: 2 },
        { value: "false", count: 1 },
      ],
    });
    expect(byName.age).toMatchObject({ integer: false, description: "age in years", min: 30, max: 41 });
    expect(byName.age.missingRate).toBeCloseTo(1 / 3, 15);
    // midnight date-times stay date-times because the text had a time part
    expect(byName.when).toMatchObject({
      sdtype: "datetime",
      datetimeFormat: "datetime",
      min: Date.UTC(2021, 0, 1),
      max: Date.UTC(2021, 0, 2),
    });
  });

  it("without overrides the same columns are inferred", () => {
    const r = parseTable(csv);
    expect(r.metadata.columns.map((c) => c.sdtype)).toEqual([
      "id",
      "numerical",
      "numerical",
      "numerical",
      "datetime",
    ]);
  });

  it("a column named in the metadata but absent in the file is a DataError listing the columns", () => {
    const e = dataError(() =>
      parseTable(csv, { source: "d.csv", metadata: { columns: { sex: { sdtype: "categorical" } } } }),
    );
    expect(e.message).toContain('"sex"');
    expect(e.message).toContain("d.csv");
    expect(e.hint).toContain("id, code, age, flag, when");
  });

  it("a primary key declared with another sdtype is a DataError", () => {
    expect(() =>
      parseTable(csv, { metadata: { columns: { id: { sdtype: "numerical" } }, primary_key: "id" } }),
    ).toThrow(DataError);
  });

  it("Int64 over non-integers is a DataError naming the row", () => {
    const e = dataError(() =>
      parseTable("x\n1\n2.5\n", {
        metadata: { columns: { x: { sdtype: "numerical", computer_representation: "Int64" } } },
      }),
    );
    expect(e.row).toBe(3);
  });

  it("target: from the option or the metadata; must exist and not be an id", () => {
    expect(parseTable(csv, { target: "flag" }).metadata.target).toBe("flag");
    expect(parseTable(csv, { metadata: { columns: {}, target: "age" } }).metadata.target).toBe("age");
    expect(
      parseTable(csv, { target: "flag", metadata: { columns: {}, target: "age" } }).metadata.target,
    ).toBe("flag");
    expect(dataError(() => parseTable(csv, { target: "nope" })).hint).toContain("id, code, age, flag, when");
    expect(dataError(() => parseTable(csv, { target: "id" })).message).toContain("id column");
  });
});

describe("deriveMetadata", () => {
  const table = tableOf([
    numericColumn("x", [3, 1.5, Number.NaN, -2]),
    codedColumn("c", ["b", "a", "b", null]),
    codedColumn("t", ["x", "y", "z", "y"]),
    codedColumn("k", ["k1", "k2", "k3", "k4"], "id"),
  ]);

  it("computes min/max, integer, levels by frequency (ties in level order), missing rate", () => {
    const m = deriveMetadata(table);
    expect(m.rowCount).toBe(4);
    expect(m.columns[0]).toEqual({
      name: "x",
      sdtype: "numerical",
      integer: false,
      decimals: 1, // 1.5 needs one decimal, 3 and -2 none
      min: -2,
      max: 3,
      missingRate: 0.25,
    });
    expect(m.columns[1]).toEqual({
      name: "c",
      sdtype: "categorical",
      levels: [
        { value: "b", count: 2 },
        { value: "a", count: 1 },
      ],
      missingRate: 0.25,
    });
    expect(m.columns[2].levels).toEqual([
      { value: "y", count: 2 },
      { value: "x", count: 1 },
      { value: "z", count: 1 },
    ]);
    expect(m.columns[3]).toEqual({ name: "k", sdtype: "id", missingRate: 0 });
  });

  it("datetime format from the values when not declared", () => {
    const dates = tableOf([numericColumn("d", [Date.UTC(2020, 0, 1), Date.UTC(2020, 5, 1)], "datetime")]);
    expect(deriveMetadata(dates).columns[0].datetimeFormat).toBe("date");
    const times = tableOf([numericColumn("d", [Date.UTC(2020, 0, 1), Date.UTC(2020, 5, 1, 12)], "datetime")]);
    expect(deriveMetadata(times).columns[0].datetimeFormat).toBe("datetime");
  });

  it("rejects overrides that disagree with the table, absent columns and bad targets", () => {
    expect(() => deriveMetadata(table, { columns: { x: { sdtype: "categorical" } } })).toThrow(
      /says categorical/,
    );
    expect(() => deriveMetadata(table, { columns: { q: { sdtype: "categorical" } } })).toThrow(DataError);
    expect(() => deriveMetadata(table, undefined, "zz")).toThrow(/"zz" does not exist/);
  });

  it("levels of a table read from CSV are in metadata order, so codes are comparable", () => {
    const r = parseTable("s\nb\na\na\nc\na\nb\n");
    const s = r.table.columns[0] as CodedColumn;
    expect(r.metadata.columns[0].levels?.map((l) => l.value)).toEqual(["a", "b", "c"]);
    expect(s.levels).toEqual(["a", "b", "c"]);
    expect(Array.from(s.codes)).toEqual([1, 0, 0, 2, 0, 1]);
  });
});

describe("metadataToJson", () => {
  it("writes SDV JSON that parses back to the same types", () => {
    const r = parseTable(
      "id,age,bmi,sex,ok,day,ts\n1,30,22.5,M,yes,2021-01-01,2021-01-01T10:00:00Z\n2,41,30,F,no,2021-02-01,2021-01-01T11:00:00Z\n",
      {
        metadata: { columns: { sex: { sdtype: "categorical", description: "sex at birth" } } },
        target: "ok",
      },
    );
    const json = metadataToJson(r.metadata);
    expect(json).toEqual({
      METADATA_SPEC_VERSION: "SINGLE_TABLE_V1",
      primary_key: "id",
      target: "ok",
      columns: {
        id: { sdtype: "id" },
        age: { sdtype: "numerical", computer_representation: "Int64" },
        bmi: { sdtype: "numerical", computer_representation: "Float", decimals: 1 },
        sex: { sdtype: "categorical", description: "sex at birth" },
        ok: { sdtype: "boolean", boolean_labels: { true: "yes", false: "no" } },
        day: { sdtype: "datetime", datetime_format: "%Y-%m-%d" },
        ts: { sdtype: "datetime", datetime_format: "%Y-%m-%dT%H:%M:%SZ" },
      },
    });
    const again = parseTable(
      "id,age,bmi,sex,ok,day,ts\n1,30,22.5,M,yes,2021-01-01,2021-01-01T10:00:00Z\n2,41,30,F,no,2021-02-01,2021-01-01T11:00:00Z\n",
      {
        metadata: parseMetadataText(JSON.stringify(json)),
      },
    );
    expect(again.metadata).toEqual(r.metadata);
  });
});

describe("metadata JSON: decimals and boolean_labels", () => {
  it("parses them on the columns they apply to", () => {
    const m = parseMetadataJson({
      columns: {
        bmi: { sdtype: "numerical", computer_representation: "Float", decimals: 2 },
        smoker: { sdtype: "boolean", boolean_labels: { true: "Yes", false: "No" } },
        flag: { sdtype: "boolean", boolean_labels: { true: "1", false: "0" } },
      },
    });
    expect(m.columns.bmi.decimals).toBe(2);
    expect(m.columns.smoker.boolean_labels).toEqual({ true: "Yes", false: "No" });
    expect(m.columns.flag.boolean_labels).toEqual({ true: "1", false: "0" });
  });

  it("rejects them on other sdtypes, out of range, or spelled so the file would not read back", () => {
    const msg = (columns: unknown): string => dataError(() => parseMetadataJson({ columns })).message;
    expect(msg({ s: { sdtype: "categorical", decimals: 2 } })).toContain("decimals applies to numerical");
    expect(msg({ s: { sdtype: "numerical", decimals: 11 } })).toContain("s.decimals");
    expect(msg({ s: { sdtype: "numerical", decimals: 1.5 } })).toContain("s.decimals");
    expect(msg({ s: { sdtype: "numerical", computer_representation: "Int64", decimals: 2 } })).toContain(
      "contradicts computer_representation Int64",
    );
    expect(msg({ s: { sdtype: "categorical", boolean_labels: { true: "Y", false: "N" } } })).toContain(
      "boolean_labels applies to boolean",
    );
    expect(msg({ s: { sdtype: "boolean", boolean_labels: { true: "si", false: "no" } } })).toContain(
      "a spelling synthgraph reads",
    );
    expect(msg({ s: { sdtype: "boolean", boolean_labels: { true: "no", false: "yes" } } })).toContain(
      "a spelling synthgraph reads",
    );
    expect(msg({ s: { sdtype: "boolean", boolean_labels: { true: " Y", false: "N" } } })).toContain(
      "spaces at either end",
    );
    expect(msg({ s: { sdtype: "boolean", boolean_labels: { true: "Y" } } })).toContain("s.boolean_labels");
  });

  it("metadataToJson writes them, and reading with that JSON gives the same metadata", () => {
    const csv = "x,n,b,c\n1.25,3,TRUE,7.5\n2.5,4,FALSE,\n";
    const r = parseTable(csv);
    const json = metadataToJson(r.metadata);
    expect(json.columns).toEqual({
      x: { sdtype: "numerical", computer_representation: "Float", decimals: 2 },
      n: { sdtype: "numerical", computer_representation: "Int64" }, // Int64 already says 0 decimals
      b: { sdtype: "boolean", boolean_labels: { true: "TRUE", false: "FALSE" } },
      c: { sdtype: "numerical", computer_representation: "Float", decimals: 1 },
    });
    const again = parseTable(csv, { metadata: parseMetadataText(JSON.stringify(json)) });
    expect(again.metadata).toEqual(r.metadata);
  });

  it("deriveMetadata of a table built in code has decimals but no boolean spelling (there is no text)", () => {
    const m = deriveMetadata(
      tableOf([numericColumn("x", [0.5, 0.125]), codedColumn("b", ["true", "false"], "boolean")]),
    );
    expect(m.columns[0].decimals).toBe(3);
    expect(m.columns[1].booleanLabels).toBeUndefined();
    expect(metadataToJson(m).columns.b).toEqual({ sdtype: "boolean" });
  });
});
