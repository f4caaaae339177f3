/**
 * Inference decisions through the CLI binary: a table whose charges carry thousands separators, whose bmi uses
 * decimal commas and whose age has two stray tokens is read as numbers, and both `evaluate` and `generate` say
 * so (generate before any model call: the server here is unreachable, so the run then fails with exit 3);
 * a metadata file declaring the column categorical overrides the decision. A second table has dates in several
 * formats (one column whose order a cell settles, one where nothing does) and numbers whose commas could be
 * either mark until `--decimal ,` says which: evaluate, generate (offline engine, so the output is checked),
 * report and structure print each decision, and metadata overrides it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { finished, synthgraphChild } from "../support/harness.ts";
import { unusedPort } from "../support/llm-server.ts";

let dir = "";
let input = "";
let visits = "";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number): string => String(n).padStart(2, "0");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "inference-"));
  input = join(dir, "insurance.csv");
  const lines = ["age,bmi,charges,smoker"];
  for (let i = 0; i < 60; i++) {
    const age = i === 7 ? "unknown" : i === 30 ? "see notes" : String(18 + (i % 40));
    lines.push(
      `${age},"${20 + (i % 15)},${i % 10}","${1 + (i % 30)},${String(100 + i).slice(-3)}.${i % 10}0",${i % 3 === 0 ? "yes" : "no"}`,
    );
  }
  writeFileSync(input, `${lines.join("\n")}\n`);
  // visit: ISO, DD/MM/YYYY (days up to 28, so some are above 12) and "3 May 2021"; seen: ISO and numeric dates
  // whose two numbers are both at most 9 (nothing settles the order); weight: "1,100" … "9,114" (9 distinct
  // values), each either 1100 or 1.1 until --decimal says (largest: i = 8 gives 9 and 100 + 2·7 = 114, so 9.114).
  visits = join(dir, "visits.csv");
  const rows = ["visit,seen,weight,group"];
  for (let i = 0; i < 30; i++) {
    const day = 1 + (i % 28);
    const month = 1 + (i % 12);
    const visit =
      i % 3 === 0
        ? `2021-${two(month)}-${two(day)}`
        : i % 3 === 1
          ? `${two(day)}/${two(month)}/2021`
          : `${day} ${MONTHS[month - 1]} 2021`;
    const seen =
      i % 2 === 0 ? `2021-${two(month)}-${two(day)}` : `0${1 + (i % 9)}/0${1 + ((i + 3) % 9)}/2021`;
    const weight = `"${1 + (i % 9)},${100 + (i % 3) * 7}"`;
    rows.push(`${visit},${seen},${weight},${"ABC"[i % 3]}`);
  }
  writeFileSync(visits, `${rows.join("\n")}\n`);
});

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return finished(synthgraphChild(args, env, dir));
}

describe("numbers written with text", () => {
  it("evaluate reads them as numbers and prints each decision once", async () => {
    const r = await cli(["evaluate", "--real", input, "--synthetic", input, "--no-random-forest"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/column "charges" is read as numbers with "," as a thousands separator/);
    expect(r.out).toMatch(/column "bmi" is read as numbers with "," as the decimal mark/);
    expect(r.out).toMatch(/column "age" is numeric except 2 cell\(s\) holding "unknown", "see notes"/);
    expect(r.out.match(/column "charges" is read/g)).toHaveLength(1);
    expect(r.out).not.toMatch(/id column|dropped/);
  });
  it("generate prints the same decisions before any model call", async () => {
    const port = await unusedPort();
    const r = await cli(
      [
        "generate",
        input,
        "--rows",
        "10",
        "--out",
        join(dir, "o.csv"),
        "--run-dir",
        join(dir, "run"),
        "--quiet",
      ],
      { OLLAMA_HOST: `127.0.0.1:${port}` },
    );
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/note: column "charges" is read as numbers with "," as a thousands separator/);
    expect(r.err).toMatch(/note: column "age" is numeric except 2 cell/);
    expect(r.err).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
  it("the summary states the expected DCR share and lists weak columns only when weak", async () => {
    const r = await cli([
      "evaluate",
      "--real",
      input,
      "--synthetic",
      input,
      "--holdout",
      input,
      "--no-random-forest",
    ]);
    expect(r.code, r.err).toBe(0);
    // 60 training rows, 60 holdout rows: 60 / (60 + 60) = 0.500.
    expect(r.out).toContain("expected 0.500 = 60/(60+60)");
    // A table compared with itself has every column shape at 1.
    expect(r.out).toContain("weak columns: none");
  });
  it("metadata declaring the column categorical overrides the decision", async () => {
    const meta = join(dir, "meta.json");
    writeFileSync(meta, JSON.stringify({ columns: { age: { sdtype: "categorical" } } }));
    const r = await cli([
      "evaluate",
      "--real",
      input,
      "--synthetic",
      input,
      "--metadata",
      meta,
      "--no-random-forest",
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toMatch(/column "age" is numeric except/);
  });
});

/** The evaluate JSON's column shapes: ks_complement for a column read as numbers or dates, tv_complement for text. */
async function shapes(extra: string[]): Promise<{ out: string; kinds: Record<string, string> }> {
  const json = join(dir, `shapes-${Math.random().toString(36).slice(2)}.json`);
  const r = await cli([
    "evaluate",
    "--real",
    visits,
    "--synthetic",
    visits,
    "--no-random-forest",
    "--json",
    json,
    ...extra,
  ]);
  expect(r.code, r.err).toBe(0);
  const tree = JSON.parse(readFileSync(json, "utf8")) as {
    column_shapes: Record<string, Record<string, unknown>>;
  };
  const kinds = Object.fromEntries(
    Object.entries(tree.column_shapes).map(([k, v]) => [k, "ks_complement" in v ? "numbers" : "text"]),
  );
  return { out: r.out, kinds };
}

describe("dates in several formats and --decimal", () => {
  it("evaluate: dates read when a cell settles the order, text when none does; commas stay text without --decimal", async () => {
    const r = await shapes([]);
    expect(r.kinds).toEqual({ visit: "numbers", seen: "text", weight: "text", group: "text" });
    expect(r.out).toMatch(
      /column "visit" has dates in 3 formats: .*DD\/MM\/YYYY .*read as dates \(day first/,
    );
    expect(r.out).toMatch(/column "seen" has dates in 2 formats: .*no date with the year last settles/);
    expect(r.out).not.toMatch(/column "weight"/);
  });
  it("evaluate --decimal , reads the commas as decimal marks, with a note naming the flag", async () => {
    const r = await shapes(["--decimal", ","]);
    expect(r.kinds.weight).toBe("numbers");
    expect(r.out).toMatch(
      /column "weight" is read as numbers with "," as the decimal mark \(--decimal ,\) \(e\.g\. "1,100" = 1\.1\)/,
    );
  });
  it("metadata overrides each decision: a declared order reads the dates, categorical keeps the text", async () => {
    const meta = join(dir, "visits-meta.json");
    writeFileSync(
      meta,
      JSON.stringify({
        columns: {
          seen: { sdtype: "datetime", datetime_format: "%d/%m/%Y" },
          visit: { sdtype: "categorical" },
        },
      }),
    );
    const r = await shapes(["--metadata", meta, "--decimal", ","]);
    expect(r.kinds).toEqual({ visit: "text", seen: "numbers", weight: "numbers", group: "text" });
    expect(r.out).not.toMatch(/column "visit" has dates|column "seen" has dates/);
  });
  it("generate prints every decision and writes the dates as YYYY-MM-DD and the numbers with a point", async () => {
    const out = join(dir, "visits-out.csv");
    const r = await cli([
      "generate",
      visits,
      ...["--rows", "40", "--out", out, "--run-dir", join(dir, "visits-run"), "--engine", "bayesnet"],
      ...["--decimal", ",", "--quiet"],
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/note: column "visit" has dates in 3 formats/);
    expect(r.err).toMatch(/note: column "seen" has dates in 2 formats/);
    expect(r.err).toMatch(
      /note: column "weight" is read as numbers with "," as the decimal mark \(--decimal ,\)/,
    );
    const [head, ...lines] = readFileSync(out, "utf8").trimEnd().split("\n");
    expect(head).toBe("visit,seen,weight,group");
    expect(lines).toHaveLength(40);
    for (const line of lines) {
      const [visit, , weight] = line.split(",");
      expect(visit).toMatch(/^2021-\d{2}-\d{2}$/);
      // The weights read 1.1 … 9.114: written back as plain numbers in that range.
      expect(Number(weight)).toBeGreaterThanOrEqual(1.1);
      expect(Number(weight)).toBeLessThanOrEqual(9.114);
    }
  });
  it("report and structure take --decimal and print the decision", async () => {
    const html = join(dir, "visits.html");
    const rep = await cli([
      "report",
      "--real",
      visits,
      "--synthetic",
      visits,
      "--out",
      html,
      "--decimal",
      ",",
      "--no-random-forest",
    ]);
    expect(rep.code, rep.err).toBe(0);
    expect(readFileSync(html, "utf8")).toContain("the decimal mark (--decimal ,)");
    const st = await cli(["structure", visits, "--decimal", ","]);
    expect(st.code, st.err).toBe(0);
    expect(st.out).toMatch(
      /note: column "weight" is read as numbers with "," as the decimal mark \(--decimal ,\)/,
    );
  });
});
