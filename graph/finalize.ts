/**
 * The final generation every engine shares: rounds of batches until N rows are accepted, each round fanned
 * out in bounded waves of Sends, every batch stored in the artifact store (memo: a re-run after a crash
 * returns the stored batch without a model call), the privacy guard, and the CSV of exactly N rows in batch
 * order. The engine supplies only how one batch is generated. Wiring: nodes plan_round → wave ─Send×W→ batch
 * → collect ─(more)→ wave | ─(round done)→ plan_round ─(N accepted)→ write.
 *
 * Conditional runs (config.conditions, graph/conditions.ts): each round plans the rows still missing per
 * group (stored as final/plan-rNNN), its batches carry their group (group 0's batches first), every row is checked against the group's
 * condition before the privacy guard (misses counted as `unmet` in the batch artifact), and `write` emits
 * exactly the requested rows per group, group after group. Unconditional runs take none of these paths.
 *
 * Exact duplicates among synthetic rows (`dedupe`, SYNTHIA's final generation): a row equal in every column to a
 * row of an earlier batch (batch order, across rounds and groups) or earlier in its own batch is not output.
 * Batches of one wave run in parallel, so the check is not made inside `batch`: plan_round scans the stored
 * batches in batch order (a pure function of the memoised artifacts, so a resumed run counts the same), takes
 * the duplicates found since the last scan off `accepted`, adds them to `duplicatesRemoved`, and plans the rows
 * still missing; `write` skips the same rows in the same order.
 *
 * Workers (a run started with `--workers` on a PostgreSQL store): every batch is made by `synthgraph worker`
 * processes (graph/worker.ts runs this file's `runBatch` there) and the coordinator waits for its artifact
 * (graph/batch-queue.ts); planning, counting, dedupe and `write` stay here and read the same artifacts.
 */
import { END, Send, type StateGraph } from "@langchain/langgraph";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { rowsToTable } from "../data/rows.ts";
import type { Metadata, Row, Table } from "../data/types.ts";
import { tableToCsv } from "../data/write.ts";
import { type AccountingSnapshot, emptySnapshot, mergeSnapshots } from "../models/accounting.ts";
import {
  type ArtifactStore,
  FinalPlanSchema,
  finalBatchKey,
  finalPlanKey,
  type RowBatch,
  RowBatchSchema,
} from "../state/artifacts.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import type { RunConfig } from "../state/config.ts";
import type { BatchTask } from "../state/finalize.ts";
import { waveSize } from "../state/finalize.ts";
import { batchSeed } from "../state/seeds.ts";
import { conditionOf, groupRows, type LayoutBatch, roundLayout, splitBySatisfaction } from "./conditions.ts";
import { privacyFilter } from "./privacy-guard.ts";
import {
  completeFromArtifacts,
  type FinalBatchRunner,
  noteFailure,
  registerFinalBatches,
} from "./recover.ts";
import type { EngineRuntime } from "./runtime.ts";

/** What the final-generation nodes read from any engine's state (state/finalize.ts fields). */
export interface FinalizeView {
  config: RunConfig;
  roundRows: number[];
  nextBatch: number;
  waveEnd: number;
  accepted: number;
  invalidRows: number;
  exactCopiesRemoved: number;
  duplicatesRemoved: number;
}

export interface FinalizeUpdate {
  phase?: "finalize" | "write" | "done";
  roundRows?: number[];
  nextBatch?: number;
  waveEnd?: number;
  accepted?: number;
  invalidRows?: number;
  exactCopiesRemoved?: number;
  duplicatesRemoved?: number;
  batchesDone?: number;
  usage?: AccountingSnapshot;
  output?: { path: string; rows: number };
}

/** A Send carries the task and one artifact key (the engine's stored final prompt inputs), a few bytes each. */
const PayloadSchema = z.object({
  task: z.object({
    round: z.number().int(),
    batch: z.number().int(),
    nRows: z.number().int(),
    group: z.number().int().optional(),
  }),
  key: z.string(),
});

/** Generates one final batch: validated rows, capped at the request, before the privacy guard. */
export type FinalBatchGenerator = (a: {
  task: BatchTask;
  seed: number;
  /** The artifact key the engine passed to finalizeNodes. */
  key: string;
}) => Promise<Omit<RowBatch, "exact_copies">>;

/** The output CSV (atomically) of a table that must hold exactly the requested rows, and the run's last update. */
export async function writeOutput(
  config: RunConfig,
  table: Table,
  metadata: Metadata,
): Promise<{ phase: "done"; output: { path: string; rows: number } }> {
  if (table.nRows !== config.rows) {
    throw new SynthgraphError(`internal: ${table.nRows} output rows for ${config.rows} requested`);
  }
  await writeFileAtomic(config.out, tableToCsv(table, metadata));
  return { phase: "done", output: { path: config.out, rows: table.nRows } };
}

export type FinalizeNodes = ReturnType<typeof finalizeNodes>;

/** Stored batches of the finished rounds, per group: accepted rows (what the next round still misses). */
async function acceptedPerGroup(
  store: ArtifactStore,
  rounds: number,
  layout: (r: number) => Promise<readonly LayoutBatch[]>,
  groups: number,
): Promise<number[]> {
  const out = new Array<number>(groups).fill(0);
  for (let r = 1; r <= rounds; r++) {
    const l = await layout(r);
    for (let b = 0; b < l.length; b++) {
      out[l[b].group ?? 0] += (await store.require(finalBatchKey(r, b), RowBatchSchema)).rows.length;
    }
  }
  return out;
}

/** A limit on how many calls run at once: `run(f)` starts f when fewer than `n` are running. */
export type Slots = <T>(f: () => Promise<T>) => Promise<T>;

export function createSlots(n: number): Slots {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (f) => {
    if (running >= Math.max(1, n)) await new Promise<void>((go) => waiting.push(go));
    else running++;
    try {
      return await f();
    } finally {
      // Hand the slot to the next waiter (running stays the same), or free it.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/** One limit per run (per artifact store): a per-thread runtime builds finalizeNodes once for many runs. */
const slotsByStore = new WeakMap<ArtifactStore, { n: number; slots: Slots }>();
function slotsOf(store: ArtifactStore, n: number): Slots {
  const known = slotsByStore.get(store);
  if (known && known.n === n) return known.slots;
  const slots = createSlots(n);
  slotsByStore.set(store, { n, slots });
  return slots;
}

/** A row as a string key: its values in metadata column order (validated rows: one type per column). */
function rowKey(row: Row, metadata: Metadata): string {
  return JSON.stringify(metadata.columns.map((c) => row[c.name] ?? null));
}

/**
 * The stored rows of every finished batch in batch order, per group, each group capped at `wanted[g]`, with the
 * exact duplicates of an earlier stored row left out (when `dedupe`) and counted.
 */
async function storedOutputRows(
  store: ArtifactStore,
  rounds: number,
  layout: (r: number) => Promise<readonly LayoutBatch[]>,
  wanted: readonly number[],
  metadata: Metadata,
  dedupe: boolean,
): Promise<{ perGroup: Row[][]; duplicates: number }> {
  const perGroup: Row[][] = wanted.map(() => []);
  const seen = new Set<string>();
  let duplicates = 0;
  for (let r = 1; r <= rounds; r++) {
    const l = await layout(r);
    for (let b = 0; b < l.length; b++) {
      const g = l[b].group ?? 0;
      if (perGroup[g].length >= wanted[g]) continue;
      const stored = await store.require(finalBatchKey(r, b), RowBatchSchema);
      for (const row of stored.rows) {
        if (perGroup[g].length >= wanted[g]) break;
        if (dedupe) {
          const k = rowKey(row, metadata);
          if (seen.has(k)) {
            duplicates++;
            continue;
          }
          seen.add(k);
        }
        perGroup[g].push(row);
      }
    }
  }
  return { perGroup, duplicates };
}

export function finalizeNodes(
  rt: Pick<EngineRuntime, "config" | "store" | "real" | "concurrency" | "perThread" | "batchQueue">,
  a: {
    key: string;
    generate: FinalBatchGenerator;
    /** Leave exact duplicates among synthetic rows out of the output (read per run: the state's config). */
    dedupe?: (c: RunConfig) => boolean;
  },
) {
  const dedupeOf = (c: RunConfig): boolean => a.dedupe?.(c) ?? false;
  // Read from the state, never at build time: an exported graph (graph/export.ts) is built once and serves
  // many runs, each with its own config and store.
  const isConditional = (s: FinalizeView): boolean => s.config.conditions !== undefined;
  // Conditional rounds keep their per-group plan in the artifact store (final/plan-rNNN), not in the graph
  // state: the state's fields stay those of every engine, and a plan once written never changes.
  const planOf = async (r: number): Promise<number[]> =>
    (await rt.store.require(finalPlanKey(r), FinalPlanSchema)).groups;
  /** The batches of round r (1-based), in batch order (graph/conditions.ts roundLayout). */
  const layoutOf = async (s: FinalizeView, r: number): Promise<readonly LayoutBatch[]> =>
    roundLayout(s.roundRows[r - 1], isConditional(s) ? await planOf(r) : undefined, s.config.batchRows);

  /** The output rows stored so far per group (duplicates left out when the run dedupes), and the duplicates. */
  const scan = async (s: FinalizeView): Promise<{ perGroup: Row[][]; duplicates: number }> =>
    storedOutputRows(
      rt.store,
      s.roundRows.length,
      (r) => layoutOf(s, r),
      isConditional(s) ? groupRows(s.config) : [s.config.rows],
      (await rt.real()).metadata,
      dedupeOf(s.config),
    );

  const planRound = async (s: FinalizeView): Promise<FinalizeUpdate> => {
    const c = s.config;
    // Duplicates found since the last scan leave `accepted` (a summed counter) and join duplicatesRemoved.
    const scanned = dedupeOf(c) ? await scan(s) : undefined;
    const fresh = scanned ? Math.max(0, scanned.duplicates - s.duplicatesRemoved) : 0;
    const dedupe: FinalizeUpdate = fresh > 0 ? { accepted: -fresh, duplicatesRemoved: fresh } : {};
    const note = `${s.invalidRows} invalid rows, ${s.exactCopiesRemoved} exact copies of real rows removed${scanned ? `, ${scanned.duplicates} duplicate rows removed` : ""}`;
    const dupHint = scanned ? " (a table with few distinct rows: --keep-duplicates)" : "";
    if (!isConditional(s)) {
      const accepted = s.accepted - fresh;
      const remaining = c.rows - accepted;
      if (remaining <= 0) return { ...dedupe, phase: "write" };
      if (s.roundRows.length >= c.maxRounds) {
        throw new SynthgraphError(
          `after ${c.maxRounds} rounds only ${accepted} of ${c.rows} rows were accepted (${note})`,
          {
            hint: `the model rarely produces valid rows: look at the batch artifacts in the run directory, try a larger model, or lower --rows${dupHint}`,
          },
        );
      }
      return {
        ...dedupe,
        phase: "finalize",
        roundRows: [...s.roundRows, remaining],
        nextBatch: 0,
        waveEnd: 0,
      };
    }
    // What each group still misses (a group never borrows another's surplus).
    const wanted = groupRows(c);
    const done = scanned
      ? scanned.perGroup.map((rows) => rows.length)
      : await acceptedPerGroup(rt.store, s.roundRows.length, (r) => layoutOf(s, r), wanted.length);
    const missing = wanted.map((rows, g) => Math.max(0, rows - done[g]));
    const remaining = missing.reduce((x, y) => x + y, 0);
    if (remaining <= 0) return { ...dedupe, phase: "write" };
    if (s.roundRows.length >= c.maxRounds) {
      const short = (c.conditions ?? [])
        .map((g, k) => ({ g, k }))
        .filter(({ k }) => missing[k] > 0)
        .map(({ g, k }) => `group ${k + 1} (${g.where}): ${done[k]} of ${g.rows}`);
      throw new SynthgraphError(
        `after ${c.maxRounds} rounds some groups are short of rows: ${short.join("; ")} (${note})`,
        {
          hint: `the model rarely writes rows that meet the condition: look at \`unmet\` in the batch artifacts of the run directory, try a larger model, or widen the condition${dupHint}`,
        },
      );
    }
    const round = s.roundRows.length + 1;
    await rt.store.put(finalPlanKey(round), { groups: missing });
    return { ...dedupe, phase: "finalize", roundRows: [...s.roundRows, remaining], nextBatch: 0, waveEnd: 0 };
  };

  const wave = async (s: FinalizeView): Promise<FinalizeUpdate> => {
    const n = (await layoutOf(s, s.roundRows.length)).length;
    return { waveEnd: Math.min(n, s.nextBatch + waveSize(rt.concurrency)) };
  };

  const dispatch = async (s: FinalizeView): Promise<Send[]> => {
    const round = s.roundRows.length;
    const layout = await layoutOf(s, round);
    const sends: Send[] = [];
    for (let b = s.nextBatch; b < s.waveEnd; b++) {
      const { group, nRows } = layout[b];
      const task: BatchTask = { round, batch: b, nRows, ...(group === undefined ? {} : { group }) };
      sends.push(new Send("batch", { task, key: a.key }));
    }
    return sends;
  };

  // One batch's memoised work, shared by the `batch` node, `write` and the runner's recovery (graph/recover.ts).
  // At most rt.concurrency batches generate at once, whoever runs them (a wave's Sends, the recovery, an
  // exported graph run by a LangGraph server with its own concurrency).
  const runBatch: FinalBatchRunner = (task) => {
    const c = rt.config;
    const seed = batchSeed(c.seed, task.round, task.batch);
    return rt.store.memo(finalBatchKey(task.round, task.batch), RowBatchSchema, async () => {
      const out = await slotsOf(rt.store, rt.concurrency)(() => a.generate({ task, seed, key: a.key }));
      const real = await rt.real();
      const cond = conditionOf(c, real.metadata, task.group);
      // Every row is checked against its group's condition by code, whatever the engine did at the source.
      const met = cond ? splitBySatisfaction(cond, out.rows, real.metadata) : undefined;
      const rows = (met?.kept ?? out.rows).slice(0, task.nRows);
      const kept = c.privacyGuard ? privacyFilter(real, rows) : { rows, exactCopies: 0 };
      return {
        ...out,
        rows: kept.rows,
        exact_copies: kept.exactCopies,
        ...(cond && met ? { group: cond.index, model_rows: out.rows.length, unmet: met.unmet } : {}),
      };
    });
  };
  /** The row key when the run dedupes (graph/recover.ts completeFromArtifacts), from the given config. */
  const rowKeyOf = async (c: RunConfig): Promise<((row: Row) => string) | undefined> => {
    if (!dedupeOf(c)) return undefined;
    const metadata = (await rt.real()).metadata;
    return (row) => rowKey(row, metadata);
  };
  // Where a batch is made: here, or (a run started with workers, graph/batch-queue.ts) by a `synthgraph worker`
  // process that runs `runBatch` on its side; the coordinator enqueues the batch and waits for its artifact.
  // The batch node, `write` and the runner's recovery all go through it, so none of them calls the model itself
  // when the run has workers.
  const produce: FinalBatchRunner = (task) =>
    rt.batchQueue ? rt.batchQueue.run(task, a.key, rt.store) : runBatch(task);
  const batches = { run: produce, rowKey: rowKeyOf };
  // The runner's recovery (and a worker) finds the batch code by store; a per-thread runtime (an exported
  // graph) has a store only inside a node, so it registers there.
  if (!rt.perThread) registerFinalBatches(rt.store, batches);

  // Receives a Send payload, not the state (LangGraph passes the payload as the node input).
  const batch = async (input: unknown): Promise<FinalizeUpdate> => {
    if (rt.perThread) registerFinalBatches(rt.store, batches);
    const { task } = PayloadSchema.parse(input);
    let value: RowBatch;
    try {
      ({ value } = await produce(task));
    } catch (err) {
      // A failed Send can end the stream without raising: the runner reports this error instead.
      noteFailure(rt.store, err);
      throw err;
    }
    // A cached artifact means the previous attempt crashed before its checkpoint: its usage counts now, once.
    return {
      accepted: value.rows.length,
      invalidRows: value.invalid,
      exactCopiesRemoved: value.exact_copies,
      batchesDone: 1,
      usage: value.usage,
    };
  };

  const collect = (s: FinalizeView): FinalizeUpdate => ({ nextBatch: s.waveEnd });

  // Reads every batch in order; a batch the state counts but no artifact holds (a run that died between its
  // model call and its store) is generated again rather than assumed written, and more rounds follow if needed.
  const write = async (s: FinalizeView): Promise<FinalizeUpdate> => {
    const real = await rt.real();
    const c = s.config;
    if (isConditional(s) && dedupeOf(c)) {
      // The rows plan_round counted, in the same order: exactly the requested rows per group, no duplicate.
      const { perGroup } = await scan(s);
      return writeOutput(c, rowsToTable(perGroup.flat(), real.metadata), real.metadata);
    }
    if (isConditional(s)) {
      // Exactly the requested rows per group, group after group, each group's rows in batch order.
      const wanted = groupRows(c);
      const perGroup: Row[][] = wanted.map(() => []);
      for (let r = 1; r <= s.roundRows.length; r++) {
        const layout = await layoutOf(s, r);
        for (let b = 0; b < layout.length; b++) {
          const g = layout[b].group ?? 0;
          if (perGroup[g].length >= wanted[g]) continue;
          const stored = await rt.store.require(finalBatchKey(r, b), RowBatchSchema);
          perGroup[g].push(...stored.rows.slice(0, wanted[g] - perGroup[g].length));
        }
      }
      return writeOutput(c, rowsToTable(perGroup.flat(), real.metadata), real.metadata);
    }
    // Deduping, these are the rows plan_round counted, in the same order (the same scan, by completeFromArtifacts).
    const rowKeyFn = await rowKeyOf(c);
    const done = await completeFromArtifacts({
      config: c,
      roundRows: s.roundRows,
      run: produce,
      concurrency: rt.concurrency,
      ...(rowKeyFn ? { rowKey: rowKeyFn } : {}),
    });
    const redone = done.batches.filter((b) => !b.cached);
    const usage = redone.reduce((u, b) => mergeSnapshots(u, b.value.usage), emptySnapshot());
    return {
      ...(await writeOutput(c, rowsToTable(done.rows, real.metadata), real.metadata)),
      ...(redone.length > 0 ? { usage } : {}),
    };
  };

  return {
    planRound,
    wave,
    dispatch,
    batch,
    collect,
    write,
    afterPlan: (s: FinalizeView & { phase: string }): "write" | "wave" =>
      s.phase === "write" ? "write" : "wave",
    afterCollect: async (s: FinalizeView): Promise<"wave" | "plan_round"> =>
      s.nextBatch < (await layoutOf(s, s.roundRows.length)).length ? "wave" : "plan_round",
  };
}

/** The node names final generation adds to an engine's graph. */
export type FinalGenerationNode = "plan_round" | "wave" | "batch" | "collect" | "write";

/** G with the final-generation nodes added to its node names (so the engine's edges may target plan_round). */
export type WithFinalGeneration<G> =
  G extends StateGraph<
    infer SD,
    infer S,
    infer U,
    infer N,
    infer I,
    infer O,
    infer C,
    infer R,
    infer IT,
    infer W
  >
    ? StateGraph<SD, S, U, N | FinalGenerationNode, I, O, C, R, IT, W>
    : never;

/** The builder methods used here, with node names as plain strings (LangGraph checks the names at compile). */
interface LooseBuilder {
  addNode(name: string, action: (input: never) => unknown): LooseBuilder;
  addEdge(from: string, to: string): LooseBuilder;
  addConditionalEdges(from: string, router: (s: never) => unknown, targets: string[]): LooseBuilder;
}

/**
 * Adds the shared final generation to an engine's graph in one call: nodes plan_round → wave ─Send×W→ batch →
 * collect ─(more)→ wave | ─(round done)→ plan_round ─(N accepted)→ write → END. The engine routes into
 * "plan_round" when its loop ends; `planRound` replaces the default node when the engine stores something
 * before the first round (SYNTHIA stores its final prompt inputs).
 */
export function addFinalGeneration<G>(
  graph: G,
  fin: FinalizeNodes,
  opts: { planRound?: (s: never) => unknown } = {},
): WithFinalGeneration<G> {
  const g = graph as unknown as LooseBuilder;
  g.addNode("plan_round", opts.planRound ?? fin.planRound)
    .addNode("wave", fin.wave)
    .addNode("batch", fin.batch)
    .addNode("collect", fin.collect)
    .addNode("write", fin.write)
    .addConditionalEdges("plan_round", fin.afterPlan, ["write", "wave"])
    .addConditionalEdges("wave", fin.dispatch, ["batch"])
    .addEdge("batch", "collect")
    .addConditionalEdges("collect", fin.afterCollect, ["wave", "plan_round"])
    .addEdge("write", END);
  return graph as unknown as WithFinalGeneration<G>;
}
