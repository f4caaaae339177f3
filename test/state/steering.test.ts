/**
 * validateAction (state/steering.ts) on the small hand-made table of test/support/harness.ts (realRows: age
 * 20..59 whole numbers, sex Female/Male, hours, income <=50K/>50K): a steering condition is parsed with the
 * predicate language (column names, category levels), checked for feasibility against the real ranges, and
 * given back in canonical form with the columns it reads; the other actions keep their checks.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { SynthgraphError } from "../../data/errors.ts";
import { parsePredicate } from "../../data/predicate/index.ts";
import { readTable } from "../../data/read.ts";
import type { Metadata, Table } from "../../data/types.ts";
import { type SteeringAction, type SteeringContext, validateAction } from "../../state/steering.ts";
import { writeRealCsv } from "../support/harness.ts";

let ctx: SteeringContext;
let metadata: Metadata;
let table: Table;

beforeAll(async () => {
  const r = await readTable(writeRealCsv(mkdtempSync(join(tmpdir(), "steering-validate-"))));
  metadata = r.metadata;
  table = r.table;
  ctx = { metadata, table, minRows: 0 };
});

const rejected = (action: SteeringAction, c: SteeringContext = ctx): Error => {
  try {
    validateAction(action, c);
  } catch (e) {
    expect(e).toMatchObject({ exitCode: 2 });
    return e as Error;
  }
  throw new Error(`accepted ${JSON.stringify(action)}`);
};

describe("validateAction: conditions in the predicate language", () => {
  it("returns a valid condition in canonical form with the columns it reads", () => {
    const text = "age>50 && sex=='Female'";
    const out = validateAction({ type: "condition", text }, ctx);
    // The canonical text is the one the predicate parser prints for the same condition.
    expect(out).toEqual({
      type: "condition",
      text: parsePredicate(text, metadata).toString(),
      columns: ["age", "sex"],
    });
    expect(out).toMatchObject({ text: 'age > 50 and sex == "Female"' });
  });

  it("rejects an unknown column and says what was probably meant", () => {
    const e = rejected({ type: "condition", text: "agee > 50" });
    expect(e.message).toMatch(/^steering condition rejected: invalid condition "agee > 50"/);
    expect(e.message).toContain('"age"');
  });

  it("rejects a category value the column does not have, naming its levels", () => {
    const e = rejected({ type: "condition", text: 'sex == "Other"' }) as SynthgraphError;
    expect(e.message).toContain('"Other" is not a level of column "sex"');
    expect(e.hint).toBe('the levels of "sex" are: "Female", "Male"');
    // A near miss gets a suggestion.
    expect(rejected({ type: "condition", text: 'sex == "female"' }).message).toContain(
      'did you mean "Female"',
    );
  });

  it("rejects a condition no value can meet: outside the real range 20..59, or a contradiction", () => {
    const out = rejected({ type: "condition", text: "age > 100" });
    expect(out.message).toContain("can never hold");
    expect(out.message).toContain("20 to 59");
    expect(rejected({ type: "condition", text: "age > 50 and age < 40" }).message).toContain(
      "can never hold",
    );
    // Feasibility needs the metadata only: the same holds without the table.
    expect(rejected({ type: "condition", text: "age > 100" }, { metadata, minRows: 0 }).message).toContain(
      "can never hold",
    );
  });

  it("rejects a condition that does not parse", () => {
    expect(rejected({ type: "condition", text: "age >> 5" }).message).toMatch(/steering condition rejected/);
  });

  it("keeps the column list's check (unknown columns listed first)", () => {
    const e = rejected({ type: "condition", columns: ["agee"], text: "agee > 80" });
    expect(e.message).toBe("condition names unknown column(s): agee");
    // A correct list is replaced by the columns the condition reads.
    expect(validateAction({ type: "condition", columns: ["income", "age"], text: "age > 30" }, ctx)).toEqual({
      type: "condition",
      text: "age > 30",
      columns: ["age"],
    });
  });
});

describe("validateAction: the other actions", () => {
  it("checks rows against the pool and passes the rest unchanged", () => {
    expect(rejected({ type: "rows", rows: 4 }, { metadata, minRows: 5 }).message).toContain(
      "below the 5 rows",
    );
    expect(validateAction({ type: "rows", rows: 5 }, { metadata, minRows: 5 })).toEqual({
      type: "rows",
      rows: 5,
    });
    expect(validateAction({ type: "feedback", text: " more old people " }, ctx)).toEqual({
      type: "feedback",
      text: "more old people",
    });
    expect(rejected({ type: "feedback", text: "  " }).message).toMatch(/invalid steering action/);
  });
});
