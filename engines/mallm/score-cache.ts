/**
 * The score node's mutable state between steps, kept in one object the graph creates once and hands to the node
 * (graph.ts: `score(rt, new MallmScoreCache(rt))`). Nothing here is needed for correctness: every value can be
 * rebuilt from the artifact store and the graph state, and a fresh cache (a resumed run) gives the same scores.
 * It exists because rebuilding them at every step is slow:
 *
 * - held-out samples (artifact `heldOutKey(step)`): immutable once written; every stored pair is re-scored at
 *   every learning step, so they are parsed into tables once per process instead of once per step;
 * - training chunks of a refitting discriminator (`discriminatorChunkKey(id)`): content-addressed, so immutable;
 *   each is written to and read from the store at most once per process;
 * - the live discriminator: the one the last score node left, keyed by its snapshot's JSON. The next step takes
 *   it when the state still holds that snapshot, so a forest is not refitted from its chunks at every step (only
 *   after a resume, or when the state does not match). Taken, not shared: scoring mutates it.
 *
 * Write-through: the held-out sample and the chunks are put in the store before the cache remembers them.
 */
import { rowsToTable, tableToRows } from "../../data/rows.ts";
import type { Metadata } from "../../data/types.ts";
import type { EngineRuntime } from "../../graph/runtime.ts";
import { RowSchema } from "../../state/artifacts.ts";
import { z } from "zod";
import {
  anyDiscriminatorSnapshotSchema,
  createDiscriminator,
  type MallmDiscriminator,
  snapshotChunkIds,
  type TrainingChunk,
  trainingChunkSchema,
} from "./classifiers.ts";
import type { LabelledRows } from "./score.ts";
import { discriminatorChunkKey, type MallmStateT } from "./state.ts";

/** A stored held-out sample: its real and synthetic rows (the artifact under `heldOutKey(step)`). */
export const HeldOutSchema = z.object({ real: z.array(RowSchema), synthetic: z.array(RowSchema) });

export class MallmScoreCache {
  private readonly rt: Pick<EngineRuntime, "store" | "real">;
  private readonly heldOut = new Map<string, LabelledRows>();
  private readonly chunks = new Map<string, TrainingChunk>();
  private live: { json: string; disc: MallmDiscriminator } | undefined;

  constructor(rt: Pick<EngineRuntime, "store" | "real">) {
    this.rt = rt;
  }

  /** The held-out sample stored under `key`, as tables (read and parsed once). */
  async heldOutRows(key: string): Promise<LabelledRows> {
    const hit = this.heldOut.get(key);
    if (hit) return hit;
    const real = await this.rt.real();
    const h = await this.rt.store.require(key, HeldOutSchema);
    const tables = {
      real: rowsToTable(h.real, real.metadata),
      synthetic: rowsToTable(h.synthetic, real.metadata),
    };
    this.heldOut.set(key, tables);
    return tables;
  }

  /** Stores a new held-out sample under `key` and remembers its tables. */
  async putHeldOut(key: string, rows: LabelledRows, metadata: Metadata): Promise<void> {
    await this.rt.store.put(key, {
      real: tableToRows(rows.real, metadata),
      synthetic: tableToRows(rows.synthetic, metadata),
    });
    this.heldOut.set(key, rows);
  }

  /**
   * The discriminator the state's snapshot describes: the live one when its snapshot is the state's, otherwise
   * a new one restored from the snapshot (loading its chunks). The caller owns it until `keep`.
   */
  async discriminator(s: Pick<MallmStateT, "config" | "discriminator">): Promise<MallmDiscriminator> {
    const hit = this.live;
    this.live = undefined;
    if (hit !== undefined && hit.json === JSON.stringify(s.discriminator)) return hit.disc;
    const snap = s.discriminator;
    for (const id of snap === null ? [] : snapshotChunkIds(snap)) {
      if (!this.chunks.has(id))
        this.chunks.set(id, await this.rt.store.require(discriminatorChunkKey(id), trainingChunkSchema));
    }
    const real = await this.rt.real();
    const d = createDiscriminator(s.config.mallm.discriminator, real.table, {
      standardize: s.config.mallm.standardize,
      chunks: (id) => this.chunks.get(id),
    });
    if (snap !== null) d.restore(snap);
    return d;
  }

  /** After scoring: stores the discriminator's new chunks, keeps it live, and returns its snapshot for the state. */
  async keep(disc: MallmDiscriminator): Promise<z.infer<typeof anyDiscriminatorSnapshotSchema>> {
    const snapshot = anyDiscriminatorSnapshotSchema.parse(disc.snapshot());
    for (const [id, chunk] of disc.chunks()) {
      if (this.chunks.has(id)) continue;
      await this.rt.store.put(discriminatorChunkKey(id), chunk);
      this.chunks.set(id, chunk);
    }
    this.live = { json: JSON.stringify(snapshot), disc };
    return snapshot;
  }
}
