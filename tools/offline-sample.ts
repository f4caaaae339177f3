/**
 * Conditional rows from an offline engine, drawn in the tool call (tools/sample.ts): the copula or the Bayesian
 * network is fitted to the real table exactly as its engine's fit node does (same options and fit seed), and
 * each condition group's rows are drawn under its predicate by the engine's own conditional sampler
 * (engines/<name>/sample-under.ts: rejection on the copula; evidence plus rejection on the network). As in a
 * run (graph/code-sampling.ts), exact copies of real rows are removed by the privacy guard and made up by the
 * next round, round r of group g drawing with chunkSeed(seed, the engine's sample stream, r, g), at most
 * `maxRounds` rounds. No run directory: the draw takes seconds, so nothing needs to be resumable.
 */
import { SynthgraphError } from "../data/errors.ts";
import type { Predicate } from "../data/predicate/index.ts";
import type { Table } from "../data/types.ts";
import { fitBayesNet } from "../engines/bayesnet/fit.ts";
import { sampleUnder as sampleBayesNetUnder } from "../engines/bayesnet/sample-under.ts";
import { fitCopula } from "../engines/copula/fit.ts";
import { sampleUnder as sampleCopulaUnder } from "../engines/copula/sample-under.ts";
import { concatTables, renumberIds } from "../engines/llmsynthor/state.ts";
import { chunkSeed } from "../graph/code-sampling.ts";
import { privacyFilterTable } from "../graph/privacy-guard.ts";
import type { RealData } from "../graph/runtime.ts";
import { BayesnetEngineOptionsSchema } from "../engines/bayesnet/config.ts";
import { CopulaEngineOptionsSchema } from "../engines/copula/config.ts";
import { deriveSeed, SEED_STREAMS } from "../state/seeds.ts";

export type OfflineEngine = "copula" | "bayesnet";

export interface OfflineGroup {
  predicate: Predicate;
  rows: number;
}

export interface OfflineSampleOptions {
  seed: number;
  /** Rounds per group before giving up on the privacy guard's top-up (RunConfig's maxRounds default). */
  maxRounds?: number;
  /** Bound on draws per accepted row in the rejection sampler (a condition the model almost never meets). */
  maxDrawsPerRow?: number;
  /** Called after each group with the rows drawn so far. */
  onGroup?: (rowsDone: number) => Promise<void> | void;
}

export interface OfflineSample {
  /** The groups' rows in group order, ids renumbered 1..N. */
  table: Table;
  /** Exact copies of real rows the privacy guard removed (and replaced). */
  exactCopies: number;
}

type Draw = (n: number, seed: number, pred: Predicate) => Table;

/** The engine's model fitted like its fit node, as a draw under a predicate. */
function fittedDraw(engine: OfflineEngine, real: RealData, seed: number, maxDrawsPerRow: number): Draw {
  const { table, metadata } = real;
  const opts = { maxDrawsPerRow };
  if (engine === "copula") {
    const o = CopulaEngineOptionsSchema.parse({});
    const model = fitCopula(table, metadata, {
      distribution: o.distribution,
      seed: deriveSeed(seed, SEED_STREAMS.copula.fit, 0),
    });
    return (n, s, pred) => sampleCopulaUnder(model, n, s, pred, metadata, opts);
  }
  const o = BayesnetEngineOptionsSchema.parse({});
  const model = fitBayesNet(table, metadata, {
    bins: o.bins,
    maxParents: o.maxParents,
    pseudoCount: o.pseudoCount,
    restarts: o.restarts,
    seed: deriveSeed(seed, SEED_STREAMS.bayesnet.fit, 0),
  });
  return (n, s, pred) => sampleBayesNetUnder(model, n, s, pred, metadata, opts);
}

/** Exactly `rows` rows per group, each satisfying its group's predicate, none copying a real row. */
export async function sampleOffline(
  engine: OfflineEngine,
  real: RealData,
  groups: readonly OfflineGroup[],
  o: OfflineSampleOptions,
): Promise<OfflineSample> {
  const maxRounds = o.maxRounds ?? 20;
  const draw = fittedDraw(engine, real, o.seed, o.maxDrawsPerRow ?? 10_000);
  const stream = SEED_STREAMS[engine].sample;
  const parts: Table[] = [];
  let exactCopies = 0;
  let done = 0;
  for (const [g, group] of groups.entries()) {
    let have = 0;
    for (let round = 1; have < group.rows; round++) {
      if (round > maxRounds) {
        throw new SynthgraphError(
          `after ${maxRounds} rounds only ${have} of ${group.rows} rows where ${group.predicate.toString()} passed the privacy guard (${exactCopies} exact copies of real rows removed)`,
          {
            hint: "the model keeps reproducing real rows under this condition (a narrow region of a small table): widen it, or use an LLM engine",
            exitCode: 2,
          },
        );
      }
      const drawn = draw(group.rows - have, chunkSeed(o.seed, stream, round, g), group.predicate);
      const kept = privacyFilterTable(real, drawn);
      exactCopies += kept.exactCopies;
      have += kept.table.nRows;
      parts.push(kept.table);
    }
    done += group.rows;
    await o.onGroup?.(done);
  }
  return { table: renumberIds(concatTables(parts, real.metadata)), exactCopies };
}
