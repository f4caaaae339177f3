/**
 * A SynLLM run killed with SIGKILL mid final generation and resumed (`synthgraph resume`): exactly N rows, each
 * stored batch in the output once and none asked for again, and every hard rule holding on every row. The
 * generator is the generic responder (rows from the real table, perturbed) on the loopback server, held after
 * its first 2 replies so the kill lands with some batches stored and others in flight, whatever the load. The
 * real table is the first 300 rows of the shared diabetes.csv; a rules file adds a hard rule the responder's
 * nudged glucose values often break, so rows are rejected and later rounds top up.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ArtifactStore, finalBatchKey, RowBatchSchema } from "../../../state/artifacts.ts";
import { readRunFile } from "../../../state/run-dir.ts";
import { batchSeed } from "../../../state/seeds.ts";
import { DATASETS } from "../../support/fixtures.ts";
import { genericKindOf, genericResponder, readRealView } from "../../support/generic-responder.ts";
import { csvLines, holdAfter, killThenResume, storedArtifacts, useLlmServer } from "../../support/harness.ts";
import { seedOf } from "../../support/synthia.ts";

const ROWS = 60;
const BATCH = 10;
const SEED = 5;
const server = useLlmServer();
let dir = "";
let input = "";
let rules = "";
let header: string[] = [];
let realLines: string[] = [];
let glucose: number[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "synllm-durable-"));
  const lines = csvLines(join(DATASETS, "diabetes.csv")).slice(0, 301);
  header = lines[0].split(",");
  realLines = lines.slice(1);
  input = join(dir, "diabetes300.csv");
  writeFileSync(input, `${lines.join("\n")}\n`);
  glucose = [...new Set(realLines.map((l) => Number(l.split(",")[7])))].sort((a, b) => a - b);
  rules = join(dir, "rules.txt");
  writeFileSync(rules, `blood_glucose_level in [${glucose.join(", ")}]\n`);
});

const batchFiles = (runDir: string): string[] => storedArtifacts(runDir, "final", /^r\d{3}-b\d{5}\.json$/);

describe("synllm: resume after kill -9 mid final generation", () => {
  it("ends with exactly N rows, no batch asked for twice or written twice, every hard rule met", async () => {
    const view = await readRealView(input);
    const g = genericResponder(view);
    const held = holdAfter(g.respond, (req) => genericKindOf(req) === "synllm-generator", 2);
    server.setDefault(held.responder);
    const served = { ...server.stats };
    const runDir = join(dir, "killed");
    const out = join(dir, "killed.csv");
    const json = join(dir, "killed.json");
    const args = [
      "generate",
      input,
      ...["--rows", String(ROWS), "--out", out, "--json", json, "--run-dir", runDir],
      ...["--engine", "synllm", "--model", "ollama:llama3.1:8b", "--seed", String(SEED)],
      ...["--prompt-type", "clinrule", "--mini-batch", String(BATCH), "--rules", rules, "--concurrency", "2"],
    ];
    const { atKill, requestsBefore } = await killThenResume({
      server,
      cwd: dir,
      args,
      runDir,
      stored: () => batchFiles(runDir),
      atLeast: 2,
      below: ROWS / BATCH,
      timeoutMs: 60_000,
      pollMs: 10,
      afterKill: held.release,
    });

    const store = new ArtifactStore(join(runDir, "artifacts"));
    // Batch artifacts are written once: the seeds read now are those stored at the kill.
    const seedsAtKill = new Set<number>();
    for (const f of atKill)
      seedsAtKill.add((await store.require(`final/${f.replace(/\.json$/, "")}`, RowBatchSchema)).seed);
    const after = server
      .chatRequests()
      .slice(requestsBefore)
      .filter((r) => genericKindOf(r) === "synllm-generator")
      .map(seedOf);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((s) => seedsAtKill.has(s))).toEqual([]);
    expect(new Set(after).size).toBe(after.length);

    // Every stored batch has its own seed (round, batch) and the output is their rows in order, each once.
    const files = batchFiles(runDir);
    const rows: string[] = [];
    for (const f of files) {
      const [, r, b] = /^r(\d{3})-b(\d{5})\.json$/.exec(f) as RegExpExecArray;
      const batch = await store.require(finalBatchKey(Number(r), Number(b)), RowBatchSchema);
      expect(batch.seed).toBe(batchSeed(SEED, Number(r), Number(b)));
      for (const row of batch.rows) rows.push(header.map((h) => String(row[h])).join("\u0001"));
    }
    // Rejections made the first round short: later rounds topped up.
    expect(files.some((f) => f.startsWith("r002-"))).toBe(true);
    const lines = csvLines(out);
    expect(lines[0]).toBe(header.join(","));
    expect(lines).toHaveLength(ROWS + 1);
    const cells = lines.slice(1).map((l) => l.split(","));
    expect(
      cells.map((c) => c.map((v) => String(Number.isNaN(Number(v)) ? v : Number(v))).join("\u0001")),
    ).toEqual(rows.slice(0, ROWS));
    // No row is in the output twice.
    expect(new Set(lines.slice(1)).size).toBe(ROWS);

    // Hard rules, checked on the CSV text: the file's glucose rule and the real range of every numeric column.
    for (const c of cells) expect(glucose).toContain(Number(c[7]));
    for (const j of [1, 2, 3, 5, 6, 7, 8]) {
      const real = realLines.map((l) => Number(l.split(",")[j]));
      const [lo, hi] = [Math.min(...real), Math.max(...real)];
      for (const c of cells) {
        expect(Number(c[j]), header[j]).toBeGreaterThanOrEqual(lo);
        expect(Number(c[j]), header[j]).toBeLessThanOrEqual(hi);
      }
    }
    const s = JSON.parse(readFileSync(json, "utf8"));
    expect(s.rows).toBe(ROWS);
    const hard = s.rules.filter((r: { hard: boolean }) => r.hard);
    expect(hard.length).toBeGreaterThanOrEqual(8);
    for (const r of hard) expect(r.output_broken, r.rule).toBe(0);
    const glucoseRule = hard.find((r: { rule: string }) => r.rule.startsWith("blood_glucose_level in"));
    expect(s.rule_rejections.by_rule[glucoseRule.rule]).toBeGreaterThan(0);
    // Every call the server answered (the held ones never were) is counted once across the kill: the batches
    // stored before it (their checkpoint writes kept or lost) and those made by the resume.
    expect(s.usage.calls).toBe(server.stats.completions - served.completions);
    expect(s.usage.prompt_tokens).toBe(server.stats.promptTokens - served.promptTokens);
    expect(s.usage.completion_tokens).toBe(server.stats.completionTokens - served.completionTokens);
    const run = await readRunFile(runDir);
    expect(run.status).toBe("done");
    expect(run.progress.rows_done).toBe(ROWS);
  }, 180_000);
});
