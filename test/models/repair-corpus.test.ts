/**
 * The messy-reply corpus (test/support/messy-outputs.ts) through the real clients and callStructured, as
 * bench/repair.bench.ts runs it. Expected outcomes follow from the documented rules, not from a run:
 * data/validate.ts and data/compact.ts (type-only coercions silent; case fixes, NaN → missing in a
 * never-missing column and keys that name no column (dropped) are row repairs; non-integers / out-of-range /
 * unknown categories / missing columns / wrong row lengths reject the row), models/extract.ts (fences, chatter,
 * Python literals, NaN → null, JSON Lines → an array, truncation keeps complete rows), and callStructured with
 * itemsKey "rows" (a bare array or an array one wrapper away is reshaped to {"rows": [...]} as a text repair;
 * a reply with no usable row throws).
 * Expected rows are the corpus's BASE_ROWS with the edits each case describes; Adult ranges from adult.csv.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ADULT_CSV, type CaseOutcome, runCase, totals } from "../../bench/repair.bench.ts";
import { compactRowsJsonSchema } from "../../data/compact.ts";
import { readTable } from "../../data/read.ts";
import type { Metadata, Row } from "../../data/types.ts";
import { useLlmServer } from "../support/harness.ts";
import type { TestProvider } from "../support/llm-endpoints.ts";
import { ADULT_COLUMNS, BASE_ROWS, MESSY_REPLIES } from "../support/messy-outputs.ts";

/** BASE_ROWS as rows keyed by column, with some cells replaced. */
function baseRows(edits: Record<number, Row> = {}): Row[] {
  return BASE_ROWS.map((r, i): Row => ({
    ...Object.fromEntries(ADULT_COLUMNS.map((c, j) => [c, r[j]])),
    ...edits[i],
  }));
}
const without = (rows: Row[], ...drop: number[]): Row[] => rows.filter((_, i) => !drop.includes(i));

interface Expected {
  accepted: number;
  repaired: number;
  dropped: number;
  failed: boolean;
  /** The rows returned, when the reply is usable. */
  rows?: Row[];
  /** Each must match one of the reasons. */
  reasons?: RegExp[];
  /** Each must match one of the text repairs (extractor, reshaping). */
  textRepairs?: RegExp[];
  /** The row check's repairs of accepted rows, exactly (default none). */
  itemRepairs?: string[];
}

const ALL = baseRows();

const EXPECTED: Record<string, Expected> = {
  "clean compact JSON": { accepted: 5, repaired: 0, dropped: 0, failed: false, rows: ALL },
  "code-fenced": {
    accepted: 5,
    repaired: 0,
    dropped: 0,
    failed: false,
    rows: ALL,
    textRepairs: [/code fence/],
  },
  "chatter before and after": {
    accepted: 5,
    repaired: 0,
    dropped: 0,
    failed: false,
    rows: ALL,
    textRepairs: [/text before the JSON/, /text after the JSON/],
  },
  // None in occupation: missing is allowed there (missing in the real data), so no repair.
  "python-style literals": {
    accepted: 5,
    repaired: 0,
    dropped: 0,
    failed: false,
    rows: baseRows({ 2: { occupation: null } }),
    textRepairs: [/single-quoted/, /True\/False\/None/],
  },
  "objects instead of arrays": { accepted: 5, repaired: 0, dropped: 0, failed: false, rows: ALL },
  // Reshaped to {"rows": [...]} before the rows are checked (a text repair); the rows themselves are clean.
  "bare array of objects": {
    accepted: 5,
    repaired: 0,
    dropped: 0,
    failed: false,
    rows: ALL,
    textRepairs: [/^read a bare array as "rows"$/],
  },
  // The extractor reads the five lines as one array, which is then reshaped like a bare array.
  "JSON Lines": {
    accepted: 5,
    repaired: 0,
    dropped: 0,
    failed: false,
    rows: ALL,
    textRepairs: [/one per line \(JSONL\)/, /^read a bare array as "rows"$/],
  },
  'extra wrapping object {"data": {"rows"}}': {
    accepted: 5,
    repaired: 0,
    dropped: 0,
    failed: false,
    rows: ALL,
    textRepairs: [/^read the array at "data"\."rows" as "rows"$/],
  },
  // The cut 4th row is incomplete: the extractor drops it, the three complete rows survive.
  "truncated mid-row (max tokens)": {
    accepted: 3,
    repaired: 0,
    dropped: 0,
    failed: false,
    rows: ALL.slice(0, 3),
    textRepairs: [/truncated: kept 3 items/],
  },
  "short batch (3 of 5 rows)": { accepted: 3, repaired: 0, dropped: 0, failed: false, rows: ALL.slice(0, 3) },
  // "39" → 39 changes only the JSON type: silent, not a repair.
  "numbers as strings": { accepted: 5, repaired: 0, dropped: 0, failed: false, rows: ALL },
  "integer-valued floats (39.0)": { accepted: 5, repaired: 0, dropped: 0, failed: false, rows: ALL },
  "fractional floats in integer columns (39.4)": {
    accepted: 3,
    repaired: 0,
    dropped: 2,
    failed: false,
    rows: without(ALL, 0, 2),
    reasons: [/^item 0: age: 39\.4 is not an integer$/, /^item 2: hours-per-week: 30\.5 is not an integer$/],
  },
  // Case fixes are repairs (rows 1-4); trimming " Female " alone (row 5) is silent, as is " Male " in row 2.
  "case-wrong categories": {
    accepted: 5,
    repaired: 4,
    dropped: 0,
    failed: false,
    rows: ALL,
    itemRepairs: [
      'item 0: workclass: "state-gov" read as "State-gov"',
      'item 1: workclass: "private" read as "Private"',
      'item 2: education: "some-college" read as "Some-college"',
      'item 3: native-country: "INDIA" read as "India"',
    ],
  },
  "invented category (Spacecraft)": {
    accepted: 4,
    repaired: 0,
    dropped: 1,
    failed: false,
    rows: without(ALL, 1),
    reasons: [/^item 1: occupation: "Spacecraft" is not one of \d+ categories$/],
  },
  "out-of-range age (212)": {
    accepted: 4,
    repaired: 0,
    dropped: 1,
    failed: false,
    rows: without(ALL, 2),
    reasons: [/^item 2: age: 212 is above the real maximum 90$/],
  },
  "missing column (objects without fnlwgt)": {
    accepted: 0,
    repaired: 0,
    dropped: 5,
    failed: true,
    reasons: [0, 1, 2, 3, 4].map((i) => new RegExp(`^item ${i}: lacks "fnlwgt"$`)),
  },
  // The invented key is dropped and each row kept: a row repair, not a rejection (no data is invented).
  "extra column (objects with a name)": {
    accepted: 5,
    repaired: 5,
    dropped: 0,
    failed: false,
    rows: ALL,
    itemRepairs: [0, 1, 2, 3, 4].map((i) => `item ${i}: dropped unknown column "name"`),
  },
  refusal: {
    accepted: 0,
    repaired: 0,
    dropped: 0,
    failed: true,
    reasons: [/^the reply is not valid JSON: no JSON object or array found$/],
  },
  "empty reply": {
    accepted: 0,
    repaired: 0,
    dropped: 0,
    failed: true,
    reasons: [/^the reply is not valid JSON: empty response$/],
  },
  // NaN → null; fnlwgt and capital-gain are never missing in the real data, so each is a reported repair.
  "NaN tokens": {
    accepted: 5,
    repaired: 2,
    dropped: 0,
    failed: false,
    rows: baseRows({ 0: { fnlwgt: null }, 3: { "capital-gain": null } }),
    textRepairs: [/NaN/],
    itemRepairs: [
      "item 0: fnlwgt: missing, but the real column has no missing values",
      "item 3: capital-gain: missing, but the real column has no missing values",
    ],
  },
  "row array of the wrong length": {
    accepted: 4,
    repaired: 0,
    dropped: 1,
    failed: false,
    rows: without(ALL, 1),
    reasons: [/^item 1: has 14 values, expected 15; lacks "income"$/],
  },
};

const server = useLlmServer();
let meta: Metadata;
beforeAll(async () => {
  meta = (await readTable(ADULT_CSV)).metadata;
});

function check(o: CaseOutcome, e: Expected): void {
  expect({ accepted: o.accepted, repaired: o.repaired, dropped: o.dropped, failed: o.failed }).toEqual({
    accepted: e.accepted,
    repaired: e.repaired,
    dropped: e.dropped,
    failed: e.failed,
  });
  expect(o.accepted + o.dropped + o.absent + o.lost).toBe(o.requested);
  if (e.rows) expect(o.rows).toEqual(e.rows);
  if (e.failed) expect(o.rows).toEqual([]);
  for (const re of e.reasons ?? [])
    expect(
      o.reasons.some((r) => re.test(r)),
      `${re} in ${o.reasons}`,
    ).toBe(true);
  // A usable reply without dropped rows carries no reasons.
  if (!e.failed && e.dropped === 0) expect(o.reasons).toEqual([]);
  for (const re of e.textRepairs ?? [])
    expect(
      o.textRepairs.some((r) => re.test(r)),
      `${re} in ${o.textRepairs}`,
    ).toBe(true);
  if (!e.textRepairs && !e.failed) expect(o.textRepairs).toEqual([]);
  expect(o.itemRepairs).toEqual(e.itemRepairs ?? []);
  // Each repaired row carries at least one reason.
  expect(new Set(o.itemRepairs.map((r) => r.split(":")[0])).size).toBe(o.repaired);
}

const run = (provider: TestProvider, name: string): Promise<CaseOutcome> => {
  const c = MESSY_REPLIES.find((x) => x.name === name);
  if (!c) throw new Error(`no corpus entry "${name}"`);
  return runCase(server, provider, meta, c);
};

describe("the corpus", () => {
  it("has an expectation for every entry, each a request of 5 rows", () => {
    expect(MESSY_REPLIES.map((c) => c.name).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const c of MESSY_REPLIES) expect(c.requested).toBe(5);
  });
});

describe("ChatOllama: every reply", () => {
  it.each(MESSY_REPLIES.map((c) => c.name))("%s", async (name) => {
    const o = await run("ollama", name);
    check(o, EXPECTED[name]);
    // One request, the first answer only, with the compact rows schema as Ollama's format.
    const reqs = server.chatRequests();
    expect(reqs).toHaveLength(1);
    expect(reqs[0].format).toEqual(compactRowsJsonSchema(meta, 5));
  });

  it("totals add up the per-case outcomes", async () => {
    const outcomes: CaseOutcome[] = [];
    for (const c of MESSY_REPLIES) outcomes.push(await runCase(server, "ollama", meta, c));
    const e = Object.values(EXPECTED);
    const sum = (f: (x: Expected) => number): number => e.reduce((s, x) => s + f(x), 0);
    const accepted = sum((x) => x.accepted);
    const repaired = sum((x) => x.repaired);
    const t = totals(outcomes);
    expect(t).toMatchObject({
      replies: e.length,
      requested: 5 * e.length,
      accepted,
      accepted_clean: accepted - repaired,
      accepted_repaired: repaired,
      dropped: sum((x) => x.dropped),
      unusable_replies: sum((x) => (x.failed ? 1 : 0)),
    });
    expect(t.repair_rate).toBeCloseTo(repaired / accepted, 12);
    expect(t.salvage_rate).toBeCloseTo(accepted / (5 * e.length), 12);
  });
});

describe("ChatOpenAI: a subset", () => {
  const subset = [
    "clean compact JSON",
    "python-style literals",
    "truncated mid-row (max tokens)",
    "numbers as strings",
    "case-wrong categories",
    "invented category (Spacecraft)",
    "out-of-range age (212)",
    "refusal",
    "bare array of objects",
    "JSON Lines",
    'extra wrapping object {"data": {"rows"}}',
    "extra column (objects with a name)",
  ];
  it.each(subset)("%s", async (name) => {
    const o = await run("openai", name);
    check(o, EXPECTED[name]);
    const reqs = server.chatRequests();
    expect(reqs).toHaveLength(1);
    const rf = reqs[0].responseFormat as { type: string; json_schema: { name: string } };
    expect(rf.type).toBe("json_schema");
    expect(rf.json_schema.name).toBe("rows");
  });
});
