/**
 * Shared by the SYNTHIA engine tests (not a test file): a scripted responder for the loopback LLM server that
 * answers generator, discriminator and metadata requests as a function of the request (rows near the real
 * table of harness.ts), and a run config pointing every role at the server.
 */
import { DISCRIMINATOR_DECISION_PROMPT, GENERATOR_SYSTEM } from "../../engines/synthia/prompts.ts";
import { type RunConfig, RunConfigSchema } from "../../state/config.ts";
import { createRng } from "../../stats/primitives/rng.ts";
import { loopbackModels, realRows } from "./harness.ts";
import type { TestProvider } from "./llm-endpoints.ts";
import type { RecordedRequest, Reply } from "./llm-server.ts";

export type Kind = "generator" | "analysis" | "decision" | "metadata";

export function kindOf(req: RecordedRequest): Kind {
  const first = req.messages[0];
  if (first?.role === "system" && first.content === GENERATOR_SYSTEM) return "generator";
  const last = req.messages[req.messages.length - 1];
  if (last?.content === DISCRIMINATOR_DECISION_PROMPT) return "decision";
  if (req.messages.length === 1 && /discriminator/i.test(last?.content ?? "")) return "analysis";
  return "metadata";
}

/** The model seed the request carries (Ollama options.seed, OpenAI body.seed). */
export function seedOf(req: RecordedRequest): number {
  const s = req.provider === "ollama" ? req.options?.seed : req.body?.seed;
  if (typeof s !== "number") throw new Error(`request ${req.id} carries no seed`);
  return s;
}

export function requestedRows(req: RecordedRequest): number {
  const m = /Reply with exactly (\d+) rows/.exec(req.messages[req.messages.length - 1]?.content ?? "");
  if (!m) throw new Error(`request ${req.id}: no row count in the prompt`);
  return Number(m[1]);
}

export function generatorPrompt(req: RecordedRequest): string {
  return req.messages[req.messages.length - 1]?.content ?? "";
}

/**
 * Rows near the real distribution, a function of the seed only: a real row with age ±1 (kept in range) and
 * hours + 0.01 or − 0.01, so never an exact copy of a real row.
 */
export function goodRows(seed: number, n: number): unknown[][] {
  const real = realRows();
  const rng = createRng(seed);
  const rows: unknown[][] = [];
  for (let i = 0; i < n; i++) {
    const r = real[rng.int(real.length)];
    const age = Math.min(59, Math.max(20, r.age + (rng.int(2) === 0 ? -1 : 1)));
    const hours = Math.round((r.hours + (r.hours < 49 ? 0.01 : -0.01)) * 100) / 100;
    rows.push([age, r.sex, hours, r.income]);
  }
  return rows;
}

/** Clearly off: every row the youngest woman with the fewest hours. */
export function badRows(n: number): unknown[][] {
  return Array.from({ length: n }, () => [20, "Female", 20.13, "<=50K"]);
}

export const rowsReply = (rows: unknown[][]): string => JSON.stringify({ rows });

/** A discriminator that never answers "Real": SYNTHIA's loop runs to max_iterations (steering tests). */
export const syntheticVerdict = (): string =>
  JSON.stringify({ Type: "Synthetic", Feedback: "ages look too narrow" });

/**
 * A generator that honours the condition its prompt states (graph/conditions.ts conditionPromptLines), but one
 * row short: goodRows moved into the sex the condition names and, when it names age > 50, every age but the
 * first row of a batch of two or more moved into 51..59, so each such batch holds one row the code must drop.
 */
export function conditionHonouringGenerator(req: RecordedRequest): string {
  const rule = /Every row you write must satisfy: (.*)/.exec(generatorPrompt(req))?.[1] ?? "";
  const n = requestedRows(req);
  return rowsReply(
    goodRows(seedOf(req), n).map((r, i) => {
      const sex = rule.includes('sex == "Female"')
        ? "Female"
        : rule.includes('sex == "Male"')
          ? "Male"
          : r[1];
      const steered = rule.includes("age > 50");
      const age = !steered ? r[0] : i === 0 && n > 1 ? 20 : 51 + ((r[0] as number) % 9);
      return [age, sex, r[2], r[3]];
    }),
  );
}

export interface ResponderScript {
  /** Generator rows for a request (default goodRows). */
  generator?: (req: RecordedRequest) => string | Reply;
  /** Decision reply (default {"Type": "Real"}). */
  decision?: (req: RecordedRequest) => string | Reply;
  analysis?: (req: RecordedRequest) => string;
  metadata?: (req: RecordedRequest) => string;
}

/** A server default: dispatches on the kind of request. */
export function responder(s: ResponderScript = {}): (req: RecordedRequest) => string | Reply {
  return (req) => {
    switch (kindOf(req)) {
      case "generator":
        return s.generator ? s.generator(req) : rowsReply(goodRows(seedOf(req), requestedRows(req)));
      case "analysis":
        return s.analysis
          ? s.analysis(req)
          : "Analysis: the undetermined sample follows the real ranges and frequencies.";
      case "decision":
        return s.decision ? s.decision(req) : '{"Type": "Real"}';
      case "metadata":
        return s.metadata ? s.metadata(req) : "{}";
    }
  };
}

/** A run config with every role on the loopback server. */
export function testConfig(
  server: { ollamaUrl: string; openaiUrl: string },
  provider: TestProvider,
  a: { input: string; out: string } & Partial<RunConfig>,
): RunConfig {
  return RunConfigSchema.parse({
    models: loopbackModels(server, provider),
    rows: 60,
    probeRows: 20,
    batchRows: 10,
    examples: 8,
    maxIterations: 3,
    seed: 7,
    // goodRows draws from 80 possible rows, so a run of 60 has duplicates: the tests that count requests per
    // round keep them; test/engines/synthia/final.test.ts tests the removal of duplicates.
    dedupe: false,
    ...a,
  });
}
