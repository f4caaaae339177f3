/**
 * `npm run bench:local`: the in-process llamacpp provider with the real small test model (Gemma 3 270M
 * Q4_K_M, fetched by test/support/small-model.ts) on this machine's CPU.
 *
 * 1. Overhead: completion tokens per second of raw node-llama-cpp (LlamaChat.generateResponse with the
 *    JSON-schema grammar) vs the same prompt, schema, sampling and seed through our path
 *    (callStructured -> resilience -> ChatLlamaCpp). Both run with the prompt prefix already in the KV
 *    cache (steady state), REPEATS times each, alternating; ratio = raw / ours (1 = no overhead). Also raw
 *    without the grammar, to show what grammar-constrained sampling itself costs.
 * 2. Rows per second of each engine: `synthgraph generate` in-process on examples/adult.csv, the same
 *    few-step settings as the end-to-end tests (CASES below; MALLM-GAN on the table's first 20 rows, 10 rows
 *    out), and "synthia-defaults": SYNTHIA with no option, i.e. the small-model defaults of
 *    cli/local-defaults.ts (BENCH_ENGINES picks the cases, default all).
 * 3. KV-cache prefix reuse over each engine run: prompt tokens the sequence already held / prompt tokens
 *    sent (llamaCppStats: the longest common prefix with the sequence the pool chose), and the share
 *    llama.cpp did not evaluate by its own token meter, over all calls and over the row-generation calls only
 *    (reply schema with `rows`: probes and final generation).
 *
 * Threads per evaluation: SYNTHGRAPH_LLAMACPP_THREADS (default 1 here: the machine's 2 cores are shared).
 * Writes bench/results/local.json. Throughput of a 270M model says nothing about any method's quality.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { LlamaChat } from "node-llama-cpp";
import { z } from "zod";
import { runGenerate } from "../cli/generate.ts";
import { compactRowsJsonSchema } from "../data/compact.ts";
import { rowColumns } from "../data/schema.ts";
import { createChatModel } from "../models/factory.ts";
import {
  type ChatLlamaCpp,
  type LlamaCppCounters,
  llamaCppStats,
  loadLlama,
  toChatHistory,
} from "../models/llamacpp.ts";
import { callStructured } from "../models/structured.ts";
import { readRealView } from "../test/support/generic-responder.ts";
import { smallModel } from "../test/support/small-model.ts";

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, "results/local.json");
const INPUT = resolve(here, "../examples/adult.csv");
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
/** The end-to-end tests' settings (test/models/llamacpp.test.ts), as runGenerate options. */
const CASES: Record<
  string,
  { engine: string; rows: number; realRows?: number; options: Record<string, number> }
> = {
  synthia: {
    engine: "synthia",
    rows: 20,
    options: { maxIterations: 1, probeRows: 10, examples: 3, batchRows: 10 },
  },
  "synthia-defaults": { engine: "synthia", rows: 20, options: {} },
  "mallm-gan": {
    engine: "mallm-gan",
    rows: 10,
    realRows: 20,
    options: { epochs: 1, frozenEpochs: 0, mallmBatch: 20, examplesPerCall: 5, batchRows: 10 },
  },
  llmsynthor: { engine: "llmsynthor", rows: 20, options: { iterations: 1, proposals: 2, joints: 1 } },
  synllm: { engine: "synllm", rows: 20, options: {} },
};
const ENGINES = (process.env.BENCH_ENGINES ?? Object.keys(CASES).join(",")).split(",").filter(Boolean);
process.env.SYNTHGRAPH_LLAMACPP_THREADS ??= "1";

const loadStart = loadavg().map((x) => Number(x.toFixed(2)));
const model = await smallModel();
if (!model.ok) {
  console.error(`bench:local needs the small model: ${model.reason}`);
  process.exit(1);
}
const PATH = model.path;

// --- 1. overhead on one prompt ------------------------------------------------------------------------
const real = await readRealView(INPUT, "income");
const meta = { ...real.metadata, columns: rowColumns(real.metadata) };
const N_ROWS = Number(process.env.BENCH_ROWS ?? 3);
// The schema the generator sends to llamacpp: numeric bounds included (models/llamacpp-grammar.ts).
const jsonSchema = compactRowsJsonSchema(meta, N_ROWS, { prefixItems: true, numericBounds: true });
const system = "You generate rows of a table as JSON.";
const user = `Write ${N_ROWS} plausible rows of the US census "adult" table (columns ${meta.columns.map((c) => c.name).join(", ")}) as {"rows": [[...], ...]}, each row the 15 values in that order.`;
const sampling = { temperature: 0.7, topP: 0.9, topK: 50, repeatPenalty: 1.1, maxTokens: 600, seed: 7 };

const lm = await loadLlama(PATH, { sequences: 2, numCtx: 8192 });
const grammar = await lm.grammar(jsonSchema);
if ("error" in grammar) throw new Error(`grammar: ${grammar.error}`);

const rawHistory = toChatHistory([new SystemMessage(system), new HumanMessage(user)]);
const rawPrompt = lm.chatWrapper
  .generateContextState({ chatHistory: [...rawHistory, { type: "model", response: [] }] })
  .contextText.tokenize(lm.model.tokenizer);
async function raw(useGrammar = true): Promise<{ tokens: number; ms: number }> {
  const { seq } = await lm.acquire(rawPrompt);
  const chat = new LlamaChat({ contextSequence: seq, chatWrapper: lm.chatWrapper });
  try {
    let tokens = 0;
    const t0 = performance.now();
    await chat.generateResponse(rawHistory, {
      ...(useGrammar ? { grammar: grammar as Exclude<typeof grammar, { error: string }> } : {}),
      temperature: sampling.temperature,
      topP: sampling.topP,
      topK: sampling.topK,
      seed: sampling.seed,
      repeatPenalty: { penalty: sampling.repeatPenalty },
      maxTokens: sampling.maxTokens,
      onToken: (t) => {
        tokens += t.length;
      },
    });
    return { tokens, ms: performance.now() - t0 };
  } finally {
    chat.dispose({ disposeSequence: false });
    lm.release(seq);
  }
}

const ep = createChatModel(`llamacpp:${PATH}`, { temperature: sampling.temperature, seed: sampling.seed });
const chat = ep.chat as ChatLlamaCpp;
Object.assign(chat.sampling, sampling);
async function ours(): Promise<{ tokens: number; ms: number }> {
  const t0 = performance.now();
  const r = await callStructured({
    role: "generator",
    endpoint: ep,
    schema: z.object({ rows: z.array(z.unknown()) }),
    jsonSchema,
    maxReasks: 0,
    messages: [
      { role: "system", content: system },
      { role: "user", content: user },
    ],
  });
  return { tokens: r.usage.completion_tokens, ms: performance.now() - t0 };
}

await raw(); // warm: loads the prefix into a sequence
await ours();
const rawRuns: Array<{ tokens: number; ms: number }> = [];
const ourRuns: Array<{ tokens: number; ms: number }> = [];
for (let i = 0; i < REPEATS; i++) {
  rawRuns.push(await raw());
  ourRuns.push(await ours());
}
const rate = (runs: typeof rawRuns): number =>
  runs.reduce((a, r) => a + r.tokens, 0) / (runs.reduce((a, r) => a + r.ms, 0) / 1000);
const freeRuns: Array<{ tokens: number; ms: number }> = [];
for (let i = 0; i < REPEATS; i++) freeRuns.push(await raw(false));
const freeTps = rate(freeRuns);
const rawTps = rate(rawRuns);
const ourTps = rate(ourRuns);
console.log(
  `raw node-llama-cpp: ${rawTps.toFixed(1)} tokens/s; ours: ${ourTps.toFixed(1)} tokens/s; ratio ${(rawTps / ourTps).toFixed(3)}`,
);

/** Calls, prompt tokens and KV reuse between two snapshots of one set of counters. */
function reuse(before: LlamaCppCounters, after: LlamaCppCounters): Record<string, number | null> {
  const prompt = after.promptTokens - before.promptTokens;
  const reused = after.reusedTokens - before.reusedTokens;
  const evaluated = after.evaluatedPromptTokens - before.evaluatedPromptTokens;
  return {
    calls: after.calls - before.calls,
    prompt_tokens: prompt,
    completion_tokens: after.completionTokens - before.completionTokens,
    kv_reused_prompt_tokens: reused,
    kv_reuse_share: prompt > 0 ? Number((reused / prompt).toFixed(3)) : null,
    evaluated_prompt_tokens: evaluated,
    not_evaluated_share: prompt > 0 ? Number((1 - evaluated / prompt).toFixed(3)) : null,
  };
}

/** The first `n` data rows of the input as a CSV of its own. */
function head(dir: string, n: number): string {
  const lines = readFileSync(INPUT, "utf8").trimEnd().split("\n");
  const path = join(dir, `adult-${n}.csv`);
  writeFileSync(path, `${lines.slice(0, n + 1).join("\n")}\n`);
  return path;
}

// --- 2 + 3. engines -----------------------------------------------------------------------------------
const sink = { write: (_s: string) => true };
const engines: Record<string, unknown> = {};
for (const name of ENGINES) {
  const c = CASES[name];
  if (c === undefined)
    throw new Error(`unknown BENCH_ENGINES case ${name}: ${Object.keys(CASES).join(", ")}`);
  const dir = mkdtempSync(join(tmpdir(), `bench-local-${name}-`));
  const before = llamaCppStats();
  const t0 = performance.now();
  let result: Record<string, unknown>;
  try {
    const summary = await runGenerate(
      {
        data: c.realRows === undefined ? INPUT : head(dir, c.realRows),
        rows: c.rows,
        out: join(dir, "out.csv"),
        engine: c.engine,
        model: `llamacpp:${PATH}`,
        ...c.options,
        runDir: join(dir, "run"),
        quiet: true,
      } as Parameters<typeof runGenerate>[0],
      { stdout: sink, stderr: sink, env: process.env } as unknown as Parameters<typeof runGenerate>[1],
    );
    const rows = (summary as unknown as { rows: number }).rows;
    const secs = (performance.now() - t0) / 1000;
    result = { rows, seconds: Number(secs.toFixed(1)), rows_per_second: Number((rows / secs).toFixed(4)) };
  } catch (err) {
    // A run the small model cannot finish still shows how much of its prompts the KV cache held.
    result = {
      error: (err as Error).message.slice(0, 300),
      seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    };
  }
  const after = llamaCppStats();
  engines[name] = {
    engine: c.engine,
    options: c.options,
    real_rows: c.realRows ?? real.table.nRows,
    ...result,
    all_calls: reuse(before, after),
    row_calls: reuse(before.rows, after.rows),
    load_average_after: loadavg().map((x) => Number(x.toFixed(2))),
  };
  console.log(name, JSON.stringify(engines[name]));
}

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(
  OUT,
  `${JSON.stringify(
    {
      model: "gemma-3-270m-q4_k_m.gguf (sha256 from test/support/small-model.ts)",
      threads: Number(process.env.SYNTHGRAPH_LLAMACPP_THREADS),
      load_average_at_start: loadStart,
      note: "throughput of a 270M test model on a shared 2-core CPU; not a quality measure of any engine",
      overhead: {
        prompt: `adult rows, ${N_ROWS} row(s), compact JSON-schema grammar, prefix warm in the KV cache`,
        repeats: REPEATS,
        raw_tokens_per_second: Number(rawTps.toFixed(2)),
        ours_tokens_per_second: Number(ourTps.toFixed(2)),
        raw_over_ours: Number((rawTps / ourTps).toFixed(3)),
        raw_without_grammar_tokens_per_second: Number(freeTps.toFixed(2)),
        grammar_cost_ratio: Number((freeTps / rawTps).toFixed(3)),
        raw_runs: rawRuns,
        raw_without_grammar_runs: freeRuns,
        our_runs: ourRuns,
      },
      engines,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${OUT}`);
process.exit(0);
