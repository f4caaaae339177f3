/**
 * `npm run bench:llmsynthor`: tokens per output row and LLM calls of the llmsynthor engine for N = 1,000 and
 * N = 20,000, on the paper's e-commerce ground truth (2,000 real rows, examples/ecommerce.ts), through the whole
 * durable graph with the real ChatOllama client against the loopback server replaying scripted proposals.
 * Counts are the server's (calls answered; tokens ⌈chars / 4⌉ of the prompt and of the reply, the same rule
 * for both N), so the numbers measure the engine's prompting, not a model. Default options (T = 10, tolerance
 * 0.02): the proposer is called once per iteration whatever N, so tokens per row fall as 1 / N.
 * Writes bench/results/llmsynthor-tokens.json.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { deriveMetadata } from "../data/metadata.ts";
import { writeCsv } from "../data/write.ts";
import { startRun } from "../graph/run.ts";
import { RunConfigSchema } from "../state/config.ts";
import type { LlmsynthorStateT } from "../engines/llmsynthor/state.ts";
import { ecommerceTable } from "../examples/ecommerce.ts";
import { loopbackModels } from "../test/support/harness.ts";
import { startLlmServer } from "../test/support/llm-server.ts";
import { lsResponder, proposalsReply } from "../test/support/llmsynthor.ts";

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, "results/llmsynthor-tokens.json");
const SIZES = [1_000, 20_000];
const REAL_ROWS = 2_000;
const SEED = 0;

/** One proposal: the ranges and categories of a slice of the e-commerce network, and its share of rows. */
function proposal(
  user_age: [number, number],
  gender: string,
  location_tier: string,
  product_category: string,
  price: [number, number],
  payment_method: string,
  num: number,
) {
  return { proposal: { user_age, gender, location_tier, product_category, price, payment_method }, num };
}

/** Five proposals that follow the network's main paths (appendix A.1), the kind a good model writes. */
const PROPOSALS = [
  proposal([18, 34], "Female", "Developing", "Apparel", [0, 400], "Cash on Delivery", 25),
  proposal([18, 34], "Male", "Developed", "Electronics", [100, 2000], "Online Payment", 20),
  proposal([35, 54], "Female", "Developing", "Food & Beverages", [0, 300], "Cash on Delivery", 25),
  proposal([55, 90], "Male", "Developed", "Food & Beverages", [0, 250], "Online Payment", 10),
  proposal([25, 60], "Female", "Developed", "Furniture & Appliances", [0, 800], "Online Payment", 20),
];

interface Measure {
  rows: number;
  llm_calls: number;
  copula_calls: number;
  proposer_calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  tokens_per_row: number;
  completion_tokens_per_row: number;
  iterations: number;
  stopped_because: string | null;
  final_mean_tvd: number | null;
  seconds: number;
}

const round = (x: number, d = 4): number => Number(x.toFixed(d));

export async function runBench(): Promise<Record<string, Measure>> {
  const dir = mkdtempSync(join(tmpdir(), "bench-llmsynthor-"));
  const input = join(dir, "ecommerce.csv");
  const real = ecommerceTable(REAL_ROWS, SEED);
  await writeCsv(input, real, deriveMetadata(real));
  const server = await startLlmServer();
  const responder = lsResponder({
    copula: () =>
      JSON.stringify({
        "1": ["user_age", "gender", "product_category"],
        "2": ["product_category", "price"],
        "3": ["location_tier", "payment_method"],
      }),
    proposer: () => proposalsReply(PROPOSALS),
  });
  const results: Record<string, Measure> = {};
  try {
    for (const n of SIZES) {
      server.reset();
      server.setDefault(responder);
      const config = RunConfigSchema.parse({
        input,
        rows: n,
        out: join(dir, `out-${n}.csv`),
        engine: "llmsynthor",
        models: loopbackModels(server, "ollama", 30_000),
        seed: SEED,
      });
      const before = { ...server.stats };
      const t0 = performance.now();
      const { state } = await startRun<LlmsynthorStateT>(join(dir, `run-${n}`), config, { env: {} });
      const seconds = (performance.now() - t0) / 1000;
      const st = {
        completions: server.stats.completions - before.completions,
        promptTokens: server.stats.promptTokens - before.promptTokens,
        completionTokens: server.stats.completionTokens - before.completionTokens,
      };
      if (state.output?.rows !== n) throw new Error(`N = ${n}: wrote ${state.output?.rows} rows`);
      const byRole = state.usage.by_role;
      results[String(n)] = {
        rows: n,
        llm_calls: st.completions,
        copula_calls: byRole.copula?.calls ?? 0,
        proposer_calls: byRole.proposer?.calls ?? 0,
        prompt_tokens: st.promptTokens,
        completion_tokens: st.completionTokens,
        tokens_per_row: round((st.promptTokens + st.completionTokens) / n),
        completion_tokens_per_row: round(st.completionTokens / n),
        iterations: state.history.length,
        stopped_because: state.stoppedBecause,
        final_mean_tvd: state.finalDiscrepancy ? round(state.finalDiscrepancy.total) : null,
        seconds: round(seconds, 2),
      };
      process.stderr.write(`N = ${n}: ${JSON.stringify(results[String(n)])}\n`);
    }
  } finally {
    await server.close();
  }
  const [a, b] = SIZES.map((n) => results[String(n)]);
  if (!(b.tokens_per_row < a.tokens_per_row)) {
    throw new Error(`tokens per row did not fall with N: ${a.tokens_per_row} → ${b.tokens_per_row}`);
  }
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    `${JSON.stringify(
      {
        note: "loopback server, scripted proposals, ChatOllama client; tokens are server-side ceil(chars/4) counts; default llmsynthor options on 2,000 e-commerce rows",
        ...results,
      },
      null,
      2,
    )}\n`,
  );
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await runBench();
}
