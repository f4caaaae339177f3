/** The Bayesian-network engine end to end through the CLI binary (test/support/offline-e2e.ts lists the checks). */
import { expect } from "vitest";
import { offlineEngineEndToEnd } from "../../support/offline-e2e.ts";

offlineEngineEndToEnd({
  engine: "bayesnet",
  chunkFlag: "--bn-chunk-rows",
  checkSummary: (summary, _numeric, columns) => {
    const fit = summary.fit as {
      edges: Array<[string, string]>;
      nodes: Array<{ column: string; parents: string[] }>;
    };
    // A node per column; the edges are exactly the nodes' parent lists.
    expect(fit.nodes.map((n) => n.column).sort()).toEqual([...columns].sort());
    const fromParents = fit.nodes.flatMap((n) => n.parents.map((p) => `${p}->${n.column}`)).sort();
    expect(fit.edges.map(([p, c]) => `${p}->${c}`).sort()).toEqual(fromParents);
    expect(fit.edges.length).toBeGreaterThan(0);
    expect(summary.sampling).toMatchObject({ chunk_rows: 100 });
  },
});
