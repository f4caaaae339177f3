/**
 * sample: conditional rows with exact counts (docs/conditions.md). The request is a `where` (one group of
 * `rows` rows), a `conditions` list of groups `{where, rows}`, or both (`where` then holds in every group:
 * each group's condition is `(where) and (group's where)`). Conditions are in the predicate language only (the
 * calling agent writes them; words would need the constraint model); each is parsed against the real table,
 * printed back canonically and checked for feasibility before anything is generated (graph/conditions.ts
 * planConditions), so a misspelt column or level, or a condition no value can meet, is this call's error.
 *
 * Two ways to answer, chosen by the engine (the decision: an agent expects rows when they take seconds, and a
 * run id when they take minutes):
 *   - copula, bayesnet (offline, no model): the rows are drawn in the call (tools/offline-sample.ts) and
 *     returned when there are at most MAX_INLINE_ROWS of them; `out` also writes them as CSV (required above
 *     that); mode "rows", status "done";
 *   - synthia, mallm-gan, llmsynthor, synllm (LLM engines): a conditional run starts in the background, like
 *     start_run, and its id comes back at once; mode "run", status "running" (run_status, steer_run).
 */
import { join } from "node:path";
import { z } from "zod";
import { SynthgraphError } from "../data/errors.ts";
import { countMatches, parsePredicate } from "../data/predicate/index.ts";
import { tableToRows } from "../data/rows.ts";
import { tableToCsv } from "../data/write.ts";
import { type ConditionsFileEntry, planConditions } from "../graph/conditions.ts";
import { realLoader } from "../graph/run.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { RunConfigSchema } from "../state/config.ts";
import { newRunId } from "../state/run-dir.ts";
import { plain, type ToolSpec } from "./context.ts";
import { type OfflineEngine, sampleOffline } from "./offline-sample.ts";
import { RunKnobs, runConfigOf, statusHint } from "./runs.ts";

/** Offline rows returned in the result at most (more need `out`). */
export const MAX_INLINE_ROWS = 1000;
/** Offline rows drawn in one call at most (seconds of work; beyond, the call would block too long). */
export const MAX_OFFLINE_ROWS = 50_000;
/** Draws per accepted row before an offline condition counts as too unlikely (bounds the call's time). */
export const OFFLINE_MAX_DRAWS_PER_ROW = 1000;
export const MAX_GROUPS = 20;

const OFFLINE = new Set<string>(["copula", "bayesnet"]);
const predicateText = (what: string) =>
  z
    .string()
    .min(1)
    .max(2000)
    .describe(
      `${what} in the predicate language, e.g. age > 60 and sex == "Female"; 60 <= age <= 80; region in ["north", "south"]; \`hours per week\` >= 40`,
    );

export const SampleInput = z.object({
  data: z
    .string()
    .min(1)
    .max(4096)
    .describe("real table to imitate: CSV, TSV or JSON Lines (relative to the root)"),
  where: predicateText("condition every row must meet (with conditions: met in every group)").optional(),
  rows: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .optional()
    .describe("rows wanted: required with where alone; with conditions, optional and must equal their sum"),
  conditions: z
    .array(
      z.object({
        where: predicateText("the group's condition"),
        rows: z.number().int().min(1).max(1_000_000).describe("exact rows of this group"),
      }),
    )
    .min(1)
    .max(MAX_GROUPS)
    .optional()
    .describe("groups with exact counts; the output has these rows, group after group"),
  out: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .describe(
      `output CSV (relative to the root; overwritten). LLM engines: default <runs>/<run id>/output.csv; offline engines: written only when given, required above ${MAX_INLINE_ROWS} rows`,
    ),
  ...RunKnobs,
});

export const SampleOutput = z.object({
  mode: z
    .enum(["rows", "run"])
    .describe("rows: drawn in this call (offline engines); run: a background run (LLM engines)"),
  status: z.enum(["done", "running"]),
  engine: z.string(),
  groups: z.array(
    z.object({
      where: z.string().describe("the group's condition in canonical form"),
      rows: z.number().int(),
      real_matches: z.number().int().describe("real rows that satisfy it"),
    }),
  ),
  rows_requested: z.number().int(),
  notes: z.array(z.string()).describe("each condition as read, and warnings (e.g. no real row meets one)"),
  rows: z
    .array(z.record(z.string(), z.unknown()))
    .optional()
    .describe(`mode rows, at most ${MAX_INLINE_ROWS} rows: the rows, group after group`),
  out: z.string().nullable().describe("the CSV written (mode rows) or to be written (mode run)"),
  exact_copies_removed: z
    .number()
    .int()
    .nullable()
    .describe("mode rows: drawn rows that copied a real row, removed and replaced"),
  run_id: z.string().nullable(),
  run_dir: z.string().nullable(),
  next: z.string(),
});

type SampleInputT = z.output<typeof SampleInput>;

/** The groups as written: `where` alone, `conditions`, or each group's condition and `where` together. */
export function requestedGroups(i: SampleInputT): ConditionsFileEntry[] {
  if (i.where === undefined && i.conditions === undefined) {
    throw new SynthgraphError("sample needs a condition: where, conditions, or both", {
      hint: 'e.g. {"where": "age > 60", "rows": 100}; for rows without a condition use start_run',
      exitCode: 2,
    });
  }
  if (i.conditions === undefined) {
    if (i.rows === undefined) {
      throw new SynthgraphError("rows is required with where", { hint: "e.g. rows: 100", exitCode: 2 });
    }
    return [{ where: i.where as string, rows: i.rows }];
  }
  const sum = i.conditions.reduce((n, g) => n + g.rows, 0);
  if (i.rows !== undefined && i.rows !== sum) {
    throw new SynthgraphError(
      `rows ${i.rows} disagrees with the conditions, whose groups ask for ${sum} rows (${i.conditions.map((g) => g.rows).join(" + ")})`,
      { hint: "leave rows out (the groups give the size) or make them agree", exitCode: 2 },
    );
  }
  return i.conditions.map((g) => ({
    where: i.where === undefined ? g.where : `(${i.where}) and (${g.where})`,
    rows: g.rows,
  }));
}

export const sampleSpec: ToolSpec<typeof SampleInput, typeof SampleOutput> = {
  name: "sample",
  description: `Generates synthetic rows that meet conditions, with exact counts: where (one condition, rows rows) and/or conditions (groups, each {where, rows}). Conditions use the predicate language (comparisons, and/or/not, in [...], between, is_missing; text values quoted) and are checked against the real table first: an unknown column or category, or a condition no value can meet, is an error. Offline engines (copula, bayesnet) draw the rows in seconds and return them (up to ${MAX_INLINE_ROWS}; out writes a CSV); LLM engines (synthia default, mallm-gan, llmsynthor, synllm) start a background run and return its run id (follow with run_status).`,
  input: SampleInput,
  output: SampleOutput,
  async run(i, ctx, extra) {
    const wanted = requestedGroups(i);
    const total = wanted.reduce((n, g) => n + g.rows, 0);
    const offline = OFFLINE.has(i.engine);
    if (offline && total > MAX_OFFLINE_ROWS) {
      throw new SynthgraphError(
        `${total} rows is more than the ${MAX_OFFLINE_ROWS} an offline engine draws in one call`,
        {
          hint: `ask for at most ${MAX_OFFLINE_ROWS} rows per call (each call can write its own out)`,
          exitCode: 2,
        },
      );
    }
    if (offline && total > MAX_INLINE_ROWS && i.out === undefined) {
      throw new SynthgraphError(`${total} rows is more than the ${MAX_INLINE_ROWS} returned in a result`, {
        hint: "give out: a CSV path (relative to the root) to write them to",
        exitCode: 2,
      });
    }
    const id = offline ? null : newRunId();
    const runDir = id === null ? null : join(ctx.runsDir, id);
    const outPath = i.out ?? (runDir === null ? undefined : join(runDir, "output.csv"));
    // The config checks the paths and says how to read the table. Offline without `out` nothing is written: the
    // input path stands in for the output there (it passes the same guard and is never written).
    const base = runConfigOf({ ...i, out: outPath ?? i.data }, ctx, { rows: total });
    const load = realLoader(base);
    const real = await load();
    const plan = await planConditions({ file: { path: "conditions", entries: wanted } }, real, async () => {
      throw new SynthgraphError("internal: sample takes predicates only");
    });
    const conditions = plan.conditions ?? [];
    const preds = conditions.map((g) => parsePredicate(g.where, real.metadata));
    const groups = conditions.map((g, k) => ({
      where: g.where,
      rows: g.rows,
      real_matches: countMatches(preds[k], real.table),
    }));
    const common = { engine: i.engine, groups, rows_requested: plan.rows, notes: plan.lines };

    if (id === null || runDir === null) {
      const drawn = await sampleOffline(
        i.engine as OfflineEngine,
        real,
        preds.map((predicate, k) => ({ predicate, rows: conditions[k].rows })),
        {
          seed: i.seed,
          maxDrawsPerRow: OFFLINE_MAX_DRAWS_PER_ROW,
          onGroup: (done) => extra.progress?.({ progress: done, total: plan.rows }),
        },
      );
      if (outPath !== undefined) await writeFileAtomic(base.out, tableToCsv(drawn.table, real.metadata));
      return plain<z.output<typeof SampleOutput>>({
        mode: "rows",
        status: "done",
        ...common,
        ...(plan.rows <= MAX_INLINE_ROWS ? { rows: tableToRows(drawn.table, real.metadata) } : {}),
        out: outPath === undefined ? null : base.out,
        exact_copies_removed: drawn.exactCopies,
        run_id: null,
        run_dir: null,
        next:
          outPath === undefined
            ? "the rows are in this result; evaluate them against the real table (evaluate with condition) once written to a CSV"
            : `evaluate ${base.out} against the real table with evaluate (condition: the group's where)`,
      });
    }

    const config = RunConfigSchema.parse({ ...base, rows: plan.rows, conditions });
    ctx.runs.start(id, runDir, config, { real: load, env: ctx.env, redact: ctx.redact });
    return plain<z.output<typeof SampleOutput>>({
      mode: "run",
      status: "running",
      ...common,
      out: config.out,
      exact_copies_removed: null,
      run_id: id,
      run_dir: runDir,
      next: statusHint(id),
    });
  },
};
