/** Proposal validation, repair and rescaling (engines/llmsynthor/proposals.ts) and the seeded sampler (engines/llmsynthor/sampler.ts). */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { codedColumn, getColumn, tableOf } from "../../../data/build.ts";
import { decimalsOf, formatNumber } from "../../../data/cells.ts";
import { readTable } from "../../../data/read.ts";
import type { CodedColumn, Metadata, NumericColumn, Table } from "../../../data/types.ts";
import { marginalDiscrepancy } from "../../../engines/llmsynthor/discrepancy.ts";
import {
  DAY_MS,
  type Proposal,
  type RawProposal,
  validateProposal,
  validateProposals,
} from "../../../engines/llmsynthor/proposals.ts";
import { sampleProposals } from "../../../engines/llmsynthor/sampler.ts";
import { DATASETS } from "../../support/fixtures.ts";

const JAN1 = Date.UTC(2020, 0, 1);
const DEC31 = Date.UTC(2020, 11, 31);

const META: Metadata = {
  rowCount: 100,
  columns: [
    { name: "id", sdtype: "id", missingRate: 0 },
    { name: "age", sdtype: "numerical", integer: true, min: 18, max: 90, missingRate: 0 },
    { name: "income", sdtype: "numerical", integer: false, min: 0, max: 1000, missingRate: 0.1 },
    {
      name: "gender",
      sdtype: "categorical",
      levels: [
        { value: "Male", count: 60 },
        { value: "Female", count: 40 },
      ],
      missingRate: 0,
    },
    {
      name: "member",
      sdtype: "boolean",
      levels: [
        { value: "true", count: 70 },
        { value: "false", count: 30 },
      ],
      missingRate: 0,
    },
    { name: "joined", sdtype: "datetime", datetimeFormat: "date", min: JAN1, max: DEC31, missingRate: 0 },
  ],
};

const base = (): Record<string, unknown> => ({
  age: [20, 30],
  income: [100.5, 200],
  gender: "Male",
  member: "true",
  joined: ["2020-02-01", "2020-03-01"],
});

function raw(over: Record<string, unknown> = {}, num: unknown = 10, drop: string[] = []): RawProposal {
  const proposal = { ...base(), ...over };
  for (const k of drop) delete proposal[k];
  return { proposal, num, reason: "r" };
}

function ok(r: RawProposal, opts = {}) {
  const v = validateProposal(r, META, opts);
  if (!v.ok) throw new Error(`expected valid, got: ${v.reason}`);
  return v;
}

function dropped(r: RawProposal, opts = {}): string {
  const v = validateProposal(r, META, opts);
  if (v.ok) throw new Error("expected a drop");
  return v.reason;
}

describe("validateProposal", () => {
  it("accepts a proposal that follows the rules, unchanged", () => {
    const v = ok(raw());
    expect(v.repairs).toEqual([]);
    expect(v.proposal).toEqual({
      count: 10,
      reason: "r",
      parts: {
        age: { kind: "range", min: 20, max: 30 },
        income: { kind: "range", min: 100.5, max: 200 },
        gender: { kind: "category", value: "Male" },
        member: { kind: "category", value: "true" },
        joined: { kind: "range", min: Date.UTC(2020, 1, 1), max: Date.UTC(2020, 2, 1) },
      },
    });
  });

  it("repairs a category that differs only in case or spaces, and unwraps a one-element list", () => {
    const v = ok(raw({ gender: " male", member: true }));
    expect(v.proposal.parts.gender).toEqual({ kind: "category", value: "Male" });
    expect(v.proposal.parts.member).toEqual({ kind: "category", value: "true" });
    expect(v.repairs).toEqual(['"gender": " male" read as the category "Male"']);
    expect(ok(raw({ gender: ["Female"] })).proposal.parts.gender).toEqual({
      kind: "category",
      value: "Female",
    });
  });

  it("drops unknown categories and several categories for one variable", () => {
    expect(dropped(raw({ gender: "Robot" }))).toBe('"gender" has no category "Robot"');
    expect(dropped(raw({ gender: ["Male", "Female"] }))).toMatch(/"gender" has 2 categories/);
  });

  it("swaps min > max, clips to the real range, drops ranges entirely outside it", () => {
    expect(ok(raw({ age: [40, 30] })).proposal.parts.age).toEqual({ kind: "range", min: 30, max: 40 });
    const clipped = ok(raw({ age: [10, 200] }));
    expect(clipped.proposal.parts.age).toEqual({ kind: "range", min: 18, max: 90 });
    expect(clipped.repairs).toEqual(['"age": clipped to the real range [18, 90]']);
    expect(dropped(raw({ income: [1200, 5000] }))).toBe(
      '"income" range [1200,5000] lies outside the real range [0, 1000]',
    );
    expect(ok(raw({ income: [300, 200] })).repairs).toEqual(['"income": swapped min > max']);
  });

  it("snaps an integer range with no integer inside to the integer nearest its midpoint", () => {
    // midpoint 30.5 → Math.round → 31
    const v = ok(raw({ age: [30.2, 30.8] }));
    expect(v.proposal.parts.age).toEqual({ kind: "range", min: 31, max: 31 });
    expect(v.repairs[0]).toMatch(/snapped to 31, the nearest integer/);
  });

  it("reads single values, numeric strings and ISO dates; swaps reversed dates", () => {
    expect(ok(raw({ age: 25 })).proposal.parts.age).toEqual({ kind: "range", min: 25, max: 25 });
    expect(ok(raw({ income: ["10", "20.5"] })).proposal.parts.income).toEqual({
      kind: "range",
      min: 10,
      max: 20.5,
    });
    expect(ok(raw({ joined: ["2020-03-01", "2020-02-01"] })).proposal.parts.joined).toEqual({
      kind: "range",
      min: Date.UTC(2020, 1, 1),
      max: Date.UTC(2020, 2, 1),
    });
    expect(dropped(raw({ income: ["ten", 20] }))).toMatch(/"income" needs two numbers/);
  });

  it("null proposes missing where the real column has missing values; elsewhere it is filled", () => {
    expect(ok(raw({ income: null })).proposal.parts.income).toEqual({ kind: "missing" });
    const v = ok(raw({ gender: null }));
    expect(v.proposal.parts.gender).toEqual({ kind: "marginal" });
    expect(v.repairs).toEqual(['"gender" is never missing in the real data: filled from the real marginal']);
  });

  it("fills a variable left out from the marginal by default, or drops the proposal when asked", () => {
    const v = ok(raw({}, 10, ["age"]));
    expect(v.proposal.parts.age).toEqual({ kind: "marginal" });
    expect(v.repairs).toEqual(['"age" is missing from the proposal: filled from the real marginal']);
    expect(dropped(raw({}, 10, ["age"]), { missingVariable: "drop" })).toBe(
      '"age" is missing from the proposal',
    );
  });

  it("matches variable names ignoring case, ignores unknown variables and id columns", () => {
    const v = ok({
      ...raw({}, 10, ["age"]),
      proposal: { ...raw({}, 10, ["age"]).proposal, " Age": [20, 21], zodiac: "Leo", id: "7" },
    });
    expect(v.proposal.parts.age).toEqual({ kind: "range", min: 20, max: 21 });
    expect(v.repairs).toEqual([
      'variable " Age" read as "age"',
      'ignored unknown variable "zodiac"',
      'ignored id column "id" (ids are assigned)',
    ]);
    expect(Object.keys(v.proposal.parts)).toEqual(["age", "income", "gender", "member", "joined"]);
  });

  it("drops a count that is not a positive number, reads numeric strings", () => {
    expect(dropped(raw({}, 0))).toBe('"num" must be a positive number, got 0');
    expect(dropped(raw({}, "many"))).toMatch(/"num" must be a positive number/);
    expect(ok(raw({}, "12")).proposal.count).toBe(12);
  });
});

describe("validateProposals", () => {
  it("reports repairs and drops by proposal, caps the count of proposals, and rescales to the total", () => {
    const r = validateProposals(
      [raw({}, 30), raw({ gender: "Robot" }, 50), raw({ gender: "female" }, 10), raw({}, 10), raw({}, 10)],
      META,
      101,
      { maxProposals: 3 },
    );
    expect(r.proposals.map((p) => p.count)).toEqual([61, 20, 20]);
    expect(r.proposals.reduce((s, p) => s + p.count, 0)).toBe(101);
    expect(r.issues).toEqual([
      { proposal: 1, action: "dropped", reason: '"gender" has no category "Robot"' },
      { proposal: 2, action: "repaired", reason: '"gender": "female" read as the category "Female"' },
      { proposal: 4, action: "dropped", reason: "more than the 3 proposals asked for" },
    ]);
  });

  it("returns no proposals when every one is dropped", () => {
    const r = validateProposals([raw({ gender: "Robot" })], META, 10);
    expect(r.proposals).toEqual([]);
    expect(r.issues).toHaveLength(1);
  });
});

function prop(parts: Proposal["parts"], count: number): Proposal {
  return { parts, count, reason: "" };
}

const P1 = prop(
  {
    age: { kind: "range", min: 20.5, max: 23.5 },
    income: { kind: "range", min: 100, max: 300 },
    gender: { kind: "category", value: "Female" },
    member: { kind: "category", value: "false" },
    joined: { kind: "range", min: Date.UTC(2020, 5, 1), max: Date.UTC(2020, 5, 3) },
  },
  30,
);
const P2 = prop(
  {
    age: { kind: "range", min: 60, max: 60 },
    income: { kind: "missing" },
    gender: { kind: "category", value: "Male" },
    member: { kind: "category", value: "true" },
    joined: { kind: "range", min: JAN1, max: JAN1 },
  },
  20,
);

describe("sampleProposals", () => {
  it("draws each proposal's rows: categories fixed, integers integral in range, floats uniform in range, whole days", () => {
    const t = sampleProposals([P1, P2], META, 5, { shuffle: false });
    expect(t.nRows).toBe(50);
    expect(t.columns.map((c) => c.name)).toEqual(["id", "age", "income", "gender", "member", "joined"]);
    const age = (getColumn(t, "age") as NumericColumn).values;
    const income = (getColumn(t, "income") as NumericColumn).values;
    const gender = getColumn(t, "gender") as CodedColumn;
    const member = getColumn(t, "member") as CodedColumn;
    const joined = (getColumn(t, "joined") as NumericColumn).values;
    expect(gender.levels).toEqual(["Male", "Female"]);
    expect(member.levels).toEqual(["false", "true"]);
    const seenAges = new Set<number>();
    for (let i = 0; i < 30; i++) {
      expect([21, 22, 23]).toContain(age[i]);
      seenAges.add(age[i]);
      expect(income[i]).toBeGreaterThanOrEqual(100);
      expect(income[i]).toBeLessThan(300);
      expect(gender.levels[gender.codes[i]]).toBe("Female");
      expect(member.levels[member.codes[i]]).toBe("false");
      expect(joined[i] % DAY_MS).toBe(0);
      expect(joined[i]).toBeGreaterThanOrEqual(Date.UTC(2020, 5, 1));
      expect(joined[i]).toBeLessThanOrEqual(Date.UTC(2020, 5, 3));
    }
    expect(seenAges.size).toBe(3);
    for (let i = 30; i < 50; i++) {
      expect(age[i]).toBe(60);
      expect(Number.isNaN(income[i])).toBe(true);
      expect(gender.levels[gender.codes[i]]).toBe("Male");
      expect(joined[i]).toBe(JAN1);
    }
    const id = getColumn(t, "id") as CodedColumn;
    expect(id.kind).toBe("id");
    expect(Array.from(id.codes, (k) => id.levels[k])).toEqual(
      Array.from({ length: 50 }, (_, i) => String(i + 1)),
    );
  });

  it("is deterministic in the seed, and shuffling keeps each proposal's rows", () => {
    const a = sampleProposals([P1, P2], META, 9);
    expect(sampleProposals([P1, P2], META, 9)).toEqual(a);
    expect(sampleProposals([P1, P2], META, 10)).not.toEqual(a);
    const gender = getColumn(a, "gender") as CodedColumn;
    const age = (getColumn(a, "age") as NumericColumn).values;
    let males = 0;
    for (let i = 0; i < a.nRows; i++) {
      if (gender.levels[gender.codes[i]] === "Male") {
        males++;
        expect(age[i]).toBe(60);
      } else expect([21, 22, 23]).toContain(age[i]);
    }
    expect(males).toBe(20);
    const ids = getColumn(sampleProposals([P1], META, 9, { idStart: 101 }), "id") as CodedColumn;
    expect(ids.levels[ids.codes[0]]).toBe("101");
  });

  it("is uniform within a range (mean and integer frequencies within 4 standard errors)", () => {
    const n = 20_000;
    const p = prop(
      { ...P1.parts, age: { kind: "range", min: 1, max: 90 }, income: { kind: "range", min: 10, max: 20 } },
      n,
    );
    const t = sampleProposals(
      [p],
      { ...META, columns: META.columns.map((c) => (c.name === "age" ? { ...c, min: 1 } : c)) },
      1,
    );
    const income = (getColumn(t, "income") as NumericColumn).values;
    const mean = income.reduce((s, x) => s + x, 0) / n;
    expect(Math.abs(mean - 15)).toBeLessThan((4 * (10 / Math.sqrt(12))) / Math.sqrt(n));
    const age = (getColumn(t, "age") as NumericColumn).values;
    const ends = [0, 0];
    for (const x of age) {
      if (x === 1) ends[0]++;
      if (x === 90) ends[1]++;
    }
    // both ends are reachable: P = 1/90 each
    for (const c of ends)
      expect(Math.abs(c / n - 1 / 90)).toBeLessThan(4 * Math.sqrt(((1 / 90) * (89 / 90)) / n));
  });

  it("fills marginal parts from the metadata's level frequencies and missing share", () => {
    const n = 20_000;
    const p = prop({ ...P1.parts, gender: { kind: "marginal" }, income: { kind: "marginal" } }, n);
    const t = sampleProposals([p], META, 2);
    const gender = getColumn(t, "gender") as CodedColumn;
    const male = gender.codes.filter((k) => gender.levels[k] === "Male").length / n;
    expect(Math.abs(male - 0.6)).toBeLessThan(4 * Math.sqrt((0.6 * 0.4) / n));
    const income = (getColumn(t, "income") as NumericColumn).values;
    const missing = income.filter((x) => Number.isNaN(x)).length / n;
    expect(Math.abs(missing - 0.1)).toBeLessThan(4 * Math.sqrt((0.1 * 0.9) / n));
    for (const x of income) if (!Number.isNaN(x)) expect(x >= 0 && x <= 1000).toBe(true);
  });

  it("lines up with the real table: proposals of the real categories' counts give zero marginal discrepancy", () => {
    const real: Table = tableOf([
      codedColumn("gender", ["Male", "Female", "Male", "Male", "Female"], "categorical", ["Male", "Female"]),
    ]);
    const meta: Metadata = {
      rowCount: 5,
      columns: [
        {
          name: "gender",
          sdtype: "categorical",
          levels: [
            { value: "Male", count: 3 },
            { value: "Female", count: 2 },
          ],
          missingRate: 0,
        },
      ],
    };
    const syn = sampleProposals(
      [
        prop({ gender: { kind: "category", value: "Female" } }, 4),
        prop({ gender: { kind: "category", value: "Male" } }, 6),
      ],
      meta,
      0,
    );
    expect(marginalDiscrepancy(real, syn)[0].tvd).toBe(0);
  });

  it("refuses unvalidated proposals", () => {
    expect(() =>
      sampleProposals([prop({ ...P1.parts, gender: { kind: "category", value: "Robot" } }, 1)], META, 0),
    ).toThrow(/no level "Robot"/);
    expect(() => sampleProposals([prop({ ...P1.parts }, 1.5)], META, 0)).toThrow(RangeError);
  });
});

describe("sampleProposals: floats keep the real column's decimals", () => {
  // income as a float column whose real values have 2 decimals, in [0, 1000].
  const withDecimals = (d: number): Metadata => ({
    ...META,
    columns: META.columns.map((c) => (c.name === "income" ? { ...c, decimals: d } : c)),
  });
  const income = (parts: Partial<Proposal["parts"]>, n: number, d: number, seed = 3): Float64Array =>
    (
      getColumn(
        sampleProposals([prop({ ...P1.parts, ...parts } as Proposal["parts"], n)], withDecimals(d), seed),
        "income",
      ) as NumericColumn
    ).values;

  it("draws uniformly over the multiples of 10^-d inside the range (8 points, each within 4 standard errors)", () => {
    const n = 8000;
    const x = income({ income: { kind: "range", min: 100.123, max: 100.2 } }, n, 2);
    // Grid points k/100 in [100.123, 100.2]: 100.13, 100.14, …, 100.2.
    const grid = Array.from({ length: 8 }, (_, k) => (10013 + k) / 100);
    const counts = new Map(grid.map((g) => [g, 0]));
    for (const v of x) {
      expect(counts.has(v)).toBe(true);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    for (const c of counts.values())
      expect(Math.abs(c / n - 1 / 8)).toBeLessThan(4 * Math.sqrt(((1 / 8) * (7 / 8)) / n));
  });

  it("marginal draws stay in the real [min, max] with at most d decimals, written without long tails", () => {
    const x = income({ income: { kind: "marginal" } }, 5000, 1);
    for (const v of x) {
      if (Number.isNaN(v)) continue;
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1000);
      expect(formatNumber(v)).toMatch(/^\d+(\.\d)?$/);
    }
  });

  it("a range with no grid point inside gives the grid point nearest its midpoint", () => {
    // [20.11, 20.14] holds no multiple of 0.1; the midpoint 20.125 rounds to 20.1.
    const x = income({ income: { kind: "range", min: 20.11, max: 20.14 } }, 50, 1);
    expect(new Set(x)).toEqual(new Set([20.1]));
  });

  it("keeps values inside the real range even for a range past it", () => {
    const x = income({ income: { kind: "range", min: 995, max: 1005 } }, 2000, 2);
    for (const v of x) {
      expect(v).toBeGreaterThanOrEqual(995);
      expect(v).toBeLessThanOrEqual(1000);
      expect(decimalsOf(v)).toBeLessThanOrEqual(2);
    }
  });

  it("values too large for a 10-decimal grid are drawn continuously and stay in range", () => {
    const meta: Metadata = {
      ...META,
      columns: META.columns.map((c) =>
        c.name === "income" ? { ...c, min: 1e6, max: 2e6, decimals: 10 } : c,
      ),
    };
    const p = prop({ ...P1.parts, income: { kind: "range", min: 1e6, max: 2e6 } }, 1000);
    const x = (getColumn(sampleProposals([p], meta, 4), "income") as NumericColumn).values;
    expect(new Set(x).size).toBeGreaterThan(990);
    for (const v of x) {
      expect(v).toBeGreaterThanOrEqual(1e6);
      expect(v).toBeLessThanOrEqual(2e6);
    }
  });

  it("on insurance.csv metadata: bmi has at most 3 decimals, charges 6, age is whole, all in range", async () => {
    const { metadata } = await readTable(join(DATASETS, "insurance.csv"));
    const parts: Proposal["parts"] = {};
    for (const c of metadata.columns) parts[c.name] = { kind: "marginal" };
    const t = sampleProposals([prop(parts, 3000)], metadata, 11);
    for (const [name, d] of [
      ["age", 0],
      ["bmi", 3],
      ["charges", 6],
    ] as const) {
      const m = metadata.columns.find((c) => c.name === name);
      const values = (getColumn(t, name) as NumericColumn).values;
      let most = 0;
      for (const v of values) {
        expect(v).toBeGreaterThanOrEqual(m?.min ?? Number.NaN);
        expect(v).toBeLessThanOrEqual(m?.max ?? Number.NaN);
        most = Math.max(most, formatNumber(v).split(".")[1]?.length ?? 0);
      }
      // bmi and charges draw 3000 times from grids of over 10^4 points, so some value needs all d decimals.
      expect(`${name}:${most}`).toBe(`${name}:${d}`);
    }
  });
});
