/**
 * `synthgraph evaluate --suite synllm` through the CLI binary, on slices of the shared diabetes.csv: real = data
 * lines 1–200, holdout = 201–400, synthetic = lines 401–580 plus 20 real lines copied verbatim. The `synllm` key
 * of the JSON equals the library's synllmSuite computed here on the same files; independently of the library,
 * the identifiability is counted from the CSV text, the clinical relation "HbA1c by diabetes" is worked out
 * from the text, and quality / privacy / harmonic follow their definitions from the normalised parts. A
 * synthetic table equal to the real one scores quality 1, privacy 0, harmonic 0. Without --target the suite
 * is refused with exit 2 before anything is written.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { metadataToJson } from "../../data/metadata.ts";
import { readTable } from "../../data/read.ts";
import { toJson } from "../../stats/metrics/evaluate.ts";
import { synllmSuite } from "../../stats/metrics/synllm/index.ts";
import { csvLines, finished, synthgraphChild } from "../support/harness.ts";
import { DATASETS } from "../support/fixtures.ts";

const SEED = 3;
let dir = "";
let header = "";
let realLines: string[] = [];
let synLines: string[] = [];
const path = { real: "", holdout: "", synthetic: "" };

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return finished(synthgraphChild(args, {}, dir));
}

/** synllmSuite on the files, read as the CLI reads them (types inferred on real, imposed on the others). */
async function library(synthetic: string, holdout?: string): Promise<unknown> {
  const real = await readTable(path.real, { target: "diabetes" });
  const same = { metadata: metadataToJson(real.metadata) };
  const syn = await readTable(synthetic, same);
  const hold = holdout === undefined ? undefined : await readTable(holdout, same);
  const suite = synllmSuite(real.table, syn.table, {
    target: "diabetes",
    seed: SEED,
    ...(hold === undefined ? {} : { holdout: hold.table }),
  });
  // The CLI's JSON writes NaN as null: compare through the same writer.
  return JSON.parse(toJson(suite));
}

const evaluateArgs = (synthetic: string, json: string, more: string[] = []): string[] => [
  "evaluate",
  ...["--real", path.real, "--synthetic", synthetic, "--json", json, "--seed", String(SEED)],
  ...["--suite", "synllm", "--target", "diabetes", "--no-random-forest", ...more],
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "evaluate-synllm-"));
  const all = csvLines(join(DATASETS, "diabetes.csv"));
  header = all[0];
  realLines = all.slice(1, 201);
  // 20 verbatim copies of real rows (every 10th), spread through the synthetic rows.
  synLines = all.slice(401, 581);
  for (let k = 0; k < 20; k++) synLines.splice(k * 10, 0, realLines[k * 10]);
  const write = (name: string, lines: string[]): string => {
    const p = join(dir, name);
    writeFileSync(p, `${[header, ...lines].join("\n")}\n`);
    return p;
  };
  path.real = write("real.csv", realLines);
  path.holdout = write("holdout.csv", all.slice(201, 401));
  path.synthetic = write("synthetic.csv", synLines);
});

interface Scores {
  accuracy: number;
  f1_macro: number;
  auc: number;
}

describe("evaluate --suite synllm", () => {
  it("writes the library's SynLLM scores (TSTR on the holdout) and prints them", async () => {
    const json = join(dir, "with-holdout.json");
    const r = await cli(evaluateArgs(path.synthetic, json, ["--holdout", path.holdout]));
    expect(r.code, r.err).toBe(0);
    const tree = JSON.parse(readFileSync(json, "utf8"));
    const s = tree.synllm;
    expect(s).toEqual(await library(path.synthetic, path.holdout));

    // Identifiability from the CSV text: synthetic lines that are some real line.
    const realSet = new Set(realLines);
    const copies = synLines.filter((l) => realSet.has(l)).length;
    expect(copies).toBeGreaterThanOrEqual(20);
    expect(s.identifiability).toBe(copies / synLines.length);
    // Quality, privacy, harmonic by their definitions (stats/metrics/synllm/scores.ts header).
    const n = s.normalised;
    const quality = [n.wasserstein, n.jensen_shannon, n.correlation].filter((x) => x !== null);
    expect(quality).toHaveLength(3);
    expect(s.quality).toBeCloseTo(quality.reduce((a: number, b: number) => a + b, 0) / 3, 12);
    expect(n.nndr).toBe(Math.min(1, s.nndr_synthetic_to_real));
    expect(n.identifiability).toBe(1 - s.identifiability);
    expect(s.privacy).toBeCloseTo((n.nndr + n.identifiability) / 2, 12);
    expect(s.harmonic).toBeCloseTo((2 * s.quality * s.privacy) / (s.quality + s.privacy), 12);
    for (const x of [s.quality, s.privacy, s.harmonic, ...quality]) {
      expect(x).toBeGreaterThan(0);
      expect(x).toBeLessThanOrEqual(1);
    }
    // The paper's NNDR and the authors' code's ratio are reported apart; the ratio is the evaluation's own.
    expect(s.nndr_synthetic_to_real).toBeGreaterThan(0);
    expect(s.synllm_ratio).not.toBe(s.nndr_synthetic_to_real);
    expect(s.synllm_ratio).toBeCloseTo(tree.row_level.nndr.synllm_ratio, 12);

    // Utility: tree and forest, TSTR on the holdout, TRTS, and the TRTR baseline.
    const u = s.utility;
    expect(u.target).toBe("diabetes");
    expect(u.tstr_test).toBe("holdout");
    for (const part of [u.tstr, u.trts, u.trtr])
      for (const m of [part.tree, part.forest] as Scores[])
        for (const v of [m.accuracy, m.f1_macro, m.auc]) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }

    // Clinical consistency: HbA1c by diabetes, worked out from the CSV text.
    const col = header.split(",");
    const cells = (lines: string[], name: string): number[] =>
      lines.map((l) => Number(l.split(",")[col.indexOf(name)]));
    const gapOf = (lines: string[]): number => {
      const h = cells(lines, "HbA1c_level");
      const d = cells(lines, "diabetes");
      const m = (g: number) => {
        const xs = h.filter((_, i) => d[i] === g);
        return xs.reduce((a, b) => a + b, 0) / xs.length;
      };
      return m(1) - m(0);
    };
    const h = cells(realLines, "HbA1c_level");
    const mean = h.reduce((a, b) => a + b, 0) / h.length;
    const sd = Math.sqrt(h.reduce((a, b) => a + (b - mean) ** 2, 0) / (h.length - 1));
    const hba1c = s.clinical_consistency.relations.find(
      (x: { relation: string }) => x.relation === "HbA1c by diabetes",
    );
    expect(hba1c.real).toBeCloseTo(gapOf(realLines), 12);
    expect(hba1c.synthetic).toBeCloseTo(gapOf(synLines), 12);
    expect(hba1c.gap).toBeCloseTo(Math.abs(gapOf(realLines) - gapOf(synLines)) / sd, 12);
    expect(s.clinical_consistency.relations.map((x: { relation: string }) => x.relation)).toEqual([
      "HbA1c by diabetes",
      "glucose by diabetes",
    ]);

    // The printed summary carries the same numbers.
    const f = (x: number) => x.toFixed(3);
    expect(r.out).toContain(
      `synllm    quality ${f(s.quality)}, privacy ${f(s.privacy)}, harmonic ${f(s.harmonic)}`,
    );
    expect(r.out).toContain(`NNDR synthetic-to-real ${f(s.nndr_synthetic_to_real)}`);
    expect(r.out).toContain(`synllm_ratio ${f(s.synllm_ratio)}`);
    expect(r.out).toContain(`identifiability ${f(s.identifiability)}`);
    expect(r.out).toContain(
      `TSTR (tested on holdout) accuracy ${f(u.tstr.tree.accuracy)}, macro-F1 ${f(u.tstr.tree.f1_macro)}, AUC ${f(u.tstr.tree.auc)}`,
    );
    expect(r.out).toContain(`TRTS accuracy ${f(u.trts.forest.accuracy)}`);
    expect(r.out).toContain(`TRTR (real baseline) accuracy ${f(u.trtr.forest.accuracy)}`);
    expect(r.out).toContain(`clinical consistency ${f(s.clinical_consistency.score)}`);
  });

  it("without --holdout tests TSTR on the real table and has no TRTR", async () => {
    const json = join(dir, "no-holdout.json");
    const r = await cli(evaluateArgs(path.synthetic, json));
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(readFileSync(json, "utf8")).synllm;
    expect(s).toEqual(await library(path.synthetic));
    expect(s.utility.tstr_test).toBe("real");
    expect(s.utility.trtr).toBeNull();
    expect(r.out).toContain("TSTR (tested on the real rows; no --holdout)");
  });

  it("a synthetic table equal to the real one: quality 1, privacy 0, harmonic 0", async () => {
    const json = join(dir, "copy.json");
    const r = await cli(evaluateArgs(path.real, json));
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(readFileSync(json, "utf8")).synllm;
    expect(s.identifiability).toBe(1);
    expect(s.nndr_synthetic_to_real).toBe(0);
    expect(s.synllm_ratio).toBe(1);
    expect(s.quality).toBe(1);
    expect(s.privacy).toBe(0);
    expect(s.harmonic).toBe(0);
    expect(s.clinical_consistency.score).toBe(0);
  });

  it("refuses --suite synllm without --target (exit 2, nothing written)", async () => {
    const json = join(dir, "refused.json");
    const args = evaluateArgs(path.synthetic, json).filter((a) => a !== "--target" && a !== "diabetes");
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--suite synllm needs --target COLUMN/);
    expect(existsSync(json)).toBe(false);
  });
});
