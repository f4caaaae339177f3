/**
 * Shared by the SYNTHIA engine tests (not a test file): a small real table, a scripted responder for the loopback
 * LLM server that answers generator, discriminator and metadata requests as a function of the request, and a
 * run config pointing every role at the server.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveRoleConfigs } from "../../models/spec.ts";
import { DISCRIMINATOR_DECISION_PROMPT, GENERATOR_SYSTEM } from "../../prompts/synthia.ts";
import { type RunConfig, RunConfigSchema } from "../../state/config.ts";
import { createRng } from "../../stats/rng.ts";
import type { TestProvider } from "./llm-endpoints.ts";
import type { RecordedRequest, Reply } from "./llm-server.ts";

export interface RealRow {
  age: number;
  sex: string;
  hours: number;
  income: string;
}

/** 40 hand-made rows: age 20–59 (one each), sex alternating, hours 20.13–49.76, income >50K for every 4th row. */
export function realRows(): RealRow[] {
  const out: RealRow[] = [];
  for (let i = 0; i < 40; i++) {
    out.push({
      age: 20 + i,
      sex: i % 2 === 0 ? "Female" : "Male",
      hours: Math.round((20 + ((i * 17) % 40) * 0.76 + 0.13) * 100) / 100,
      income: i % 4 === 3 ? ">50K" : "<=50K",
    });
  }
  return out;
}

export function writeRealCsv(dir: string): string {
  const path = join(dir, "real.csv");
  const lines = [
    "age,sex,hours,income",
    ...realRows().map((r) => `${r.age},${r.sex},${r.hours},${r.income}`),
  ];
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

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

export function baseUrlOf(server: { ollamaUrl: string; openaiUrl: string }, provider: TestProvider): string {
  return provider === "ollama" ? server.ollamaUrl : server.openaiUrl;
}

export const TEST_ENV = { OPENAI_API_KEY: "sk-test-dummy-key-0000" } as const;

/** A run config with every role on the loopback server. */
export function testConfig(
  server: { ollamaUrl: string; openaiUrl: string },
  provider: TestProvider,
  a: { input: string; out: string } & Partial<RunConfig>,
): RunConfig {
  const models = resolveRoleConfigs({
    flags: {
      model: provider === "ollama" ? "ollama:llama3.1:8b" : "openai:gpt-4o",
      baseUrl: baseUrlOf(server, provider),
      timeoutMs: 10_000,
    },
  });
  return RunConfigSchema.parse({
    models,
    rows: 60,
    probeRows: 20,
    batchRows: 10,
    examples: 8,
    maxIterations: 3,
    seed: 7,
    ...a,
  });
}
