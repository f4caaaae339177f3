import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseTable, readTable } from "../../data/read.ts";
import { columnDescription, rowJsonSchema, rowZodSchema } from "../../data/schema.ts";
import { DATASETS } from "../support/fixtures.ts";

function keysDeep(x: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(x)) for (const v of x) keysDeep(v, out);
  else if (typeof x === "object" && x !== null) {
    for (const [k, v] of Object.entries(x)) {
      out.add(k);
      keysDeep(v, out);
    }
  }
  return out;
}

type JsonSchema = {
  type: string;
  properties: Record<string, Record<string, unknown>>;
  required: string[];
  additionalProperties: boolean;
};

describe("row schemas", () => {
  const csv = "id,age,bmi,sex,ok,day\n1,17,20.5,M,yes,2021-01-01\n2,90,,F,no,2021-12-31\n3,40,30,F,yes,\n";
  const { metadata } = parseTable(csv);

  it("JSON Schema: every property required, nullable where the real data has missing, no extra properties", () => {
    const s = rowJsonSchema(metadata) as unknown as JsonSchema;
    expect(s.type).toBe("object");
    expect(s.additionalProperties).toBe(false);
    expect(s.required).toEqual(["age", "bmi", "sex", "ok", "day"]); // id excluded by default
    expect(s.properties.age).toEqual({ type: "number", description: "integer, 17 to 90" });
    expect(s.properties.bmi).toEqual({
      type: ["number", "null"],
      description:
        "number with up to 1 decimal, 20.5 to 30; null when missing (33.3% missing in the real data)",
    });
    expect(s.properties.sex).toEqual({
      type: "string",
      enum: ["F", "M"],
      description: "one of 2 categories",
    });
    expect(s.properties.ok).toEqual({ type: "boolean", description: "true or false" });
    expect(s.properties.day.description).toBe(
      "date YYYY-MM-DD, 2021-01-01 to 2021-12-31; null when missing (33.3% missing in the real data)",
    );
  });

  it("JSON Schema has no minimum/maximum keywords (OpenAI strict mode)", () => {
    const keys = keysDeep(rowJsonSchema(metadata));
    for (const k of ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength"])
      expect(keys.has(k)).toBe(false);
  });

  it("ids can be included", () => {
    const s = rowJsonSchema(metadata, { includeIds: true }) as unknown as JsonSchema;
    expect(s.required[0]).toBe("id");
  });

  it("zod schema accepts a good row and rejects bad ones", () => {
    const z = rowZodSchema(metadata);
    expect(z.safeParse({ age: 30, bmi: null, sex: "M", ok: true, day: "2021-05-05" }).success).toBe(true);
    expect(z.safeParse({ age: 30, bmi: null, sex: "X", ok: true, day: null }).success).toBe(false);
    expect(z.safeParse({ age: null, bmi: 1, sex: "M", ok: true, day: null }).success).toBe(false);
    expect(z.safeParse({ age: 30, bmi: 1, sex: "M", ok: true, day: null, extra: 1 }).success).toBe(false);
  });

  it("many categories become a string with the count in the description", () => {
    const lines = ["c"];
    for (let i = 0; i < 1200; i++) lines.push(`v${i % 600}`);
    const m = parseTable(lines.join("\n")).metadata;
    const s = rowJsonSchema(m) as unknown as JsonSchema;
    expect(s.properties.c).toEqual({
      type: "string",
      description: "one of 600 categories (listed in the prompt)",
    });
    expect(
      (rowJsonSchema(m, { maxEnumValues: 1000 }) as unknown as JsonSchema).properties.c.enum,
    ).toHaveLength(600);
  });

  it("adult.csv descriptions", async () => {
    const r = await readTable(join(DATASETS, "adult.csv"));
    const age = r.metadata.columns.find((c) => c.name === "age");
    const wc = r.metadata.columns.find((c) => c.name === "workclass");
    if (!age || !wc) throw new Error("columns");
    expect(columnDescription(age)).toBe("integer, 17 to 90");
    // 1836 of 32561 missing = 5.638...%
    expect(columnDescription(wc)).toBe(
      "one of 8 categories; null when missing (5.64% missing in the real data)",
    );
  });
});
