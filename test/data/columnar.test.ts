import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { missingMatcher } from "../../data/cells.ts";
import { readPlainCsv } from "../../data/columnar.ts";
import { parseTable, readTable, type ReadOptions } from "../../data/read.ts";
import { DATASETS } from "../support/fixtures.ts";

// readTable takes the chunked dictionary reader (data/columnar.ts) for plain CSV files; parseTable on the
// file's text is the csv-parse path. Both must give the same table, metadata and warnings (or the same error).

const dir = mkdtempSync(join(tmpdir(), "synthgraph-columnar-"));
const isMissing = missingMatcher();
const comma = (): string => ",";

function fileWith(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function expectSameAsCsvParse(path: string, opts: ReadOptions = {}): Promise<void> {
  const viaText = (): ReturnType<typeof parseTable> =>
    parseTable(readFileSync(path), { ...opts, source: path });
  let expected: ReturnType<typeof parseTable> | undefined;
  let expectedError: unknown;
  try {
    expected = viaText();
  } catch (e) {
    expectedError = e;
  }
  if (expected === undefined) {
    await expect(readTable(path, opts)).rejects.toThrow((expectedError as Error).message);
    return;
  }
  const got = await readTable(path, opts);
  expect(got.table).toEqual(expected.table);
  expect(got.metadata).toEqual(expected.metadata);
  expect(got.warnings).toEqual(expected.warnings);
}

describe("columnar CSV reading", () => {
  const datasets = readdirSync(DATASETS).filter((f) => f.endsWith(".csv"));

  it.each(datasets)("reads shared dataset %s exactly as csv-parse does", async (name) => {
    await expectSameAsCsvParse(join(DATASETS, name));
  });

  it("takes the plain path on adult.csv, with every chunk size giving the same columns", () => {
    const path = join(DATASETS, "adult.csv");
    const whole = readPlainCsv(path, isMissing, comma);
    expect(whole).toBeDefined();
    expect(whole?.nRows).toBe(readFileSync(path, "utf8").trim().split("\n").length - 1);
    // 4093 bytes: a prime, so chunk edges fall mid-field and mid-line.
    expect(readPlainCsv(path, isMissing, comma, 4093)).toEqual(whole);
  });

  it("splits CRLF, CR and LF lines across chunk edges like one read", () => {
    const text = "a,b\r\n1,x\r\n2,y\r3,z\n\n4, w \r\n";
    const path = fileWith("eol.csv", text);
    const whole = readPlainCsv(path, isMissing, comma);
    expect(whole?.nRows).toBe(4);
    expect(whole?.columns[1].dict).toEqual(["x", "y", "z", "w"]);
    for (const chunk of [1, 2, 3, 5, 8]) expect(readPlainCsv(path, isMissing, comma, chunk)).toEqual(whole);
  });

  it("codes missing markers as -1 and keeps first-appearance order", () => {
    const path = fileWith("missing.csv", "k,v\nb,1\nNA,2\na,?\nb,\n");
    const r = readPlainCsv(path, isMissing, comma);
    expect(r?.columns[0].dict).toEqual(["b", "a"]);
    expect(Array.from(r?.columns[0].codes ?? [])).toEqual([0, -1, 1, 0]);
    expect(Array.from(r?.columns[1].codes ?? [])).toEqual([0, 1, -1, -1]);
  });

  it("leaves quotes, tabs around fields, wrong field counts and blank-only lines to csv-parse", () => {
    const cases = {
      quoted: 'a,b\n1,"x,y"\n',
      tab: "a,b\n1,\tx\n",
      short: "a,b\n1\n",
      blanks: "a\n1\n   \n2\n",
      nbsp: "a,b\n1,x\u00a0\n",
    };
    for (const [name, text] of Object.entries(cases)) {
      expect(readPlainCsv(fileWith(`${name}.csv`, text), isMissing, comma), name).toBeUndefined();
    }
  });

  it.each([
    [
      "bom and spaces",
      "\ufeffid,when, flag ,score\n1,2024-01-02, yes ,1.5\n2,2024-02-03,no,\n3,2024-03-04,yes,2\n",
    ],
    ["semicolons", "x;y\n1;a\n2;b\n"],
    ["all missing column", "x,y\n1,\n2,NA\n"],
    ["quoted (fallback)", 'x,y\n1,"a, b"\n2,c\n'],
    ["bad record length (fallback error)", "x,y\n1,2\n3\n"],
    ["header only", "x,y\n"],
    ["non-ascii text", "name,n\nJosé,1\nZoë,2\nJosé,3\n"],
    ["leading-zero codes", "zip,n\n01234,1\n00042,2\n"],
  ])("%s: same result as csv-parse", async (name, text) => {
    await expectSameAsCsvParse(fileWith(`${name.replace(/\W+/g, "-")}.csv`, text));
  });

  it("leaves invalid UTF-8 to the text path, which names the byte", async () => {
    const path = join(dir, "latin1.csv");
    writeFileSync(
      path,
      Buffer.concat([Buffer.from("name,n\nab,1\nJos"), Buffer.from([0xe9]), Buffer.from(",2\n")]),
    );
    expect(readPlainCsv(path, isMissing, comma)).toBeUndefined();
    await expect(readTable(path)).rejects.toThrow(/not valid UTF-8: byte 0xE9/);
    await expectSameAsCsvParse(path);
  });

  it("reports a cell that does not fit a declared type at its own row, as csv-parse's path does", async () => {
    const path = fileWith("declared.csv", "n,m\n1,a\n2,b\n1,c\nx,d\n");
    const opts: ReadOptions = { metadata: { columns: { n: { sdtype: "numerical" } } } };
    await expect(readTable(path, opts)).rejects.toThrow(/row 5|"x"/);
    await expectSameAsCsvParse(path, opts);
  });
});
