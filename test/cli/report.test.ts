/**
 * `synthgraph report` end to end through the commander program: the page is written, it has no script and
 * no network reference, it stays small, and `--where` keeps exactly the rows a plain filter keeps (counts
 * printed and shown on the page).
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { reportCommand, runReport, runTraceFromSummary } from "../../cli/report.ts";
import { plainRows, writeRowsCsv } from "../support/protocol-tables.ts";

const dir = mkdtempSync(join(tmpdir(), "sg-report-"));
const realRows = plainRows(240, 1);
const synthRows = plainRows(180, 2);
const holdRows = plainRows(120, 3);
writeRowsCsv(join(dir, "real.csv"), realRows);
writeRowsCsv(join(dir, "synth.csv"), synthRows);
writeRowsCsv(join(dir, "hold.csv"), holdRows);

function sink(): { write(s: string): boolean; text: () => string } {
  let buf = "";
  return { write: (s: string) => ((buf += s), true), text: () => buf };
}

describe("synthgraph report", () => {
  it("writes one self-contained page through the CLI program", async () => {
    const out = join(dir, "report.html");
    const program = new Command().exitOverride();
    reportCommand.register(program);
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await program.parseAsync(
        [
          "report",
          "--real",
          join(dir, "real.csv"),
          "--synthetic",
          join(dir, "synth.csv"),
          "--holdout",
          join(dir, "hold.csv"),
          "--target",
          "income",
          "--out",
          out,
        ],
        { from: "user" },
      );
    } finally {
      process.stdout.write = write;
    }
    const html = readFileSync(out, "utf8");
    expect(statSync(out).size).toBeLessThan(2 * 1024 * 1024);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    // Five columns, the three correlation heatmaps (two numerical columns + charges), DCR, utility.
    expect((html.match(/<figure /g) ?? []).length).toBeGreaterThanOrEqual(5 + 3);
    expect(html).toContain("real 240");
  }, 120_000);

  it("--where keeps the rows a plain filter keeps, in every table, and says so", async () => {
    const io = sink();
    const out = join(dir, "where.html");
    const r = await runReport(
      {
        real: join(dir, "real.csv"),
        synthetic: join(dir, "synth.csv"),
        holdout: join(dir, "hold.csv"),
        target: "income",
        where: 'age > 40 and sex == "F"',
        out,
        randomForest: false,
      },
      { stdout: io },
    );
    const count = (rows: typeof realRows): number => rows.filter((x) => x.age > 40 && x.sex === "F").length;
    expect(r.condition?.real).toEqual({ kept: count(realRows), rows: 240 });
    expect(r.condition?.synthetic).toEqual({ kept: count(synthRows), rows: 180 });
    expect(r.condition?.holdout).toEqual({ kept: count(holdRows), rows: 120 });
    const html = readFileSync(out, "utf8");
    const line = `real ${count(realRows)} of 240 rows, synthetic ${count(synthRows)} of 180 rows, holdout ${count(holdRows)} of 120 rows`;
    expect(io.text()).toContain(line);
    expect(html).toContain(line);
    expect(html).not.toMatch(/<script/i);
  }, 120_000);

  it("--where that keeps too few rows is a clear error", async () => {
    await expect(
      runReport(
        {
          real: join(dir, "real.csv"),
          synthetic: join(dir, "synth.csv"),
          where: "age > 500",
          out: join(dir, "x.html"),
        },
        { stdout: sink() },
      ),
    ).rejects.toThrow(/keeps 0 of 240 real rows/);
  });
});

describe("runTraceFromSummary (generate --report)", () => {
  it("reads SYNTHIA iterations and MALLM-GAN steps", () => {
    const synthia = runTraceFromSummary({
      iterations: [
        {
          iteration: 1,
          valid_rows: 48,
          scores: { similarity: 0.7, divergence: 0.2 },
          verdict: "Synthetic",
          feedback: "ages too young",
        },
      ],
      usage: {
        calls: 3,
        failed_calls: 0,
        prompt_tokens: 10,
        completion_tokens: 5,
        estimated: false,
        latency_ms: 9,
      },
    });
    expect(synthia.iterations).toEqual([
      {
        iteration: 1,
        scores: { similarity: 0.7, divergence: 0.2 },
        verdict: "Synthetic",
        feedback: "ages too young",
      },
    ]);
    expect(synthia.usage?.calls).toBe(3);
    const mallm = runTraceFromSummary({
      theta_trajectory: [
        { step: 4, epoch: 1, batch: 2, score: 0.61, rescored: null, task: "keep ages adult", valid_rows: 50 },
      ],
    });
    expect(mallm.iterations).toEqual([
      { iteration: 4, scores: { score: 0.61, valid_rows: 50 }, feedback: "keep ages adult" },
    ]);
  });
});
