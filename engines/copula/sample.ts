/**
 * Samples a fitted Gaussian copula: z ~ N(0, R) as L·e with e standard normal (Box–Muller on the seeded
 * stream) and R = LLᵀ, u = Φ(z), then each column back through its inverse marginal (clipped to the real
 * min/max and rounded to the real decimals) or its category interval; numeric cells are blanked with the
 * real missing share from an independent stream. id columns get fresh unique values "0", "1", ….
 */
import { DataError } from "../../data/errors.ts";
import type { Column, Metadata, Table } from "../../data/types.ts";
import { ndtr } from "../../stats/primitives/normal.ts";
import { createRng, type Rng } from "../../stats/primitives/rng.ts";
import { cholesky } from "./correlation.ts";
import { checkedCopulaModel, type CopulaModel } from "./model.ts";
import { categoryOf, clipUnit, intervalStarts } from "./normal-scores.ts";
import { gridInverse, gridValue, roundedPpf } from "./rounded-ppf.ts";

/** Fills `out` with independent standard normals (Box–Muller, both variates used). */
function fillNormals(rng: Rng, out: Float64Array): void {
  for (let k = 0; k < out.length; k += 2) {
    const u1 = 1 - rng.next(); // (0, 1]
    const u2 = rng.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[k] = r * Math.cos(2 * Math.PI * u2);
    if (k + 1 < out.length) out[k + 1] = r * Math.sin(2 * Math.PI * u2);
  }
}

/**
 * n synthetic rows from `model` (checked against its schema, once per model object). `metadata`, when given, must name the model's
 * columns: it guards against sampling a model fitted to another table.
 */
export function sampleCopula(modelIn: CopulaModel, n: number, seed: number, metadata?: Metadata): Table {
  const model = checkedCopulaModel(modelIn);
  if (!Number.isInteger(n) || n < 0)
    throw new DataError(`the row count must be a whole number >= 0, got ${n}`);
  if (metadata) {
    const known = new Set(metadata.columns.map((c) => c.name));
    for (const c of model.columns) {
      if (!known.has(c.name)) {
        throw new DataError("the copula model has a column the metadata does not", {
          column: c.name,
          hint: "sample with the metadata of the table the model was fitted on",
        });
      }
    }
  }
  const modelled = model.columns.filter((c) => c.kind !== "id");
  const d = modelled.length;
  const chol = cholesky(Float64Array.from(model.correlation), d);
  if (!chol)
    throw new DataError("the copula's correlation matrix is not positive definite (a damaged model?)");
  const rng = createRng(seed);
  const normals = rng.fork(1);
  const missing = rng.fork(2);
  const u = modelled.map(() => new Float64Array(n));
  const e = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    fillNormals(normals, e);
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k <= j; k++) s += chol[j * d + k] * e[k];
      u[j][i] = clipUnit(ndtr(s));
    }
  }
  const out: Column[] = [];
  let j = 0;
  for (const c of model.columns) {
    if (c.kind === "id") {
      const codes = new Int32Array(n);
      const levels: string[] = new Array(n);
      for (let i = 0; i < n; i++) {
        codes[i] = i;
        levels[i] = String(i);
      }
      out.push({ kind: "id", name: c.name, codes, levels });
      continue;
    }
    const uj = u[j++];
    if ("marginal" in c) {
      const values = new Float64Array(n);
      // Beta and gamma invert by iteration: a rounded column with fewer grid points than rows looks u up
      // among the grid's cut points instead (rounded-ppf.ts: the same values).
      const iterative = c.marginal.family === "beta" || c.marginal.family === "gamma";
      const grid = iterative ? gridInverse(c.marginal, c, n) : null;
      for (let i = 0; i < n; i++) {
        if (c.missingRate > 0 && missing.next() < c.missingRate) {
          values[i] = Number.NaN;
          continue;
        }
        values[i] = grid ? gridValue(grid, uj[i]) : roundedPpf(c.marginal, c, uj[i]);
      }
      out.push({ kind: c.kind, name: c.name, values });
    } else {
      const starts = intervalStarts(c);
      const codes = new Int32Array(n);
      for (let i = 0; i < n; i++) codes[i] = c.categories[categoryOf(uj[i], starts)].level;
      out.push({ kind: c.kind, name: c.name, codes, levels: c.levels });
    }
  }
  return { nRows: n, columns: out };
}
