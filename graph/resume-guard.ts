/**
 * The runner's two recoveries (graph/run.ts calls them; graph/recover.ts has the mechanics):
 * - before opening the checkpoint: an empty or damaged checkpoint database is set aside with a warning, and the
 *   run restarts from the beginning, where every memoised model call finds its stored reply (no model work is
 *   repeated);
 * - a run stopped inside final generation finishes from its stored batches, generating the missing ones.
 */
import type { RunConfig } from "../state/config.ts";
import { rowsToTable } from "../data/rows.ts";
import { type AccountingSnapshot, mergeSnapshots } from "../models/accounting.ts";
import type { RunFile, RunPaths } from "../state/run-dir.ts";
import type { EngineStateBase } from "./engine.ts";
import { writeOutput } from "./finalize.ts";
import {
  checkpointHealth,
  completeFromArtifacts,
  finalBatchesOf,
  setCheckpointAside,
  uncountedTotals,
} from "./recover.ts";
import type { RunEvent } from "./run.ts";
import type { EngineRuntime } from "./runtime.ts";

export async function prepareCheckpoint(
  paths: RunPaths,
  run: RunFile,
  warn: ((message: string) => void) | undefined,
): Promise<void> {
  const say = warn ?? (() => undefined);
  const started = run.progress.iterations > 0 || run.progress.rows_done > 0;
  const reuse = "every model reply stored in its artifacts is reused, so no model call is repeated";
  switch (checkpointHealth(paths.checkpoints)) {
    case "ok":
      return;
    case "absent":
      if (started)
        say(
          `run ${run.id} has no checkpoint (${paths.checkpoints}): it restarts from the beginning; ${reuse}`,
        );
      return;
    case "empty": {
      const aside = setCheckpointAside(paths.checkpoints);
      say(
        `the checkpoint ${paths.checkpoints} is empty (0 bytes; kept as ${aside}): run ${run.id} restarts from the beginning; ${reuse}`,
      );
      return;
    }
    case "damaged": {
      const aside = setCheckpointAside(paths.checkpoints);
      say(
        `the checkpoint ${paths.checkpoints} is damaged (not a readable SQLite database; kept as ${aside}): run ${run.id} restarts from the beginning; ${reuse}`,
      );
      return;
    }
  }
}

interface FinalValues extends EngineStateBase {
  roundRows?: number[];
  batchesDone?: number;
}

/**
 * Finishes a run whose committed state is inside final generation (rounds planned, output not written):
 * every planned batch from its artifact or generated again, more rounds if rows are missing, the output
 * written, and the state's counters completed with what the checkpoint had not counted (`values` as committed:
 * graph/recover.ts committedValues). Undefined when the state is not inside final generation (the graph
 * continues as usual).
 */
export async function finishStoppedRun<S extends EngineStateBase>(a: {
  runtime: EngineRuntime;
  values: unknown;
  onEvent: ((e: RunEvent) => void) | undefined;
  usage: AccountingSnapshot;
}): Promise<S | undefined> {
  const v = a.values as Partial<FinalValues>;
  const batches = finalBatchesOf(a.runtime.store);
  if (!batches || v.phase === "done" || !Array.isArray(v.roundRows) || v.roundRows.length === 0)
    return undefined;
  // The state's config, not run.json's: a steering `rows` action changes it in the state first.
  const config = (a.values as { config?: RunConfig }).config ?? a.runtime.config;
  // Conditional runs write per group (graph/finalize.ts): the graph's own write node finishes them.
  if (config.conditions !== undefined) return undefined;
  const real = await a.runtime.real();
  let usage = a.usage;
  // A run that dedupes (SYNTHIA's default) leaves the same duplicates out as the graph's own path would.
  const rowKey = await batches.rowKey(config);
  const done = await completeFromArtifacts({
    config,
    roundRows: v.roundRows,
    run: batches.run,
    concurrency: a.runtime.concurrency,
    ...(rowKey ? { rowKey } : {}),
    onBatch: (b) => {
      if (!b.cached) usage = mergeSnapshots(usage, b.value.usage);
      a.onEvent?.({ node: "collect", update: {}, usage, rowsDone: b.accepted, rowsRequested: config.rows });
    },
  });
  const written = await writeOutput(config, rowsToTable(done.rows, real.metadata), real.metadata);
  a.onEvent?.({ node: "write", update: written, usage, rowsDone: config.rows, rowsRequested: config.rows });
  const totals = uncountedTotals({ batchesDone: v.batchesDone ?? 0 }, done.batches);
  return {
    ...(a.values as S),
    ...written,
    accepted: config.rows,
    roundRows: done.roundRows,
    batchesDone: done.batches.length,
    usage: mergeSnapshots(v.usage ?? usage, totals.usage),
    invalidRows: (v.invalidRows ?? 0) + totals.invalidRows,
    exactCopiesRemoved: (v.exactCopiesRemoved ?? 0) + totals.exactCopiesRemoved,
    // The scan over every stored batch gives the whole count, as plan_round's does.
    ...(rowKey ? { duplicatesRemoved: done.duplicates } : {}),
  };
}
