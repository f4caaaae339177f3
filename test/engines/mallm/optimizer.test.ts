/**
 * The MALLM-GAN optimizer (engines/mallm/optimizer.ts) and generator (engines/mallm/generator.ts) end to end through
 * the real ChatOllama and ChatOpenAI clients against the loopback server (test double): listing-6 answers,
 * re-asks that quote the reason, skipping after a second invalid answer, messy formats; the generator's
 * listing-2 prompt on the wire and its validated rows.
 */
import { describe, expect, it } from "vitest";
import { generateBatch, generateBatchInBatch } from "../../../engines/mallm/generator.ts";
import { optimizeTheta, parseOptimizerAnswer } from "../../../engines/mallm/optimizer.ts";
import type { Metadata, Row } from "../../../data/types.ts";
import { Accounting } from "../../../models/accounting.ts";
import { DEFAULT_TEMPERATURES } from "../../../models/spec.ts";
import {
  buildMallmGeneratorPrompt,
  buildOptimizerPrompt,
  optimizerSystemPrompt,
} from "../../../engines/mallm/prompts.ts";
import type { Theta } from "../../../engines/mallm/theta.ts";
import { useLlmServer } from "../../support/harness.ts";
import { endpointFor, PROVIDERS } from "../../support/llm-endpoints.ts";

const META: Metadata = {
  rowCount: 100,
  target: "income",
  columns: [
    { name: "id", sdtype: "id", missingRate: 0 },
    { name: "age", sdtype: "numerical", integer: true, min: 17, max: 90, missingRate: 0 },
    {
      name: "workclass",
      sdtype: "categorical",
      levels: [
        { value: "Private", count: 70 },
        { value: "Self-emp", count: 30 },
      ],
      missingRate: 0,
    },
    { name: "Blood urea nitrogen", sdtype: "numerical", integer: false, min: 5, max: 40, missingRate: 0 },
    {
      name: "income",
      sdtype: "categorical",
      levels: [
        { value: "<=50K", count: 70 },
        { value: ">50K", count: 30 },
      ],
      missingRate: 0,
    },
  ],
};
const COLUMNS = ["age", "workclass", "Blood urea nitrogen", "income"];

const THETA0: Theta = {
  context: "Adults and their income class.",
  causalEdges: [["age", "income"]],
  causalNote: "",
  taskInstruction:
    "Given the description of the data, generate synthetic samples that mimic the provided samples.",
};
const PAIRS = [
  { theta: THETA0, score: 0.8571 },
  { theta: { ...THETA0, causalEdges: [["workclass", "income"]] as Array<[string, string]> }, score: 0.8 },
];

// Listing 6's shape (tags in its capitalisation, prose before the list, a name with a stray trailing space).
const VALID_LISTING6 = `<Causal structure> The optimized causal network, suggesting the influence of variable A on variable B, includes the following relationships: [('age', 'workclass'), ('workclass', 'income'), ('Blood urea nitrogen ', 'income')]
Be sure to reflect 'age' impact on 'workclass'.</Causal structure> <Task> Your task is to create realistic synthetic data, keeping the altered causal relationships as your guiding principle.</Task>"`;

const UNKNOWN_COLUMN = `<causal structure> [('salary', 'income'), ('age', 'income')] </causal structure>
<task> Keep salary consistent with income. </task>`;

const CYCLIC = `<causal structure> [('age', 'workclass'), ('workclass', 'income'), ('income', 'age')] </causal structure>
<task> Follow the loop. </task>`;

const server = useLlmServer();

describe.each(PROVIDERS)("optimizer over %s", (provider) => {
  const endpoint = () => endpointFor(server, provider, { temperature: DEFAULT_TEMPERATURES.optimizer });

  it("sends listing 5 and turns a listing-6 answer into theta", async () => {
    server.script(VALID_LISTING6);
    const accounting = new Accounting();
    const out = await optimizeTheta({
      endpoint: endpoint(),
      metadata: META,
      pairs: PAIRS,
      seed: 1,
      accounting,
    });
    expect(out).toEqual({
      theta: {
        context: THETA0.context,
        causalEdges: [
          ["age", "workclass"],
          ["workclass", "income"],
          ["Blood urea nitrogen", "income"],
        ],
        causalNote: "Be sure to reflect 'age' impact on 'workclass'.",
        taskInstruction:
          "Your task is to create realistic synthetic data, keeping the altered causal relationships as your guiding principle.",
      },
      reasons: [],
      attempts: 1,
    });
    const [req] = server.chatRequests();
    const expected = buildOptimizerPrompt({ metadata: META, pairs: PAIRS });
    expect(req.messages).toEqual([
      { role: "system", content: optimizerSystemPrompt(COLUMNS) },
      { role: "user", content: expected.user },
    ]);
    expect(req.temperature).toBe(1.0);
    expect(accounting.snapshot().by_role.optimizer?.calls).toBe(1);
  });

  it("re-asks once with the reason quoted, then accepts the corrected answer", async () => {
    server.script(UNKNOWN_COLUMN, VALID_LISTING6);
    const out = await optimizeTheta({ endpoint: endpoint(), metadata: META, pairs: PAIRS, seed: 1 });
    expect(out.attempts).toBe(2);
    expect(out.reasons).toEqual(['attempt 1: unknown column "salary" in edge ("salary", "income")']);
    expect(out.theta?.causalEdges).toHaveLength(3);
    const reqs = server.chatRequests();
    expect(reqs).toHaveLength(2);
    const second = reqs[1].messages;
    expect(second.slice(0, 3).map((m) => m.role)).toEqual(["system", "user", "assistant"]);
    expect(second[2].content).toBe(UNKNOWN_COLUMN);
    expect(second[3].role).toBe("user");
    expect(second[3].content).toContain('- unknown column "salary" in edge ("salary", "income")');
    expect(second[3].content).toContain(
      "Use only these column names: ['age', 'workclass', 'Blood urea nitrogen', 'income']",
    );
  });

  it("skips after two cyclic answers: theta null, both reasons kept", async () => {
    server.script(CYCLIC, CYCLIC);
    const out = await optimizeTheta({ endpoint: endpoint(), metadata: META, pairs: PAIRS, seed: 1 });
    expect(out).toEqual({
      theta: null,
      reasons: [
        "attempt 1: the causal structure has a cycle: age → workclass → income → age",
        "attempt 2: the causal structure has a cycle: age → workclass → income → age",
      ],
      attempts: 2,
    });
    expect(server.chatRequests()).toHaveLength(2);
    expect(server.chatRequests()[1].messages[3].content).toContain(
      "- the causal structure has a cycle: age → workclass → income → age",
    );
  });

  it("reads a fenced Python dict answer", async () => {
    server.script(
      "Here is the updated prompt:\n```python\n{'causal_structure': [('age', 'income'), ('workclass', 'income')], 'task_instruction': 'Reflect how age and workclass drive income.'}\n```",
    );
    const out = await optimizeTheta({ endpoint: endpoint(), metadata: META, pairs: PAIRS, seed: 1 });
    expect(out.theta).toEqual({
      context: THETA0.context,
      causalEdges: [
        ["age", "income"],
        ["workclass", "income"],
      ],
      causalNote: "",
      taskInstruction: "Reflect how age and workclass drive income.",
    });
  });

  it("re-asks on an empty task instruction and on an answer with no edge list", async () => {
    server.script(
      "<causal structure>[('age', 'income')]</causal structure><task>  </task>",
      "I would add more edges.",
    );
    const out = await optimizeTheta({ endpoint: endpoint(), metadata: META, pairs: PAIRS, seed: 1 });
    expect(out.theta).toBeNull();
    expect(out.reasons).toEqual([
      "attempt 1: the task instruction is empty (expected <task> ... </task>)",
      "attempt 2: the answer has no causal structure (expected <causal structure> [('A', 'B'), ...] </causal structure>)",
      "attempt 2: the task instruction is empty (expected <task> ... </task>)",
    ]);
  });
});

describe("optimizer answer parsing (messy formats)", () => {
  const ok = (text: string) => {
    const r = parseOptimizerAnswer(text, COLUMNS);
    if (!r.ok) throw new Error(r.reasons.join("; "));
    return r;
  };

  it("fenced JSON with snake_case keys", () => {
    const r = ok(
      '```json\n{"causal_structure": [["age", "income"]], "task_instruction": "Be realistic."}\n```',
    );
    expect(r).toEqual({ ok: true, edges: [["age", "income"]], note: "", task: "Be realistic." });
  });

  it("JSON whose causal structure is listing-6 text (list plus guidance)", () => {
    const r = ok(
      JSON.stringify({
        "Causal structure": "The graph: [('age', 'workclass')] Age shapes the work class.",
        Task: "Mind the ages.",
      }),
    );
    expect(r).toEqual({
      ok: true,
      edges: [["age", "workclass"]],
      note: "Age shapes the work class.",
      task: "Mind the ages.",
    });
  });

  it("edges as arrows or objects, under an edges key", () => {
    expect(ok('{"edges": ["age -> income", "workclass → income"], "prompt": "P"}').edges).toEqual([
      ["age", "income"],
      ["workclass", "income"],
    ]);
    expect(
      ok('{"causal_graph": {"edges": [{"source": "age", "target": "income"}]}, "instruction": "P"}').edges,
    ).toEqual([["age", "income"]]);
  });

  it("markdown labels instead of tags", () => {
    const r = ok(
      "**Causal structure:** [('age', 'income')]\n\n**Task instruction:** Generate convincing rows.",
    );
    expect(r).toEqual({ ok: true, edges: [["age", "income"]], note: "", task: "Generate convincing rows." });
  });

  it("tag variants and a missing closing tag", () => {
    const r = ok("<Causal_Structure>[('age','income')]\n<TASK>Keep ages plausible.");
    expect(r).toEqual({ ok: true, edges: [["age", "income"]], note: "", task: "Keep ages plausible." });
  });

  it("names matched ignoring case and spaces; duplicates dropped", () => {
    expect(
      ok(
        "<causal structure>[('AGE', 'Income'), ('age', 'income'), ('blood  urea nitrogen', 'income')]</causal structure><task>t</task>",
      ).edges,
    ).toEqual([
      ["age", "income"],
      ["Blood urea nitrogen", "income"],
    ]);
  });

  it("reports what is wrong", () => {
    expect(
      parseOptimizerAnswer("<causal structure>no list here</causal structure><task>t</task>", COLUMNS),
    ).toEqual({
      ok: false,
      reasons: ["no edge list found in the causal structure (expected [('A', 'B'), ...])"],
    });
    expect(
      parseOptimizerAnswer(
        "<causal structure>[('age', 'income', 'x')]</causal structure><task>t</task>",
        COLUMNS,
      ),
    ).toEqual({
      ok: false,
      reasons: ['edge 1 is not a pair of column names: ["age","income","x"]'],
    });
    expect(
      parseOptimizerAnswer("<causal structure>[('age', 'age')]</causal structure><task>t</task>", COLUMNS),
    ).toEqual({
      ok: false,
      reasons: ['edge ("age", "age") is a self-loop'],
    });
  });
});

describe.each(PROVIDERS)("MALLM generator over %s", (provider) => {
  const THETA: Theta = { ...THETA0, causalEdges: [["income", "age"]] };
  const EXAMPLES: Row[] = [
    { id: "1", age: 39, workclass: "Private", "Blood urea nitrogen": 12.5, income: "<=50K" },
    { id: "2", age: 52, workclass: "Self-emp", "Blood urea nitrogen": 20, income: ">50K" },
    { id: "3", age: 28, workclass: "Private", "Blood urea nitrogen": 9, income: "<=50K" },
  ];

  it("sends the listing-2 prompt with k examples and returns the valid rows of k requested", async () => {
    // Third row: age 200 is above the real maximum 90 and is dropped by the row validator.
    server.script(
      '{"rows": [[41, "Private", 11.0, "<=50K"], [60, "Self-emp", 25.5, ">50K"], [200, "Private", 9, "<=50K"]]}',
    );
    const out = await generateBatchInBatch({
      endpoint: endpointFor(server, provider),
      metadata: META,
      theta: THETA,
      examples: EXAMPLES,
      seed: 3,
    });
    expect(out.rows).toEqual([
      { id: null, age: 41, workclass: "Private", "Blood urea nitrogen": 11, income: "<=50K" },
      { id: null, age: 60, workclass: "Self-emp", "Blood urea nitrogen": 25.5, income: ">50K" },
    ]);
    expect(out.report.dropped).toBe(1);
    const [req] = server.chatRequests();
    expect(req.messages[1]).toEqual({
      role: "user",
      // The output sentence follows the row encoding each provider enforces (positional / keyed by position).
      content: buildMallmGeneratorPrompt({
        metadata: META,
        theta: THETA,
        examples: EXAMPLES,
        encoding: provider === "openai" ? "indexed" : "positional",
      }),
    });
    expect(req.messages[1].content).toContain("Generate 3 synthetic samples mimic the provided samples.");
  });

  it("causal order: the rows requested and read back in causes-first order", async () => {
    // Order by hand: ready {workclass, Blood urea nitrogen, income} → workclass, Blood urea nitrogen, income; then age.
    server.script('{"rows": [["Private", 10.0, "<=50K", 33]]}');
    const out = await generateBatchInBatch({
      endpoint: endpointFor(server, provider),
      metadata: META,
      theta: THETA,
      examples: EXAMPLES.slice(0, 1),
      causalOrder: true,
      seed: 3,
    });
    expect(out.rows).toEqual([
      { id: null, age: 33, workclass: "Private", "Blood urea nitrogen": 10, income: "<=50K" },
    ]);
    const [req] = server.chatRequests();
    expect(req.messages[1].content).toContain(
      "column order: ['workclass', 'Blood urea nitrogen', 'income', 'age']",
    );
    const format = (
      provider === "ollama"
        ? req.format
        : (req.responseFormat as { json_schema: { schema: unknown } }).json_schema.schema
    ) as {
      properties: { rows: { items: { description: string } } };
    };
    // Ollama enforces positional rows (prefixItems); OpenAI strict mode gets objects keyed by position.
    expect(format.properties.rows.items.description).toBe(
      provider === "ollama"
        ? "one row: the 4 values in this column order: workclass, Blood urea nitrogen, income, age"
        : "one row: key j holds the value of column j in this order: workclass, Blood urea nitrogen, income, age",
    );
  });

  it("a batch in pieces of k, in parallel; a piece with no usable reply counts as 0 rows", async () => {
    const batch: Row[] = [...EXAMPLES, ...EXAMPLES, { ...EXAMPLES[0], workclass: "Self-emp" }];
    server.setDefault((req) => {
      const user = req.messages[1]?.content ?? "";
      const n = Number(/holding (\d+) rows/.exec(user)?.[1]);
      // The piece whose last example is the modified row never answers with JSON.
      if (user.includes("39,Self-emp")) return "I cannot help with that.";
      return JSON.stringify({ rows: Array.from({ length: n }, (_, j) => [30 + j, "Private", 10, "<=50K"]) });
    });
    const out = await generateBatch({
      endpoint: endpointFor(server, provider),
      metadata: META,
      theta: THETA,
      batch,
      k: 3,
      seed: 5,
    });
    expect(out.requested).toBe(7);
    expect(out.rows.map((r) => r.age)).toEqual([30, 31, 32, 30, 31, 32]);
    expect(out.pieces.map((p) => p.report.accepted)).toEqual([3, 3, 0]);
    expect(out.pieces[2].attempts).toBe(3);
    expect(out.pieces[2].report.reasons[0]).toMatch(/^attempt 1: the reply is not valid JSON/);
    // 1 + 1 + 3 (the failing piece is re-asked twice by callStructured).
    expect(server.chatRequests()).toHaveLength(5);
  });
});
