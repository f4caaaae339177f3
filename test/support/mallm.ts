/**
 * Shared by the MALLM-GAN engine tests (not a test file): recognising generator and optimizer requests, reading
 * the k examples a generator call carries, and a scripted responder whose replies are functions of the request
 * only (so runs in different processes, and resumed runs, get the same answers).
 */
import type { z } from "zod";
import { MALLM_GENERATOR_ROLE } from "../../engines/mallm/prompts.ts";
import { GENERATOR_SYSTEM } from "../../engines/synthia/prompts.ts";
import { type RunConfig, RunConfigSchema } from "../../state/config.ts";
import { loopbackModels } from "./harness.ts";
import type { TestProvider } from "./llm-endpoints.ts";
import type { RecordedRequest, Reply } from "./llm-server.ts";
import { badRows, rowsReply } from "./synthia.ts";

const lastUser = (req: RecordedRequest): string => {
  for (let i = req.messages.length - 1; i >= 0; i--)
    if (req.messages[i].role === "user") return req.messages[i].content;
  return "";
};

export function isMallmGenerator(req: RecordedRequest): boolean {
  return req.messages[0]?.content === GENERATOR_SYSTEM && lastUser(req).startsWith(MALLM_GENERATOR_ROLE);
}

export function isOptimizer(req: RecordedRequest): boolean {
  return (
    req.messages[0]?.role === "system" &&
    req.messages[0].content.startsWith("Your task is to optimize prompts")
  );
}

/** Rows a MALLM generator call asks for ("... holding n rows"). */
export function mallmRequestedRows(req: RecordedRequest): number {
  const m = /holding (\d+) rows/.exec(lastUser(req));
  if (!m) throw new Error(`request ${req.id}: no row count in the MALLM prompt`);
  return Number(m[1]);
}

/** The theta task instruction the generator prompt carries. */
export function taskOf(req: RecordedRequest): string {
  const m = /<task>([\s\S]*?)<\/task>/.exec(lastUser(req));
  return m ? m[1].trim() : "";
}

/** The CSV example lines of a generator prompt: header and cells (the test table has no quoted cells). */
export function examplesOf(req: RecordedRequest): { header: string[]; rows: string[][] } {
  const m = /<rows>\n([\s\S]*?)\n<\/rows>/.exec(lastUser(req));
  if (!m) return { header: [], rows: [] };
  const lines = m[1].split("\n");
  return { header: lines[0].split(","), rows: lines.slice(1).map((l) => l.split(",")) };
}

/**
 * Each example perturbed (age ±1 by position, kept in 20–59; hours moved 0.01 inwards), in the prompt's
 * column order: near the real distribution, a function of the request only.
 */
export function perturbedRows(req: RecordedRequest): unknown[][] {
  const { header, rows } = examplesOf(req);
  const n = mallmRequestedRows(req);
  const out: unknown[][] = [];
  for (let i = 0; i < n && rows.length > 0; i++) {
    const ex = rows[i % rows.length];
    out.push(
      header.map((h, j) => {
        const v = ex[j];
        if (h === "age") return Math.min(59, Math.max(20, Number(v) + (i % 2 === 0 ? 1 : -1)));
        if (h === "hours") return Math.round((Number(v) + (Number(v) < 49 ? 0.01 : -0.01)) * 100) / 100;
        return v;
      }),
    );
  }
  return out;
}

/** FNV-1a of a string, as 8 hex digits. */
export function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** An optimizer answer in listing 6's shape. */
export function optimizerAnswer(edges: ReadonlyArray<readonly [string, string]>, task: string): string {
  const list = `[${edges.map(([a, b]) => `('${a}', '${b}')`).join(", ")}]`;
  return `<causal structure> ${list} </causal structure>\n<task> ${task} </task>`;
}

/** The scores the optimizer prompt shows, in prompt order ("Score: 62.5%"). */
export function shownScores(req: RecordedRequest): number[] {
  const user = req.messages.find((m) => m.role === "user")?.content ?? "";
  return [...user.matchAll(/Score: ([\d.]+)%/g)].map((m) => Number(m[1]) / 100);
}

export interface MallmScript {
  generator?: (req: RecordedRequest) => string | Reply;
  optimizer?: (req: RecordedRequest) => string | Reply;
}

/** Default generator: perturbed examples, except all-identical rows when the task says "BAD". Default optimizer: a revision named by a hash of the request. */
export function mallmResponder(s: MallmScript = {}): (req: RecordedRequest) => string | Reply {
  return (req) => {
    if (isMallmGenerator(req)) {
      if (s.generator) return s.generator(req);
      return rowsReply(taskOf(req).includes("BAD") ? badRows(mallmRequestedRows(req)) : perturbedRows(req));
    }
    if (isOptimizer(req)) {
      if (s.optimizer) return s.optimizer(req);
      return optimizerAnswer(
        [
          ["age", "income"],
          ["sex", "hours"],
        ],
        `Keep every column close to the examples (revision ${fnv(req.messages[1]?.content ?? "")}).`,
      );
    }
    throw new Error(`request ${req.id} is neither a MALLM generator nor an optimizer call`);
  };
}

/** A MALLM-GAN run config with every role on the loopback server. */
export function mallmConfig(
  server: { ollamaUrl: string; openaiUrl: string },
  provider: TestProvider,
  a: { input: string; out: string; mallm?: z.input<typeof RunConfigSchema>["mallm"] } & Partial<
    Omit<RunConfig, "mallm">
  >,
): RunConfig {
  return RunConfigSchema.parse({
    engine: "mallm-gan",
    models: loopbackModels(server, provider),
    rows: 30,
    seed: 7,
    ...a,
  });
}
