/**
 * Durable artifacts beside the checkpointer: row batches and other values too large for graph state. Each is a
 * JSON file under <run-dir>/artifacts keyed by a path-like key (`final/r001-b0003`), written atomically
 * (temp + rename), so a key either names a complete file or nothing. Graph state holds only the keys.
 * `memo` makes a node idempotent: when a re-run finds the artifact it returns it without redoing the work
 * (no model call), so a kill at any moment loses nothing and duplicates nothing.
 */
import { mkdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import type { Row } from "../data/types.ts";
import { writeFileAtomic } from "./atomic.ts";
import { AccountingSnapshotSchema } from "./schemas.ts";

const KEY_RE = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

export class ArtifactStore {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  /** The file of a key (keys are validated: no `..`, no absolute paths). */
  pathOf(key: string): string {
    if (!KEY_RE.test(key)) throw new Error(`invalid artifact key ${JSON.stringify(key)}`);
    return join(this.root, `${key}.json`);
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch {
      return false;
    }
  }

  async put(key: string, value: unknown): Promise<string> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, JSON.stringify(value));
    return key;
  }

  /** The artifact parsed with `schema`, or undefined when absent. A corrupt file is an error (never silently redone). */
  async get<T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathOf(key), "utf8");
    } catch {
      return undefined;
    }
    const r = schema.safeParse(JSON.parse(text));
    if (!r.success) {
      throw new SynthgraphError(
        `artifact ${this.pathOf(key)} does not have the expected shape: ${z.prettifyError(r.error)}`,
        {
          hint: "the run directory was edited or written by another version; start a new run",
        },
      );
    }
    return r.data;
  }

  async require<T>(key: string, schema: z.ZodType<T>): Promise<T> {
    const v = await this.get(key, schema);
    if (v === undefined) {
      throw new SynthgraphError(`artifact ${this.pathOf(key)} is missing`, {
        hint: "the run directory is incomplete; start a new run",
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
});
export type RowBatch = z.infer<typeof RowBatchSchema>;

export const probeKey = (iteration: number): string => `probe/iter-${String(iteration).padStart(3, "0")}`;
export const discriminationKey = (iteration: number): string =>
  `discriminator/iter-${String(iteration).padStart(3, "0")}`;
export const finalBatchKey = (round: number, batch: number): string =>
  `final/r${String(round).padStart(3, "0")}-b${String(batch).padStart(5, "0")}`;
export const DESCRIPTIONS_KEY = "metadata/descriptions";
