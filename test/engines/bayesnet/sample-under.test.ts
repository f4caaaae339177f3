/**
 * The Bayesian network sampled under a condition (engines/bayesnet/sample-under.ts): the evidence a predicate
 * implies, and the conditional frequencies of the sampled rows against the exact conditional probabilities of
 * the fitted network, computed by brute force: every one of the 2^8 joint states of the Asia network
 * enumerated, its probability the product of the fitted CPT entries, the predicate evaluated on each state.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePredicate, predicateMask } from "../../../data/predicate/index.ts";
import { narrowMetadata } from "../../../data/predicate/index.ts";
import { readTable } from "../../../data/read.ts";
import type { Column, Metadata, Table } from "../../../data/types.ts";
import { fitBayesNet } from "../../../engines/bayesnet/fit.ts";
import type { BayesNetModel } from "../../../engines/bayesnet/model.ts";
import { evidenceOf, sampleUnder } from "../../../engines/bayesnet/sample-under.ts";
import { dagOf } from "../../../stats/structure/dag.ts";
import { ASIA_NODES, ASIA_TRUTH } from "../../support/asia.ts";
import { DATASETS } from "../../support/fixtures.ts";
import { adultModelInputs } from "../../support/offline-engines.ts";

async function asia(): Promise<{ model: BayesNetModel; metadata: Metadata }> {
  const { table, metadata } = await readTable(join(DATASETS, "asia_sampled.csv"));
  const model = fitBayesNet(table, metadata, { dag: dagOf(ASIA_NODES, ASIA_TRUTH), pseudoCount: 1 });
  return { model, metadata };
}

/** Every joint state of a network of coded columns, as a table, with its probability under the model. */
function enumerate(model: BayesNetModel): { table: Table; p: Float64Array } {
  const cols = model.columns.filter((c) => c.kind !== "id");
  const cards = cols.map((c) => c.states.length);
  const total = cards.reduce((a, b) => a * b, 1);
  const states = cols.map(() => new Int32Array(total));
  const p = new Float64Array(total).fill(1);
  const index = new Map(cols.map((c, j) => [c.name, j] as const));
  for (let k = 0; k < total; k++) {
    let rest = k;
    for (let j = cols.length - 1; j >= 0; j--) {
      states[j][k] = rest % cards[j];
      rest = Math.floor(rest / cards[j]);
    }
    for (let j = 0; j < cols.length; j++) {
      const cpt = model.cpts[cols[j].name];
      let id = 0;
      for (const parent of cpt.parents) {
        const q = index.get(parent) as number;
        id = id * cards[q] + states[q][k];
      }
      p[k] *= (cpt.rows[String(id)] ?? cpt.marginal)[states[j][k]];
    }
  }
  const columns: Column[] = cols.map((c, j) => {
    if (!("levels" in c)) throw new Error("Asia has coded columns only");
    return {
      kind: c.kind,
      name: c.name,
      levels: c.levels,
      codes: Int32Array.from(states[j], (s) => c.states[s]),
    };
  });
  return { table: { nRows: total, columns }, p };
}

/** P(column == level | pred) under the model, exactly. */
function exactConditional(
  model: BayesNetModel,
  pred: ReturnType<typeof parsePredicate>,
  column: string,
  level: string,
) {
  const { table, p } = enumerate(model);
  const inPred = predicateMask(pred, table);
  const col = table.columns.find((c) => c.name === column);
  if (!col || !("codes" in col)) throw new Error(column);
  const code = col.levels.indexOf(level);
  let num = 0;
  let den = 0;
  for (let k = 0; k < table.nRows; k++) {
    if (inPred[k] !== 1) continue;
    den += p[k];
    if (col.codes[k] === code) num += p[k];
  }
  return num / den;
}

function share(t: Table, column: string, level: string): number {
  const col = t.columns.find((c) => c.name === column);
  if (!col || !("codes" in col)) throw new Error(column);
  const code = col.levels.indexOf(level);
  let k = 0;
  for (const c of col.codes) if (c === code) k++;
  return k / t.nRows;
}

describe("sampleUnder (Bayesian network)", () => {
  const n = 20_000;
  // Downstream evidence (X is a leaf: its parents are sampled first, so this is the node-by-node rejection),
  // and an `or` across columns the evidence cannot state (rejection on the predicate).
  it.each([
    ["X == true", ["L", "T", "S", "D"]],
    ["D == true and (X == true or L == true)", ["S", "B", "E"]],
    ["not A and (S or T)", ["L", "X"]],
  ])(
    "%s: every row satisfies it; frequencies match the exact conditional within 4 standard errors",
    async (text, queries) => {
      const { model, metadata } = await asia();
      const pred = parsePredicate(text, metadata);
      const rows = sampleUnder(model, n, 11, pred, metadata);
      expect(rows.nRows).toBe(n);
      expect(predicateMask(pred, rows).every((m) => m === 1)).toBe(true);
      for (const q of queries) {
        const exact = exactConditional(model, pred, q, "true");
        const se = Math.sqrt((exact * (1 - exact)) / n);
        expect(Math.abs(share(rows, q, "true") - exact), `${q} | ${text}: exact ${exact}`).toBeLessThan(
          4 * se + 1e-9,
        );
      }
    },
  );

  it("is seeded: same seed, same rows; another seed, other rows", async () => {
    const { model, metadata } = await asia();
    const pred = parsePredicate("D == true and (X == true or L == true)", metadata);
    const a = sampleUnder(model, 500, 3, pred, metadata);
    const b = sampleUnder(model, 500, 3, pred, metadata);
    const c = sampleUnder(model, 500, 4, pred, metadata);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it("evidenceOf: levels (null allowed unless excluded), ranges where missing is forbidden, nothing for an `or` across columns", async () => {
    const { table, metadata } = await adultModelInputs();
    const model = fitBayesNet(table, metadata);
    const ev = (text: string) =>
      evidenceOf(model, narrowMetadata(parsePredicate(text, metadata), metadata).columns);
    // Ranges are narrowed within the real range (narrowMetadata), so the open end is the real maximum.
    const ageMax = metadata.columns.find((c) => c.name === "age")?.max;
    expect(ageMax).toBeGreaterThan(70);
    expect(ev('sex == "Female" and age >= 60')).toEqual({
      sex: { values: ["Female"] },
      age: { min: 60, max: ageMax },
    });
    expect(ev("age > 60 and age < 70")).toEqual({ age: { min: 61, max: 69 } });
    expect(ev('sex == "Female" or age >= 60')).toEqual({});
    expect(ev("is_missing(occupation)")).toEqual({ occupation: { values: [null] } });
    expect(ev("not is_missing(age)")).toEqual({ age: {} });
  });

  it("evidence says everything: a condition on a level and a range needs no rejection beyond the evidence", async () => {
    const { table, metadata } = await adultModelInputs();
    const model = fitBayesNet(table, metadata);
    const pred = parsePredicate('sex == "Female" and 30 <= age <= 50', metadata);
    const rows = sampleUnder(model, 300, 5, pred, metadata, { maxDrawsPerRow: 2 });
    expect(rows.nRows).toBe(300);
    expect(predicateMask(pred, rows).every((m) => m === 1)).toBe(true);
  });

  it("a condition the network cannot meet fails with the condition in the message", async () => {
    const { model, metadata } = await asia();
    // E = T or L holds exactly in the data, so E false with T true has no mass (up to the prior's share).
    const pred = parsePredicate("E == false and T == true and L == true", metadata);
    expect(() => sampleUnder(model, 50, 1, pred, metadata, { maxDrawsPerRow: 3 })).toThrow(
      /too unlikely|evidence is too unlikely/,
    );
  });
});
