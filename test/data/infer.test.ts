import { describe, expect, it } from "vitest";
import {
  decimalsOf,
  formatIsoDatetime,
  formatNumber,
  hasLeadingZero,
  isMissingMarker,
  missingMatcher,
  parseBoolean,
  parseDecimal,
  parseIsoDatetime,
  partnerLabel,
  roundTo,
} from "../../data/cells.ts";
import { DataError } from "../../data/errors.ts";
import {
  booleanLabelsOf,
  type Cell,
  columnFromCells,
  inferColumnSpec,
  isIdLikeName,
  MIN_ROWS_FOR_TEXT_ID,
} from "../../data/infer.ts";

const many = (n: number, f: (i: number) => Cell): Cell[] => Array.from({ length: n }, (_, i) => f(i));

describe("cells", () => {
  it("missing markers: trimmed, case-insensitive; custom lists", () => {
    for (const s of ["", "NA", "na", " N/A ", "NaN", "nan", "null", "NULL", "None", "none", "?"])
      expect(isMissingMarker(s)).toBe(true);
    for (const s of ["0", "Nan Goldin", "-", "n", "unknown"]) expect(isMissingMarker(s)).toBe(false);
    const custom = missingMatcher(["-", "Unknown"]);
    expect(custom("unknown")).toBe(true);
    expect(custom("NA")).toBe(false);
  });

  it("parseDecimal accepts decimal forms only", () => {
    expect(parseDecimal("53")).toBe(53);
    expect(parseDecimal(" -1.5e3 ")).toBe(-1500);
    expect(parseDecimal(".5")).toBe(0.5);
    expect(parseDecimal("5.")).toBe(5);
    expect(parseDecimal("+7")).toBe(7);
    for (const s of ["0x10", "1,000", "1_000", "Infinity", "", "1e", "e5", "12abc", "1e999"])
      expect(parseDecimal(s)).toBeNaN();
  });

  it("leading zeros mark codes", () => {
    expect(hasLeadingZero("007")).toBe(true);
    expect(hasLeadingZero("-01")).toBe(true);
    expect(hasLeadingZero("0")).toBe(false);
    expect(hasLeadingZero("0.5")).toBe(false);
    expect(hasLeadingZero("10")).toBe(false);
  });

  it("formatNumber is the shortest round-trip form", () => {
    expect(formatNumber(40)).toBe("40");
    expect(formatNumber(0.1 + 0.2)).toBe("0.30000000000000004");
    expect(formatNumber(1e-7)).toBe("1e-7");
    expect(formatNumber(Number.NaN)).toBe("");
    for (const x of [Math.PI, -1 / 3, 2 ** 53 + 2, 5e-324]) expect(Number(formatNumber(x))).toBe(x);
  });

  it("roundTo rounds like numpy.round: x·10^d to the nearest integer, ties to even, then / 10^d", () => {
    expect(roundTo(33.57794198324103, 0)).toBe(34);
    expect(roundTo(0.1 + 0.2, 1)).toBe(0.3);
    expect(roundTo(0.125, 2)).toBe(0.12); // 12.5 is a tie: to the even 12
    expect(roundTo(0.375, 2)).toBe(0.38); // 37.5: to the even 38
    expect(roundTo(-1.25, 1)).toBe(-1.2); // -12.5: to the even -12
    expect(roundTo(2.675, 2)).toBe(2.68); // 2.675·100 is 267.5 in doubles: a tie, to 268 (numpy.round: 2.68)
    expect(roundTo(7323.7348191, 6)).toBe(7323.734819);
    expect(roundTo(1e17 + 16, 2)).toBe(1e17 + 16); // already whole at this size
    expect(roundTo(Number.NaN, 2)).toBeNaN();
  });

  it("decimalsOf counts the fraction digits of the shortest text, capped at 10", () => {
    expect(decimalsOf(40)).toBe(0);
    expect(decimalsOf(2.5)).toBe(1);
    expect(decimalsOf(33.77)).toBe(2);
    expect(decimalsOf(7323.734819)).toBe(6);
    expect(decimalsOf(-0.0000983)).toBe(7);
    expect(decimalsOf(1e-7)).toBe(7);
    expect(decimalsOf(0.1 + 0.2)).toBe(10); // "0.30000000000000004" has 17
    expect(decimalsOf(1.5e-12)).toBe(10);
    expect(decimalsOf(1e300)).toBe(0);
    expect(decimalsOf(2.5, 3)).toBe(3); // starts from a known maximum
  });

  it("partnerLabel spells the other value in the same vocabulary and case", () => {
    expect(partnerLabel("Yes", true)).toBe("No");
    expect(partnerLabel("TRUE", true)).toBe("FALSE");
    expect(partnerLabel("n", false)).toBe("y");
    expect(partnerLabel("F", false)).toBe("T");
    expect(partnerLabel("False", false)).toBe("True");
    expect(partnerLabel("1", true)).toBe("0");
    expect(partnerLabel("0", false)).toBe("1");
  });

  it("parseBoolean: word pairs always, 0/1 only when allowed", () => {
    expect(parseBoolean("TRUE", false)).toBe(true);
    expect(parseBoolean(" no ", false)).toBe(false);
    expect(parseBoolean("Y", false)).toBe(true);
    expect(parseBoolean("f", false)).toBe(false);
    expect(parseBoolean("1", false)).toBeUndefined();
    expect(parseBoolean("1", true)).toBe(true);
    expect(parseBoolean("0", true)).toBe(false);
    expect(parseBoolean("2", true)).toBeUndefined();
    expect(parseBoolean("maybe", true)).toBeUndefined();
  });

  it("parseIsoDatetime: dates, date-times, offsets, impossible dates", () => {
    expect(parseIsoDatetime("2021-03-04")).toEqual({ ms: Date.UTC(2021, 2, 4), hasTime: false });
    expect(parseIsoDatetime("2021-03-04T05:06:07")).toEqual({
      ms: Date.UTC(2021, 2, 4, 5, 6, 7),
      hasTime: true,
    });
    expect(parseIsoDatetime("2021-03-04 05:06")?.ms).toBe(Date.UTC(2021, 2, 4, 5, 6));
    expect(parseIsoDatetime("2021-03-04T05:06:07.250Z")?.ms).toBe(Date.UTC(2021, 2, 4, 5, 6, 7, 250));
    expect(parseIsoDatetime("2021-03-04T05:06:07+02:00")?.ms).toBe(Date.UTC(2021, 2, 4, 3, 6, 7));
    expect(parseIsoDatetime("2021-03-04T05:06:07-0130")?.ms).toBe(Date.UTC(2021, 2, 4, 6, 36, 7));
    expect(parseIsoDatetime("2020-02-29")?.ms).toBe(Date.UTC(2020, 1, 29));
    for (const s of [
      "2021-02-29",
      "2021-02-30",
      "2021-13-01",
      "2021-00-10",
      "2021-1-5",
      "04/03/2021",
      "2021-03-04T25:00",
      "20210304",
    ]) {
      expect(parseIsoDatetime(s)).toBeUndefined();
    }
  });

  it("formatIsoDatetime writes dates and date-times", () => {
    expect(formatIsoDatetime(Date.UTC(2021, 2, 4), "date")).toBe("2021-03-04");
    expect(formatIsoDatetime(Date.UTC(2021, 2, 4, 5, 6, 7), "datetime")).toBe("2021-03-04T05:06:07Z");
    expect(formatIsoDatetime(Date.UTC(2021, 2, 4, 5, 6, 7, 250), "datetime")).toBe(
      "2021-03-04T05:06:07.250Z",
    );
    expect(formatIsoDatetime(Number.NaN, "date")).toBe("");
  });
});

describe("inferColumnSpec", () => {
  it("numerical: integer vs float; low-cardinality integers stay numerical", () => {
    expect(inferColumnSpec("age", ["39", "50", null, "38"])).toEqual({ sdtype: "numerical", integer: true });
    expect(inferColumnSpec("age", ["80.0", "54.0"])).toEqual({ sdtype: "numerical", integer: true });
    expect(inferColumnSpec("bmi", ["25.19", "27"])).toEqual({ sdtype: "numerical", integer: false });
    expect(inferColumnSpec("HeartDisease", ["0", "1", "1", "0"])).toEqual({
      sdtype: "numerical",
      integer: true,
    });
  });

  it("leading zeros make codes: categorical, or id when unique and complete in a large enough table", () => {
    expect(inferColumnSpec("zip", ["02134", "02134", "10001"]).sdtype).toBe("categorical");
    expect(
      inferColumnSpec(
        "code",
        many(MIN_ROWS_FOR_TEXT_ID, (i) => `0${i + 10}`),
      ).sdtype,
    ).toBe("id");
  });

  it("boolean only when all values come from one vocabulary pair", () => {
    expect(inferColumnSpec("a", ["TRUE", "FALSE", null])).toEqual({ sdtype: "boolean" });
    expect(inferColumnSpec("a", ["yes", "No", "YES"])).toEqual({ sdtype: "boolean" });
    expect(inferColumnSpec("a", ["Y", "N"])).toEqual({ sdtype: "boolean" });
    expect(inferColumnSpec("a", ["t", "f"])).toEqual({ sdtype: "boolean" });
    expect(inferColumnSpec("a", ["yes", "false"]).sdtype).toBe("categorical");
    expect(inferColumnSpec("a", ["yes", "no", "maybe"]).sdtype).toBe("categorical");
    expect(inferColumnSpec("a", ["0", "1"]).sdtype).toBe("numerical");
  });

  it("datetime: dates vs date-times", () => {
    expect(inferColumnSpec("d", ["2021-01-01", null, "2021-12-31"])).toEqual({
      sdtype: "datetime",
      datetimeFormat: "date",
    });
    expect(inferColumnSpec("d", ["2021-01-01", "2021-01-02T10:00:00Z"])).toEqual({
      sdtype: "datetime",
      datetimeFormat: "datetime",
    });
    expect(inferColumnSpec("d", ["2021-01-01", "soon"]).sdtype).toBe("categorical");
  });

  it("ids: unique text in a large enough table, or unique integers with an id-like name", () => {
    expect(
      inferColumnSpec(
        "name",
        many(MIN_ROWS_FOR_TEXT_ID, (i) => `person ${i}`),
      ).sdtype,
    ).toBe("id");
    expect(
      inferColumnSpec(
        "name",
        many(MIN_ROWS_FOR_TEXT_ID - 1, (i) => `person ${i}`),
      ).sdtype,
    ).toBe("categorical");
    expect(inferColumnSpec("name", [...many(30, (i) => `p${i}`), null]).sdtype).toBe("categorical");
    expect(inferColumnSpec("customer_id", ["a1", "b2"]).sdtype).toBe("id");
    expect(inferColumnSpec("ID", ["1", "2", "3"]).sdtype).toBe("id");
    expect(inferColumnSpec("user_id", ["1", "2", "2"])).toEqual({ sdtype: "numerical", integer: true });
    expect(
      inferColumnSpec(
        "count",
        many(50, (i) => String(i)),
      ),
    ).toEqual({ sdtype: "numerical", integer: true });
  });

  it("id-like names", () => {
    for (const n of ["id", "ID", "Id", "user_id", "user-ID", "order id", "userId", "CustomerID"])
      expect(isIdLikeName(n)).toBe(true);
    for (const n of ["paid", "valid", "idea", "width", "android"]) expect(isIdLikeName(n)).toBe(false);
  });

  it("all missing: numerical float", () => {
    expect(inferColumnSpec("x", [null, null])).toEqual({ sdtype: "numerical", integer: false });
  });
});

describe("booleanLabelsOf", () => {
  it("takes the most frequent spelling of each value, ties to the first seen", () => {
    expect(booleanLabelsOf(["TRUE", "FALSE", null, "TRUE"])).toEqual({ true: "TRUE", false: "FALSE" });
    expect(booleanLabelsOf(["Yes", "yes", "yes", "No"])).toEqual({ true: "yes", false: "No" });
    expect(booleanLabelsOf(["y", "Y", "n"])).toEqual({ true: "y", false: "n" });
    expect(booleanLabelsOf(["1", "0", "0"])).toEqual({ true: "1", false: "0" });
  });

  it("spells a value that never occurs like its partner", () => {
    expect(booleanLabelsOf(["Yes", "Yes"])).toEqual({ true: "Yes", false: "No" });
    expect(booleanLabelsOf([null, "FALSE"])).toEqual({ true: "TRUE", false: "FALSE" });
    expect(booleanLabelsOf(["f"])).toEqual({ true: "t", false: "f" });
    expect(booleanLabelsOf(["1"])).toEqual({ true: "1", false: "0" });
  });

  it("is undefined when every cell is missing", () => {
    expect(booleanLabelsOf([null, null])).toBeUndefined();
  });
});

describe("columnFromCells", () => {
  it("converts each type", () => {
    const origin = { firstRow: 2 };
    const n = columnFromCells("x", ["1.5", null], { sdtype: "numerical" }, origin);
    expect(n.kind === "numerical" && Array.from(n.values)).toEqual([1.5, Number.NaN]);
    const b = columnFromCells("b", ["1", "no", null], { sdtype: "boolean" }, origin);
    expect(b.kind === "boolean" && [Array.from(b.codes), b.levels]).toEqual([
      [1, 0, -1],
      ["false", "true"],
    ]);
    const d = columnFromCells("d", ["2021-01-02"], { sdtype: "datetime" }, origin);
    expect(d.kind === "datetime" && d.values[0]).toBe(Date.UTC(2021, 0, 2));
  });

  it("rejects a non-integer in a declared integer column with its spreadsheet row", () => {
    try {
      columnFromCells(
        "n",
        ["1", "2.5"],
        { sdtype: "numerical", integer: true },
        { file: "f.csv", firstRow: 2 },
      );
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect((e as DataError).row).toBe(3);
      expect((e as DataError).message).toContain('"2.5" is not an integer');
    }
  });

  it("rejects bad booleans and datetimes", () => {
    expect(() => columnFromCells("b", ["maybe"], { sdtype: "boolean" }, { firstRow: 2 })).toThrow(
      /not a boolean/,
    );
    expect(() => columnFromCells("d", ["03/04/2021"], { sdtype: "datetime" }, { firstRow: 2 })).toThrow(
      /not an ISO date/,
    );
  });
});
