/**
 * `synthgraph evaluate` through the CLI binary: the summary's verdicts (each figure with its range, direction,
 * thresholds and words) on two tables whose answers are known — the real table compared with itself (C2ST gap
 * exactly 0: each row and its copy share a test fold and get one score, so one is right and one wrong) and a
 * copy whose columns are each shuffled on their own (every marginal exact, every relation between columns gone:
 * utility drops, so detection must not read "cannot tell them apart") — and a seeded table with a 10,000-level
 * column, whose pair metrics use the 99 most frequent levels plus "other" (checked against a brute-force count).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { EvaluateResult } from "../../stats/metrics/evaluate.ts";
import { createRng } from "../../stats/primitives/rng.ts";
import { DATASETS } from "../support/fixtures.ts";
import { finished, synthgraphChild } from "../support/harness.ts";
import { highCardinalityTable } from "../support/tables.ts";

let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "evaluate-cli-"));
});

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return finished(synthgraphChild(args, {}, dir));
}

async function evaluate(args: string[]): Promise<{ out: string; result: EvaluateResult }> {
  const json = join(dir, `ev-${Math.random().toString(36).slice(2)}.json`);
  const r = await cli(["evaluate", ...args, "--json", json, "--no-random-forest"]);
  expect(r.code, r.err).toBe(0);
  return { out: r.out, result: JSON.parse(readFileSync(json, "utf8")) as EvaluateResult };
}

describe("verdicts: a table against itself and against its column-shuffled copy", () => {
  let real = "";
  let shuffled = "";
  let holdout = "";
  beforeAll(() => {
    // The first 1,000 rows of Adult, the next 1,000 as holdout; the copy permutes each column on its own
    // (Fisher–Yates, seed 100 + column index).
    const [header, ...body] = readFileSync(join(DATASETS, "adult.csv"), "utf8").trimEnd().split("\n");
    const rows = body.slice(0, 1000).map((l) => l.split(","));
    const columns = rows[0].map((_, j) => rows.map((r) => r[j]));
    for (const [j, col] of columns.entries()) {
      const rng = createRng(100 + j);
      for (let i = col.length - 1; i > 0; i--) {
        const k = rng.int(i + 1);
        [col[i], col[k]] = [col[k], col[i]];
      }
    }
    real = join(dir, "adult-real.csv");
    shuffled = join(dir, "adult-shuffled.csv");
    holdout = join(dir, "adult-holdout.csv");
    writeFileSync(real, `${[header, ...body.slice(0, 1000)].join("\n")}\n`);
    writeFileSync(holdout, `${[header, ...body.slice(1000, 2000)].join("\n")}\n`);
    const shuffledRows = rows.map((_, i) => columns.map((c) => c[i]).join(","));
    writeFileSync(shuffled, `${[header, ...shuffledRows].join("\n")}\n`);
  });

  const common = (synthetic: string): string[] => [
    ...["--real", real, "--synthetic", synthetic, "--holdout", holdout, "--target", "income"],
  ];
  const levelOf = (r: EvaluateResult, figure: string): string | undefined =>
    r.summary.verdicts.find((v) => v.figure === figure)?.level;

  it("the table with itself: every figure read, C2ST gap 0, detection good, utility good", async () => {
    const { out, result } = await evaluate(common(real));
    const figures = result.summary.verdicts.map((v) => v.figure);
    expect(figures).toEqual([
      "quality",
      "column_shapes",
      "column_pair_trends",
      "detection",
      "c2st_gap",
      "utility",
      "privacy",
    ]);
    for (const v of result.summary.verdicts) {
      expect(["higher", "lower"]).toContain(v.better);
      expect(v.rule).toMatch(/good [≤≥] [\d.]+, fair [≤≥] [\d.]+/);
      expect(v.words.length).toBeGreaterThan(10);
    }
    const s = result.summary;
    expect(s.c2st_gap).toBe(0);
    expect(s.forest_c2st_gap).toBe(0);
    expect(s.logistic_detection).toBe(1);
    expect(s.forest_detection).toBe(1);
    expect(levelOf(result, "detection")).toBe("good");
    expect(levelOf(result, "c2st_gap")).toBe("good");
    expect(levelOf(result, "utility")).toBe("good");
    // Every row is an exact copy: privacy is poor, and says so.
    expect(levelOf(result, "privacy")).toBe("poor");
    expect(out).toMatch(/C2ST gap 0\.000 = the larger of logistic 0\.000 and random forest 0\.000/);
  });

  it("the column-shuffled copy: logistic detection alone says 1, the summary does not read it as indistinguishable", async () => {
    const { out, result } = await evaluate(common(shuffled));
    const s = result.summary;
    // Every marginal is exact, so the linear model cannot see the difference ...
    expect(s.column_shapes).toBe(1);
    expect(s.logistic_detection).toBeGreaterThanOrEqual(0.8);
    // ... but utility drops, and detection agrees with it.
    expect(s.tstr_accuracy).toBeLessThan(s.trtr_accuracy as number);
    expect(levelOf(result, "utility")).not.toBe("good");
    expect(levelOf(result, "detection")).not.toBe("good");
    expect(levelOf(result, "c2st_gap")).not.toBe("good");
    expect(s.detection).toBe(s.forest_detection);
    expect(out).toMatch(
      /detection [\d.]+ = the worse of logistic [\d.]+ and random forest [\d.]+.*→ (fair|poor)/,
    );
    expect(out).not.toMatch(/indistinguishable/);
  });
});

describe("a categorical column with 10,050 levels", () => {
  it("pair metrics use its 99 most frequent real levels plus other; column shapes use every level", async () => {
    const real = highCardinalityTable(1, 12_000, 10_000);
    const synthetic = highCardinalityTable(2, 12_000, 10_000, "y");
    const realPath = join(dir, "zip-real.csv");
    const synthPath = join(dir, "zip-synthetic.csv");
    writeFileSync(realPath, real.csv);
    writeFileSync(synthPath, synthetic.csv);
    const { out, result } = await evaluate(["--real", realPath, "--synthetic", synthPath]);

    // Reference, by counting: the real levels by count (ties: first appearance), the top 99 kept.
    const counts = new Map<string, number>();
    for (const z of real.zips) counts.set(z, (counts.get(z) ?? 0) + 1);
    const order = [...counts.keys()]; // first-appearance order
    const top = new Set(
      [...order]
        .sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || order.indexOf(a) - order.indexOf(b))
        .slice(0, 99),
    );
    const capped = (z: string): string => (top.has(z) ? z : "(other)");
    const otherReal = real.zips.filter((z) => !top.has(z)).length / real.zips.length;
    const otherSynthetic = synthetic.zips.filter((z) => !top.has(z)).length / synthetic.zips.length;
    expect(result.high_cardinality).toEqual({
      max_levels: 100,
      columns: [
        {
          column: "zip",
          levels: counts.size,
          kept: 99,
          other: "(other)",
          other_share_real: otherReal,
          other_share_synthetic: otherSynthetic,
        },
      ],
    });
    expect(counts.size).toBe(10_050);

    // ContingencySimilarity of (zip, city) on the capped levels: 1 − ½ Σ |P_real(a, b) − P_synthetic(a, b)|.
    const cities = (csv: string): string[] =>
      csv
        .trimEnd()
        .split("\n")
        .slice(1)
        .map((l) => l.split(",")[1]);
    const joint = (zips: string[], city: string[]): Map<string, number> => {
      const m = new Map<string, number>();
      zips.forEach((z, i) =>
        m.set(`${capped(z)}|${city[i]}`, (m.get(`${capped(z)}|${city[i]}`) ?? 0) + 1 / zips.length),
      );
      return m;
    };
    const pr = joint(real.zips, cities(real.csv));
    const ps = joint(synthetic.zips, cities(synthetic.csv));
    let l1 = 0;
    for (const k of new Set([...pr.keys(), ...ps.keys()]))
      l1 += Math.abs((pr.get(k) ?? 0) - (ps.get(k) ?? 0));
    expect(result.column_pairs["zip|city"].contingency_similarity).toBeCloseTo(1 - l1 / 2, 12);

    // TVComplement of zip over every level (docs/metrics.md §1.3, SDMetrics): counts R_c and S_c, a category
    // only the synthetic table has gets R_c = 1e-6; score = 1 − ½ Σ |S_c/ΣS − R_c/ΣR|.
    const count = (zips: string[]): Map<string, number> => {
      const m = new Map<string, number>();
      for (const z of zips) m.set(z, (m.get(z) ?? 0) + 1);
      return m;
    };
    const rc = count(real.zips);
    const sc = count(synthetic.zips);
    for (const k of sc.keys()) if (!rc.has(k)) rc.set(k, 1e-6);
    const sumR = [...rc.values()].reduce((a, b) => a + b, 0);
    let tv = 0;
    for (const k of rc.keys())
      tv += Math.abs((sc.get(k) ?? 0) / synthetic.zips.length - (rc.get(k) ?? 0) / sumR);
    const shape = result.column_shapes.zip as { tv_complement: number };
    expect(shape.tv_complement).toBeCloseTo(1 - tv / 2, 12);

    expect(out).toContain(
      'note: column "zip" has 10050 levels: pair trends, correlations, detection, utility and row-level metrics use its 99 most frequent real levels plus "(other)"',
    );
  });
});
