/**
 * Conditional sampling, the one place every engine and the CLI take it from (docs/conditions.md). A run with
 * `config.conditions` generates groups of rows, each group all satisfying its predicate (data/predicate/), with
 * exactly the requested rows per group:
 *
 * - planning (the CLI): `--where`, `--condition` (constraint agent) or `--conditions FILE.json` become the
 *   groups of RunConfig.conditions, predicates in canonical text, each checked for feasibility before any
 *   generator call (`planConditions`);
 * - at the source (the engines): the group's predicate, its narrowed metadata (enums restricted, ranges
 *   tightened) and the real rows that satisfy it (`conditionOf`, `conditionalExamples`, `conditionPromptLines`);
 * - by code (graph/finalize.ts): every generated row is checked with the predicate before it enters the table
 *   (`splitBySatisfaction`), rejected rows counted per batch;
 * - the layout of a final round: batches of group 0, then group 1, ... (`roundLayout`).
 */
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import type { Predicate } from "../data/predicate/ast.ts";
import { predicateMask, rowSatisfies } from "../data/predicate/compile.ts";
import { describePredicate } from "../data/predicate/describe.ts";
import { assertFeasible, type NarrowedMetadata, narrowMetadata } from "../data/predicate/feasibility.ts";
import { parsePredicate } from "../data/predicate/parse.ts";
import type { Metadata, Row, Table } from "../data/types.ts";
import {
  type ArtifactStore,
  FinalPlanSchema,
  finalBatchKey,
  finalPlanKey,
  RowBatchSchema,
} from "../state/artifacts.ts";
import type { ConditionGroup, RunConfig } from "../state/config.ts";
import { batchCount, batchSize } from "../state/finalize.ts";
import { rescaleCounts } from "../stats/primitives/apportion.ts";
import { createRng, permutation } from "../stats/primitives/rng.ts";

// ---------------------------------------------------------------------------------------------------------
// The conditions file (--conditions FILE.json)

const RowsField = z
  .number({ error: "rows must be a number" })
  .int("rows must be a whole number")
  .positive("rows must be at least 1");

/** One group as the user writes it: a condition in the predicate language or in words, and its row count. */
export const ConditionsFileEntrySchema = z.union([
  z.strictObject({ where: z.string().min(1, "where must not be empty"), rows: RowsField }),
  z.strictObject({ condition: z.string().min(1, "condition must not be empty"), rows: RowsField }),
]);
export type ConditionsFileEntry = z.infer<typeof ConditionsFileEntrySchema>;

/** The conditions file: a non-empty JSON array of groups `{"where"|"condition": ..., "rows": n}`. */
export const ConditionsFileSchema = z
  .array(ConditionsFileEntrySchema)
  .min(1, "the conditions file must list at least one group");

/** Parses the text of a conditions file; errors name the group and the field (exit 2). */
export function parseConditionsFile(text: string, path: string): ConditionsFileEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SynthgraphError(`${path} is not JSON: ${(e as Error).message}`, {
      hint: 'write a JSON array such as [{"where": "stroke == 1", "rows": 300}, {"condition": "no stroke", "rows": 300}]',
      exitCode: 2,
    });
  }
  const r = ConditionsFileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const at = issue.path.length > 0 ? ` (group ${Number(issue.path[0]) + 1})` : "";
    const message =
      issue.code === "invalid_union"
        ? 'each group is {"where": "...", "rows": n} or {"condition": "...", "rows": n}, with no other field'
        : issue.message;
    throw new SynthgraphError(`${path}${at}: ${message}`, {
      hint: 'e.g. [{"where": "stroke == 1", "rows": 300}, {"condition": "no stroke", "rows": 300}]',
      exitCode: 2,
    });
  }
  return r.data;
}

// ---------------------------------------------------------------------------------------------------------
// Planning (before any generator call)

/** What the user asked for on the command line (at most one of where / condition / file). */
export interface ConditionRequest {
  where?: string;
  condition?: string;
  file?: { path: string; entries: readonly ConditionsFileEntry[] };
  /** --rows, when given. */
  rows?: number;
}

/** The constraint agent (or a test double): words → canonical condition text and the rows the words name. */
export type TranslateCondition = (words: string) => Promise<{ where: string; rows: number | null }>;

export interface ConditionPlan {
  /** The run's rows N (the groups' sum when conditional). */
  rows: number;
  /** RunConfig.conditions (absent: unconditional). */
  conditions?: ConditionGroup[];
  /** Lines to print before any row is generated: each group's canonical predicate, warnings. */
  lines: string[];
}

const flagsHint =
  "use one of --where 'EXPR', --condition \"words\" or --conditions FILE.json, with --rows N (a conditions file gives the rows per group)";

/**
 * Resolves the request into the run's groups: parses each `where` (PredicateError, exit 2), translates each
 * `condition` with `translate`, checks feasibility against the real table (InfeasibleConditionError, exit 2,
 * naming the column and its real range or levels; a condition no real row meets only warns), and settles the
 * row count: --where / --condition take --rows (or, for --condition, the number the words name); a file's
 * groups sum to N and --rows, when given, must equal that sum.
 */
export async function planConditions(
  req: ConditionRequest,
  real: { table: Table; metadata: Metadata },
  translate: TranslateCondition,
): Promise<ConditionPlan> {
  const given = [req.where, req.condition, req.file].filter((x) => x !== undefined).length;
  if (given > 1) {
    throw new SynthgraphError("--where, --condition and --conditions cannot be combined", {
      hint: "put several groups in one conditions file instead",
      exitCode: 2,
    });
  }
  if (given === 0) {
    if (req.rows === undefined) {
      throw new SynthgraphError("--rows is required", { hint: "e.g. --rows 1000", exitCode: 2 });
    }
    return { rows: req.rows, lines: [] };
  }
  if (req.file && req.rows !== undefined) {
    // Checked before any translation: the file's counts are known without a model.
    const sum = req.file.entries.reduce((n, e) => n + e.rows, 0);
    if (sum !== req.rows) {
      throw new SynthgraphError(
        `--rows ${req.rows} disagrees with ${req.file.path}, whose groups ask for ${sum} rows (${req.file.entries.map((e) => e.rows).join(" + ")})`,
        { hint: "drop --rows (the file's groups give the size) or make them agree", exitCode: 2 },
      );
    }
  }
  const wanted: Array<{ where?: string; condition?: string; rows: number | undefined }> = req.file
    ? req.file.entries.map((e) => ({ ...e }))
    : [
        {
          ...(req.where !== undefined ? { where: req.where } : { condition: req.condition }),
          rows: req.rows,
        },
      ];
  const groups: ConditionGroup[] = [];
  const lines: string[] = [];
  for (const [g, w] of wanted.entries()) {
    let where: string;
    let rows = w.rows;
    const label = wanted.length > 1 ? `group ${g + 1}` : "condition";
    if (w.where !== undefined) {
      where = parsePredicate(w.where, real.metadata).toString();
    } else {
      const t = await translate(w.condition as string);
      where = parsePredicate(t.where, real.metadata).toString();
      lines.push(`${label}: ${JSON.stringify(w.condition)} read as: ${where}`);
      if (rows === undefined && t.rows !== null) rows = t.rows;
      else if (rows !== undefined && t.rows !== null && t.rows !== rows) {
        lines.push(`  (the words ask for ${t.rows} rows; --rows ${rows} wins)`);
      }
    }
    if (rows === undefined) {
      throw new SynthgraphError(`no row count for ${JSON.stringify(where)}`, {
        hint: flagsHint,
        exitCode: 2,
      });
    }
    const pred = parsePredicate(where, real.metadata);
    const f = assertFeasible(pred, real.metadata, real.table);
    lines.push(
      `${label}: ${rows} rows where ${where}  (${f.realMatches ?? 0} of ${real.table.nRows} real rows satisfy it)`,
    );
    for (const warning of f.warnings) lines.push(`warning: ${warning}`);
    groups.push({
      where,
      rows,
      ...(w.condition === undefined ? {} : { request: w.condition }),
    });
  }
  const total = groups.reduce((n, gr) => n + gr.rows, 0);
  return { rows: total, conditions: groups, lines };
}

// ---------------------------------------------------------------------------------------------------------
// Steering (graph/pause.ts, graph/steer.ts)

/**
 * `total` rows split over groups in proportion to their current counts, each at least 1: one row each, the
 * rest by largest remainder (stats/primitives/apportion.ts). Needs total ≥ counts.length.
 */
export function scaleGroupRows(counts: readonly number[], total: number): number[] {
  return rescaleCounts(counts, total - counts.length).map((n) => n + 1);
}

/** What steering changes in a run's config: a new row count, a condition on every row (null: unchanged). */
export interface ConfigSteering {
  rows: number | null;
  condition: string | null;
}

/**
 * The config after steering, the one rule every engine and `steerRun` apply:
 * - a condition C is joined with `and` to every group's own condition (a run without conditions becomes one
 *   group of N rows where C); a second steering condition replaces the first (`steered_from` keeps the own one);
 * - a row count N sets N; a conditional run's groups are rescaled to sum to N in their proportions.
 * Returns `config` itself when nothing changes. Text only (no parsing): graph/steer.ts checks every group's
 * predicate against the run's table before anything is recorded.
 */
export function steerConditions(config: RunConfig, change: ConfigSteering): RunConfig {
  if (change.rows === null && change.condition === null) return config;
  let groups = config.conditions;
  if (change.condition !== null) {
    const c = change.condition;
    groups = (groups ?? [{ where: "", rows: config.rows }]).map((g) => {
      const own = g.steered_from ?? g.where;
      return { ...g, where: own === "" ? c : `(${own}) and (${c})`, steered_from: own };
    });
  }
  if (change.rows !== null && groups !== undefined) {
    const rows = scaleGroupRows(
      groups.map((g) => g.rows),
      change.rows,
    );
    groups = groups.map((g, k) => ({ ...g, rows: rows[k] }));
  }
  const rows = groups ? groups.reduce((n, g) => n + g.rows, 0) : (change.rows ?? config.rows);
  return { ...config, rows, ...(groups ? { conditions: groups } : {}) };
}

/**
 * Checks a steered config's groups against the real table before the steering is recorded: a row count that
 * leaves a group without rows, a group whose joined condition no row can meet (exit 2, naming the group).
 */
export function checkSteeredConditions(config: RunConfig, real: { table: Table; metadata: Metadata }): void {
  for (const [g, group] of (config.conditions ?? []).entries()) {
    const label = config.conditions && config.conditions.length > 1 ? `group ${g + 1} ` : "";
    try {
      assertFeasible(parsePredicate(group.where, real.metadata), real.metadata, real.table);
    } catch (err) {
      if (!(err instanceof SynthgraphError)) throw err;
      throw new SynthgraphError(`steering condition rejected for ${label}(${group.where}): ${err.message}`, {
        hint: "a steering condition is joined with `and` to each group's own condition: choose one every group can meet",
        exitCode: 2,
        cause: err,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// At run time

/** One group of a run, parsed against the real metadata. */
export interface RunCondition {
  readonly index: number;
  readonly where: string;
  readonly rows: number;
  readonly predicate: Predicate;
  /** Levels restricted and ranges tightened to the region (data/predicate/feasibility.ts narrowMetadata). */
  readonly narrowed: NarrowedMetadata;
}

const parsedCache = new WeakMap<RunConfig, WeakMap<Metadata, RunCondition[]>>();

/** The run's groups, parsed once per (config, metadata); empty when the run is unconditional. */
export function runConditions(config: RunConfig, metadata: Metadata): readonly RunCondition[] {
  if (config.conditions === undefined) return [];
  let perMeta = parsedCache.get(config);
  if (perMeta === undefined) {
    perMeta = new WeakMap();
    parsedCache.set(config, perMeta);
  }
  let out = perMeta.get(metadata);
  if (out === undefined) {
    out = config.conditions.map((g, index) => {
      const predicate = parsePredicate(g.where, metadata);
      return {
        index,
        where: g.where,
        rows: g.rows,
        predicate,
        narrowed: narrowMetadata(predicate, metadata),
      };
    });
    perMeta.set(metadata, out);
  }
  return out;
}

/** The group a final batch generates for (undefined: unconditional batch). */
export function conditionOf(
  config: RunConfig,
  metadata: Metadata,
  group: number | undefined,
): RunCondition | undefined {
  if (group === undefined) return undefined;
  const c = runConditions(config, metadata)[group];
  if (c === undefined) throw new SynthgraphError(`internal: no condition group ${group}`);
  return c;
}

/** Rows requested per group: the conditions' counts, or one group of N. */
export function groupRows(config: RunConfig): number[] {
  return config.conditions === undefined ? [config.rows] : config.conditions.map((g) => g.rows);
}

/** One batch of a final round: its group (undefined when unconditional) and the rows it asks for. */
export interface LayoutBatch {
  readonly group: number | undefined;
  readonly nRows: number;
}

/**
 * The batches of a round: unconditional, `batchCount(roundRows)` batches of `batchSize`; conditional, each
 * group's missing rows cut the same way, group 0's batches first. Batch b of the round is entry b.
 */
export function roundLayout(roundRows: number, groupPlan: readonly number[] | undefined, batchRows: number) {
  const out: LayoutBatch[] = [];
  const plan = groupPlan ?? [roundRows];
  for (const [g, rows] of plan.entries()) {
    for (let b = 0; b < batchCount(rows, batchRows); b++) {
      out.push({ group: groupPlan === undefined ? undefined : g, nRows: batchSize(rows, batchRows, b) });
    }
  }
  return out;
}

/** Rows that satisfy the predicate, in order, and how many did not (checked by code, data/predicate). */
export function splitBySatisfaction(
  c: RunCondition,
  rows: readonly Row[],
  metadata: Metadata,
): { kept: Row[]; unmet: number } {
  const kept: Row[] = [];
  for (const r of rows) if (rowSatisfies(c.predicate, r, metadata)) kept.push(r);
  return { kept, unmet: rows.length - kept.length };
}

const realMaskCache = new WeakMap<Table, WeakMap<Predicate, Int32Array>>();

/** Indices of the real rows that satisfy the group's predicate. */
export function satisfyingRealRows(c: RunCondition, real: Table): Int32Array {
  let perPred = realMaskCache.get(real);
  if (perPred === undefined) {
    perPred = new WeakMap();
    realMaskCache.set(real, perPred);
  }
  let out = perPred.get(c.predicate);
  if (out === undefined) {
    const mask = predicateMask(c.predicate, real);
    let n = 0;
    for (let i = 0; i < mask.length; i++) n += mask[i];
    out = new Int32Array(n);
    for (let i = 0, k = 0; i < mask.length; i++) if (mask[i] === 1) out[k++] = i;
    perPred.set(c.predicate, out);
  }
  return out;
}

/**
 * Up to `k` real rows satisfying the condition, drawn without replacement by `seed` (all of them, in a seeded
 * order, when there are fewer; with `repeat`, that order cycled to exactly k); empty when no real row
 * satisfies it.
 */
export function conditionalExamples(
  c: RunCondition,
  real: Table,
  k: number,
  seed: number,
  repeat = false,
): number[] {
  const pool = satisfyingRealRows(c, real);
  if (pool.length === 0) return [];
  const order = permutation(pool.length, createRng(seed));
  const out: number[] = [];
  const n = repeat ? k : Math.min(k, pool.length);
  for (let i = 0; i < n; i++) out.push(pool[order[i % pool.length]]);
  return out;
}

/**
 * The condition stated in a prompt: the canonical expression and its plain-English reading; the narrowed
 * columns are in the prompt's schema, so this only says that every row must meet it.
 */
export function conditionPromptLines(c: RunCondition, examplesShown: number): string[] {
  return [
    "## Condition (every row must satisfy it)",
    `Every row you write must satisfy: ${c.where}`,
    `In words: ${describePredicate(c.predicate)}.`,
    examplesShown > 0
      ? "The column ranges and categories above are already restricted to this condition, and the real examples all satisfy it."
      : "The column ranges and categories above are already restricted to this condition. No real row satisfies it, so the examples show the table's general patterns only: follow the condition, not the examples, where they differ.",
    "Rows that do not satisfy the condition are discarded.",
  ];
}

// ---------------------------------------------------------------------------------------------------------
// SUMMARY.json

/** One group's record in SUMMARY.json. */
export interface ConditionSummary {
  where: string;
  request?: string;
  rows: number;
  /** Valid model rows of the group's final batches, before the condition check. */
  model_rows: number;
  /** Of those, the rows that did not satisfy the condition (dropped). */
  unmet: number;
  /** (model_rows − unmet) / model_rows; null when the model wrote no valid row. */
  satisfied_share: number | null;
  /** Final batches of the group and their model usage (the engine's loop before them is not per group). */
  batches: number;
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
}

/**
 * Per group: the predicate, the share of the model's valid rows that satisfied it before filtering, calls and
 * tokens, read from the final batches (final/plan-rNNN gives each round's layout). Empty when unconditional.
 */
export async function conditionsSummary(
  config: RunConfig,
  store: ArtifactStore,
): Promise<ConditionSummary[]> {
  if (config.conditions === undefined) return [];
  const out: ConditionSummary[] = config.conditions.map((g) => ({
    where: g.where,
    ...(g.request === undefined ? {} : { request: g.request }),
    rows: g.rows,
    model_rows: 0,
    unmet: 0,
    satisfied_share: null,
    batches: 0,
    calls: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
  }));
  for (let r = 1; ; r++) {
    const plan = await store.get(finalPlanKey(r), FinalPlanSchema);
    if (plan === undefined) break;
    const layout = roundLayout(
      plan.groups.reduce((a, b) => a + b, 0),
      plan.groups,
      config.batchRows,
    );
    for (let b = 0; b < layout.length; b++) {
      const batch = await store.get(finalBatchKey(r, b), RowBatchSchema);
      if (batch === undefined) continue;
      const s = out[layout[b].group ?? 0];
      const unmet = batch.unmet ?? 0;
      s.model_rows += batch.model_rows ?? 0;
      s.unmet += unmet;
      s.batches += 1;
      s.calls += batch.usage.calls;
      s.prompt_tokens += batch.usage.prompt_tokens;
      s.completion_tokens += batch.usage.completion_tokens;
    }
  }
  for (const s of out) s.satisfied_share = s.model_rows > 0 ? (s.model_rows - s.unmet) / s.model_rows : null;
  return out;
}
