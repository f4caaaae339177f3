import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codedColumn, numericColumn, tableOf } from "../../data/build.ts";
import { deriveMetadata } from "../../data/metadata.ts";
import { parseTable, readTable } from "../../data/read.ts";
import { tableToCsv, writeCsv } from "../../data/write.ts";
import { DATASETS } from "../support/fixtures.ts";

describe("tableToCsv", () => {
  it("writes shortest round-trip numbers, integers without .0, missing as empty", () => {
    const t = tableOf([
      numericColumn("x", [40, 0.1 + 0.2, Number.NaN, -1.5, 1e-7, 2 ** 53]),
      codedColumn("c", ["a", null, "b", "a", "c", "a"]),
    ]);
    expect(tableToCsv(t, deriveMetadata(t))).toBe(
      "x,c\n40,a\n0.30000000000000004,\n,b\n-1.5,a\n1e-7,c\n9007199254740992,a\n",
    );
  });

  it("quotes delimiters, quotes, newlines and outer whitespace", () => {
    const t = tableOf([codedColumn("s", ["a,b", 'say "hi"', "two\nlines", " padded", "plain"])]);
    expect(tableToCsv(t, deriveMetadata(t))).toBe('s\n"a,b"\n"say ""hi"""\n"two\nlines"\n" padded"\nplain\n');
  });

  it("writes datetimes in the column's ISO form and booleans in the real data's spelling", () => {
    const r = parseTable("d,ts,b\n2021-03-04,2021-03-04 05:06:07,Yes\n,2021-03-04T05:06:07.5+01:00,no\n");
    expect(tableToCsv(r.table, r.metadata)).toBe(
      "d,ts,b\n2021-03-04,2021-03-04T05:06:07Z,Yes\n,2021-03-04T04:06:07.500Z,no\n",
    );
  });

  it("writes booleans as true/false when the metadata has no spelling (a table built in code)", () => {
    const t = tableOf([codedColumn("b", ["true", null, "false"], "boolean")]);
    expect(tableToCsv(t, deriveMetadata(t))).toBe("b\ntrue\n\nfalse\n");
  });

  it("formula guard: prefixes = + - @ TAB CR text, never numbers", () => {
    const t = tableOf([
      codedColumn("=head", ["=SUM(A1)", "+1", "-2", "@x", "\tx", "\rx", "safe"]),
      numericColumn("n", [-5, -0.5, 1, 2, 3, 4, 5]),
    ]);
    const m = deriveMetadata(t);
    expect(tableToCsv(t, m, { formulaGuard: true })).toBe(
      "'=head,n\n'=SUM(A1),-5\n'+1,-0.5\n'-2,1\n'@x,2\n\"'\tx\",3\n\"'\rx\",4\nsafe,5\n",
    );
    expect(tableToCsv(t, m)).toContain("=SUM(A1),-5");
  });
});

describe("round trip: read -> write -> read gives identical tables", () => {
  const dir = mkdtempSync(join(tmpdir(), "synthgraph-write-"));

  it("on an edge-case table", async () => {
    const csv =
      "id,x,i,cat,flag,day,ts,txt\n" +
      'a1,0.1,1,"x, y",TRUE,2021-01-01,2021-01-01T10:00:00.123Z," lead"\n' +
      'a2,-1e-7,,NA,false,,2021-01-02 00:00:00,"q""q"\n' +
      'a3,123456789.123456789,-3,z,,2020-02-29,,"multi\nline"\n';
    const first = parseTable(csv);
    const path = join(dir, "edge.csv");
    await writeCsv(path, first.table, first.metadata);
    const second = await readTable(path, { metadata: { columns: { id: { sdtype: "id" } } } });
    expect(second.table).toEqual(first.table);
    expect(second.metadata).toEqual(first.metadata);
  });

  for (const file of ["adult.csv", "pima.csv", "magic.csv", "shoppers.csv"]) {
    it(`on ${file}`, async () => {
      const first = await readTable(join(DATASETS, file));
      const path = join(dir, file);
      await writeCsv(path, first.table, first.metadata);
      const second = await readTable(path);
      expect(second.table).toEqual(first.table);
      expect(second.metadata).toEqual(first.metadata);
      expect(readFileSync(path, "utf8").split("\n")[0]).toBe(
        readFileSync(join(DATASETS, file), "utf8").split("\n")[0],
      );
    });
  }
});

describe("writing keeps the real data's formats", () => {
  const dir = mkdtempSync(join(tmpdir(), "synthgraph-format-"));

  // These files write numbers in their shortest form and booleans in one spelling, so their text survives.
  for (const file of ["insurance.csv", "heart.csv", "asia.csv"]) {
    it(`${file}: read -> write gives the original text (yes/no, Y/N spellings, bmi/charges decimals)`, async () => {
      const original = readFileSync(join(DATASETS, file), "utf8").replace(/\r\n/g, "\n");
      const r = await readTable(join(DATASETS, file));
      expect(tableToCsv(r.table, r.metadata)).toBe(original);
    });
  }

  it("shoppers.csv: Weekend and Revenue are written TRUE/FALSE as in the file, and read back equal", async () => {
    const column = (csv: string, name: string): string[] => {
      const lines = csv.trimEnd().split(/\r?\n/);
      const j = lines[0].split(",").indexOf(name);
      return lines.slice(1).map((l) => l.split(",")[j]);
    };
    const original = readFileSync(join(DATASETS, "shoppers.csv"), "utf8");
    const first = await readTable(join(DATASETS, "shoppers.csv"));
    const path = join(dir, "shoppers.csv");
    await writeCsv(path, first.table, first.metadata);
    const written = readFileSync(path, "utf8");
    for (const name of ["Weekend", "Revenue"]) {
      expect(new Set(column(written, name))).toEqual(new Set(["TRUE", "FALSE"]));
      expect(column(written, name)).toEqual(column(original, name));
    }
    const second = await readTable(path);
    expect(second.metadata.columns.find((c) => c.name === "Weekend")?.booleanLabels).toEqual({
      true: "TRUE",
      false: "FALSE",
    });
    expect(second.table).toEqual(first.table);
    expect(second.metadata).toEqual(first.metadata);
  });

  it("a column spelled Y/N with only Y values keeps Y and writes N for false", () => {
    const r = parseTable("flag,n\nY,1\nY,2\n");
    expect(r.metadata.columns[0].booleanLabels).toEqual({ true: "Y", false: "N" });
    const flag = r.table.columns[0];
    if (flag.kind !== "boolean") throw new Error("flag should be boolean");
    const flipped = tableOf([codedColumn("flag", ["false", "true"], "boolean", flag.levels)]);
    expect(tableToCsv(flipped, r.metadata)).toBe("flag\nN\nY\n");
  });

  it("a declared 0/1 boolean is written 1/0 and reads back equal with the same metadata", () => {
    const metadata = { columns: { b: { sdtype: "boolean" as const } } };
    const first = parseTable("b,x\n1,0.5\n0,1.25\n,2\n", { metadata });
    expect(first.metadata.columns[0].booleanLabels).toEqual({ true: "1", false: "0" });
    const csv = tableToCsv(first.table, first.metadata);
    expect(csv).toBe("b,x\n1,0.5\n0,1.25\n,2\n");
    const second = parseTable(csv, { metadata });
    expect(second.table).toEqual(first.table);
    expect(second.metadata).toEqual(first.metadata);
  });
});
