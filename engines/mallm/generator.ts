/**
 * The MALLM-GAN generator (MALLM-GAN paper §3.2.1, "batches in a batch"; docs/papers.md): theta + k real examples → k synthetic rows,
 * through the SYNTHIA generator call (agents/generator.ts: compact rows schema, every row validated). A batch
 * is split into pieces of k examples whose calls run in parallel; the endpoint's semaphore
 * (models/resilience.ts) bounds how many are in flight.
 */
import type { Metadata, Row } from "../../data/types.ts";
import type { RowValidatorOptions } from "../../data/validate.ts";
import type { Accounting } from "../../models/accounting.ts";
import type { Endpoint } from "../../models/factory.ts";
import { StructuredOutputError, type StructuredReport } from "../../models/structured.ts";
import { rowEncodingFor } from "../../data/compact.ts";
import { buildMallmGeneratorPrompt, conditionalInstruction } from "./prompts.ts";
import { causallyOrderedMetadata, type Theta } from "./theta.ts";
import { type GeneratorOutput, generateRows } from "../../agents/generator.ts";

/** Examples per generator call (official code: k = 5 examples in, 5 rows out). */
export const DEFAULT_EXAMPLES_PER_CALL = 1;

export interface BatchInBatchInput {
  endpoint: Endpoint;
  metadata: Metadata;
  theta: Theta;
  /** The k real examples of this call. */
  examples: Row[];
  /** Rows requested (default: the number of examples). */
  nRows?: number;
  /** Order columns causes-first in the examples and the output (the official JSON-DAG variant). */
  causalOrder?: boolean;
  /** Replaces the listing-2 instruction sentences (e.g. engines/mallm/prompts.ts conditionalInstruction). */
  instruction?: string;
  /**
   * Conditional sampling (graph/conditions.ts): listing 4's conditional instruction with `text`, and the
   * prompt's schema, categories and provider-side row schema from `metadata` (the condition's narrowed
   * metadata); rows are still validated against the real metadata.
   */
  condition?: { text: string; metadata: Metadata };
  /** Seed of the retry jitter (the model's own seed is in the endpoint config). */
  seed: number;
  accounting?: Accounting;
  signal?: AbortSignal;
  validator?: RowValidatorOptions;
}

/** One generator call: k examples in, k rows requested, the valid ones returned (keyed by column name). */
export async function generateBatchInBatch(i: BatchInBatchInput): Promise<GeneratorOutput> {
  const nRows = i.nRows ?? i.examples.length;
  if (nRows <= 0) {
    return {
      rows: [],
      report: { accepted: 0, repaired: 0, dropped: 0, reasons: [], repairs: [] },
      attempts: 0,
    };
  }
  // The same column order for the prompt and for the rows schema the call sends.
  const ordered = (m: Metadata): Metadata =>
    i.causalOrder ? causallyOrderedMetadata(m, i.theta.causalEdges) : m;
  const metadata = ordered(i.metadata);
  const promptMeta = i.condition ? ordered(i.condition.metadata) : metadata;
  const instruction =
    i.instruction ?? (i.condition ? conditionalInstruction(nRows, i.condition.text) : undefined);
  const prompt = buildMallmGeneratorPrompt({
    metadata: promptMeta,
    theta: i.theta,
    examples: i.examples,
    nRows,
    encoding: rowEncodingFor(i.endpoint.provider),
    ...(instruction === undefined ? {} : { instruction }),
  });
  return generateRows({
    endpoint: i.endpoint,
    metadata,
    ...(i.condition ? { schemaMetadata: promptMeta } : {}),
    prompt,
    nRows,
    seed: i.seed,
    ...(i.accounting ? { accounting: i.accounting } : {}),
    ...(i.signal ? { signal: i.signal } : {}),
    ...(i.validator ? { validator: i.validator } : {}),
  });
}

export interface BatchOutput {
  /** Valid rows of all pieces, in piece order. */
  rows: Row[];
  /** Rows requested over all pieces. */
  requested: number;
  /** Per piece: its report and model replies used. */
  pieces: Array<{ report: StructuredReport; attempts: number }>;
}

/**
 * A whole batch "in a batch": the batch's real rows split into consecutive pieces of k, one call each (piece j
 * uses seed + j), run in parallel, rows collated in piece order.
 */
export async function generateBatch(
  i: Omit<BatchInBatchInput, "examples" | "nRows"> & { batch: Row[]; k?: number },
): Promise<BatchOutput> {
  const k = Math.max(1, i.k ?? DEFAULT_EXAMPLES_PER_CALL);
  const pieces: Row[][] = [];
  for (let s = 0; s < i.batch.length; s += k) pieces.push(i.batch.slice(s, s + k));
  const { batch: _batch, k: _k, ...common } = i;
  // A piece whose replies never held usable rows counts as 0 valid rows (the caller's 80% rule decides);
  // aborts and transport failures still fail the batch.
  const outs = await Promise.all(
    pieces.map((examples, j) =>
      generateBatchInBatch({ ...common, examples, seed: i.seed + j }).catch(
        (err: unknown): GeneratorOutput => {
          if (!(err instanceof StructuredOutputError)) throw err;
          const report = {
            accepted: 0,
            repaired: 0,
            dropped: examples.length,
            reasons: err.reasons,
            repairs: [],
          };
          return { rows: [], report, attempts: err.reasons.length > 0 ? maxAttempt(err.reasons) : 1 };
        },
      ),
    ),
  );
  return {
    rows: outs.flatMap((o) => o.rows),
    requested: i.batch.length,
    pieces: outs.map((o) => ({ report: o.report, attempts: o.attempts })),
  };
}

function maxAttempt(reasons: readonly string[]): number {
  let m = 1;
  for (const r of reasons) {
    const a = /^attempt (\d+):/.exec(r);
    if (a) m = Math.max(m, Number(a[1]));
  }
  return m;
}
