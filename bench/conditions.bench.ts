/**
 * `npm run bench:conditions`: conditional generation's costs.
 *
 * Part 1 (here now): predicate evaluation. A seeded 1,000,000-row columnar table (age integer 18..90 with 2 %
 * missing, bmi float with 5 % missing, sex, smoking_status with 4 levels and 3 % missing, hypertension
 * boolean). For each condition: our path (parsePredicate + compilePredicate, then the closure over every row
 * into a mask by generated code, data/predicate/codegen.ts) against a loop written by hand over the same
 * typed arrays and against our tree of small closures (compilePredicateClosures), timed in alternation in the
 * same run so machine load hits all alike; and mathjs
 * `compile().evaluate` with a per-row scope on the first 10,000 rows (mathjs's string comparison throws on
 * category equality, so it gets the numeric-only condition, and the error is recorded for the others).
 * Each timing is the median of RUNS runs after one warm-up; every mask must equal the hand-written one's or
 * the run fails before writing anything. Writes bench/results/conditions.json.
 *
 * Part 2 (bench/conditions-engines.ts): calls and tokens per accepted row for a selective condition (about
 * 5 % of the real rows), with and without conditioning at the source, from scripted replies; the results
 * file's `engine`. `--engine-only` runs part 2 alone and keeps part 1's results already in the file.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "mathjs";
import { codedColumn, numericColumn, tableOf } from "../data/build.ts";
import { deriveMetadata } from "../data/metadata.ts";
import {
  compilePredicate,
  compilePredicateClosures,
  parsePredicate,
  predicateMask,
} from "../data/predicate/index.ts";
import type { CodedColumn, NumericColumn, Table } from "../data/types.ts";
import { createRng } from "../stats/primitives/rng.ts";
import { runEngineBench } from "./conditions-engines.ts";

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, "results/conditions.json");
const N = 1_000_000;
const N_MATHJS = 10_000;
const RUNS = 11;
const SEED = 20_260_312;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Median milliseconds of `f` over RUNS runs after a warm-up, and its last result. */
function time<T>(f: () => T): { ms: number; value: T } {
  let value = f();
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    value = f();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), value };
}

function buildTable(n: number): Table {
  const rng = createRng(SEED);
  const age = new Array<number | null>(n);
  const bmi = new Array<number | null>(n);
  const sex = new Array<string>(n);
  const smoking = new Array<string | null>(n);
  const hypertension = new Array<string>(n);
  const STATUS = ["never smoked", "formerly smoked", "smokes", "Unknown"];
  for (let i = 0; i < n; i++) {
    age[i] = rng.next() < 0.02 ? null : 18 + rng.int(73);
    bmi[i] = rng.next() < 0.05 ? null : Math.round((16 + rng.next() * 30) * 10) / 10;
    sex[i] = rng.next() < 0.52 ? "F" : "M";
    smoking[i] = rng.next() < 0.03 ? null : STATUS[rng.int(4)];
    hypertension[i] = rng.next() < 0.1 ? "true" : "false";
  }
  return tableOf([
    numericColumn("age", age),
    numericColumn("bmi", bmi),
    codedColumn("sex", sex),
    codedColumn("smoking_status", smoking),
    codedColumn("hypertension", hypertension, "boolean"),
  ]);
}

const table = buildTable(N);
const metadata = deriveMetadata(table);
const num = (name: string) => (table.columns.find((c) => c.name === name) as NumericColumn).values;
const coded = (name: string) => table.columns.find((c) => c.name === name) as CodedColumn;
const age = num("age");
const bmi = num("bmi");
const sex = coded("sex");
const smoking = coded("smoking_status");
const hyper = coded("hypertension");
const code = (c: CodedColumn, level: string) => c.levels.indexOf(level);

interface Case {
  name: string;
  where: string;
  /** The same condition written by hand over the typed arrays (missing → false, as ours). */
  hand: (mask: Uint8Array) => void;
  /** mathjs expression and scope builder, when mathjs can evaluate it. */
  mathjs?: { expr: string; scope: (i: number) => Record<string, number | string> };
}

const SMOKES = code(smoking, "smokes");
const FORMER = code(smoking, "formerly smoked");
const F = code(sex, "F");
const TRUE = code(hyper, "true");

const CASES: Case[] = [
  {
    name: "numeric_and",
    where: "age > 60 and bmi >= 25",
    hand: (m) => {
      for (let i = 0; i < N; i++) m[i] = age[i] > 60 && bmi[i] >= 25 ? 1 : 0;
    },
    mathjs: { expr: "age > 60 and bmi >= 25", scope: (i) => ({ age: age[i], bmi: bmi[i] }) },
  },
  {
    name: "mixed_and",
    where:
      'age > 60 and smoking_status in ["smokes", "formerly smoked"] and not is_missing(bmi) and bmi >= 25',
    hand: (m) => {
      const c = smoking.codes;
      for (let i = 0; i < N; i++) {
        const s = c[i];
        m[i] = age[i] > 60 && (s === SMOKES || s === FORMER) && bmi[i] === bmi[i] && bmi[i] >= 25 ? 1 : 0;
      }
    },
    mathjs: {
      expr: 'age > 60 and (smoking_status == "smokes" or smoking_status == "formerly smoked") and bmi >= 25',
      scope: (i) => ({ age: age[i], bmi: bmi[i], smoking_status: smoking.levels[smoking.codes[i]] ?? "" }),
    },
  },
  {
    name: "or_not_range",
    where: '(sex == "F" and not hypertension) or 30 <= age <= 40',
    hand: (m) => {
      const s = sex.codes;
      const h = hyper.codes;
      for (let i = 0; i < N; i++) {
        const hv = h[i];
        m[i] = (s[i] === F && hv >= 0 && hv !== TRUE) || (age[i] >= 30 && age[i] <= 40) ? 1 : 0;
      }
    },
  },
];

/** Median ms of each function, timed in alternation (so a busy machine slows all of them alike). */
function interleaved<T>(fs: Record<string, () => T>): Record<string, { ms: number; value: T }> {
  const names = Object.keys(fs);
  const times: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  const values = Object.fromEntries(names.map((k) => [k, fs[k]()])) as Record<string, T>;
  for (let r = 0; r < RUNS; r++) {
    for (const k of names) {
      const t0 = performance.now();
      values[k] = fs[k]();
      times[k].push(performance.now() - t0);
    }
  }
  return Object.fromEntries(names.map((k) => [k, { ms: median(times[k]), value: values[k] }]));
}

const engineOnly = process.argv.includes("--engine-only");
if (engineOnly) {
  if (!existsSync(OUT))
    throw new Error(`--engine-only needs part 1's results in ${OUT}: run without it first`);
  const previous = JSON.parse(readFileSync(OUT, "utf8")) as Record<string, unknown>;
  previous.engine = await runEngineBench();
  writeFileSync(OUT, `${JSON.stringify(previous, null, 2)}\n`);
  console.log(`wrote ${OUT} (engine part only)`);
  process.exit(0);
}

const results: Record<string, unknown>[] = [];
for (const c of CASES) {
  const parsed = time(() => compilePredicate(parsePredicate(c.where, metadata), table));
  const pred = parsePredicate(c.where, metadata);
  const handMask = new Uint8Array(N);
  const closureMask = new Uint8Array(N);
  const t = interleaved<Uint8Array>({
    ours: () => predicateMask(pred, table),
    hand: () => {
      c.hand(handMask);
      return handMask;
    },
    closures: () => {
      const test = compilePredicateClosures(pred, table);
      for (let i = 0; i < N; i++) closureMask[i] = test(i) ? 1 : 0;
      return closureMask;
    },
  });
  const { ours, hand, closures } = t;
  for (let i = 0; i < N; i++) {
    if (ours.value[i] !== hand.value[i] || closures.value[i] !== hand.value[i]) {
      console.error(
        `${c.name}: row ${i} ours ${ours.value[i]} closures ${closures.value[i]} hand ${hand.value[i]}; nothing written`,
      );
      process.exit(1);
    }
  }
  let selected = 0;
  for (let i = 0; i < N; i++) selected += hand.value[i];
  const entry: Record<string, unknown> = {
    name: c.name,
    where: pred.toString(),
    rows: N,
    selected_share: Number((selected / N).toFixed(4)),
    parse_compile_ms: Number(parsed.ms.toFixed(3)),
    ours_ms: Number(ours.ms.toFixed(2)),
    hand_ms: Number(hand.ms.toFixed(2)),
    ours_ns_per_row: Number(((ours.ms * 1e6) / N).toFixed(2)),
    hand_ns_per_row: Number(((hand.ms * 1e6) / N).toFixed(2)),
    ours_over_hand: Number((ours.ms / hand.ms).toFixed(2)),
    closures_ns_per_row: Number(((closures.ms * 1e6) / N).toFixed(2)),
    closures_over_hand: Number((closures.ms / hand.ms).toFixed(2)),
  };
  if (c.mathjs !== undefined) {
    const { expr, scope } = c.mathjs;
    const compiled = compile(expr);
    try {
      const m = time(() => {
        const out = new Uint8Array(N_MATHJS);
        for (let i = 0; i < N_MATHJS; i++) out[i] = compiled.evaluate(scope(i)) ? 1 : 0;
        return out;
      });
      let agree = 0;
      for (let i = 0; i < N_MATHJS; i++) if (m.value[i] === ours.value[i]) agree++;
      const nsPerRow = (m.ms * 1e6) / N_MATHJS;
      Object.assign(entry, {
        mathjs_rows: N_MATHJS,
        mathjs_ns_per_row: Number(nsPerRow.toFixed(1)),
        mathjs_over_ours: Number((nsPerRow / ((ours.ms * 1e6) / N)).toFixed(1)),
        mathjs_agreement: agree / N_MATHJS,
      });
    } catch (e) {
      Object.assign(entry, { mathjs_rows: N_MATHJS, mathjs_error: (e as Error).message });
    }
  }
  results.push(entry);
  console.log(JSON.stringify(entry));
}

const out = {
  note: `predicate evaluation on ${N.toLocaleString("en")} seeded rows: ours = predicateMask (generated loop over the typed arrays); hand = a loop written by hand over the same typed arrays; closures = our tree of small closures called per row; parse_compile = parsePredicate + compilePredicate; mathjs = compile(expr).evaluate(scope) per row on the first ${N_MATHJS.toLocaleString("en")} rows; ms = median of ${RUNS} runs after a warm-up, ours / hand / closures timed in alternation`,
  node: process.version,
  seed: SEED,
  evaluation: results,
  // Part 2: calls and tokens per accepted row for a selective (~5 %) condition, with and without
  // conditioning at the source, from scripted replies.
  engine: await runEngineBench(),
};
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${OUT}`);
