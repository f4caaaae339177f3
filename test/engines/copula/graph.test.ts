/** The copula engine end to end through the CLI binary (test/support/offline-e2e.ts lists the checks). */
import { expect } from "vitest";
import { FAMILIES } from "../../../engines/copula/marginals.ts";
import { offlineEngineEndToEnd } from "../../support/offline-e2e.ts";

offlineEngineEndToEnd({
  engine: "copula",
  chunkFlag: "--copula-chunk-rows",
  checkSummary: (summary, numeric) => {
    const fit = summary.fit as {
      marginals: Array<{ column: string; family: string }>;
      strongest_correlations: Array<{ r: number }>;
    };
    // One marginal per numeric column, each a family the best-fit selection offers.
    expect(fit.marginals.map((m) => m.column).sort()).toEqual([...numeric].sort());
    for (const m of fit.marginals) expect([...FAMILIES, "constant"]).toContain(m.family);
    expect(fit.strongest_correlations.length).toBeGreaterThan(0);
    expect(summary.sampling).toMatchObject({ rounds: 1, chunks: 30, chunk_rows: 100 });
  },
});
