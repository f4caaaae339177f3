/**
 * models/llamacpp-grammar.ts: JSON Schema (with numeric bounds) as GBNF. The pattern builders are checked by
 * brute force (every integer of a range and around it against the generated pattern, read as a regular
 * expression); whole grammars are parsed and run by llama.cpp itself (node-llama-cpp's grammar, no model
 * needed) on accepted and rejected texts.
 */
import { describe, expect, it } from "vitest";
import { compactRowsJsonSchema, indexedRowsJsonSchema, numericBoundsFor } from "../../data/compact.ts";
import { rowColumns } from "../../data/schema.ts";
import type { Metadata } from "../../data/types.ts";
import {
  boundedNumberGbnf,
  intRangeGbnf,
  jsonSchemaToGbnf,
  MAX_ENUMERATED_INTEGERS,
  UnsupportedSchemaError,
  uintRangeAlternatives,
} from "../../models/llamacpp-grammar.ts";
import { readRealView } from "../support/generic-responder.ts";

/**
 * A GBNF fragment made only of string literals, [..] classes, {m,n} repetitions, ?, groups and | as a JS
 * regular expression (the subset the number builders emit), so patterns can be brute-forced without llama.cpp.
 */
function gbnfToRegExp(g: string): RegExp {
  const src = g
    .replace(/"((?:[^"\\]|\\.)*)"/g, (_m, lit: string) => lit.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&"))
    .replace(/ /g, "");
  return new RegExp(`^(?:${src})$`);
}

let llamaP: Promise<import("node-llama-cpp").Llama> | undefined;
async function accepts(gbnf: string, texts: readonly string[]): Promise<boolean[]> {
  const mod = await import("node-llama-cpp");
  llamaP ??= mod.getLlama({ gpu: false, logLevel: mod.LlamaLogLevel.error });
  const llama = await llamaP;
  const g = await llama.createGrammar({ grammar: gbnf });
  // isTextCompatible (internal, used by node-llama-cpp's own tests): llama.cpp's grammar matcher run over
  // the text; true only when the text completes the root rule.
  const test = (g as unknown as { _testText(t: string): boolean })._testText.bind(g);
  return texts.map((t) => test(t));
}

describe("integer ranges as digit patterns (brute force)", () => {
  const cases: Array<[number, number]> = [
    [0, 0],
    [0, 9],
    [17, 79],
    [17, 75],
    [1, 100],
    [99, 1000],
    [120, 4321],
    [12285, 13001],
    [0, 99999],
    [1000, 1000],
  ];
  for (const [lo, hi] of cases) {
    it(`[${lo}, ${hi}] matches exactly its integers (checked on 0..${hi * 2 + 20})`, () => {
      const re = gbnfToRegExp(uintRangeAlternatives(lo, hi).join(" | "));
      for (let v = 0; v <= hi * 2 + 20; v++) expect(re.test(String(v)), String(v)).toBe(v >= lo && v <= hi);
      // never a leading zero or a sign
      expect(re.test(`0${lo}`)).toBe(false);
      expect(re.test(`-${lo}`)).toBe(false);
    });
  }

  it("signed ranges: a minus sign only for negatives, no -0", () => {
    for (const [lo, hi] of [
      [-37, 1234],
      [-500, -20],
      [-9, 0],
    ] as const) {
      const re = gbnfToRegExp(intRangeGbnf(lo, hi));
      for (let v = lo - 60; v <= hi + 60; v++) expect(re.test(String(v)), String(v)).toBe(v >= lo && v <= hi);
      expect(re.test("-0")).toBe(false);
    }
    expect(intRangeGbnf(0, 5)).not.toContain('"-"');
  });

  it("a range of at most MAX_ENUMERATED_INTEGERS values is an alternation of the values", () => {
    const g = boundedNumberGbnf({ min: 17, max: 90, decimals: 0 }, true);
    expect(g.split(" | ")).toEqual(Array.from({ length: 74 }, (_, i) => `"${17 + i}"`));
    const wide = boundedNumberGbnf({ min: 0, max: MAX_ENUMERATED_INTEGERS, decimals: 0 }, true);
    expect(wide.split(" | ").length).toBeLessThan(MAX_ENUMERATED_INTEGERS);
  });

  it("decimals: integer part in [floor(min), floor(max)], at most `decimals` fraction digits", () => {
    const re = gbnfToRegExp(boundedNumberGbnf({ min: -3.2, max: 10.5, decimals: 2 }, false));
    for (const ok of ["0", "10", "10.99", "-3", "-3.99", "-0.5", "7.25", "4.1"])
      expect(re.test(ok), ok).toBe(true);
    for (const bad of ["11", "-4", "1.234", "1.", ".5", "1e3", "01", "+1"])
      expect(re.test(bad), bad).toBe(false);
    const pos = gbnfToRegExp(boundedNumberGbnf({ min: 0.5, max: 99999, decimals: 1 }, false));
    expect(pos.test("99999.9")).toBe(true);
    expect(pos.test("100000")).toBe(false);
    expect(pos.test("-1")).toBe(false);
  });
});

describe("jsonSchemaToGbnf, run by llama.cpp's grammar matcher", () => {
  it("bounds, enums, nullable positions, dates and fixed row counts", async () => {
    const schema = {
      type: "object",
      properties: {
        rows: {
          type: "array",
          minItems: 2,
          maxItems: 2,
          items: {
            type: "array",
            prefixItems: [
              { type: "integer", "x-minimum": 17, "x-maximum": 90 },
              { type: ["string", "null"], enum: ["A b", 'C"d', null] },
              { type: "number", "x-minimum": 0, "x-maximum": 99999, "x-decimals": 1 },
              { type: "string", format: "date" },
              { type: ["integer", "null"], "x-minimum": 12285, "x-maximum": 1484705 },
            ],
            items: { anyOf: [{ type: "integer" }, { type: "string" }] },
            minItems: 5,
            maxItems: 5,
          },
        },
      },
      required: ["rows"],
      additionalProperties: false,
    };
    const g = jsonSchemaToGbnf(schema);
    const row2 = '[90, null, 99999.9, "1999-12-01", null]';
    const r = await accepts(g, [
      `{"rows":[[17,"A b",0.5,"2020-01-31",12285],${row2}]}`,
      `{"rows": [[17, "C\\"d", 1, "2020-01-31", 1484705], ${row2}]}`,
      `{"rows":[[91,"A b",0.5,"2020-01-31",20000],${row2}]}`, // age above 90
      `{"rows":[[16,"A b",0.5,"2020-01-31",20000],${row2}]}`, // age below 17
      `{"rows":[[17328,"A b",0.5,"2020-01-31",20000],${row2}]}`, // the small model's favourite
      `{"rows":[[17,"A b",0.55,"2020-01-31",20000],${row2}]}`, // two decimals, one allowed
      `{"rows":[[17,"A b",100000,"2020-01-31",20000],${row2}]}`, // above 99999
      `{"rows":[[17,"A b",-1,"2020-01-31",20000],${row2}]}`, // negative, min is 0
      `{"rows":[[17,"A b",1,"2020-01-31",1484706],${row2}]}`, // fnlwgt-like bound + 1
      `{"rows":[[17,"Ab",1,"2020-01-31",20000],${row2}]}`, // not a level
      `{"rows":[[17,"A b",1,"2020-13-01",20000],${row2}]}`, // month 13
      `{"rows":[[17,"A b",1,"2020-01-31",20000]]}`, // one row, two required
      `{"rows":[[17,"A b",1,"2020-01-31"],${row2}]}`, // short row
    ]);
    expect(r).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it("objects, records, open values, string lengths and unions (agent replies)", async () => {
    const g = jsonSchemaToGbnf({
      type: "object",
      properties: {
        decision: { enum: ["continue", "stop"] },
        note: { type: "string", maxLength: 3 },
        weights: { type: "object", additionalProperties: { type: "number", minimum: 0, maximum: 1 } },
        extra: {},
        pick: { anyOf: [{ type: "boolean" }, { const: 7 }] },
        list: { type: "array", items: { type: "integer" }, maxItems: 2 },
      },
    });
    const ok =
      '{"decision":"stop","note":"ab","weights":{"a":0.5,"b":1},"extra":[1,{"x":null}],"pick":7,"list":[]}';
    const r = await accepts(g, [
      ok,
      ok.replace('"stop"', '"go"'),
      ok.replace('"ab"', '"abcd"'),
      ok.replace("0.5", "2.5"),
      // integer part 1 is in [0, 1]: the fraction may overshoot by less than 1 (the validator checks the bound)
      ok.replace("0.5", "1.5"),
      ok.replace('"pick":7', '"pick":8'),
      ok.replace('"list":[]', '"list":[1,2,3]'),
      ok.replace('"list":[]', '"list":[1, -2]'),
    ]);
    expect(r).toEqual([true, false, false, false, true, false, false, true]);
  });

  it("keywords it cannot express are an UnsupportedSchemaError (the provider then uses node-llama-cpp's builder)", () => {
    expect(() => jsonSchemaToGbnf({ $ref: "#/$defs/x", $defs: { x: { type: "string" } } })).toThrow(
      UnsupportedSchemaError,
    );
    expect(() => jsonSchemaToGbnf({ allOf: [{ type: "string" }] })).toThrow(UnsupportedSchemaError);
  });

  it("the adult row schema with numeric bounds: real rows pass, out-of-range values do not", async () => {
    const real = await readRealView(new URL("../../examples/adult.csv", import.meta.url).pathname, "income");
    const meta: Metadata = { ...real.metadata, columns: rowColumns(real.metadata) };
    expect(numericBoundsFor("llamacpp")).toBe(true);
    expect(numericBoundsFor("openai")).toBe(false);
    expect(numericBoundsFor("ollama")).toBe(false);
    const positional = compactRowsJsonSchema(meta, 1, { numericBounds: true });
    const indexed = indexedRowsJsonSchema(meta, 1, { numericBounds: true });
    // adult has no id column, so rows of all metadata columns are rows of the schema's columns
    expect(meta.columns.length).toBe(real.metadata.columns.length);
    const ageAt = meta.columns.findIndex((c) => c.name === "age");
    const age = meta.columns[ageAt];
    expect(age?.max).toBeDefined();
    // three real rows, JSON-encoded exactly as a model following the schema would write them
    const realRows = real.rows.slice(0, 3);
    const texts: string[] = [];
    for (const row of realRows) texts.push(JSON.stringify({ rows: [row] }));
    const tooOld = [...(realRows[0] as unknown[])];
    tooOld[ageAt] = (age?.max as number) + 1;
    texts.push(JSON.stringify({ rows: [tooOld] }));
    const huge = [...(realRows[0] as unknown[])];
    huge[ageAt] = 17328;
    texts.push(JSON.stringify({ rows: [huge] }));
    expect(await accepts(jsonSchemaToGbnf(positional), texts)).toEqual([true, true, true, false, false]);
    const asIndexed = (row: unknown[]): string =>
      JSON.stringify({ rows: [Object.fromEntries(row.map((v, j) => [String(j), v]))] });
    expect(
      await accepts(jsonSchemaToGbnf(indexed), [asIndexed(realRows[0] as unknown[]), asIndexed(tooOld)]),
    ).toEqual([true, false]);
  });
});

describe("withoutExtensions (what every provider but llamacpp receives)", () => {
  it("drops x- keywords at any depth and keeps property names that start with x-", async () => {
    const { withoutExtensions } = await import("../../models/structured.ts");
    expect(
      withoutExtensions({
        type: "object",
        "x-note": 1,
        properties: {
          "x-ray": { type: "number", "x-minimum": 0, "x-maximum": 5 },
          list: { type: "array", items: [{ type: "integer", "x-decimals": 0 }] },
        },
      }),
    ).toEqual({
      type: "object",
      properties: { "x-ray": { type: "number" }, list: { type: "array", items: [{ type: "integer" }] } },
    });
  });
});
