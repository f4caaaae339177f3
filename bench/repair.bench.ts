/**
 * `npm run bench:repair`: how many rows survive the messy replies a small local model writes for a
 * compact-rows request (test/support/messy-outputs.ts, a scripted TEST DOUBLE corpus, not a model).
 * Each reply is served by the loopback server (test/support/llm-server.ts) as the model's first answer and
 * read through the real client path: ChatOllama and ChatOpenAI → models/structured.ts callStructured with
 * the compact rows JSON Schema (data/compact.ts) and the generator's own per-row check (agents/generator.ts
 * rowItemValidator), maxReasks 0.
 * Per reply: rows accepted (clean or repaired by the validator), dropped (rejected with a reason), absent
 * (not in a usable reply: truncated or short), lost (in an unusable reply, i.e. callStructured threw, without
 * a per-row reason); requested = accepted + dropped + absent + lost.
 * Totals: repair rate = repaired / accepted, salvage rate = accepted / requested. Writes bench/results/repair.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import { rowItemValidator } from "../agents/generator.ts";
import { compactRowsJsonSchema } from "../data/compact.ts";
import { readTable } from "../data/read.ts";
import { columnDescription, rowColumns } from "../data/schema.ts";
import type { Metadata, Row } from "../data/types.ts";
import { callStructured, StructuredOutputError } from "../models/structured.ts";
import { GENERATOR_SYSTEM } from "../engines/synthia/prompts.ts";
import { endpointFor, type TestProvider } from "../test/support/llm-endpoints.ts";
import { type LlmServer, reply, startLlmServer } from "../test/support/llm-server.ts";
import { MESSY_REPLIES, type MessyReply } from "../test/support/messy-outputs.ts";

const here = dirname(fileURLToPath(import.meta.url));
export const ADULT_CSV = resolve(here, "../../shared/datasets/adult.csv");
const OUT = join(here, "results/repair.json");

export interface CaseOutcome {
  name: string;
  provider: TestProvider;
  requested: number;
  /** Rows returned by callStructured (clean + repaired). */
  accepted: number;
  /** Accepted rows the row validator changed (case-fixed categories, NaN → missing, ...). */
  repaired: number;
  /** Rows present in the reply but rejected. */
  dropped: number;
  /** Rows absent from a usable reply (truncated or short): requested − accepted − dropped. */
  absent: number;
  /** Rows of an unusable reply not rejected one by one (unparseable text, or no "rows" array). */
  lost: number;
  /** callStructured threw: no usable value. */
  failed: boolean;
  /** callStructured's reasons (dropped rows, rejected reply), "attempt 1: " prefix removed. */
  reasons: string[];
  /** Textual repairs made to the reply (fences, Python literals, truncation, reshaping to {"rows": [...]}...). */
  textRepairs: string[];
  /** What the row check changed in accepted rows ("item N: dropped unknown column ...", case fixes...). */
  itemRepairs: string[];
  rows: Row[];
}

// Items are checked one by one by the row validator; the zod side only requires the array (as the generator).
const RowsReply = z.object({ rows: z.array(z.unknown()) });

/** The request a generator sends for n rows (system rule + the column list with ranges). */
export function requestMessages(meta: Metadata, n: number): { role: "system" | "user"; content: string }[] {
  const cols = rowColumns(meta).map((c) => `- ${c.name}: ${columnDescription(c)}`);
  return [
    { role: "system", content: GENERATOR_SYSTEM },
    {
      role: "user",
      content: `Write ${n} new rows. Each row is an array of the values in this column order:\n${cols.join("\n")}`,
    },
  ];
}

/** Scripts `c.reply` as the model's answer and reads it through callStructured (first answer only). */
export async function runCase(
  server: LlmServer,
  provider: TestProvider,
  meta: Metadata,
  c: MessyReply,
): Promise<CaseOutcome> {
  server.script(reply.text(c.reply, c.finishReason ? { finishReason: c.finishReason } : {}));
  const rowMeta: Metadata = { ...meta, columns: rowColumns(meta) };
  const strip = (r: string): string => r.replace(/^attempt 1: /, "");
  const base = { name: c.name, provider, requested: c.requested };
  try {
    const r = await callStructured({
      role: "generator",
      endpoint: endpointFor(server, provider),
      messages: requestMessages(meta, c.requested),
      schema: RowsReply,
      // OpenAI strict mode rejects prefixItems (as in agents/generator.ts).
      jsonSchema: compactRowsJsonSchema(rowMeta, c.requested, { prefixItems: provider !== "openai" }),
      schemaName: "rows",
      itemsKey: "rows",
      itemValidator: rowItemValidator(meta),
      maxReasks: 0,
      seed: 1,
    });
    const { accepted, repaired, dropped } = r.report;
    return {
      ...base,
      accepted,
      repaired,
      dropped,
      absent: Math.max(0, c.requested - accepted - dropped),
      lost: 0,
      failed: false,
      reasons: r.report.reasons.map(strip),
      textRepairs: r.report.repairs,
      itemRepairs: r.report.itemRepairs ?? [],
      rows: r.value.rows as Row[],
    };
  } catch (e) {
    if (!(e instanceof StructuredOutputError)) throw e;
    // One reason per rejected item ("item N: ..."): the validator's elements are z.unknown(), so zod adds none.
    const items = new Set(e.reasons.map((r) => /^attempt 1: item (\d+)\b/.exec(r)?.[1]).filter((x) => x));
    return {
      ...base,
      accepted: 0,
      repaired: 0,
      dropped: items.size,
      absent: 0,
      lost: Math.max(0, c.requested - items.size),
      failed: true,
      reasons: e.reasons.map(strip),
      textRepairs: [],
      itemRepairs: [],
      rows: [],
    };
  }
}

export interface Totals {
  replies: number;
  requested: number;
  accepted: number;
  accepted_clean: number;
  accepted_repaired: number;
  dropped: number;
  absent: number;
  lost: number;
  unusable_replies: number;
  /** Replies the extractor had to repair as text before validation. */
  text_repaired_replies: number;
  repair_rate: number;
  salvage_rate: number;
}

export function totals(outcomes: readonly CaseOutcome[]): Totals {
  const sum = (f: (o: CaseOutcome) => number): number => outcomes.reduce((s, o) => s + f(o), 0);
  const requested = sum((o) => o.requested);
  const accepted = sum((o) => o.accepted);
  const repaired = sum((o) => o.repaired);
  return {
    replies: outcomes.length,
    requested,
    accepted,
    accepted_clean: accepted - repaired,
    accepted_repaired: repaired,
    dropped: sum((o) => o.dropped),
    absent: sum((o) => o.absent),
    lost: sum((o) => o.lost),
    unusable_replies: sum((o) => (o.failed ? 1 : 0)),
    text_repaired_replies: sum((o) => (o.textRepairs.length > 0 ? 1 : 0)),
    repair_rate: accepted === 0 ? 0 : repaired / accepted,
    salvage_rate: requested === 0 ? 0 : accepted / requested,
  };
}

/** Runs the whole corpus through one provider's client, one reply at a time. */
export async function runCorpus(
  server: LlmServer,
  provider: TestProvider,
  meta: Metadata,
): Promise<CaseOutcome[]> {
  const out: CaseOutcome[] = [];
  for (const c of MESSY_REPLIES) out.push(await runCase(server, provider, meta, c));
  return out;
}

// ---------------------------------------------------------------------------------------------------------

const same = (a: CaseOutcome, b: CaseOutcome): boolean =>
  a.accepted === b.accepted &&
  a.repaired === b.repaired &&
  a.dropped === b.dropped &&
  a.failed === b.failed &&
  JSON.stringify(a.rows) === JSON.stringify(b.rows) &&
  JSON.stringify(a.reasons) === JSON.stringify(b.reasons) &&
  JSON.stringify(a.itemRepairs) === JSON.stringify(b.itemRepairs) &&
  JSON.stringify(a.textRepairs) === JSON.stringify(b.textRepairs);

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function table(ollama: readonly CaseOutcome[], openai: readonly CaseOutcome[]): string {
  const head = [
    "case",
    "req",
    "clean",
    "repaired",
    "dropped",
    "absent",
    "lost",
    "unusable",
    "ollama=openai",
    "reasons / row repairs / text repairs",
  ];
  const body = ollama.map((o, i) => [
    o.name,
    String(o.requested),
    String(o.accepted - o.repaired),
    String(o.repaired),
    String(o.dropped),
    String(o.absent),
    String(o.lost),
    o.failed ? "yes" : "",
    same(o, openai[i]) ? "yes" : "NO",
    clip([...o.reasons, ...o.itemRepairs, ...o.textRepairs].join("; "), 90),
  ]);
  const widths = head.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)));
  const line = (r: string[]): string =>
    r
      .map((c, j) => (j >= 1 && j <= 8 ? c.padStart(widths[j]) : c.padEnd(widths[j])))
      .join(" | ")
      .trimEnd();
  return [line(head), widths.map((w) => "-".repeat(w)).join("-|-"), ...body.map(line)].join("\n");
}

function totalsLine(provider: string, t: Totals): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  return (
    `${provider}: ${t.replies} replies, rows requested ${t.requested}, accepted ${t.accepted} ` +
    `(clean ${t.accepted_clean}, after repair ${t.accepted_repaired}), dropped ${t.dropped}, absent ${t.absent}, ` +
    `lost with unusable replies ${t.lost}, unusable replies ${t.unusable_replies}, text-repaired replies ${t.text_repaired_replies}; ` +
    `repair rate ${pct(t.repair_rate)}, salvage rate ${pct(t.salvage_rate)}`
  );
}

async function main(): Promise<void> {
  const { metadata } = await readTable(ADULT_CSV);
  const server = await startLlmServer();
  try {
    const ollama = await runCorpus(server, "ollama", metadata);
    const openai = await runCorpus(server, "openai", metadata);
    const t = { ollama: totals(ollama), openai: totals(openai) };
    console.log(table(ollama, openai));
    console.log();
    console.log(totalsLine("ollama", t.ollama));
    console.log(totalsLine("openai", t.openai));
    const strip = ({ rows: _rows, ...o }: CaseOutcome): Omit<CaseOutcome, "rows"> => o;
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(
      OUT,
      `${JSON.stringify(
        {
          note: "scripted replies (test/support/messy-outputs.ts) served by the loopback test double, read by the real ChatOllama/ChatOpenAI clients through callStructured (maxReasks 0); not a model measurement",
          dataset: "adult",
          definitions: {
            repair_rate: "accepted_repaired / accepted",
            salvage_rate: "accepted / requested",
            dropped: "rows in the reply rejected one by one, with a reason",
            absent: "rows not in a usable reply (truncated or short)",
            lost: "rows of an unusable reply not rejected one by one (unparseable, or no rows array)",
            identity: "requested = accepted + dropped + absent + lost",
          },
          totals: t,
          cases: { ollama: ollama.map(strip), openai: openai.map(strip) },
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nwrote ${OUT}`);
  } finally {
    await server.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
