/** MALLM-GAN discriminator: sklearn-style incremental SGD logistic regression, batch scoring and re-scoring. */
import { describe, expect, it } from "vitest";
import { codedColumn, numericColumn, tableOf } from "../../../data/build.ts";
import type { Table } from "../../../data/types.ts";
import {
  type BatchScore,
  finalChoice,
  lowestK,
  mallmSchedule,
  recordBatch,
  rescoreAll,
  type ScoredCandidate,
  scoreBatch,
  scoreFrozen,
  shouldStore,
  splitBatch,
} from "../../../engines/mallm/score.ts";
import { takeTableRows } from "../../../data/build.ts";
import { createRng } from "../../../stats/primitives/rng.ts";
import {
  createIncrementalDiscriminator,
  createSgdState,
  encodeFeatures,
  fitDiscriminatorFeatures,
  type IncrementalDiscriminator,
  sgdEpoch,
} from "../../../stats/classifiers/sgd.ts";

/** n rows: x uniform in [lo, hi), kind = label, plus a categorical "c" drawn from `levels`. */
function toy(n: number, lo: number, hi: number, levels: string[], seed: number): Table {
  const rng = createRng(seed);
  const x: number[] = [];
  const c: string[] = [];
  for (let i = 0; i < n; i++) {
    x.push(lo + (hi - lo) * rng.next());
    c.push(levels[rng.int(levels.length)]);
  }
  return tableOf([numericColumn("x", x), codedColumn("c", c)]);
}

describe("sgdEpoch (sklearn _plain_sgd, log loss, L2, learning_rate='optimal')", () => {
  it("matches two hand-computed steps", () => {
    // α = 1e-4: typw = sqrt(1/sqrt(α)) = 10, η0 = 10, t0 = 1/(η0·α) = 1000, η_t = 1/(α(t0 + t − 1)).
    const state = createSgdState(1, 1e-4);
    sgdEpoch(
      state,
      { nRows: 2, nCols: 1, data: Float64Array.from([1, -1]) },
      Uint8Array.from([1, 0]),
      [0, 1],
    );
    // Step 1: η1 = 10, p = 0, y = +1, ℓ' = −1/2, update = 5 → w = 5, b = 5.
    // Step 2: η2 = 1/(1e-4·1001), p = −5 + 5 = 0, y = −1, ℓ' = +1/2, update = −η2/2;
    // w = 5(1 − η2α) − (−η2/2)·... = 5(1 − η2α) + η2/2 (shrink first, then add), b = 5 − η2/2.
    const eta2 = 1 / (1e-4 * 1001);
    expect(state.weights[0]).toBeCloseTo(5 * (1 - eta2 * 1e-4) + eta2 / 2, 12);
    expect(state.intercept).toBeCloseTo(5 - eta2 / 2, 12);
    expect(state.t).toBe(3);
  });
});

describe("incremental discriminator", () => {
  const realBatches = [0, 1, 2, 3].map((k) => toy(40, 1, 3, ["r", "q"], 100 + k));
  const synBatches = [0, 1, 2, 3].map((k) => toy(40, -3, -1, ["s", "q"], 200 + k));
  const real = toy(200, 1, 3, ["r", "q"], 1);

  it("standardises numbers with the real table's stats and one-hot codes categories (unseen → zeros)", () => {
    const t = tableOf([numericColumn("x", [1, 3, null]), codedColumn("c", ["b", "a", null])]);
    const f = fitDiscriminatorFeatures(t);
    // mean 2 (missing imputed by it), std sqrt((1 + 1 + 0)/3).
    expect(f.numeric).toEqual([{ name: "x", mean: 2, center: 2, scale: Math.sqrt(2 / 3) }]);
    expect(f.oneHot).toEqual([{ name: "c", levels: ["a", "b"], missing: true }]);
    const other = tableOf([numericColumn("x", [2]), codedColumn("c", ["z"])]);
    expect(Array.from(encodeFeatures(f, other).data)).toEqual([0, 0, 0, 0]);
    const raw = fitDiscriminatorFeatures(t, false);
    expect(raw.numeric[0]).toMatchObject({ center: 0, scale: 1 });
  });

  it("converges on a separable problem (accuracy → 1)", () => {
    const disc = createIncrementalDiscriminator(real);
    for (const [k, r] of realBatches.entries()) disc.partialFit(r, synBatches[k], k);
    const testReal = toy(100, 1, 3, ["r", "q"], 9);
    const testSyn = toy(100, -3, -1, ["s", "q"], 10);
    expect(disc.accuracy(testReal, testSyn)).toBe(1);
    const pr = disc.predictProba(testReal);
    const ps = disc.predictProba(testSyn);
    expect(Math.min(...pr)).toBeGreaterThan(0.5);
    expect(Math.max(...ps)).toBeLessThan(0.5);
  });

  it("starts at chance (all-zero weights predict synthetic) before any update", () => {
    const disc = createIncrementalDiscriminator(real);
    expect(disc.accuracy(realBatches[0], synBatches[0])).toBe(0.5);
  });

  it("is deterministic for a seed and depends on it", () => {
    const a = createIncrementalDiscriminator(real);
    const b = createIncrementalDiscriminator(real);
    const c = createIncrementalDiscriminator(real);
    a.partialFit(realBatches[0], synBatches[0], 42);
    b.partialFit(realBatches[0], synBatches[0], 42);
    c.partialFit(realBatches[0], synBatches[0], 43);
    expect(b.snapshot()).toEqual(a.snapshot());
    expect(c.snapshot().weights).not.toEqual(a.snapshot().weights);
  });

  it("warm-starts: a second partialFit continues from the first (and from a restored snapshot)", () => {
    const a = createIncrementalDiscriminator(real);
    a.partialFit(realBatches[0], synBatches[0], 1);
    const after1 = JSON.parse(JSON.stringify(a.snapshot())) as unknown;
    a.partialFit(realBatches[1], synBatches[1], 2);
    const s2 = a.snapshot();
    expect(s2.t).toBe(1 + 80 + 80);

    const restored = createIncrementalDiscriminator(toy(10, 0, 1, ["x"], 5));
    restored.restore(after1);
    restored.partialFit(realBatches[1], synBatches[1], 2);
    expect(restored.snapshot()).toEqual(s2);

    const fresh = createIncrementalDiscriminator(real);
    fresh.partialFit(realBatches[1], synBatches[1], 2);
    expect(fresh.snapshot().t).toBe(81);
    expect(fresh.snapshot().weights).not.toEqual(s2.weights);
  });

  it("rejects a malformed snapshot", () => {
    const disc = createIncrementalDiscriminator(real);
    const s = disc.snapshot();
    expect(() => disc.restore({ ...s, version: 2 })).toThrow();
    expect(() => disc.restore({ ...s, weights: [1] })).toThrow(/1 weights for 3 features/);
  });
});

describe("MALLM-GAN schedule and store rule", () => {
  it("gives 5/4/3/2 epochs at N = 100/200/400/800 and clamps outside", () => {
    expect([100, 200, 400, 800].map((n) => mallmSchedule(n).epochs)).toEqual([5, 4, 3, 2]);
    expect(mallmSchedule(25).epochs).toBe(5);
    expect(mallmSchedule(5000).epochs).toBe(2);
    // 5 − log2(3) = 3.42 → 3.
    expect(mallmSchedule(300).epochs).toBe(3);
    const s = mallmSchedule(120);
    expect(s).toMatchObject({
      batchSize: 50,
      batchesPerEpoch: 3,
      examplesPerCall: 5,
      rowsPerCall: 5,
      topK: 3,
      frozenEpochs: 1,
    });
  });

  it("stores a batch only when at least 80% of the requested rows were valid", () => {
    expect(shouldStore(40, 50)).toBe(true);
    expect(shouldStore(39, 50)).toBe(false);
    expect(shouldStore(45, 50, 0.9)).toBe(true);
    expect(shouldStore(0, 0)).toBe(true);
  });
});

describe("batch split and scoring", () => {
  const real = toy(50, 1, 3, ["r"], 1);
  const syn = toy(45, -3, -1, ["s"], 2);

  it("holds out ceil(20%) of the combined rows, disjoint from training, by seed", () => {
    const a = splitBatch(real, syn, 3);
    expect(a.test.real.nRows + a.test.synthetic.nRows).toBe(19);
    expect(a.train.real.nRows + a.train.synthetic.nRows).toBe(76);
    expect(a.train.real.nRows + a.test.real.nRows).toBe(50);
    const xs = (t: Table): number[] => {
      const c = t.columns[0];
      return c.kind === "numerical" ? Array.from(c.values) : [];
    };
    const all = [...xs(a.test.real), ...xs(a.train.real)].sort();
    expect(all).toEqual(xs(real).sort());
    expect(splitBatch(real, syn, 3)).toEqual(a);
    expect(xs(splitBatch(real, syn, 4).test.real)).not.toEqual(xs(a.test.real));
  });

  it("scores a batch on its held-out part after a partial fit, and a frozen batch on all rows", () => {
    const disc = createIncrementalDiscriminator(real);
    const scored = scoreBatch(disc, real, syn, 7);
    expect(scored.accuracy).toBe(disc.accuracy(scored.heldOut.real, scored.heldOut.synthetic));
    expect(disc.snapshot().t).toBe(1 + 76);
    const before = disc.snapshot();
    const frozen = scoreFrozen(disc, real, syn);
    expect(frozen.accuracy).toBe(disc.accuracy(real, syn));
    expect(disc.snapshot()).toEqual(before);
  });

  it("takes rows in the given order", () => {
    const t = tableOf([numericColumn("x", [10, 20, 30]), codedColumn("c", ["a", "b", "a"])]);
    const s = takeTableRows(t, [2, 0]);
    expect(s.nRows).toBe(2);
    expect(s.columns[0].kind === "numerical" && Array.from(s.columns[0].values)).toEqual([30, 10]);
    expect(s.columns[1].kind === "categorical" && Array.from(s.columns[1].codes)).toEqual([0, 0]);
  });
});

/** A stand-in discriminator whose accuracy on a held-out sample is table[version][rows of that sample]. */
function scriptedDisc(table: Record<number, number>[]): IncrementalDiscriminator & { version: number } {
  const d = {
    version: 0,
    partialFit() {
      d.version++;
    },
    accuracy(r: Table) {
      return table[d.version][r.nRows];
    },
    predictProba: (t: Table) => new Float64Array(t.nRows),
    snapshot: () => {
      throw new Error("not used");
    },
    restore() {},
  };
  return d;
}

const sample = (nReal: number): BatchScore["heldOut"] => ({
  real: tableOf([numericColumn("x", new Array<number>(nReal).fill(0))]),
  synthetic: tableOf([numericColumn("x", [])]),
});

describe("re-scoring and selection", () => {
  it("re-scores every stored theta with the latest discriminator, keeping storage order", () => {
    // Held-out samples are told apart by their real row count (1, 2, 3).
    const disc = scriptedDisc([{ 1: 0.9 }, { 1: 0.8, 2: 0.7 }, { 1: 0.6, 2: 0.75, 3: 0.65 }]);
    let store: ScoredCandidate[] = [];
    disc.version = 0;
    store = recordBatch(
      store,
      { id: "t1", epoch: 0, score: { accuracy: 0.9, heldOut: sample(1) } },
      disc,
      50,
      50,
    );
    expect(store.map((c) => c.score)).toEqual([0.9]);
    disc.version = 1;
    store = recordBatch(
      store,
      { id: "t2", epoch: 0, score: { accuracy: 0.7, heldOut: sample(2) } },
      disc,
      45,
      50,
    );
    expect(store.map((c) => [c.id, c.score])).toEqual([
      ["t1", 0.8],
      ["t2", 0.7],
    ]);
    // 30 of 50 rows valid: not stored, nothing re-scored.
    disc.version = 2;
    const same = recordBatch(
      store,
      { id: "bad", epoch: 1, score: { accuracy: 0.1, heldOut: sample(3) } },
      disc,
      30,
      50,
    );
    expect(same).toEqual(store);
    store = recordBatch(
      store,
      { id: "t3", epoch: 1, score: { accuracy: 0.65, heldOut: sample(3) } },
      disc,
      40,
      50,
    );
    expect(store.map((c) => [c.id, c.initialScore, c.score])).toEqual([
      ["t1", 0.9, 0.6],
      ["t2", 0.7, 0.75],
      ["t3", 0.65, 0.65],
    ]);
    expect(rescoreAll(disc, store)).toEqual(store);
    // The optimizer sees the 3 lowest, best last: t2 (0.75), t3 (0.65), t1 (0.6).
    expect(lowestK(store, 3).map((c) => c.id)).toEqual(["t2", "t3", "t1"]);
    expect(lowestK(store, 2).map((c) => c.id)).toEqual(["t3", "t1"]);
  });

  it("does not re-score in the frozen epoch", () => {
    const disc = scriptedDisc([{ 1: 0.2, 2: 0.3 }]);
    const first = recordBatch(
      [],
      { id: "a", epoch: 5, score: { accuracy: 0.5, heldOut: sample(1) } },
      disc,
      50,
      50,
      {
        frozen: true,
      },
    );
    const both = recordBatch(
      first,
      { id: "b", epoch: 5, score: { accuracy: 0.4, heldOut: sample(2) } },
      disc,
      50,
      50,
      {
        frozen: true,
      },
    );
    expect(both.map((c) => c.score)).toEqual([0.5, 0.4]);
  });

  it("breaks ties by storage order and picks the final theta from the last epoch", () => {
    const c = (id: string, epoch: number, score: number) => ({ id, epoch, score });
    const store = [
      c("a", 0, 0.9),
      c("b", 0, 0.5),
      c("c", 1, 0.7),
      c("d", 1, 0.5),
      c("e", 2, 0.3),
      c("f", 2, 0.3),
    ];
    // Ascending: e, f (0.3, stored order), b, d (0.5) ... → 3 lowest e, f, b → best last: b, f, e.
    expect(lowestK(store, 3).map((x) => x.id)).toEqual(["b", "f", "e"]);
    expect(lowestK(store, 10).map((x) => x.id)).toEqual(["a", "c", "d", "b", "f", "e"]);
    expect(finalChoice(store, 2)?.id).toBe("e");
    expect(finalChoice(store, 1)?.id).toBe("d");
    expect(finalChoice(store, 3)).toBeUndefined();
  });
});
