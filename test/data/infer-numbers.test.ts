/**
 * Inference of numbers that plain parsing rejects (data/infer.ts): thousands separators and decimal commas
 * when the cells rule the other reading out, and numeric columns with a few stray tokens. Expected values are
 * the cells' own digits with the separator removed or the comma read as a point (shown per case).
 */
import { describe, expect, it } from "vitest";
import { inferColumnSpec, inferNumberFormat, MAX_STRAY_SHARE, parseNumberAs } from "../../data/infer.ts";

describe("inferNumberFormat", () => {
  it("thousands when a cell has a decimal point after a comma group or two comma groups", () => {
    expect(inferNumberFormat(["16,884.92", "1,725.55", "4449.46"])).toBe("thousands");
    expect(inferNumberFormat(["1,234,567", "12"])).toBe("thousands");
    // 16,884.92 → 16884.92 (the comma dropped).
    expect(parseNumberAs("16,884.92", "thousands")).toBe(16884.92);
  });
  it("decimal comma when a comma is followed by other than three digits", () => {
    expect(inferNumberFormat(["27,9", "33,77", "25"])).toBe("decimal-comma");
    // 27,9 → 27.9 (the comma read as the decimal point).
    expect(parseNumberAs("27,9", "decimal-comma")).toBe(27.9);
  });
  it("undefined when ambiguous, mixed or not numbers", () => {
    expect(inferNumberFormat(["1,234", "5,678"])).toBeUndefined(); // 1234 or 1.234: nothing decides
    expect(inferNumberFormat(["1,234.5", "27,9"])).toBeUndefined(); // both readings contradicted
    expect(inferNumberFormat(["red", "1,234.5"])).toBeUndefined();
    expect(inferNumberFormat(["12", "13"])).toBeUndefined(); // no comma: plain numbers
  });
});

describe("inferColumnSpec on numbers written with text", () => {
  it("charges with thousands separators are numerical with a note, not an id", () => {
    const cells = Array.from({ length: 30 }, (_, i) => `${i + 1},${String(100 + i).padStart(3, "0")}.5`);
    const spec = inferColumnSpec("charges", cells);
    expect(spec).toMatchObject({ sdtype: "numerical", integer: false, numberFormat: "thousands" });
    expect(spec.notes?.[0]).toMatch(/column "charges" is read as numbers with "," as a thousands separator/);
  });
  it("a numeric column with a few stray tokens: numbers, the tokens missing, a note with examples", () => {
    const cells = [...Array.from({ length: 40 }, (_, i) => String(20 + i)), "n/a", "?"];
    // 2 stray of 42 cells = 4.8% ≤ MAX_STRAY_SHARE (5%).
    expect(2 / 42).toBeLessThanOrEqual(MAX_STRAY_SHARE);
    const spec = inferColumnSpec("age", cells);
    expect(spec).toMatchObject({ sdtype: "numerical", integer: true, strayAsMissing: true });
    expect(spec.notes?.[0]).toContain('2 cell(s) holding "n/a", "?"');
  });
  it("too many stray cells stay categorical", () => {
    const cells = [...Array.from({ length: 10 }, (_, i) => String(i)), "a", "b"];
    // 2 of 12 = 16.7% > 5%.
    expect(inferColumnSpec("x", cells).sdtype).toBe("categorical");
  });
});

describe("the decimal mark stated by the user (--decimal)", () => {
  it('"," reads an ambiguous column with decimal commas, with a note naming the flag', () => {
    const cells = ["1,234", "5,678", "12"];
    // Inferred: nothing decides between 1234 and 1.234, so the column stays text.
    expect(inferColumnSpec("w", cells).sdtype).toBe("categorical");
    const spec = inferColumnSpec("w", cells, { decimal: "," });
    expect(spec).toMatchObject({ sdtype: "numerical", integer: false, numberFormat: "decimal-comma" });
    expect(spec.notes?.[0]).toMatch(
      /column "w" is read as numbers with "," as the decimal mark \(--decimal ,\)/,
    );
    // 1,234 → 1.234; 5,678 → 5.678 (the comma read as the point).
    expect(cells.map((c) => parseNumberAs(c, "decimal-comma"))).toEqual([1.234, 5.678, 12]);
  });
  it('"," also reads dots grouping thousands before a decimal comma, and plain numbers as they are', () => {
    // 1.234,5 → 1234.5 (dots dropped, comma read as the point); 27.9 has no comma: a plain number.
    expect(parseNumberAs("1.234,5", "decimal-comma")).toBe(1234.5);
    expect(parseNumberAs("27.9", "decimal-comma")).toBe(27.9);
    // Thousands written with commas are not numbers under a decimal comma.
    expect(Number.isNaN(parseNumberAs("16,884.92", "decimal-comma"))).toBe(true);
    expect(inferColumnSpec("c", ["16,884.92", "1,725.55"], { decimal: "," }).sdtype).toBe("categorical");
  });
  it('"." never reads a comma as the decimal mark; thousands separators are still inferred', () => {
    expect(inferColumnSpec("bmi", ["27,9", "33,77", "25"], { decimal: "." }).sdtype).toBe("categorical");
    expect(inferColumnSpec("c", ["16,884.92", "1,725.55"], { decimal: "." })).toMatchObject({
      sdtype: "numerical",
      numberFormat: "thousands",
    });
  });
});
