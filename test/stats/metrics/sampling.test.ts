import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { takeTableRows } from "../../../data/build.ts";
import { metadataToJson } from "../../../data/metadata.ts";
import { readTable } from "../../../data/read.ts";
import type { Table } from "../../../data/types.ts";
import { evaluateTables, statColumns, alignTable } from "../../../stats/metrics/evaluate.ts";
import { rowLevelMetrics, subsampleRows } from "../../../stats/metrics/rows/rowlevel.ts";
import { SAMPLING_STREAMS } from "../../../stats/metrics/sampling.ts";
import { detectionMetrics, stratifiedFolds } from "../../../stats/metrics/table/detection.ts";
import { tstrLogistic } from "../../../stats/metrics/table/utility.ts";
import { createRng } from "../../../stats/primitives/rng.ts";
import { DATASETS } from "../../support/fixtures.ts";

// Small slices of Adult with a low threshold stand in for big tables: the sampled metrics must equal the
// kernels run by hand on the samples the documented streams draw, and the intervals must hold the estimates.

async function slices(): Promise<{ real: Table; synthetic: Table; holdout: Table }> {
  const r = await readTable(join(DATASETS, "adult.csv"), { target: "income" });
  const s = await readTable(join(DATASETS, "adult_test.csv"), { metadata: metadataToJson(r.metadata) });
  const range = (a: number, n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => a + i);
  return {
    real: takeTableRows(r.table, range(0, 400)),
    holdout: takeTableRows(r.table, range(400, 300)),
    synthetic: takeTableRows(s.table, range(0, 400)),
  };
}

function drawn(t: Table, n: number, seed: number, stream: number): Table {
  return subsampleRows(t, n, createRng(seed).fork(stream), "x", []);
}

describe("evaluation sampling above the threshold", () => {
  it("changes nothing at or below the threshold", async () => {
    const { real, synthetic, holdout } = await slices();
    const plain = evaluateTables(real, synthetic, holdout, { target: "income", skip_random_forest: true });
    const atThreshold = evaluateTables(real, synthetic, holdout, {
      target: "income",
      skip_random_forest: true,
      scale_threshold: 400,
      row_level_sample: 50,
      model_sample: 60,
    });
    expect(plain.sampling).toBeUndefined();
    expect(atThreshold).toEqual(plain);
  });

  it("computes row-level, detection and utility on the seeded samples and reports their intervals", async () => {
    const { real, synthetic, holdout } = await slices();
    const seed = 7;
    const p = { row_level_sample: 120, model_sample: 150, scale_threshold: 399, seed };
    const r = evaluateTables(real, synthetic, holdout, { target: "income", skip_random_forest: true, ...p });
    const names = statColumns(real);
    const [R, S, H] = [real, synthetic, holdout].map((t) => alignTable(t, names, "t"));

    const rl = rowLevelMetrics(R, S, H, { alphaBetaSteps: 30, seed, maxRows: 120 });
    expect(r.row_level).toEqual(rl);
    const dR = drawn(R, 150, seed, SAMPLING_STREAMS.detectionReal);
    const dS = drawn(S, 150, seed, SAMPLING_STREAMS.detectionSynthetic);
    expect(r.detection).toEqual(detectionMetrics(dR, dS, stratifiedFolds(150, 150, 3, seed)));
    const u = tstrLogistic(
      drawn(R, 150, seed, SAMPLING_STREAMS.utilityReal),
      drawn(S, 150, seed, SAMPLING_STREAMS.utilitySynthetic),
      drawn(H, 150, seed, SAMPLING_STREAMS.utilityHoldout),
      "income",
      ">50K",
    );
    expect(r.tstr_logistic?.tstr.accuracy).toBe(u.tstr.accuracy);

    const s = r.sampling;
    if (s === undefined) throw new Error("no sampling report");
    expect(s.row_level.sample_real).toBe(120);
    expect(s.row_level.sample_holdout).toBe(120);
    expect(s.detection?.sample_synthetic).toBe(150);
    expect(s.utility?.sample_holdout).toBe(150);
    const within = ([lo, hi]: [number, number], x: number): void => {
      expect(lo).toBeLessThanOrEqual(x);
      expect(hi).toBeGreaterThanOrEqual(x);
      expect(hi).toBeGreaterThan(lo);
    };
    within(s.row_level.ci95.dcr_minmax_median, rl.dcr.minmax_real.median);
    within(s.row_level.ci95.dcr_minmax_mean, rl.dcr.minmax_real.mean);
    within(s.row_level.ci95.nndr_classic_mean, rl.nndr.classic_mean);
    within(s.row_level.ci95.dcr_share ?? [Number.NaN, Number.NaN], rl.dcr_share_tabsyn?.share ?? Number.NaN);
    if (!("error" in r.detection)) {
      within(s.detection?.ci95.accuracy_pooled ?? [0, 0], r.detection.accuracy_pooled);
      within(s.detection?.ci95.logistic_detection ?? [0, 0], r.detection.logistic_detection);
    }
    within(s.utility?.ci95.tstr_accuracy ?? [0, 0], u.tstr.accuracy);
    expect(r.summary.notes.some((n) => n.includes('under "sampling"'))).toBe(true);
  });
});
