/**
 * Durable artifacts beside the checkpointer: row batches and other values too large for graph state. Each is a
 * JSON file under <run-dir>/artifacts keyed by a path-like key (`final/r001-b0003`), written atomically
 * (temp + rename), so a key either names a complete file or nothing. Graph state holds only the keys.
 * `memo` makes a node idempotent: when a re-run finds the artifact it returns it without redoing the work
 * (no model call), so a kill at any moment loses nothing and duplicates nothing.
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import type { Row } from "../data/types.ts";
import { writeFileAtomic } from "./atomic.ts";
import { AccountingSnapshotSchema } from "./schemas.ts";

const KEY_RE = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

/** Where artifact texts live: a folder of JSON files (the default), memory (tests), or a database. */
export interface ArtifactBackend {
  /** The stored text of a key, or undefined when absent. */
  read(key: string): Promise<string | undefined>;
  /** Stores the text of a key atomically (a reader sees the old text or the new one, never a mix). */
  write(key: string, text: string): Promise<void>;
  /** Where a key lives, for messages. */
  locate(key: string): string;
  /**
   * Stores the text only if the key is absent, atomically, and returns the text stored under the key (this
   * one, or the one another writer stored first). Backends shared by several processes implement it, so two
   * processes that computed the same artifact (a duplicated worker job) keep the first one only.
   */
  writeIfAbsent?(key: string, text: string): Promise<string>;
}

/** Artifacts as JSON files under a folder: <root>/<key>.json. */
export class FileArtifactBackend implements ArtifactBackend {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }
  locate(key: string): string {
    return join(this.root, `${key}.json`);
  }
  async read(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.locate(key), "utf8");
    } catch {
      return undefined;
    }
  }
  async write(key: string, text: string): Promise<void> {
    const path = this.locate(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, text);
  }
}

/** Artifacts in a Map: node unit tests run against it without touching the disk. */
export class MemoryArtifactBackend implements ArtifactBackend {
  readonly texts = new Map<string, string>();
  locate(key: string): string {
    return `memory:${key}`;
  }
  async read(key: string): Promise<string | undefined> {
    return this.texts.get(key);
  }
  async write(key: string, text: string): Promise<void> {
    this.texts.set(key, text);
  }
}

export class ArtifactStore {
  readonly backend: ArtifactBackend;
  /**
   * Set by the runner: a damaged artifact (not JSON, or not the expected shape: a disk fault, an edit) is then
   * reported here and treated as missing, so memo redoes its work. Unset, a damaged artifact is an error.
   */
  onDamaged: ((path: string, reason: string) => void) | undefined;
  /** A folder (file backend) or any backend. */
  constructor(where: string | ArtifactBackend) {
    this.backend = typeof where === "string" ? new FileArtifactBackend(where) : where;
  }

  /** An empty store in memory (tests). */
  static inMemory(): ArtifactStore {
    return new ArtifactStore(new MemoryArtifactBackend());
  }

  /** Where a key lives (keys are validated: no `..`, no absolute paths). */
  pathOf(key: string): string {
    if (!KEY_RE.test(key)) throw new Error(`invalid artifact key ${JSON.stringify(key)}`);
    return this.backend.locate(key);
  }

  async has(key: string): Promise<boolean> {
    this.pathOf(key);
    return (await this.backend.read(key)) !== undefined;
  }

  async put(key: string, value: unknown): Promise<string> {
    this.pathOf(key);
    await this.backend.write(key, JSON.stringify(value));
    return key;
  }

  /**
   * The artifact parsed with `schema`, or undefined when absent. A damaged one is never used silently: it is
   * reported to onDamaged and treated as absent, or (no onDamaged) an error.
   */
  async get<T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> {
    this.pathOf(key);
    const text = await this.backend.read(key);
    if (text === undefined) return undefined;
    let raw: unknown;
    let reason: string;
    try {
      raw = JSON.parse(text);
      const r = schema.safeParse(raw);
      if (r.success) return r.data;
      reason = `it does not have the expected shape: ${z.prettifyError(r.error)}`;
    } catch (e) {
      reason = `it is not valid JSON (${(e as Error).message})`;
    }
    if (this.onDamaged) {
      this.onDamaged(this.pathOf(key), reason);
      return undefined;
    }
    throw new SynthgraphError(`artifact ${this.pathOf(key)} is damaged: ${reason}`, {
      hint: "the run directory was edited or written by another version; `synthgraph resume` redoes a damaged artifact's work",
    });
  }

  async require<T>(key: string, schema: z.ZodType<T>): Promise<T> {
    const v = await this.get(key, schema);
    if (v === undefined) {
      throw new SynthgraphError(`artifact ${this.pathOf(key)} is missing`, {
        hint: "it is missing or damaged and cannot be recomputed here: start a new run with `synthgraph generate`",
      });
    }
    return v;
  }

  /** Returns the stored artifact if present; otherwise computes, stores, and returns it. */
  async memo<T>(
    key: string,
    schema: z.ZodType<T>,
    compute: () => Promise<T>,
  ): Promise<{ value: T; cached: boolean }> {
    const found = await this.get(key, schema);
    if (found !== undefined) return { value: found, cached: true };
    const value = await compute();
    if (this.backend.writeIfAbsent) {
      // Another process may have stored this key while we computed: the first stored value is the value.
      const text = JSON.stringify(value);
      const stored = await this.backend.writeIfAbsent(key, text);
      if (stored === text) return { value, cached: false };
      const first = await this.get(key, schema);
      if (first !== undefined) return { value: first, cached: true };
      // The stored text is damaged (reported to onDamaged by get): this value replaces it.
      await this.backend.write(key, text);
      return { value, cached: false };
    }
    await this.put(key, value);
    return { value, cached: false };
  }
}

const RowValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const RowSchema: z.ZodType<Row> = z.record(z.string(), RowValueSchema);

/** A generated batch as stored: validated rows only, with the counts that explain what was dropped. */
export const RowBatchSchema = z.object({
  requested: z.number().int().min(0),
  rows: z.array(RowSchema),
  /** Rows the validator dropped (reasons are in `reasons`, capped). */
  invalid: z.number().int().min(0),
  /** Exact copies of real rows removed by the privacy guard. */
  exact_copies: z.number().int().min(0),
  reasons: z.array(z.string()),
  seed: z.number().int(),
  usage: AccountingSnapshotSchema,
  /** Conditional runs only (graph/conditions.ts): the batch's group and the valid rows that missed its condition. */
  group: z.number().int().min(0).optional(),
  /** Valid rows the model wrote, before the condition check (so unmet / model_rows is the miss rate). */
  model_rows: z.number().int().min(0).optional(),
  unmet: z.number().int().min(0).optional(),
});
export type RowBatch = z.infer<typeof RowBatchSchema>;

export const probeKey = (iteration: number): string => `probe/iter-${String(iteration).padStart(3, "0")}`;
export const discriminationKey = (iteration: number): string =>
  `discriminator/iter-${String(iteration).padStart(3, "0")}`;
export const finalBatchKey = (round: number, batch: number): string =>
  `final/r${String(round).padStart(3, "0")}-b${String(batch).padStart(5, "0")}`;
/** Conditional runs: the rows round r plans per group (graph/finalize.ts; its batches follow this layout). */
export const finalPlanKey = (round: number): string => `final/plan-r${String(round).padStart(3, "0")}`;
export const FinalPlanSchema = z.object({ groups: z.array(z.number().int().min(0)) });
export const DESCRIPTIONS_KEY = "metadata/descriptions";
