/**
 * TEST DOUBLE. Messy replies of the kind an 8B local model (llama3.1:8b class) writes when asked for 5 compact
 * rows (`{"rows": [[v1, ..., v15], ...]}`) of the shared Adult dataset (adult.csv), for the loopback server to replay
 * (bench/repair.bench.ts, test/models/repair-corpus.test.ts). Hand-written, not recorded from a model: each entry
 * isolates one failure mode so its outcome can be derived from data/validate.ts and models/extract.ts.
 * The five base rows are plausible Adult rows, inside every real range and category list.
 */

export interface MessyReply {
  name: string;
  /** What the model sent back (message content). */
  reply: string;
  /** Rows the request asked for. */
  requested: number;
  /** Why the model stopped; "length" = cut off by max tokens (Ollama done_reason / OpenAI finish_reason). */
  finishReason?: "stop" | "length";
}

/** adult.csv's header order, which the compact arrays follow. */
export const ADULT_COLUMNS = [
  "age",
  "workclass",
  "fnlwgt",
  "education",
  "education-num",
  "marital-status",
  "occupation",
  "relationship",
  "race",
  "sex",
  "capital-gain",
  "capital-loss",
  "hours-per-week",
  "native-country",
  "income",
] as const;

type Cell = string | number | null;

// biome-ignore format: one row per line reads as a table
export const BASE_ROWS: readonly (readonly Cell[])[] = [
  [
    39,
    "State-gov",
    77516,
    "Bachelors",
    13,
    "Never-married",
    "Adm-clerical",
    "Not-in-family",
    "White",
    "Male",
    2174,
    0,
    40,
    "United-States",
    "<=50K",
  ],
  [
    47,
    "Private",
    183013,
    "HS-grad",
    9,
    "Married-civ-spouse",
    "Craft-repair",
    "Husband",
    "White",
    "Male",
    0,
    0,
    45,
    "United-States",
    ">50K",
  ],
  [
    26,
    "Private",
    245029,
    "Some-college",
    10,
    "Never-married",
    "Sales",
    "Own-child",
    "Black",
    "Female",
    0,
    0,
    30,
    "United-States",
    "<=50K",
  ],
  [
    58,
    "Self-emp-inc",
    121380,
    "Masters",
    14,
    "Married-civ-spouse",
    "Exec-managerial",
    "Husband",
    "Asian-Pac-Islander",
    "Male",
    15024,
    0,
    50,
    "India",
    ">50K",
  ],
  [
    33,
    "Local-gov",
    98765,
    "Assoc-acdm",
    12,
    "Divorced",
    "Prof-specialty",
    "Unmarried",
    "White",
    "Female",
    0,
    1902,
    38,
    "Mexico",
    "<=50K",
  ],
];

const col = (name: (typeof ADULT_COLUMNS)[number]): number => ADULT_COLUMNS.indexOf(name);

/** BASE_ROWS with cells replaced: edits[i] maps column → raw JSON text for row i. */
function edited(edits: Record<number, Partial<Record<(typeof ADULT_COLUMNS)[number], string>>>): string[][] {
  return BASE_ROWS.map((r, i) => r.map((v, j) => edits[i]?.[ADULT_COLUMNS[j]] ?? JSON.stringify(v)));
}

const base = (): string[][] => edited({});

/** `{"rows":[[...],...]}` from rows of JSON cell texts, as Ollama's grammar-constrained output looks. */
function compact(rows: readonly (readonly string[])[]): string {
  return `{"rows":[${rows.map((r) => `[${r.join(",")}]`).join(",")}]}`;
}

/** The same, indented the way models format JSON in chat answers. */
function pretty(rows: readonly (readonly string[])[]): string {
  return `{\n  "rows": [\n${rows.map((r) => `    [${r.join(", ")}]`).join(",\n")}\n  ]\n}`;
}

function objectText(r: readonly string[], keys: readonly string[] = ADULT_COLUMNS): string {
  return `{${keys.map((k, j) => `"${k}": ${r[j]}`).join(", ")}}`;
}

const pyCell = (v: Cell): string => (v === null ? "None" : typeof v === "string" ? `'${v}'` : String(v));

const full = compact(base());
// Cut 25 characters into the 4th row, as a max-tokens stop leaves it.
const cutAt = full.indexOf(`[${JSON.stringify(BASE_ROWS[3][0])},`) + 25;

export const MESSY_REPLIES: readonly MessyReply[] = [
  { name: "clean compact JSON", reply: full, requested: 5 },
  {
    name: "code-fenced",
    reply: `\`\`\`json\n${pretty(base())}\n\`\`\``,
    requested: 5,
  },
  {
    name: "chatter before and after",
    reply: `Here are 5 new synthetic rows that follow the schema and the real distributions:\n\n${pretty(base())}\n\nEach row respects the value ranges above. Let me know if you would like more rows!`,
    requested: 5,
  },
  {
    name: "python-style literals",
    // Single quotes, None for a missing occupation (missing in the real data too), True in a flag it added.
    reply: `{'rows': [${BASE_ROWS.map((r, i) => `[${r.map((v, j) => (i === 2 && j === col("occupation") ? "None" : pyCell(v))).join(", ")}]`).join(", ")}], 'complete': True}`,
    requested: 5,
  },
  {
    name: "objects instead of arrays",
    reply: `{"rows": [\n${base()
      .map((r) => `  ${objectText(r)}`)
      .join(",\n")}\n]}`,
    requested: 5,
  },
  {
    name: "bare array of objects",
    reply: `[\n${base()
      .map((r) => `  ${objectText(r)}`)
      .join(",\n")}\n]`,
    requested: 5,
  },
  {
    name: "JSON Lines",
    reply: base()
      .map((r) => objectText(r))
      .join("\n"),
    requested: 5,
  },
  {
    name: "truncated mid-row (max tokens)",
    reply: full.slice(0, cutAt),
    requested: 5,
    finishReason: "length",
  },
  {
    name: "short batch (3 of 5 rows)",
    reply: compact(base().slice(0, 3)),
    requested: 5,
  },
  {
    name: "numbers as strings",
    reply: compact(BASE_ROWS.map((r) => r.map((v) => JSON.stringify(typeof v === "number" ? String(v) : v)))),
    requested: 5,
  },
  {
    name: "integer-valued floats (39.0)",
    reply: compact(
      BASE_ROWS.map((r) => r.map((v) => (typeof v === "number" ? `${v}.0` : JSON.stringify(v)))),
    ),
    requested: 5,
  },
  {
    name: "fractional floats in integer columns (39.4)",
    reply: compact(edited({ 0: { age: "39.4" }, 2: { "hours-per-week": "30.5" } })),
    requested: 5,
  },
  {
    name: "case-wrong categories",
    reply: compact(
      edited({
        0: { workclass: '"state-gov"' },
        1: { workclass: '"private"', sex: '" Male "' },
        2: { education: '"some-college"' },
        3: { "native-country": '"INDIA"' },
        4: { sex: '" Female "' },
      }),
    ),
    requested: 5,
  },
  {
    name: "invented category (Spacecraft)",
    reply: compact(edited({ 1: { occupation: '"Spacecraft"' } })),
    requested: 5,
  },
  {
    name: "out-of-range age (212)",
    reply: compact(edited({ 2: { age: "212" } })),
    requested: 5,
  },
  {
    name: "missing column (objects without fnlwgt)",
    reply: `{"rows": [${base()
      .map((r) =>
        objectText(
          r.filter((_, j) => j !== col("fnlwgt")),
          ADULT_COLUMNS.filter((c) => c !== "fnlwgt"),
        ),
      )
      .join(", ")}]}`,
    requested: 5,
  },
  {
    name: "extra column (objects with a name)",
    reply: `{"rows": [${base()
      .map((r, i) =>
        objectText(
          [JSON.stringify(["John Smith", "Maria Garcia", "Aisha Brown", "Raj Patel", "Ana Lopez"][i]), ...r],
          ["name", ...ADULT_COLUMNS],
        ),
      )
      .join(", ")}]}`,
    requested: 5,
  },
  { name: "refusal", reply: "I'm sorry, but I can't help with that.", requested: 5 },
  { name: "empty reply", reply: "", requested: 5 },
  {
    name: 'extra wrapping object {"data": {"rows"}}',
    reply: `{"data": ${compact(base())}}`,
    requested: 5,
  },
  {
    name: "NaN tokens",
    reply: compact(edited({ 0: { fnlwgt: "NaN" }, 3: { "capital-gain": "NaN" } })),
    requested: 5,
  },
  {
    name: "row array of the wrong length",
    // Row 2 lost its last value (income).
    reply: compact(base().map((r, i) => (i === 1 ? r.slice(0, -1) : r))),
    requested: 5,
  },
];
