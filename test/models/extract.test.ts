import { describe, expect, it } from "vitest";
import { type ExtractResult, extractJson, extractRows } from "../../models/extract.ts";
import { createRng } from "../../stats/primitives/rng.ts";

function ok(r: ExtractResult): { value: unknown; repairs: string[] } {
  if (!r.ok) throw new Error(`expected ok, got error: ${r.error}`);
  return { value: r.value, repairs: r.repairs };
}

const ROWS = [
  { age: 39, workclass: "State-gov", income: "<=50K" },
  { age: 50, workclass: "Self-emp-not-inc", income: ">50K" },
];
const ROWS_JSON = JSON.stringify(ROWS);

describe("extractJson: clean input", () => {
  it("valid JSON needs no repairs", () => {
    expect(ok(extractJson(ROWS_JSON))).toEqual({ value: ROWS, repairs: [] });
    expect(ok(extractJson(`  \n${JSON.stringify({ rows: [[1, "a"]] }, null, 2)}\n`))).toEqual({
      value: { rows: [[1, "a"]] },
      repairs: [],
    });
  });
});

describe("extractJson: wrappers and chatter", () => {
  it("JSON given as one JSON string literal is decoded once", () => {
    expect(ok(extractJson(JSON.stringify(ROWS_JSON)))).toEqual({
      value: ROWS,
      repairs: ["decoded JSON given as a string"],
    });
    expect(ok(extractJson('"just text"'))).toEqual({ value: "just text", repairs: [] });
  });

  it("```json fence", () => {
    expect(ok(extractJson(`\`\`\`json\n${ROWS_JSON}\n\`\`\``))).toEqual({
      value: ROWS,
      repairs: ["removed markdown code fence"],
    });
  });

  it("bare ``` fence with chatter around it", () => {
    const r = ok(
      extractJson(`Sure! Here are the rows:\n\`\`\`\n${ROWS_JSON}\n\`\`\`\nLet me know if you need more.`),
    );
    expect(r.value).toEqual(ROWS);
    expect(r.repairs).toEqual(["removed markdown code fence", "skipped text outside the code fence"]);
  });

  it("leading chatter and trailing text without a fence", () => {
    const r = ok(extractJson(`Sure! Here are the rows: ${ROWS_JSON}\nThese rows follow the schema.`));
    expect(r.value).toEqual(ROWS);
    expect(r.repairs).toEqual([
      "skipped 24 characters of text before the JSON",
      "skipped 29 characters of text after the JSON",
    ]);
  });

  it("a small bracketed aside before the data loses to the longer value", () => {
    const r = ok(extractJson(`I generated [2] rows (see below):\n${ROWS_JSON}`));
    expect(r.value).toEqual(ROWS);
    expect(r.repairs).toEqual(["skipped 33 characters of text before the JSON"]);
  });

  it("an unclosed fence around a truncated array", () => {
    const r = ok(extractJson(`\`\`\`json\n[{"a": 1}, {"a": 2}, {"a"`));
    expect(r.value).toEqual([{ a: 1 }, { a: 2 }]);
    expect(r.repairs).toEqual([
      "removed markdown code fence",
      "code fence was not closed",
      "truncated: kept 2 items",
    ]);
  });
});

describe("extractJson: Python literals and lax syntax", () => {
  it("a Python list of dicts: single quotes with escapes, True/False/None, trailing commas", () => {
    const text =
      "[{'name': 'O\\'Brien', 'note': \"it's\", 'tab': 'a\\tb', 'hex': '\\x41\\u00e9', 'ok': True, 'bad': False, 'x': None,},]";
    const r = ok(extractJson(text));
    expect(r.value).toEqual([
      { name: "O'Brien", note: "it's", tab: "a\tb", hex: "Aé", ok: true, bad: false, x: null },
    ]);
    expect(r.repairs).toEqual([
      "converted single-quoted strings",
      "converted Python literals (True/False/None)",
      "removed trailing commas",
    ]);
  });

  it("tuples become lists", () => {
    const r = ok(extractJson("[(39, 'State-gov'), (50, 'Private')]"));
    expect(r.value).toEqual([
      [39, "State-gov"],
      [50, "Private"],
    ]);
    expect(r.repairs).toEqual(["converted tuples to lists", "converted single-quoted strings"]);
  });

  it("NaN / Infinity / -Infinity become null", () => {
    const r = ok(extractJson('{"a": NaN, "b": Infinity, "c": -Infinity, "d": nan, "e": 1.5}'));
    expect(r.value).toEqual({ a: null, b: null, c: null, d: null, e: 1.5 });
    expect(r.repairs).toEqual(["replaced NaN/Infinity with null"]);
  });

  it("comments (// /* */ #) are removed", () => {
    const text = '[\n  // first row\n  {"a": 1}, /* second */ {"a": 2}, # python style\n  {"a": 3}\n]';
    const r = ok(extractJson(text));
    expect(r.value).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(r.repairs).toEqual(["removed comments"]);
  });

  it("bare keys, missing commas, non-JSON numbers, raw newlines in strings, unknown escapes", () => {
    const r = ok(extractJson('{age: 39 "w": "a\nb" "n": [.5, 5., +3, 007], "p": "C:\\d"}'));
    expect(r.value).toEqual({ age: 39, w: "a\nb", n: [0.5, 5, 3, 7], p: "C:\\d" });
    expect(r.repairs).toEqual([
      "quoted bare object keys",
      "inserted missing commas",
      "kept raw control characters inside strings",
      "normalised non-JSON number formats",
      "removed leading '+' signs",
      "kept unknown escape sequences literally",
    ]);
  });

  it("a __proto__ key is data, not the prototype", () => {
    const r = ok(extractJson("{'__proto__': {'polluted': 1}, 'a': 2}"));
    const v = r.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(["__proto__", "a"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("extractJson: JSONL", () => {
  it("one object per line becomes an array", () => {
    const r = ok(extractJson(ROWS.map((x) => JSON.stringify(x)).join("\n")));
    expect(r.value).toEqual(ROWS);
    expect(r.repairs).toEqual(["read values given one per line (JSONL) as an array"]);
  });

  it("one row array per line, the last line cut off", () => {
    const r = ok(extractJson('[39, "State-gov"]\n[50, "Private"]\n[38, "Pri'));
    expect(r.value).toEqual([
      [39, "State-gov"],
      [50, "Private"],
    ]);
    expect(r.repairs).toEqual([
      "truncated: kept 2 items",
      "read values given one per line (JSONL) as an array",
    ]);
  });

  it("objects separated by commas without brackets", () => {
    expect(ok(extractJson('{"a": 1},\n{"a": 2}')).value).toEqual([{ a: 1 }, { a: 2 }]);
  });
});

describe("extractJson: truncation", () => {
  it("an array cut mid-item keeps the complete items", () => {
    const r = ok(
      extractJson(
        '[{"age": 39, "w": "State-gov"}, {"age": 50, "w": "Self-emp-not-inc"}, {"age": 38, "w": "Pri',
      ),
    );
    expect(r.value).toEqual([
      { age: 39, w: "State-gov" },
      { age: 50, w: "Self-emp-not-inc" },
    ]);
    expect(r.repairs).toEqual(["truncated: kept 2 items"]);
  });

  it("a number at the very end may be cut, so its item is dropped", () => {
    expect(ok(extractJson("[[1, 2], [3, 4], [5, 6")).value).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(ok(extractJson("[1, 2, 3")).value).toEqual([1, 2]);
  });

  it("a compact wrapper cut inside its rows keeps the complete rows", () => {
    const r = ok(extractJson('{"rows": [[39, "State-gov"], [50, "Private"], [38, '));
    expect(r.value).toEqual({
      rows: [
        [39, "State-gov"],
        [50, "Private"],
      ],
    });
    expect(r.repairs).toEqual(["truncated object: kept 1 fields", "truncated: kept 2 items"]);
  });

  it("an object cut mid-way keeps its complete top-level fields", () => {
    const r = ok(extractJson('{"a": 1, "b": {"c": 2}, "d": "unfinish'));
    expect(r.value).toEqual({ a: 1, b: { c: 2 } });
    expect(r.repairs).toEqual(["truncated object: kept 2 fields"]);
  });

  it("nothing complete is a failure", () => {
    expect(extractJson('[{"age": 39, "w": "Sta')).toEqual({
      ok: false,
      error: "output was cut off before the first complete item",
    });
    expect(extractJson('Here you go: {"rows')).toMatchObject({ ok: false });
  });

  it("every truncation of a valid array keeps exactly a prefix of its items", () => {
    const items = [
      { s: 'has "quotes", commas, ] and }', n: -1.25e-3, u: "\u00e9\u4e2d\ud83d\ude00", e: "tab\t\\" },
      { s: "", n: 0, u: null, e: [1, [2, [3]]] },
      { s: "x", n: 12345, u: true, e: { k: "v" } },
    ];
    const text = JSON.stringify(items, null, 1);
    for (let cut = 1; cut < text.length; cut++) {
      const r = extractJson(text.slice(0, cut));
      if (!r.ok) continue;
      const v = r.value as unknown[];
      expect(Array.isArray(v)).toBe(true);
      expect(v).toEqual(items.slice(0, v.length));
    }
    // Cutting right after the second item's closing brace keeps two items.
    const end2 = text.indexOf("\n },", text.indexOf('"s": ""')) + 3;
    expect(ok(extractJson(text.slice(0, end2))).value).toEqual(items.slice(0, 2));
  });
});

describe("extractJson: failures, never throws, never evaluates", () => {
  it("garbage and empty text fail with a message", () => {
    expect(extractJson("")).toEqual({ ok: false, error: "empty response" });
    expect(extractJson("I cannot help with that.")).toEqual({
      ok: false,
      error: "no JSON object or array found",
    });
    const r = extractJson("[age, workclass]");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^unexpected word "age" at offset 1/);
  });

  it("code is not evaluated", () => {
    expect(extractJson("[__import__('os').system('echo hi')]").ok).toBe(false);
    expect(extractJson('{"a": require("fs")}').ok).toBe(false);
  });

  it("deep nesting fails instead of overflowing the stack", () => {
    expect(extractJson(`${"[".repeat(100_000)}1`).ok).toBe(false);
    expect(extractJson(`${"[".repeat(300)}1${"]".repeat(300)}`)).toEqual({
      ok: true,
      value: JSON.parse(`${"[".repeat(300)}1${"]".repeat(300)}`),
      repairs: [],
    });
  });

  it("fuzz: 600 seeded random and mutated strings return a result and never throw", () => {
    const rng = createRng(7);
    const alphabet = `{}[]()"',:\\ \n\t-+.0123456789eEaxuTrueFalseNonenull#/*\`\u00e9`;
    const base = JSON.stringify({
      rows: [
        [39, "State-gov", null, true],
        [50, 'it\'s "x"', 1.5e3, false],
      ],
    });
    let oks = 0;
    for (let k = 0; k < 600; k++) {
      let s: string;
      if (k % 2 === 0) {
        const n = rng.int(80);
        s = "";
        for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
      } else {
        // Mutate a valid document: delete, insert or replace a few characters, sometimes truncate.
        s = base;
        for (let m = rng.int(4); m >= 0; m--) {
          const at = rng.int(s.length);
          const op = rng.int(3);
          const ch = alphabet[rng.int(alphabet.length)];
          s =
            op === 0
              ? s.slice(0, at) + s.slice(at + 1)
              : op === 1
                ? s.slice(0, at) + ch + s.slice(at)
                : s.slice(0, at) + ch + s.slice(at + 1);
        }
        if (rng.int(3) === 0) s = s.slice(0, rng.int(s.length));
      }
      let r: ExtractResult | undefined;
      expect(() => {
        r = extractJson(s);
      }).not.toThrow();
      expect(r).toBeDefined();
      if (r?.ok) {
        oks++;
        expect(Array.isArray(r.repairs)).toBe(true);
        expect(r.value).not.toBeUndefined();
        expect(() => JSON.stringify(r?.ok ? r.value : null)).not.toThrow();
      } else {
        expect(typeof r?.error).toBe("string");
      }
    }
    // The mutated documents are mostly recoverable; both outcomes must occur for the fuzz to mean anything.
    expect(oks).toBeGreaterThan(50);
    expect(oks).toBeLessThan(600);
  });
});

describe("extractRows", () => {
  const cols = ["age", "workclass", "income"];
  it("array of objects", () => {
    const r = extractRows(ROWS, cols);
    expect(r.problems).toEqual([]);
    expect(r.items).toEqual(ROWS.map((row) => ({ row, problems: [], repairs: [] })));
  });
  it("array of arrays, positional by column order", () => {
    const r = extractRows(
      [
        [39, "State-gov", "<=50K"],
        [50, "Self-emp-not-inc", ">50K"],
      ],
      cols,
    );
    expect(r.items.map((i) => i.row)).toEqual(ROWS);
  });
  it('{"rows": [...]} and {"data": [...]} wrappers', () => {
    expect(extractRows({ rows: ROWS }, cols).items.map((i) => i.row)).toEqual(ROWS);
    expect(extractRows({ data: [[39, "State-gov", "<=50K"]] }, cols).items.map((i) => i.row)).toEqual([
      ROWS[0],
    ]);
  });
  it("a single object becomes one row", () => {
    expect(extractRows(ROWS[1], cols).items).toEqual([{ row: ROWS[1], problems: [], repairs: [] }]);
  });
  it("per-item problems", () => {
    const r = extractRows([{ age: 1, workclass: "x" }, [1, "x"], "oops"], cols);
    expect(r.items.map((i) => i.problems)).toEqual([
      ['row 1 lacks "income"'],
      ["row 2 has 2 values, expected 3", 'row 2 lacks "income"'],
      ["row 3 is a string, not a row"],
    ]);
  });
  it("end to end: a truncated, fenced Python answer", () => {
    const text =
      "```python\n[{'age': 39, 'workclass': 'State-gov', 'income': '<=50K'}, {'age': 50, 'workclass': None, 'inc";
    const r = extractRows(ok(extractJson(text)).value, cols);
    expect(r.items).toEqual([{ row: ROWS[0], problems: [], repairs: [] }]);
  });
  it("an invented key is dropped and reported; the row is kept", () => {
    const r = extractRows([{ name: "Ann", ...ROWS[0] }], cols);
    expect(r.items).toEqual([{ row: ROWS[0], problems: [], repairs: ['dropped unknown column "name"'] }]);
  });
});
