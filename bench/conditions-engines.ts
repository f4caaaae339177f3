/**
 * Part 2 of `npm run bench:conditions` (bench/conditions.bench.ts): model calls and tokens per accepted row for
 * a selective condition, with and without conditioning at the source, from scripted replies.
 *
 * Real table: examples/adult.csv (200 rows). Condition: SELECTIVE below, met by about 5 % of the real rows (the
 * share is measured and written). Every model request is answered by the generic responder
 * (test/support/generic-responder.ts, a test double): its rows are perturbed real rows; when a prompt states a
 * condition, 70 % of its rows (proposals) are drawn from the real rows that satisfy it, the rest from all.
 * "with" = the engine's default (the prompt states the condition, schema / metadata narrowed, examples and
 * profile from the region); "without" = the same run with `sourceConditioning: false`: the prompt is the
 * unconditional one and only the code's check keeps the rows that meet the condition. Counts are the server's
 * (requests answered; tokens ⌈chars / 4⌉ of prompt and reply), per row of the output (every output row is an
 * accepted row that satisfies the condition, checked here again).
 *
 * SynLLM generates every row by a model call, so filtering by code alone multiplies its calls by about
 * 1 / (share of its rows that meet the condition); LLMSynthor's rows are drawn by code, so its calls do not
 * depend on the share (only the sampler's draws do).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { metadataToJson } from "../data/metadata.ts";
import { countMatches, parsePredicate, predicateMask } from "../data/predicate/index.ts";
import { readTable } from "../data/read.ts";
import { startRun } from "../graph/run.ts";
import { RunConfigSchema } from "../state/config.ts";
import { genericResponder, readRealView } from "../test/support/generic-responder.ts";
import { loopbackModels } from "../test/support/harness.ts";
import { startLlmServer } from "../test/support/llm-server.ts";

const INPUT = resolve(import.meta.dirname, "../examples/adult.csv");
/** A range and a category. */
export const SELECTIVE = 'age >= 50 and sex == "Female"';
const ROWS = 40;
const SEED = 11;
/** Filtering by code alone needs many more rounds than the default 20 (each round asks only for what is missing). */
const MAX_ROUNDS = 2000;

interface Case {
  engine: "synllm" | "llmsynthor";
  label: string;
  engineConfig: Record<string, unknown>;
}

const CASES: Case[] = [
  { engine: "synllm", label: "synllm (clinrule)", engineConfig: { synllm: { promptType: "clinrule" } } },
  { engine: "synllm", label: "synllm (seedex)", engineConfig: { synllm: { promptType: "seedex" } } },
  { engine: "llmsynthor", label: "llmsynthor", engineConfig: { llmsynthor: {} } },
];

const r4 = (x: number): number => Number(x.toFixed(4));

export async function runEngineBench(): Promise<Record<string, unknown>> {
  const real = await readRealView(INPUT, "income");
  const pred = parsePredicate(SELECTIVE, real.metadata);
  const realMatches = countMatches(pred, real.table);
  const server = await startLlmServer();
  const dir = mkdtempSync(join(tmpdir(), "bench-conditions-"));
  const results: Record<string, unknown>[] = [];
  try {
    for (const c of CASES) {
      for (const atSource of [true, false]) {
        const g = genericResponder(real);
        server.reset();
        server.setDefault(g.respond);
        const name = `${c.engine}-${results.length}`;
        const out = join(dir, `${name}.csv`);
        const key = c.engine;
        const config = RunConfigSchema.parse({
          input: INPUT,
          target: "income",
          rows: ROWS,
          out,
          engine: c.engine,
          models: loopbackModels(server, "ollama", 30_000),
          seed: SEED,
          maxRounds: MAX_ROUNDS,
          conditions: [{ where: pred.toString(), rows: ROWS }],
          [key]: { ...(c.engineConfig[key] as object), sourceConditioning: atSource },
        });
        const before = { ...server.stats };
        const t0 = performance.now();
        const { state } = await startRun(join(dir, `run-${name}`), config, { env: {} });
        const seconds = (performance.now() - t0) / 1000;
        const calls = server.stats.completions - before.completions;
        const promptTokens = server.stats.promptTokens - before.promptTokens;
        const completionTokens = server.stats.completionTokens - before.completionTokens;
        const back = await readTable(out, { metadata: metadataToJson(real.metadata) });
        const mask = predicateMask(pred, back.table);
        let met = 0;
        for (const m of mask) met += m;
        if (back.table.nRows !== ROWS || met !== ROWS) {
          throw new Error(
            `${c.label} (${atSource ? "with" : "without"}): ${met} of ${back.table.nRows} rows meet it`,
          );
        }
        const entry = {
          engine: c.label,
          source_conditioning: atSource,
          rows: ROWS,
          calls,
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          calls_per_row: r4(calls / ROWS),
          tokens_per_row: r4((promptTokens + completionTokens) / ROWS),
          completion_tokens_per_row: r4(completionTokens / ROWS),
          accepted_rows: state.accepted,
          seconds: r4(seconds),
        };
        results.push(entry);
        console.log(JSON.stringify(entry));
      }
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // with / without, per engine.
  const ratios = CASES.map((c) => {
    const w = results.find((e) => e.engine === c.label && e.source_conditioning === true) as {
      calls: number;
      tokens_per_row: number;
    };
    const wo = results.find((e) => e.engine === c.label && e.source_conditioning === false) as {
      calls: number;
      tokens_per_row: number;
    };
    return {
      engine: c.label,
      calls_without_over_with: r4(wo.calls / w.calls),
      tokens_without_over_with: r4(wo.tokens_per_row / w.tokens_per_row),
    };
  });
  return {
    note: `scripted replies (generic responder, a test double: a prompt stating the condition gets 70 % of its rows from the real rows meeting it); ${ROWS} output rows, all checked to satisfy the condition; counts from the loopback server (tokens = ceil(chars / 4)); "without" = sourceConditioning false (the prompt does not state the condition; rows filtered by code only); maxRounds ${MAX_ROUNDS}`,
    data: "examples/adult.csv",
    where: pred.toString(),
    real_rows: real.table.nRows,
    real_matches: realMatches,
    real_share: r4(realMatches / real.table.nRows),
    seed: SEED,
    runs: results,
    ratios,
  };
}
