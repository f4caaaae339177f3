/**
 * SynLLM's prompts for the shared diabetes.csv (100,000 rows): each prompt type's full text (system message and
 * prompt of a mini-batch of 20) is a committed file snapshot under __snapshots__/; building it again from
 * scratch with the same seed gives the same text. Asserted parts, each checked against values this file computes
 * from the CSV text itself (not through the profile code):
 * - no real row in CLINRULE and FEATDESC: every real row, written as its CSV line, as the prompt's own row
 *   encoding and as a JSON array, is absent;
 * - SEEDEx shows at most 5 real rows, exactly the ones the seed picks, and a different seed picks others;
 * - STATGUIDE carries every numerical column's mean, standard deviation and range, and every "correlated with"
 *   note of a pair with |Pearson| > 0.15;
 * - CLINRULE lists those pairs as correlations to maintain, and every calibrated rule (hard ones as rules,
 *   the demoted file rule with its share of breaking real rows).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type RowEncoding, rowEncodingFor } from "../../../data/compact.ts";
import { tableToRows } from "../../../data/rows.ts";
import { rowColumns } from "../../../data/schema.ts";
import type { Row } from "../../../data/types.ts";
import type { PromptType, ReplyFormat } from "../../../engines/synllm/config.ts";
import {
  exampleIndices,
  type SynllmInputs,
  synllmInputs,
  synllmRunPrompt,
} from "../../../engines/synllm/nodes.ts";
import { synllmSystem } from "../../../engines/synllm/prompts.ts";
import { realLoader } from "../../../graph/run.ts";
import type { RealData } from "../../../graph/runtime.ts";
import { resolveRoleConfigs } from "../../../models/spec.ts";
import { parseRunConfig, type RunConfig } from "../../../state/config.ts";
import { DATASETS } from "../../support/fixtures.ts";

const PATH = join(DATASETS, "diabetes.csv");
const MODEL = "ollama:llama3.1:8b";
const ENCODING: RowEncoding = rowEncodingFor("ollama");
const BATCH = 20;
const FILE_RULE = "implies(HbA1c_level > 6.5, diabetes == 1)";

let dir = "";
let rulesFile = "";
let real: RealData;
/** The CSV's header and data lines, as text. */
let header: string[] = [];
let lines: string[] = [];
/** Every real row written three ways: the file's line, the prompt's CSV encoding, a JSON array. */
let serialised: Array<{ line: string; encoded: string; json: string }> = [];

function config(type: PromptType, format: ReplyFormat, seed: number): RunConfig {
  return parseRunConfig({
    input: PATH,
    rows: 100,
    out: join(dir, "out.csv"),
    engine: "synllm",
    seed,
    models: resolveRoleConfigs({ flags: { model: MODEL }, env: {} }),
    synllm: { promptType: type, replyFormat: format, rules: rulesFile },
  });
}

/** A run's prompt inputs (profile, calibrated rules, examples), kept per config: each costs ~0.5 s here. */
const inputsMemo = new Map<string, SynllmInputs>();
function inputsOf(c: RunConfig, fresh: boolean): SynllmInputs {
  const key = JSON.stringify([c.synllm.promptType, c.synllm.replyFormat, c.seed]);
  const made = fresh ? undefined : inputsMemo.get(key);
  if (made) return made;
  const inputs = synllmInputs(c, real);
  inputsMemo.set(key, inputs);
  return inputs;
}

/** System message and prompt of a full mini-batch, as a run of this config builds them (`fresh`: recomputed). */
function promptOf(type: PromptType, format: ReplyFormat, seed = 7, fresh = false): string {
  const c = config(type, format, seed);
  const prompt = synllmRunPrompt(c, ENCODING, real, inputsOf(c, fresh), BATCH);
  return `# system\n${synllmSystem(BATCH, format)}\n\n# user\n${prompt}\n`;
}

/** Real rows whose serialisation (any of the three) the text contains, by data-line index. */
function realRowsIn(text: string): number[] {
  const found: number[] = [];
  serialised.forEach((s, i) => {
    if (text.includes(s.line) || text.includes(s.encoded) || text.includes(s.json)) found.push(i);
  });
  return found;
}

// Written here from the cells, as data/compact.ts's CSV lines write them (plain values: no quoting needed in
// this table, numbers in their shortest form).
function encodedCells(r: Row, names: readonly string[]): string {
  return names.map((n) => (r[n] === null ? "" : String(r[n]))).join(",");
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "synllm-prompts-"));
  rulesFile = join(dir, "rules.txt");
  writeFileSync(rulesFile, `# ADA threshold\n${FILE_RULE}\n`);
  real = await realLoader(config("clinrule", "json", 7))();
  const text = readFileSync(PATH, "utf8").trimEnd().split("\n");
  header = text[0].split(",");
  lines = text.slice(1);
  const names = rowColumns(real.metadata).map((c) => c.name);
  expect(names).toEqual(header);
  const rows = tableToRows(real.table, real.metadata);
  expect(rows).toHaveLength(lines.length);
  serialised = rows.map((r, i) => ({
    line: lines[i],
    encoded: encodedCells(r, names),
    json: JSON.stringify(names.map((n) => r[n])),
  }));
});

const SNAPSHOTS: Array<{ type: PromptType; format: ReplyFormat }> = [
  { type: "seedex", format: "json" },
  { type: "featdesc", format: "json" },
  { type: "statguide", format: "json" },
  { type: "clinrule", format: "json" },
  { type: "clinrule", format: "csv" },
];

describe.each(SNAPSHOTS)("the $type prompt ($format replies) for diabetes.csv", ({ type, format }) => {
  it("matches its committed snapshot", async () => {
    const text = promptOf(type, format);
    await expect(text).toMatchFileSnapshot(`__snapshots__/prompt-${type}-${format}.txt`);
  });
});

describe("determinism", () => {
  it("a prompt built again from scratch with the same seed is the same text (SEEDEx: the seed picks rows)", () => {
    for (const type of ["seedex", "clinrule"] as const)
      expect(promptOf(type, "json", 7, true), type).toBe(promptOf(type, "json", 7));
  });
});

describe("real rows in the prompts", () => {
  it("the check finds a real row written any of the three ways (it can fail)", () => {
    const probe = serialised[123];
    for (const form of [probe.line, probe.encoded, probe.json])
      expect(realRowsIn(`before\n${form}\nafter`)).toContain(123);
  });

  it("CLINRULE and FEATDESC show no real row", () => {
    for (const type of ["clinrule", "featdesc"] as const) {
      for (const format of ["json", "csv"] as const) expect(realRowsIn(promptOf(type, format))).toEqual([]);
    }
  });

  it("SEEDEx shows at most 5 real rows: the ones its seed picks, and another seed picks others", () => {
    const picked = exampleIndices(config("seedex", "json", 7), lines.length);
    expect(picked).toHaveLength(5);
    const shown = new Set(realRowsIn(promptOf("seedex", "json", 7)).map((i) => serialised[i].encoded));
    expect(shown.size).toBeLessThanOrEqual(5);
    expect([...shown].sort()).toEqual([...new Set(picked.map((i) => serialised[i].encoded))].sort());
    const other = new Set(realRowsIn(promptOf("seedex", "json", 8)).map((i) => serialised[i].encoded));
    expect(other.size).toBeLessThanOrEqual(5);
    expect([...other].sort()).not.toEqual([...shown].sort());
  });
});

// --- statistics and correlations, computed here from the CSV text -----------------------------------------

/** The prompt's number format: 4 significant digits, shortest form. */
const num = (x: number): string => String(Number(x.toPrecision(4)));

interface Stats {
  mean: number;
  sd: number;
  min: number;
  max: number;
}

function columnValues(name: string): number[] {
  const j = header.indexOf(name);
  return lines.map((l) => Number(l.split(",")[j]));
}

function statsOf(xs: readonly number[]): Stats {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
}

function pearson(x: readonly number[], y: readonly number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** The numerical columns of diabetes.csv (every cell a number) and their pairs with |ρ| > 0.15. */
function numericalFacts(): {
  stats: Map<string, Stats>;
  pairs: Array<{ a: string; b: string; rho: number }>;
} {
  // A column is numerical when every cell is a number (none is empty in this file).
  const numeric = header.filter((h) => columnValues(h).every(Number.isFinite));
  const values = new Map(numeric.map((n) => [n, columnValues(n)]));
  const stats = new Map(numeric.map((n) => [n, statsOf(values.get(n) as number[])]));
  const pairs: Array<{ a: string; b: string; rho: number }> = [];
  for (let i = 0; i < numeric.length; i++)
    for (let j = i + 1; j < numeric.length; j++) {
      const rho = pearson(values.get(numeric[i]) as number[], values.get(numeric[j]) as number[]);
      if (Math.abs(rho) > 0.15) pairs.push({ a: numeric[i], b: numeric[j], rho });
    }
  return { stats, pairs };
}

describe("statistics and rules in the prompts", () => {
  let facts: ReturnType<typeof numericalFacts>;
  beforeAll(() => {
    facts = numericalFacts();
  });

  it("diabetes.csv has the columns and correlated pairs this check expects (it has something to find)", () => {
    expect([...facts.stats.keys()]).toEqual([
      "age",
      "hypertension",
      "heart_disease",
      "bmi",
      "HbA1c_level",
      "blood_glucose_level",
      "diabetes",
    ]);
    expect(facts.pairs.length).toBeGreaterThanOrEqual(3);
  });

  it("STATGUIDE gives every numerical column's mean, sd and range, and its correlated-with note", () => {
    const text = promptOf("statguide", "json");
    for (const [name, s] of facts.stats) {
      const line = text.split("\n").find((l) => l.startsWith(`${name}: Mean: `));
      expect(line, name).toBeDefined();
      expect(line).toContain(
        `${name}: Mean: ${num(s.mean)}, Std: ${num(s.sd)}, Range: ${num(s.min)}–${num(s.max)}, Quartiles: `,
      );
      const partners = facts.pairs.flatMap((p) => (p.a === name ? [p.b] : p.b === name ? [p.a] : []));
      const note = /; correlated with (.*)$/.exec(line as string);
      if (partners.length === 0) expect(note, name).toBeNull();
      else expect(note?.[1].split(", ").sort(), name).toEqual(partners.sort());
    }
    // The categorical columns' level shares, e.g. gender's.
    const female = lines.filter((l) => l.startsWith("Female,")).length / lines.length;
    expect(text).toMatch(new RegExp(`^gender: .*Female: ${(female * 100).toFixed(0)}%`, "m"));
  });

  it("CLINRULE lists the correlations to maintain and every calibrated rule", () => {
    const text = promptOf("clinrule", "json");
    const block = text.split("Maintain the following correlations:\n")[1]?.split("\n\n")[0] ?? "";
    const bullets = block.split("\n");
    expect(bullets).toHaveLength(facts.pairs.length);
    for (const p of facts.pairs) {
      const dir = p.rho > 0 ? "higher" : "lower";
      const both = [
        `- Higher ${p.a} goes with ${dir} ${p.b} (Pearson ${p.rho.toFixed(2)})`,
        `- Higher ${p.b} goes with ${dir} ${p.a} (Pearson ${p.rho.toFixed(2)})`,
      ];
      expect(
        bullets.some((b) => both.includes(b)),
        `${p.a}–${p.b}`,
      ).toBe(true);
    }
    const rules = inputsOf(config("clinrule", "json", 7), false).rules;
    const hard = rules.filter((r) => r.hard);
    const soft = rules.filter((r) => !r.hard);
    // Seven range rules (one per numerical column) hard; the file rule demoted.
    expect(hard.filter((r) => r.source === "range")).toHaveLength(facts.stats.size);
    expect(soft.map((r) => r.text)).toEqual([FILE_RULE]);
    const hardBlock = text.split("Every record must satisfy these rules:\n")[1]?.split("\n\n")[0] ?? "";
    expect(hardBlock.split("\n")).toEqual(hard.map((r) => `- ${r.english}`));
    // Each numerical column's real range, from the CSV text, is a hard rule in the prompt.
    for (const [name, s] of facts.stats)
      expect(hardBlock, name).toContain(`- "${name}" is between ${s.min} and ${s.max} (both included)`);
    // Broken by 7,857 of the 100,000 real rows (counted from the CSV text in rules.test.ts): 7.9 %.
    const broken = lines.filter((l) => {
      const cells = l.split(",");
      return Number(cells[header.indexOf("HbA1c_level")]) > 6.5 && cells[header.indexOf("diabetes")] === "0";
    }).length;
    const softBlock =
      text.split("These usually hold (the share of real records breaking each is given):\n")[1] ?? "";
    expect(softBlock.split("\n")[0]).toBe(
      `- ${soft[0].english} (broken by ${((broken / lines.length) * 100).toFixed(1)}%)`,
    );
    // The other prompt types do not list rules (the rules are enforced on every type's rows, by code).
    for (const type of ["seedex", "featdesc", "statguide"] as const)
      expect(promptOf(type, "json")).not.toContain("Every record must satisfy these rules:");
  });
});
