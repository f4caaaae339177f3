import { describe, expect, it } from "vitest";
import { codedColumn, numericColumn, tableOf } from "../../../data/build.ts";
import { deriveMetadata } from "../../../data/metadata.ts";
import type { CodedColumn, NumericColumn, Table } from "../../../data/types.ts";
import { fitCopula } from "../../../engines/copula/fit.ts";
import { copulaModelSchema } from "../../../engines/copula/model.ts";
import { sampleCopula } from "../../../engines/copula/sample.ts";
import { createRng } from "../../../stats/primitives/rng.ts";

/** Standard normal pairs by Box–Muller on an independent seeded stream (the test's own generator). */
function gaussianTable(n: number, rho: readonly number[][], seed: number): Table {
  const d = rho.length;
  // Cholesky of the 3×3 target by hand-rolled loops (brute force, independent of engines/copula/correlation.ts).
  const l = rho.map(() => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++)
    for (let j = 0; j <= i; j++) {
      let s = rho[i][j];
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
      l[i][j] = i === j ? Math.sqrt(s) : s / l[j][j];
    }
  const rng = createRng(seed);
  const cols = rho.map(() => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    const e = rho.map(() => {
      const u1 = 1 - rng.next();
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng.next());
    });
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let k = 0; k <= i; k++) s += l[i][k] * e[k];
      cols[i][r] = 10 + 3 * s;
    }
  }
  return tableOf(cols.map((v, i) => numericColumn(`x${i}`, v)));
}

function pearson(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

const RHO = [
  [1, 0.6, -0.3],
  [0.6, 1, 0.1],
  [-0.3, 0.1, 1],
];

describe("Gaussian copula on a Gaussian table", () => {
  const n = 4000;
  const real = gaussianTable(n, RHO, 11);
  const meta = deriveMetadata(real);
  // Normal-theory standard error of a sample correlation: (1 − ρ²)/√n; 4 SE leaves ~1e-4 false failures.
  const tol = (rho: number, m: number) => (4 * (1 - rho * rho)) / Math.sqrt(m);

  it("recovers the correlation of the normal scores", () => {
    const model = fitCopula(real, meta, { distribution: "norm" });
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        expect(Math.abs(model.correlation[i * 3 + j] - RHO[i][j])).toBeLessThanOrEqual(tol(RHO[i][j], n));
      }
  });

  it("samples rows whose correlation matches the fitted one, and the model survives JSON", () => {
    const model = copulaModelSchema.parse(JSON.parse(JSON.stringify(fitCopula(real, meta))));
    const m = 6000;
    const synth = sampleCopula(model, m, 5, meta);
    expect(synth.nRows).toBe(m);
    const cols = synth.columns as NumericColumn[];
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < i; j++) {
        const fitted = model.correlation[i * 3 + j];
        // Pearson of the values vs the copula's normal-score correlation: equal for a Gaussian marginal up to
        // sampling error of both fit and sample.
        expect(Math.abs(pearson(cols[i].values, cols[j].values) - fitted)).toBeLessThanOrEqual(
          tol(fitted, m) + tol(fitted, n),
        );
      }
  });

  it("is deterministic per seed", () => {
    const model = fitCopula(real, meta);
    const a = sampleCopula(model, 50, 9).columns[0] as NumericColumn;
    const b = sampleCopula(model, 50, 9).columns[0] as NumericColumn;
    const c = sampleCopula(model, 50, 10).columns[0] as NumericColumn;
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(Array.from(a.values)).not.toEqual(Array.from(c.values));
  });
});

describe("Gaussian copula on a mixed table", () => {
  const n = 3000;
  const rng = createRng(3);
  const DAY = 86_400_000;
  const start = Date.UTC(2020, 0, 1);
  const amount: Array<number | null> = [];
  const when: Array<number | null> = [];
  const colour: Array<string | null> = [];
  const flag: Array<string> = [];
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    amount.push(rng.next() < 0.2 ? null : Math.round((5 + 40 * u * u) * 100) / 100);
    when.push(rng.next() < 0.1 ? null : start + Math.floor(rng.next() * 365) * DAY);
    colour.push(u < 0.5 ? "red" : u < 0.8 ? "green" : rng.next() < 0.5 ? null : "blue");
    flag.push(u > 0.6 ? "true" : "false");
  }
  const real = tableOf([
    numericColumn("amount", amount),
    numericColumn("when", when, "datetime"),
    codedColumn("colour", colour),
    codedColumn("flag", flag, "boolean"),
  ]);
  const meta = deriveMetadata(real);
  const model = fitCopula(real, meta);
  const m = 5000;
  const synth = sampleCopula(model, m, 1, meta);
  const share = (k: number, total: number) => k / total;
  // Binomial share: 4·√(p(1−p)/m) for the synthetic draw plus the same for the real estimate.
  const shareTol = (p: number) => 4 * Math.sqrt((p * (1 - p)) / m) + 4 * Math.sqrt((p * (1 - p)) / n);

  it("returns exactly N rows in the real column order and kinds", () => {
    expect(synth.nRows).toBe(m);
    expect(synth.columns.map((c) => `${c.name}:${c.kind}`)).toEqual(
      real.columns.map((c) => `${c.name}:${c.kind}`),
    );
    expect(sampleCopula(model, 0, 1).nRows).toBe(0);
  });

  it("keeps the missing share, min/max and decimals of numbers and datetimes (dates stay whole days)", () => {
    for (const name of ["amount", "when"]) {
      const r = real.columns.find((c) => c.name === name) as NumericColumn;
      const s = synth.columns.find((c) => c.name === name) as NumericColumn;
      const realMissing = share(r.values.filter((v) => Number.isNaN(v)).length, n);
      const synthMissing = share(s.values.filter((v) => Number.isNaN(v)).length, m);
      expect(Math.abs(synthMissing - realMissing)).toBeLessThanOrEqual(shareTol(realMissing));
      const rv = r.values.filter((v) => !Number.isNaN(v));
      const sv = s.values.filter((v) => !Number.isNaN(v));
      expect(Math.min(...sv)).toBeGreaterThanOrEqual(Math.min(...rv));
      expect(Math.max(...sv)).toBeLessThanOrEqual(Math.max(...rv));
      if (name === "when") for (const v of sv) expect((v - start) % DAY).toBe(0);
      else for (const v of sv) expect(Math.abs(v * 100 - Math.round(v * 100))).toBeLessThan(1e-6);
    }
  });

  it("reproduces category frequencies, with missing as its own category, and the boolean share", () => {
    for (const name of ["colour", "flag"]) {
      const r = real.columns.find((c) => c.name === name) as CodedColumn;
      const s = synth.columns.find((c) => c.name === name) as CodedColumn;
      expect(s.levels).toEqual(r.levels);
      for (let level = -1; level < r.levels.length; level++) {
        const p = share(r.codes.filter((c) => c === level).length, n);
        const q = share(s.codes.filter((c) => c === level).length, m);
        expect(Math.abs(q - p)).toBeLessThanOrEqual(shareTol(p));
      }
    }
  });

  it("keeps the dependence between a category and a number (colour comes from the same draw as amount)", () => {
    // In the real table "red" ⇔ u < 0.5 ⇔ amount < 15 (5 + 40·0.25); the copula cannot be exact but must keep
    // a strong association: the mean amount of red rows stays below that of the others.
    const meanBy = (t: Table, red: boolean) => {
      const a = t.columns[0] as NumericColumn;
      const c = t.columns[2] as CodedColumn;
      const redCode = c.levels.indexOf("red");
      let s = 0;
      let k = 0;
      for (let i = 0; i < t.nRows; i++)
        if ((c.codes[i] === redCode) === red && !Number.isNaN(a.values[i])) {
          s += a.values[i];
          k++;
        }
      return s / k;
    };
    expect(meanBy(synth, true)).toBeLessThan(meanBy(synth, false) - 5);
  });
});
