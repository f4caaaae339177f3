/** Causal structure: BIC hill climbing (Asia), DAG text forms, distances, and `synthgraph structure`. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatStructure, runStructure } from "../../../cli/structure.ts";
import { codedColumn, numericColumn, tableOf } from "../../../data/build.ts";
import { readTable } from "../../../data/read.ts";
import {
  type Dag,
  DagError,
  dagDifference,
  dagFromParentsMap,
  dagOf,
  findCycle,
  formatArrows,
  formatEdgeList,
  graphEditDistance,
  parentsMap,
  parseEdgeList,
  skeletonDistance,
  structuralHammingDistance,
  topologicalOrder,
} from "../../../stats/structure/dag.ts";
import {
  bicFamilyScore,
  bicScore,
  discretiseTable,
  learnStructure,
} from "../../../stats/structure/hill-climb.ts";
import { DATASETS } from "../../support/fixtures.ts";
import { ASIA_NODES, ASIA_TRUTH } from "../../support/asia.ts";

describe("structure learning on Asia (5,000 rows)", () => {
  it("recovers the known network within skeleton distance 2", async () => {
    const { table } = await readTable(join(DATASETS, "asia.csv"));
    const t0 = performance.now();
    const res = learnStructure(table);
    const seconds = (performance.now() - t0) / 1000;
    const truth = dagOf(ASIA_NODES, ASIA_TRUTH);
    const skeleton = skeletonDistance(truth, res.dag);
    const shd = structuralHammingDistance(truth, res.dag);
    console.log(
      `Asia: learned ${formatEdgeList(res.dag)}; skeleton distance ${skeleton}, SHD ${shd}, GED ${graphEditDistance(truth, res.dag)}, BIC ${res.score.toFixed(2)}, ${seconds.toFixed(3)} s`,
    );
    expect(skeleton).toBeLessThanOrEqual(2);
    // The learned score is a local optimum at least as good as the true graph's BIC on the same data.
    expect(res.score).toBeCloseTo(bicScore(table, res.dag), 6);
    expect(res.score).toBeGreaterThanOrEqual(bicScore(table, truth) - 1e-6);
    expect(() => topologicalOrder(res.dag)).not.toThrow();
  });

  it("is deterministic, and restarts with a seed never lower the score", async () => {
    const { table } = await readTable(join(DATASETS, "asia.csv"));
    const a = learnStructure(table);
    const b = learnStructure(table);
    expect(b.dag.edges).toEqual(a.dag.edges);
    const r1 = learnStructure(table, { restarts: 3, seed: 7 });
    const r2 = learnStructure(table, { restarts: 3, seed: 7 });
    expect(r2.dag.edges).toEqual(r1.dag.edges);
    expect(r1.score).toBeGreaterThanOrEqual(a.score - 1e-9);
  });

  it("respects --max-parents", async () => {
    const { table } = await readTable(join(DATASETS, "asia.csv"));
    const res = learnStructure(table, { maxParents: 1 });
    const pm = parentsMap(res.dag);
    for (const n of ASIA_NODES) expect(pm[n].length).toBeLessThanOrEqual(1);
    expect(res.dag.edges.length).toBeGreaterThan(0);
  });
});

describe("BIC family score", () => {
  // X = Y on 4 rows, two levels each (hand computation below).
  const t = tableOf([codedColumn("X", ["a", "a", "b", "b"]), codedColumn("Y", ["u", "u", "v", "v"])]);
  const d = discretiseTable(t);

  it("matches Σ N_jk ln(N_jk/N_j) − ½ ln(N)·q·(r−1) by hand", () => {
    // Y alone: 2·ln(2/4) + 2·ln(2/4) = −4 ln 2; penalty ½·ln 4·1·1 = ln 2.
    expect(bicFamilyScore(d, 1, [])).toBeCloseTo(-4 * Math.LN2 - Math.LN2, 12);
    // Y | X: every configuration is pure, LL = 0; penalty ½·ln 4·2·1 = 2 ln 2.
    expect(bicFamilyScore(d, 1, [0])).toBeCloseTo(-2 * Math.LN2, 12);
  });

  it("learns the single edge between two copies and scores it", () => {
    const res = learnStructure(t);
    expect(res.dag.edges).toEqual([["X", "Y"]]);
    expect(res.score).toBeCloseTo(-5 * Math.LN2 + -2 * Math.LN2, 12);
  });
});

describe("discretisation", () => {
  it("cuts numbers at right-closed quantile edges, drops duplicate edges, gives missing its own level", () => {
    // numpy quantiles of 1..10 at 0.2/0.4/0.6/0.8: 2.8, 4.6, 6.4, 8.2.
    const t = tableOf([
      numericColumn("x", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, null]),
      numericColumn("z", [0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 7]),
      codedColumn("id", ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"], "id"),
    ]);
    const d = discretiseTable(t, 5);
    expect(d.names).toEqual(["x", "z"]);
    expect(Array.from(d.codes[0])).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5]);
    expect(d.cards[0]).toBe(6);
    // Every interior quantile of z is 0, so the one edge 0 splits zeros from positives.
    expect(Array.from(d.codes[1])).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(d.cards[1]).toBe(2);
  });

  it("codes categorical missing as an extra level and drops unused levels", () => {
    const c = codedColumn("c", ["p", null, "q", "p"], "categorical", ["never", "p", "q"]);
    const d = discretiseTable(tableOf([c]));
    expect(Array.from(d.codes[0])).toEqual([0, 2, 1, 0]);
    expect(d.cards[0]).toBe(3);
  });
});

const g = (edges: Array<[string, string]>, nodes = ["A", "B", "C", "D"]): Dag => dagOf(nodes, edges);

describe("DAG distances", () => {
  const truth = g([
    ["A", "B"],
    ["B", "C"],
    ["C", "D"],
  ]);
  it("counts missing, extra and reversed edges once each (SHD)", () => {
    const learned = g([
      ["B", "A"], // reversed
      ["B", "C"], // correct
      ["A", "D"], // extra; C→D missing
    ]);
    expect(dagDifference(truth, learned)).toEqual({ missing: 1, extra: 1, reversed: 1 });
    expect(structuralHammingDistance(truth, learned)).toBe(3);
    expect(skeletonDistance(truth, learned)).toBe(2);
    // GED: directed symmetric difference {A→B, C→D} ∪ {B→A, A→D} = 4 (a reversal costs 2).
    expect(graphEditDistance(truth, learned)).toBe(4);
  });

  it("is zero for identical graphs and symmetric", () => {
    const other = g([["D", "A"]]);
    expect(structuralHammingDistance(truth, truth)).toBe(0);
    expect(graphEditDistance(truth, truth)).toBe(0);
    expect(structuralHammingDistance(truth, other)).toBe(structuralHammingDistance(other, truth));
    expect(skeletonDistance(truth, other)).toBe(4);
    expect(graphEditDistance(truth, other)).toBe(4);
  });

  it("adds node insertions and deletions to GED", () => {
    const a = g([["A", "B"]], ["A", "B", "C"]);
    const b = g([["A", "B"]], ["A", "B", "E"]);
    expect(graphEditDistance(a, b)).toBe(2);
  });
});

describe("DAG validation and order", () => {
  it("finds a cycle and reports it as a closed path", () => {
    const cyclic: Dag = {
      nodes: ["A", "B", "C"],
      edges: [
        ["A", "B"],
        ["B", "C"],
        ["C", "A"],
      ],
    };
    expect(findCycle(cyclic)).toEqual(["A", "B", "C", "A"]);
    expect(() => dagOf(cyclic.nodes, cyclic.edges)).toThrow(/cycle: A -> B -> C -> A/);
    expect(() => topologicalOrder(cyclic)).toThrow(DagError);
    expect(findCycle(g([["A", "B"]]))).toBeNull();
  });

  it("rejects self-loops and unknown columns, and drops duplicate edges", () => {
    expect(() => g([["A", "A"]])).toThrow(/self-loop/);
    expect(() => g([["A", "Z"]])).toThrow(/unknown column "Z"/);
    expect(
      g([
        ["A", "B"],
        ["A", "B"],
      ]).edges,
    ).toEqual([["A", "B"]]);
  });

  it("orders topologically with column order breaking ties", () => {
    const dag = g([
      ["D", "B"],
      ["C", "A"],
    ]);
    expect(topologicalOrder(dag)).toEqual(["C", "A", "D", "B"]);
  });
});

describe("edge-list and parents-map text", () => {
  const dag = g([
    ["A", "B"],
    ["B", "C"],
  ]);

  it("prints the paper's tuple list and reads it back", () => {
    expect(formatEdgeList(dag)).toBe("[('A', 'B'), ('B', 'C')]");
    expect(parseEdgeList(formatEdgeList(dag), dag.nodes).edges).toEqual(dag.edges);
    expect(formatArrows(dag)).toBe("A -> B\nB -> C");
    expect(parseEdgeList("A -> B\n  B -> C\n", dag.nodes).edges).toEqual(dag.edges);
    expect(parseEdgeList("[]", dag.nodes).edges).toEqual([]);
  });

  it("quotes names like Python's repr and reads escapes, mixed quotes and stray spaces", () => {
    const nodes = ["it's", 'say "hi"', "education-num", "Income"];
    const d = dagOf(nodes, [
      ["it's", 'say "hi"'],
      ["education-num", "Income"],
    ]);
    const text = formatEdgeList(d);
    expect(text).toBe(`[("it's", 'say "hi"'), ('education-num', 'Income')]`);
    expect(parseEdgeList(text, nodes).edges).toEqual(d.edges);
    // Listing 2 style, with text around the list and a PDF-wrapped leading space in a name.
    const listing = `Consider this graph: [('education', ' education-num'), ("education-num", 'Income')] as guidance.`;
    const nodes2 = ["education", "education-num", "Income"];
    expect(parseEdgeList(listing, nodes2).edges).toEqual([
      ["education", "education-num"],
      ["education-num", "Income"],
    ]);
  });

  it("gives precise errors for unknown columns, cycles and malformed tuples", () => {
    const nodes = ["A", "B", "C"];
    expect(() => parseEdgeList("[('A', 'Q')]", nodes)).toThrow(/unknown column "Q"/);
    expect(() => parseEdgeList("[('A', 'B'), ('B', 'A')]", nodes)).toThrow(/cycle: A -> B -> A/);
    expect(() => parseEdgeList("[('A' 'B')]", nodes)).toThrow(/expected ',' inside the tuple at character 7/);
    expect(() => parseEdgeList("[('A', 'B', 'C')]", nodes)).toThrow(/expected '\)' closing a 2-tuple/);
    expect(() => parseEdgeList("[('A', 'B') ('B', 'C') x]", nodes)).toThrow(/expected ',' or '\]'/);
    expect(() => parseEdgeList("[('A', 'B)]", nodes)).toThrow(/unterminated string/);
    expect(() => parseEdgeList("A causes B", nodes)).toThrow(/line 1 is not "A -> B"/);
    const err = (() => {
      try {
        parseEdgeList("[('A', 'Q')]", nodes);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DagError);
    expect((err as DagError).hint).toBe("use only these columns: A, B, C");
  });

  it("round-trips the JSON parents map and validates it", () => {
    const pm = parentsMap(dag);
    expect(pm).toEqual({ A: [], B: ["A"], C: ["B"], D: [] });
    const back = dagFromParentsMap(JSON.parse(JSON.stringify(pm)), dag.nodes);
    expect(structuralHammingDistance(dag, back)).toBe(0);
    expect(dagFromParentsMap({ B: ["A"] }).nodes).toEqual(["B", "A"]);
    expect(() => dagFromParentsMap({ B: "A" }, dag.nodes)).toThrow(/not an object of string arrays: B/);
    expect(() => dagFromParentsMap({ Z: ["A"] }, dag.nodes)).toThrow(/unknown column "Z"/);
    expect(() => dagFromParentsMap({ A: ["B"], B: ["A"] }, dag.nodes)).toThrow(/cycle/);
  });
});

describe("synthgraph structure", () => {
  it("learns Asia, writes the JSON and prints the edges", async () => {
    const dir = mkdtempSync(join(tmpdir(), "synthgraph-structure-"));
    const out = join(dir, "dag.json");
    const report = await runStructure({ data: join(DATASETS, "asia.csv"), json: out });
    const written = JSON.parse(readFileSync(out, "utf8")) as {
      edges: Array<[string, string]>;
      nodes: string[];
      score: number;
      seconds: number;
    };
    expect(written.nodes).toEqual(ASIA_NODES);
    expect(written.edges).toEqual(report.edges);
    expect(written.score).toBeCloseTo(report.score, 9);
    expect(written.seconds).toBeGreaterThanOrEqual(0);
    expect(
      skeletonDistance(dagOf(ASIA_NODES, ASIA_TRUTH), dagOf(written.nodes, written.edges)),
    ).toBeLessThanOrEqual(2);
    const text = formatStructure(report);
    expect(text).toContain(formatEdgeList({ nodes: report.nodes, edges: report.edges }));
    expect(text).toContain("S -> L");
  });

  it("applies metadata overrides and rejects bad options", async () => {
    const dir = mkdtempSync(join(tmpdir(), "synthgraph-structure-"));
    const meta = join(dir, "meta.json");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(meta, JSON.stringify({ columns: { A: { sdtype: "id" } } }));
    const report = await runStructure({ data: join(DATASETS, "asia.csv"), metadata: meta, maxParents: 2 });
    expect(report.nodes).not.toContain("A");
    expect(Object.values(report.parents).every((p) => p.length <= 2)).toBe(true);
    await expect(runStructure({ data: join(DATASETS, "asia.csv"), bins: 1 })).rejects.toThrow(/--bins/);
    await expect(runStructure({ data: join(DATASETS, "asia.csv"), maxParents: -1 })).rejects.toThrow(
      /--max-parents/,
    );
  });
});
