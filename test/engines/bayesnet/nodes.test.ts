/**
 * The bayesnet graph's nodes against an in-memory artifact store: the fit is stored once and a stored fit is
 * used as is; each chunk is the guarded draw of its own seed, stored before the node returns and returned
 * again (not redrawn) by a re-run; the whole graph tops up rows the privacy guard removed to exactly N.
 */
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { readTable } from "../../../data/read.ts";
import { metadataToJson } from "../../../data/metadata.ts";
import { buildBayesnetGraph } from "../../../engines/bayesnet/graph.ts";
import { fitBayesNet } from "../../../engines/bayesnet/fit.ts";
import { bayesNetModelSchema } from "../../../engines/bayesnet/model.ts";
import { fit, planRound, sample } from "../../../engines/bayesnet/nodes.ts";
import { sampleUnder } from "../../../engines/bayesnet/sample-under.ts";
import { BAYESNET_MODEL_KEY, type BayesnetStateT } from "../../../engines/bayesnet/state.ts";
import { chunkKey, chunkSeed, SampledChunkSchema } from "../../../graph/code-sampling.ts";
import { decodeChunk } from "../../../engines/llmsynthor/state.ts";
import { privacyFilterTable } from "../../../graph/privacy-guard.ts";
import { ArtifactStore } from "../../../state/artifacts.ts";
import type { RunConfig } from "../../../state/config.ts";
import { deriveSeed, SEED_STREAMS } from "../../../state/seeds.ts";
import { exactCopyMask } from "../../../stats/privacy/exact-copies.ts";
import { halfCopiedTable, offlineConfig, runOfflineGraph } from "../../support/offline-engines.ts";
import { realDataOf, smallRealTable } from "../../support/tables.ts";

const tmp = mkdtempSync(join(tmpdir(), "synthgraph-bayesnet-nodes-"));

/** The state the nodes read, at the start of a run. */
function startState(config: RunConfig): BayesnetStateT {
  return {
    config,
    phase: "fit",
    modelKey: null,
    roundRows: [],
    nextChunk: 0,
    chunks: [],
    accepted: 0,
    exactCopiesRemoved: 0,
  } as unknown as BayesnetStateT;
}

describe("bayesnet nodes", () => {
  it("fit stores the model fitted with the fit stream's seed, and a stored model is used as is", async () => {
    const real = realDataOf(smallRealTable());
    const config = offlineConfig({ out: join(tmp, "x.csv") });
    const store = ArtifactStore.inMemory();
    const u = await fit({ config, store, real: async () => real })(startState(config));
    const expected = fitBayesNet(real.table, real.metadata, {
      bins: 5,
      maxParents: 3,
      pseudoCount: 1,
      restarts: 0,
      seed: deriveSeed(config.seed, SEED_STREAMS.bayesnet.fit, 0),
    });
    expect(await store.require(BAYESNET_MODEL_KEY, bayesNetModelSchema)).toEqual(expected);
    expect(u.modelKey).toBe(BAYESNET_MODEL_KEY);

    // A resumed run finds the artifact: the stored (here: 2-bin) network wins over refitting with 5 bins.
    const stored = ArtifactStore.inMemory();
    await stored.put(BAYESNET_MODEL_KEY, fitBayesNet(real.table, real.metadata, { bins: 2 }));
    const again = await fit({ config, store: stored, real: async () => real })(startState(config));
    expect(again.fitSummary?.bins).toBe(2);
    expect(u.fitSummary?.bins).toBe(5);
  });

  it("sample stores the guarded draw of chunk (round, c) with its seed; a re-run returns the stored chunk", async () => {
    const real = realDataOf(halfCopiedTable());
    const config = offlineConfig({ out: join(tmp, "y.csv"), rows: 60, bayesnet: { chunkRows: 25 } });
    const store = ArtifactStore.inMemory();
    const rt = { config, store, real: async () => real };
    let s = { ...startState(config), ...(await fit(rt)(startState(config))) } as BayesnetStateT;
    s = { ...s, ...(await planRound(rt)(s)) } as BayesnetStateT;
    expect(s.roundRows).toEqual([60]);
    const u = await sample(rt)(s);
    const key = chunkKey("bayesnet", 1, 0);
    expect(u.chunks).toEqual([key]);
    expect(u.nextChunk).toBe(1);
    const model = await store.require(BAYESNET_MODEL_KEY, bayesNetModelSchema);
    const seed = chunkSeed(config.seed, SEED_STREAMS.bayesnet.sample, 1, 0);
    const want = privacyFilterTable(real, sampleUnder(model, 25, seed, null, real.metadata));
    const chunk = await store.require(key, SampledChunkSchema);
    expect(decodeChunk(chunk)).toEqual(want.table);
    expect(chunk).toMatchObject({ requested: 25, exact_copies: want.exactCopies, seed });
    expect(u.accepted).toBe(want.table.nRows);
    expect(u.exactCopiesRemoved).toBe(want.exactCopies);
    expect(want.exactCopies).toBeGreaterThan(0);
    // Re-run after a crash before the checkpoint: the stored chunk, not a new draw (even from another model).
    await store.put(BAYESNET_MODEL_KEY, fitBayesNet(real.table, real.metadata, { bins: 2 }));
    expect(await sample(rt)(s)).toEqual(u);
  });

  it("the graph tops up the rows the privacy guard removed: exactly N rows, none a copy", async () => {
    const real = realDataOf(halfCopiedTable());
    const out = join(tmp, "topup.csv");
    const config = offlineConfig({ out, rows: 60, bayesnet: { chunkRows: 25 } });
    const s = await runOfflineGraph<BayesnetStateT>(buildBayesnetGraph, config, real);
    expect(s.phase).toBe("done");
    expect(s.output).toEqual({ path: out, rows: 60 });
    expect(s.accepted).toBe(60);
    expect(s.exactCopiesRemoved).toBeGreaterThan(0);
    expect(s.roundRows.length).toBeGreaterThan(1);
    // Round r + 1 plans what rounds 1..r left missing.
    expect(s.roundRows[0]).toBe(60);
    const written = await readTable(out, { metadata: metadataToJson(real.metadata) });
    expect(written.table.nRows).toBe(60);
    expect(exactCopyMask(real.table, written.table).every((m) => m === 0)).toBe(true);
  });

  it("without the privacy guard one round draws N rows; with too few rounds the run fails saying why", async () => {
    const real = realDataOf(halfCopiedTable());
    const open = offlineConfig({
      out: join(tmp, "open.csv"),
      privacyGuard: false,
      bayesnet: { chunkRows: 25 },
    });
    const s = await runOfflineGraph<BayesnetStateT>(buildBayesnetGraph, open, real);
    expect(s.roundRows).toEqual([60]);
    expect(s.chunks).toHaveLength(3);
    expect(s.exactCopiesRemoved).toBe(0);
    const tight = offlineConfig({ out: join(tmp, "tight.csv"), maxRounds: 1, bayesnet: { chunkRows: 25 } });
    await expect(runOfflineGraph(buildBayesnetGraph, tight, real)).rejects.toThrow(
      /after 1 sampling rounds only \d+ of 60 rows passed the privacy guard/,
    );
  });
});
