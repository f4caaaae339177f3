/**
 * Asia network (Lauritzen & Spiegelhalter 1988) CPTs as in the shared datasets' PROVENANCE.md for
 * asia_sampled.csv (10,000 rows drawn from these CPTs; checked there against gRain's chest_cpt example):
 * P(A)=.01, P(S)=.5, P(T|A)=.05/.01, P(L|S)=.1/.01, P(B|S)=.6/.3, E = T or L, P(X|E)=.98/.05,
 * P(D|B,E): (y,y) .9, (n,y) .7, (y,n) .8, (n,n) .1.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codedColumn, numericColumn, tableOf } from "../../../data/build.ts";
import { deriveMetadata } from "../../../data/metadata.ts";
import { readTable } from "../../../data/read.ts";
import type { CodedColumn, NumericColumn, Table } from "../../../data/types.ts";
import { fitBayesNet } from "../../../engines/bayesnet/fit.ts";
import { type BayesNetModel, bayesNetModelSchema } from "../../../engines/bayesnet/model.ts";
import { sampleBayesNet } from "../../../engines/bayesnet/sample.ts";
import { dagOf } from "../../../stats/structure/dag.ts";
import { createRng } from "../../../stats/primitives/rng.ts";
import { ASIA_NODES, ASIA_TRUTH } from "../../support/asia.ts";
import { DATASETS } from "../../support/fixtures.ts";

type YN = "yes" | "no";
// The reader types yes/no columns as booleans, coded with the levels "true"/"false".
const LEVEL: Record<YN, string> = { yes: "true", no: "false" };
const TRUE_CPT: Array<{ node: string; parents: Record<string, YN>; p: number }> = [
  { node: "A", parents: {}, p: 0.01 },
  { node: "S", parents: {}, p: 0.5 },
  { node: "T", parents: { A: "yes" }, p: 0.05 },
  { node: "T", parents: { A: "no" }, p: 0.01 },
  { node: "L", parents: { S: "yes" }, p: 0.1 },
  { node: "L", parents: { S: "no" }, p: 0.01 },
  { node: "B", parents: { S: "yes" }, p: 0.6 },
  { node: "B", parents: { S: "no" }, p: 0.3 },
  { node: "E", parents: { T: "yes", L: "yes" }, p: 1 },
  { node: "E", parents: { T: "yes", L: "no" }, p: 1 },
  { node: "E", parents: { T: "no", L: "yes" }, p: 1 },
  { node: "E", parents: { T: "no", L: "no" }, p: 0 },
  { node: "X", parents: { E: "yes" }, p: 0.98 },
  { node: "X", parents: { E: "no" }, p: 0.05 },
  { node: "D", parents: { B: "yes", E: "yes" }, p: 0.9 },
  { node: "D", parents: { B: "no", E: "yes" }, p: 0.7 },
  { node: "D", parents: { B: "yes", E: "no" }, p: 0.8 },
  { node: "D", parents: { B: "no", E: "no" }, p: 0.1 },
];

/** P(node = value | parents) read from the fitted model's CPT (state ↔ level through the column's states). */
function modelProb(
  model: BayesNetModel,
  node: string,
  value: string,
  parents: Record<string, string>,
): number {
  const cpt = model.cpts[node];
  const stateOf = (name: string, v: string) => {
    const col = model.columns.find((c) => c.name === name);
    if (!col || !("levels" in col)) throw new Error(name);
    return col.states.indexOf(col.levels.indexOf(LEVEL[v as YN]));
  };
  const cardOf = (name: string) => {
    const col = model.columns.find((c) => c.name === name);
    return col && col.kind !== "id" ? col.states.length : 1;
  };
  let id = 0;
  for (const p of cpt.parents) id = id * cardOf(p) + stateOf(p, parents[p]);
  const row = cpt.rows[String(id)] ?? cpt.marginal;
  return row[stateOf(node, value)];
}

/** Exact joint probability of a full Asia assignment under the model: the product of its CPT entries. */
function jointProb(model: BayesNetModel, x: Record<string, string>): number {
  let p = 1;
  for (const node of ASIA_NODES) {
    const parents: Record<string, string> = {};
    for (const q of model.cpts[node].parents) parents[q] = x[q];
    p *= modelProb(model, node, x[node], parents);
  }
  return p;
}

/** All 2^8 assignments with their model probability (brute-force enumeration). */
function enumerate(model: BayesNetModel): Array<{ x: Record<string, string>; p: number }> {
  const out: Array<{ x: Record<string, string>; p: number }> = [];
  for (let mask = 0; mask < 1 << ASIA_NODES.length; mask++) {
    const x: Record<string, string> = {};
    ASIA_NODES.forEach((n, k) => {
      x[n] = mask & (1 << k) ? "yes" : "no";
    });
    out.push({ x, p: jointProb(model, x) });
  }
  return out;
}

function share(t: Table, pred: (row: Record<string, string>) => boolean): number {
  const cols = t.columns as CodedColumn[];
  let k = 0;
  for (let i = 0; i < t.nRows; i++) {
    const row: Record<string, string> = {};
    for (const c of cols) row[c.name] = c.levels[c.codes[i]] === "true" ? "yes" : "no";
    if (pred(row)) k++;
  }
  return k / t.nRows;
}

const binomTol = (p: number, m: number) => 4 * Math.sqrt(Math.max(p * (1 - p), 1 / m) / m);

describe("Bayesian network on Asia (true DAG given)", async () => {
  const { table, metadata } = await readTable(join(DATASETS, "asia_sampled.csv"));
  const model = fitBayesNet(table, metadata, { dag: dagOf(ASIA_NODES, ASIA_TRUTH) });

  it("learns CPTs within sampling error of the known network", () => {
    for (const c of TRUE_CPT) {
      // N_j rows in the parent configuration; the binomial SE of the estimate plus the prior's pull α/N_j.
      const nj =
        share(table, (row) => Object.entries(c.parents).every(([k, v]) => row[k] === v)) * table.nRows;
      const est = modelProb(model, c.node, "yes", c.parents);
      expect(Math.abs(est - c.p), `${c.node}|${JSON.stringify(c.parents)} (N=${nj})`).toBeLessThanOrEqual(
        binomTol(c.p, nj) + 1 / nj,
      );
    }
  });

  it("survives JSON and samples frequencies matching the exact model marginals and pairs", () => {
    const revived = bayesNetModelSchema.parse(JSON.parse(JSON.stringify(model)));
    const m = 20000;
    const synth = sampleBayesNet(revived, m, 7);
    expect(synth.nRows).toBe(m);
    const all = enumerate(model);
    for (const [a, b] of [...ASIA_TRUTH, ["S", "D"] as [string, string]]) {
      for (const va of ["yes", "no"])
        for (const vb of ["yes", "no"]) {
          const exact = all.filter((e) => e.x[a] === va && e.x[b] === vb).reduce((s, e) => s + e.p, 0);
          const got = share(synth, (row) => row[a] === va && row[b] === vb);
          expect(Math.abs(got - exact), `${a}=${va}, ${b}=${vb}`).toBeLessThanOrEqual(binomTol(exact, m));
        }
    }
  });

  it("conditions exactly on evidence at a leaf and at a root", () => {
    const all = enumerate(model);
    const m = 8000;
    // Leaf evidence X = yes: P(L = yes | X = yes) by enumeration vs the conditioned sampler.
    const px = all.filter((e) => e.x.X === "yes").reduce((s, e) => s + e.p, 0);
    const plx = all.filter((e) => e.x.X === "yes" && e.x.L === "yes").reduce((s, e) => s + e.p, 0) / px;
    const leaf = sampleBayesNet(model, m, 3, { evidence: { X: { values: [LEVEL.yes] } } });
    expect(leaf.nRows).toBe(m);
    expect(share(leaf, (r) => r.X === "yes")).toBe(1);
    expect(Math.abs(share(leaf, (r) => r.L === "yes") - plx)).toBeLessThanOrEqual(binomTol(plx, m));
    // Root evidence A = yes (clamped): P(T = yes | A = yes) is the CPT entry itself.
    const root = sampleBayesNet(model, m, 4, { evidence: { A: { values: [LEVEL.yes] } } });
    const pt = modelProb(model, "T", "yes", { A: "yes" });
    expect(share(root, (r) => r.A === "yes")).toBe(1);
    expect(Math.abs(share(root, (r) => r.T === "yes") - pt)).toBeLessThanOrEqual(binomTol(pt, m));
  });
});

describe("Bayesian network on a mixed table (learned DAG)", () => {
  const n = 2000;
  const rng = createRng(8);
  const x: Array<number | null> = [];
  const g: string[] = [];
  for (let i = 0; i < n; i++) {
    const grp = rng.next() < 0.3 ? "a" : "b";
    g.push(grp);
    x.push(rng.next() < 0.1 ? null : Math.round((grp === "a" ? 10 : 50) + 20 * rng.next()));
  }
  const real = tableOf([
    codedColumn("g", g),
    numericColumn("x", x),
    codedColumn(
      "id",
      g.map((_, i) => `r${i}`),
      "id",
    ),
  ]);
  const meta = deriveMetadata(real);
  const model = fitBayesNet(real, meta, { bins: 4 });

  it("learns the dependence, keeps missing share and draws numbers only from real values", () => {
    expect(model.dag.edges.length).toBe(1);
    const synth = sampleBayesNet(model, 3000, 1);
    const xs = synth.columns[1] as NumericColumn;
    const realSet = new Set(x.filter((v) => v !== null));
    let missing = 0;
    for (const v of xs.values) {
      if (Number.isNaN(v)) missing++;
      else expect(realSet.has(v)).toBe(true);
    }
    const realMissing = x.filter((v) => v === null).length / n;
    expect(Math.abs(missing / 3000 - realMissing)).toBeLessThanOrEqual(
      binomTol(realMissing, 3000) + binomTol(realMissing, n),
    );
    expect((synth.columns[2] as CodedColumn).levels.length).toBe(3000);
  });

  it("range evidence on a number yields only values in range, exactly N rows, and shifts the category", () => {
    const synth = sampleBayesNet(model, 500, 2, { evidence: { x: { min: 10, max: 25 } } });
    expect(synth.nRows).toBe(500);
    const xs = synth.columns[1] as NumericColumn;
    for (const v of xs.values) {
      expect(v).toBeGreaterThanOrEqual(10);
      expect(v).toBeLessThanOrEqual(25);
    }
    // Only group "a" produces values in [10, 30]: every conditioned row must be "a".
    const gs = synth.columns[0] as CodedColumn;
    for (const c of gs.codes) expect(gs.levels[c]).toBe("a");
  });

  it("fails at once on evidence no real value meets (x holds whole numbers only)", () => {
    // [10.25, 10.75] holds no whole number, so no bin has a value in range: every draw would be rejected.
    expect(() => sampleBayesNet(model, 50, 1, { evidence: { x: { min: 10.25, max: 10.75 } } })).toThrow(
      /column "x": no value the network can draw meets the evidence/,
    );
  });

  it("rejects evidence naming an unknown level", () => {
    expect(() => sampleBayesNet(model, 5, 1, { evidence: { g: { values: ["zzz"] } } })).toThrow(
      /not a level/,
    );
  });
});
