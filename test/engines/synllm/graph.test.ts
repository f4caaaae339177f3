/**
 * SynLLM end to end: `synthgraph generate --engine synllm` in a child process for each prompt type (and the
 * CSV reply format), every generator request answered by the generic responder from the real table (the
 * first 300 rows of the shared diabetes.csv). Checks exactly N rows, every hard rule holding on the output,
 * the soft rule counted (against a count made here from the output CSV), rule rejections recorded, and usage
 * equal to what the server served. Prints calls and tokens per row per type (the closing note).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  csvLines,
  exited,
  loopbackEnv,
  loopbackModel,
  synthgraphChild,
  useLlmServer,
} from "../../support/harness.ts";
import { DATASETS } from "../../support/fixtures.ts";
import { genericResponder, type RealView, readRealView } from "../../support/generic-responder.ts";

const ROWS = 45;
const server = useLlmServer();
let dir = "";
let input = "";
let rules = "";
let real: RealView;
let glucose: number[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "synllm-e2e-"));
  input = join(dir, "diabetes300.csv");
  writeFileSync(input, `${csvLines(join(DATASETS, "diabetes.csv")).slice(0, 301).join("\n")}\n`);
  real = await readRealView(input);
  // A hard rule every real row meets and the responder's nudged glucose values often break.
  glucose = [...new Set(real.rows.map((r) => r[7] as number))].sort((a, b) => a - b);
  rules = join(dir, "rules.txt");
  writeFileSync(
    rules,
    [
      "# clinical rules",
      "implies(HbA1c_level > 6.5, diabetes == 1)  # ADA threshold: the real data breaks it often (soft)",
      `blood_glucose_level in [${glucose.join(", ")}]`,
      "",
    ].join("\n"),
  );
});

const CASES = [
  { type: "seedex", format: "json" },
  { type: "featdesc", format: "json" },
  { type: "statguide", format: "json" },
  { type: "clinrule", format: "json" },
  { type: "clinrule", format: "csv" },
] as const;

describe.each(CASES)("generate --engine synllm --prompt-type $type --reply-format $format", (c) => {
  it("writes exactly N rows that meet every hard rule, counts the soft rule and the rejections", async () => {
    const g = genericResponder(real);
    server.setDefault(g.respond);
    const name = `${c.type}-${c.format}`;
    const out = join(dir, `${name}.csv`);
    const json = join(dir, `${name}.json`);
    const before = { ...server.stats };
    const done = await exited(
      synthgraphChild(
        [
          "generate",
          input,
          ...["--rows", String(ROWS), "--out", out, "--json", json, "--run-dir", join(dir, `run-${name}`)],
          ...[
            "--engine",
            "synllm",
            "--model",
            loopbackModel("ollama"),
            "--seed",
            "4",
            "--target",
            "diabetes",
          ],
          ...["--prompt-type", c.type, "--reply-format", c.format, "--rules", rules],
        ],
        loopbackEnv(server, "ollama"),
        dir,
      ),
    );
    expect(done.stderr).not.toMatch(/error/i);
    expect(done.code).toBe(0);
    expect(g.counts["synllm-generator"]).toBeGreaterThanOrEqual(3);

    const lines = csvLines(out);
    expect(lines[0]).toBe(csvLines(input)[0]);
    expect(lines).toHaveLength(ROWS + 1);
    const cells = lines.slice(1).map((l) => l.split(","));
    // Hard rule from the file, checked here on the CSV text.
    for (const r of cells) expect(glucose).toContain(Number(r[7]));
    // Soft rule: counted, not enforced; the count equals the rows breaking it in the output.
    const softBroken = cells.filter((r) => Number(r[6]) > 6.5 && Number(r[8]) === 0).length;

    const s = JSON.parse(readFileSync(json, "utf8"));
    expect(s.rows).toBe(ROWS);
    expect(s.prompt_type).toBe(c.type);
    expect(s.batch_rows).toBe(20);
    const soft = s.rules.filter((r: { hard: boolean }) => !r.hard);
    expect(soft.map((r: { rule: string }) => r.rule)).toEqual(["implies(HbA1c_level > 6.5, diabetes == 1)"]);
    expect(soft[0].output_broken).toBe(softBroken);
    for (const r of s.rules.filter((x: { hard: boolean }) => x.hard)) expect(r.output_broken, r.rule).toBe(0);
    // The responder nudges glucose off the real values now and then: those rows were rejected and counted.
    const glucoseRule = s.rules.find((r: { rule: string }) => r.rule.startsWith("blood_glucose_level in"));
    expect(glucoseRule.hard).toBe(true);
    expect(s.rule_rejections.by_rule[glucoseRule.rule]).toBeGreaterThan(0);
    expect(s.rule_rejections.total).toBe(
      Object.values(s.rule_rejections.by_rule as Record<string, number>).reduce((a, b) => a + b, 0),
    );
    expect(s.usage.calls).toBe(server.stats.completions - before.completions);
    expect(s.usage.prompt_tokens).toBe(server.stats.promptTokens - before.promptTokens);
    expect(Number.isFinite(s.synllm_scores.harmonic)).toBe(true);
    expect(s.synllm_scores.utility.target).toBe("diabetes");
    if (c.type === "clinrule" || c.type === "featdesc") expect(s.prompt).not.toContain("<rows>");
    if (c.type === "seedex") expect(s.prompt).toContain("<rows>");
    const tokens = s.usage.prompt_tokens + s.usage.completion_tokens;
    console.log(
      `[synllm ${name}] calls ${s.usage.calls} (${(s.usage.calls / ROWS).toFixed(3)}/row), tokens ${tokens} (${(tokens / ROWS).toFixed(1)}/row; prompt ${s.usage.prompt_tokens}, completion ${s.usage.completion_tokens}); rejected by rules ${s.rule_rejections.total}; invalid ${s.invalid_rows_dropped}`,
    );
  }, 120_000);
});
