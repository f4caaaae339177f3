/**
 * Inference decisions through the CLI binary: a table whose charges carry thousands separators, whose bmi uses
 * decimal commas and whose age has two stray tokens is read as numbers, and both `evaluate` and `generate` say
 * so (generate before any model call: the server here is unreachable, so the run then fails with exit 3);
 * a metadata file declaring the column categorical overrides the decision.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { synthgraphChild } from "../support/harness.ts";
import { unusedPort } from "../support/llm-server.ts";

let dir = "";
let input = "";

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
});

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const child = synthgraphChild(args, env, dir);
  let out = "";
  let err = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
  return new Promise((res) => child.on("exit", (code) => res({ code, out, err })));
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
