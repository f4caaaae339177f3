import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codedColumn, numericColumn, tableOf } from "../data/build.ts";
import { deriveMetadata } from "../data/metadata.ts";
import { parseTable, readTable } from "../data/read.ts";
import { tableToCsv, writeCsv } from "../data/write.ts";
import { DATASETS } from "./support/fixtures.ts";

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

  it("writes datetimes in the column's ISO form and booleans as true/false", () => {
    const r = parseTable("d,ts,b\n2021-03-04,2021-03-04 05:06:07,Yes\n,2021-03-04T05:06:07.5+01:00,no\n");
    expect(tableToCsv(r.table, r.metadata)).toBe(
      "d,ts,b\n2021-03-04,2021-03-04T05:06:07Z,true\n,2021-03-04T04:06:07.500Z,false\n",
    );
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
