/**
 * MALLM-GAN's selectable discriminators (engines/mallm/classifiers.ts): sgd, logistic (refit to convergence on every row
 * seen), forest (stats/classifiers/forest.ts on a bounded sample). Separation of a shifted table, chance on a resample of real,
 * determinism, snapshot/restore through JSON, the `--discriminator` flag, and one engine run with `logistic`.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { GenerateOptionsSchema, runConfigFromOptions } from "../../../cli/generate.ts";
import { codedColumn, numericColumn, tableOf } from "../../../data/build.ts";
import { rowsToTable } from "../../../data/rows.ts";
import type { Table } from "../../../data/types.ts";
import { realLoader, startRun } from "../../../graph/run.ts";
import { ArtifactStore, RowSchema } from "../../../state/artifacts.ts";
import { discriminatorChunkKey, heldOutKey, type MallmStateT } from "../../../engines/mallm/state.ts";
import {
  createDiscriminator,
  DISCRIMINATOR_KINDS,
  type MallmDiscriminator,
  snapshotChunkIds,
  type TrainingChunk,
  trainingChunkSchema,
} from "../../../engines/mallm/classifiers.ts";
import { decisionFunction, fitLogistic } from "../../../stats/classifiers/logistic.ts";
import { takeTableRows } from "../../../data/build.ts";
import { createRng } from "../../../stats/primitives/rng.ts";
import { encodeFeatures, fitDiscriminatorFeatures } from "../../../stats/classifiers/sgd.ts";
import { TEST_ENV, useLlmServer, useRunFiles } from "../../support/harness.ts";
import { mallmConfig, mallmResponder } from "../../support/mallm.ts";

/** n rows: x ~ U[lo, lo + 10), y ~ U[0, 1) (noise), c uniform over `levels`. */
function toy(n: number, lo: number, levels: string[], seed: number): Table {
  const rng = createRng(seed);
  const x: number[] = [];
  const y: number[] = [];
  const c: string[] = [];
  for (let i = 0; i < n; i++) {
    x.push(lo + 10 * rng.next());
    y.push(rng.next());
    c.push(levels[rng.int(levels.length)]);
  }
  return tableOf([numericColumn("x", x), numericColumn("y", y), codedColumn("c", c)]);
}

/** A bootstrap resample of `t` (n rows drawn with replacement, seeded). */
function resample(t: Table, n: number, seed: number): Table {
  const rng = createRng(seed);
  return takeTableRows(
    t,
    Array.from({ length: n }, () => rng.int(t.nRows)),
  );
}

const REAL_LEVELS = ["a", "b"];
const SHIFTED_LEVELS = ["b", "c"];
const realTable = toy(400, 0, REAL_LEVELS, 1);
const realBatches = [0, 1, 2, 3].map((k) => toy(50, 0, REAL_LEVELS, 100 + k));
const shiftedBatches = [0, 1, 2, 3].map((k) => toy(50, 5, SHIFTED_LEVELS, 200 + k));
const resampledBatches = [0, 1, 2, 3].map((k) => resample(realTable, 50, 300 + k));

function trained(disc: MallmDiscriminator, synthetic: Table[], seed = 0): MallmDiscriminator {
  for (const [k, r] of realBatches.entries()) disc.partialFit(r, synthetic[k], seed + k);
  return disc;
}

/** The chunks of `disc` after a JSON round trip, as a restore source. */
function jsonChunks(disc: MallmDiscriminator): (id: string) => TrainingChunk | undefined {
  const stored = new Map(
    [...disc.chunks()].map(([id, c]) => [id, trainingChunkSchema.parse(JSON.parse(JSON.stringify(c)))]),
  );
  return (id) => stored.get(id);
}

describe.each(DISCRIMINATOR_KINDS)("%s discriminator", (kind) => {
  it("separates a clearly shifted table: accuracy near the Bayes rate 0.875", () => {
    // Bayes rule: only x ∈ [5, 10) with c = "b" is ambiguous, mass ½·½ per class → error ½·¼ → accuracy 0.875.
    const disc = trained(createDiscriminator(kind, realTable), shiftedBatches);
    const acc = disc.accuracy(toy(200, 0, REAL_LEVELS, 7), toy(200, 5, SHIFTED_LEVELS, 8));
    expect(acc).toBeGreaterThan(0.8);
    expect(acc).toBeLessThanOrEqual(0.875 + 0.05);
  });

  it("cannot separate a resample of the real table (accuracy near 0.5)", () => {
    const disc = trained(createDiscriminator(kind, realTable), resampledBatches);
    // 400 held-out rows: chance accuracy has sd ≈ 0.025; 0.1 is four of them.
    const acc = disc.accuracy(toy(200, 0, REAL_LEVELS, 9), resample(realTable, 200, 10));
    expect(Math.abs(acc - 0.5)).toBeLessThan(0.1);
  });

  it("is deterministic for a seed", () => {
    const a = trained(createDiscriminator(kind, realTable), shiftedBatches, 5);
    const b = trained(createDiscriminator(kind, realTable), shiftedBatches, 5);
    const probe = toy(100, 2, ["a", "b", "c"], 11);
    expect(b.snapshot()).toEqual(a.snapshot());
    expect(Array.from(b.predictProba(probe))).toEqual(Array.from(a.predictProba(probe)));
  });

  it("round-trips snapshot/restore through JSON, then keeps learning identically", () => {
    const a = createDiscriminator(kind, realTable);
    a.partialFit(realBatches[0], shiftedBatches[0], 1);
    a.partialFit(realBatches[1], shiftedBatches[1], 2);
    const snap = JSON.parse(JSON.stringify(a.snapshot())) as unknown;
    // Fitted on another table: restore must replace the features, not keep its own.
    const b = createDiscriminator(kind, toy(10, 50, ["z"], 3), { chunks: jsonChunks(a) });
    b.restore(snap);
    const probe = toy(100, 2, ["a", "b", "c"], 12);
    expect(Array.from(b.predictProba(probe))).toEqual(Array.from(a.predictProba(probe)));
    expect(b.snapshot()).toEqual(a.snapshot());
    a.partialFit(realBatches[2], shiftedBatches[2], 3);
    b.partialFit(realBatches[2], shiftedBatches[2], 3);
    expect(Array.from(b.predictProba(probe))).toEqual(Array.from(a.predictProba(probe)));
    expect(b.snapshot()).toEqual(a.snapshot());
  });

  it("starts at chance: every row called synthetic before any fit", () => {
    const disc = createDiscriminator(kind, realTable);
    expect(disc.accuracy(realBatches[0], shiftedBatches[0])).toBe(0.5);
  });
});

describe("refitting discriminators (logistic, forest)", () => {
  it("logistic equals stats/classifiers/logistic.ts fitted on every encoded row seen, real = 1", () => {
    const disc = trained(createDiscriminator("logistic", realTable), shiftedBatches);
    const f = fitDiscriminatorFeatures(realTable);
    const parts = realBatches.flatMap((r, k) => [encodeFeatures(f, r), encodeFeatures(f, shiftedBatches[k])]);
    const n = parts.reduce((s, p) => s + p.nRows, 0);
    const data = new Float64Array(n * parts[0].nCols);
    const y = new Uint8Array(n);
    let row = 0;
    for (const [i, p] of parts.entries()) {
      data.set(p.data, row * p.nCols);
      if (i % 2 === 0) y.fill(1, row, row + p.nRows);
      row += p.nRows;
    }
    const fit = fitLogistic({ nRows: n, nCols: parts[0].nCols, data }, y);
    const probe = toy(50, 2, ["a", "b", "c"], 13);
    const z = decisionFunction(fit, encodeFeatures(f, probe));
    expect(Array.from(disc.predictProba(probe))).toEqual(Array.from(z, (v) => 1 / (1 + Math.exp(-v))));
  });

  it("logistic does not depend on the fit seeds (a converged fit); forest does", () => {
    const probe = toy(100, 2, ["a", "b", "c"], 14);
    const l1 = trained(createDiscriminator("logistic", realTable), shiftedBatches, 1);
    const l2 = trained(createDiscriminator("logistic", realTable), shiftedBatches, 50);
    expect(Array.from(l2.predictProba(probe))).toEqual(Array.from(l1.predictProba(probe)));
    const f1 = trained(createDiscriminator("forest", realTable), shiftedBatches, 1);
    const f2 = trained(createDiscriminator("forest", realTable), shiftedBatches, 50);
    expect(Array.from(f2.predictProba(probe))).not.toEqual(Array.from(f1.predictProba(probe)));
  });

  it("keeps the snapshot small: one 16-hex chunk id per fit, no rows", () => {
    const disc = createDiscriminator("logistic", realTable);
    disc.partialFit(realBatches[0], shiftedBatches[0], 1);
    const one = JSON.stringify(disc.snapshot()).length;
    for (let k = 1; k < 4; k++) disc.partialFit(realBatches[k], shiftedBatches[k], 1 + k);
    const snap = disc.snapshot();
    expect(snapshotChunkIds(snap)).toHaveLength(4);
    // Each further fit adds `,"<16 hex>"` = 19 characters.
    expect(JSON.stringify(snap).length).toBe(one + 3 * 19);
    // A chunk holds each row's 2 numbers and 1 hot slot.
    const chunk = disc.chunks().get(snapshotChunkIds(snap)[0]);
    expect(chunk).toMatchObject({ real: 50, synthetic: 50 });
    expect(chunk?.numeric).toHaveLength(200);
    expect(chunk?.hot).toHaveLength(100);
    // "a" → slot 0 of the real levels [a, b]; "c" was never real → −1 (all-zero block).
    const f = fitDiscriminatorFeatures(realTable);
    expect(f.oneHot[0].levels).toEqual(["a", "b"]);
    expect(chunk?.hot.slice(50).every((s) => s === 1 || s === -1)).toBe(true);
  });

  it("refuses a restore without its chunks, with a tampered chunk, or of another kind", () => {
    const a = trained(createDiscriminator("forest", realTable), shiftedBatches);
    const snap = a.snapshot();
    expect(() => createDiscriminator("forest", realTable).restore(snap)).toThrow(
      /chunk [0-9a-f]{16} is not available/,
    );
    const source = jsonChunks(a);
    const tampered = (id: string): TrainingChunk | undefined => {
      const c = source(id);
      return c && { ...c, numeric: c.numeric.map((v) => v + 1) };
    };
    expect(() => createDiscriminator("forest", realTable, { chunks: tampered }).restore(snap)).toThrow(
      /does not match its id/,
    );
    expect(() => createDiscriminator("logistic", realTable, { chunks: source }).restore(snap)).toThrow(
      /forest discriminator, not logistic/,
    );
    expect(() => createDiscriminator("sgd", realTable).restore(snap)).toThrow();
  });
});

describe("--discriminator flag", () => {
  const base = {
    data: "real.csv",
    rows: 10,
    out: "out.csv",
    engine: "mallm-gan",
    model: "ollama:llama3.1:8b",
  };
  it("selects the discriminator (default sgd) and rejects an unknown one", () => {
    const cfg = (extra: Record<string, unknown>) =>
      runConfigFromOptions(GenerateOptionsSchema.parse({ ...base, ...extra }));
    expect(cfg({}).mallm.discriminator).toBe("sgd");
    expect(cfg({ discriminator: "forest" }).mallm.discriminator).toBe("forest");
    expect(cfg({ discriminator: "logistic" }).mallm.discriminator).toBe("logistic");
    const bad = GenerateOptionsSchema.safeParse({ ...base, discriminator: "boosted" });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].message).toBe("--discriminator must be sgd, logistic or forest");
  });
});

const server = useLlmServer();
const files = useRunFiles("mallm-disc-");

describe("MALLM-GAN graph with --discriminator logistic", () => {
  it("refits on the chunks it persisted and re-scores every stored theta with the latest fit", async () => {
    server.setDefault(mallmResponder());
    const p = files.paths();
    const config = mallmConfig(server, "ollama", {
      input: files.input,
      out: p.out,
      rows: 30,
      mallm: { epochs: 2, batchSize: 20, discriminator: "logistic", examplesPerCall: 5 },
    });
    const { state } = await startRun<MallmStateT>(p.runDir, config, { env: TEST_ENV });
    const store = new ArtifactStore(join(p.runDir, "artifacts"));
    const real = await realLoader(config)();

    // 2 learning epochs × 2 batches fit the discriminator; the frozen epoch does not.
    const snap = state.discriminator;
    if (snap === null || !("kind" in snap)) throw new Error("expected a logistic snapshot");
    expect(snap.kind).toBe("logistic");
    expect(snap.chunks).toHaveLength(4);
    const chunks = new Map<string, TrainingChunk>();
    for (const id of snap.chunks)
      chunks.set(id, await store.require(discriminatorChunkKey(id), trainingChunkSchema));
    // Every training chunk is the 80% split of 20 real and 20 synthetic rows.
    for (const c of chunks.values()) expect(c.real + c.synthetic).toBe(32);

    const disc = createDiscriminator("logistic", real.table, { chunks: (id) => chunks.get(id) });
    disc.restore(snap);
    const HeldOut = z.object({ real: z.array(RowSchema), synthetic: z.array(RowSchema) });
    expect(state.candidates).toHaveLength(6);
    for (const c of state.candidates) {
      const h = await store.require(heldOutKey(c.step), HeldOut);
      expect(c.score).toBe(
        disc.accuracy(rowsToTable(h.real, real.metadata), rowsToTable(h.synthetic, real.metadata)),
      );
    }
    const last = state.candidates.filter((c) => c.epoch === 2);
    const best = last.reduce((a, b) => (b.score < a.score ? b : a));
    expect(state.finalChoice).toEqual({ reason: "last_epoch", step: best.step, score: best.score });
    expect(state.accepted).toBe(30);
  });
});
