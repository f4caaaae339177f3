/**
 * Each tool of synthgraphTools through `tool.invoke`, with good and bad input. References: the functions the
 * CLI runs (runEvaluate, analyzeFiles, learnStructure) on the same files, values read off the small tables
 * by hand (realRows: age 20..59, sex Female/Male, income <=50K/>50K), and the durable runner's outputs.
 */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { beforeAll, describe, expect, it } from "vitest";
import { runEvaluate } from "../../cli/evaluate.ts";
import { metadataToJson, parseMetadataJson } from "../../data/metadata.ts";
import { readTable } from "../../data/read.ts";
import { readRunFile } from "../../state/run-dir.ts";
import { toJson } from "../../stats/metrics/evaluate.ts";
import { synllmSuite } from "../../stats/metrics/synllm/index.ts";
import { learnStructure } from "../../stats/structure/hill-climb.ts";
import { analyzeFiles } from "../../tools/analyze.ts";
import { synthgraphTools, TOOL_SPECS } from "../../tools/index.ts";
import { CheckRowsOutput } from "../../tools/rows.ts";
import { RunStatusOutput, StartRunOutput } from "../../tools/runs.ts";
import { EvaluateOutput, InferMetadataOutput, StructureOutput } from "../../tools/tables.ts";
import { DATASETS } from "../support/fixtures.ts";
import { csvRows, loopbackModels, useLlmServer, writeRealCsv } from "../support/harness.ts";
import { responder } from "../support/synthia.ts";
import { commaTable } from "../support/tables.ts";

const server = useLlmServer();
const SECRET = "sk-live-secret-0123456789abcdef";

let root: string;
let outside: string;
let tools: StructuredToolInterface[];

const named = (name: string): StructuredToolInterface => {
  const t = tools.find((x) => x.name === name);
  if (!t) throw new Error(`no tool ${name}`);
  return t;
};
const call = async (name: string, input: Record<string, unknown>): Promise<unknown> =>
  JSON.parse((await named(name).invoke(input)) as string);

// commas.csv: weights written with a decimal comma, text unless read with decimal "," (test/support/tables.ts).
const COMMAS = commaTable();

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "tools-root-"));
  outside = mkdtempSync(join(tmpdir(), "tools-outside-"));
  // insurance.csv split in two halves inside the root: rows 1-600 "real", 601-1200 "synthetic", rest holdout.
  const lines = readFileSync(join(DATASETS, "insurance.csv"), "utf8").trimEnd().split("\n");
  writeFileSync(join(root, "real.csv"), [lines[0], ...lines.slice(1, 601)].join("\n"));
  writeFileSync(join(root, "synth.csv"), [lines[0], ...lines.slice(601, 1201)].join("\n"));
  writeFileSync(join(root, "holdout.csv"), [lines[0], ...lines.slice(1201)].join("\n"));
  mkdirSync(join(root, "small"));
  writeRealCsv(join(root, "small"));
  writeFileSync(join(root, "commas.csv"), COMMAS.csv);
  writeFileSync(join(outside, "secret.csv"), "a,b\n1,2\n");
  symlinkSync(join(outside, "secret.csv"), join(root, "link.csv"));
  symlinkSync(outside, join(root, "linkdir"));
  tools = synthgraphTools({
    root,
    env: { OLLAMA_HOST: "http://127.0.0.1:9", OPENAI_API_KEY: SECRET },
  });
});

describe("synthgraphTools", () => {
  it("lists every tool with a zod input schema, a description and an output schema", () => {
    expect(tools.map((t) => t.name)).toEqual(TOOL_SPECS.map((s) => s.name));
    expect(tools.map((t) => t.name)).toEqual([
      "evaluate",
      "analyze",
      "infer_metadata",
      "structure",
      "check_rows",
      "sample",
      "start_run",
      "run_status",
      "steer_run",
      "resume_run",
    ]);
    for (const t of tools) {
      expect(t.description.length).toBeGreaterThan(80);
      expect(
        (t as unknown as { metadata: { output_schema: { type: string } } }).metadata.output_schema.type,
      ).toBe("object");
    }
  });

  it("evaluate: the CLI's evaluation of the same files, summary and quality report", async () => {
    const out = EvaluateOutput.parse(
      await call("evaluate", {
        real: "real.csv",
        synthetic: "synth.csv",
        holdout: "holdout.csv",
        target: "smoker",
      }),
    );
    const ref = JSON.parse(
      toJson(
        await runEvaluate({
          real: join(root, "real.csv"),
          synthetic: join(root, "synth.csv"),
          holdout: join(root, "holdout.csv"),
          target: "smoker",
          randomForest: false,
        }),
        0,
      ),
    );
    expect(out.summary).toEqual(ref.summary);
    expect(out.quality_report).toEqual(ref.quality_report);
    expect(out.summary.rows).toEqual({ real: 600, synthetic: 600, holdout: 1338 - 1200 });
    expect(out.detail).toBeUndefined();
    const detailed = EvaluateOutput.parse(
      await call("evaluate", { real: "real.csv", synthetic: "synth.csv", detail: true }),
    );
    expect(Object.keys(detailed.detail?.column_shapes as object).sort()).toEqual([
      "age",
      "bmi",
      "charges",
      "children",
      "region",
      "sex",
      "smoker",
    ]);
  });

  it("evaluate with suite synllm: the library's SynLLM scores of the same files; refused without a target", async () => {
    const out = EvaluateOutput.parse(
      await call("evaluate", {
        real: "real.csv",
        synthetic: "synth.csv",
        holdout: "holdout.csv",
        target: "smoker",
        suite: "synllm",
      }),
    );
    // The suite computed here on the files as the CLI reads them (types inferred on real, imposed on the rest).
    const real = await readTable(join(root, "real.csv"), { target: "smoker" });
    const same = { metadata: metadataToJson(real.metadata) };
    const syn = await readTable(join(root, "synth.csv"), same);
    const hold = await readTable(join(root, "holdout.csv"), same);
    const ref = JSON.parse(
      toJson(synllmSuite(real.table, syn.table, { target: "smoker", seed: 0, holdout: hold.table })),
    );
    expect(out.synllm).toEqual(ref);
    expect(out.synllm).toHaveProperty("harmonic");
    const plain = EvaluateOutput.parse(await call("evaluate", { real: "real.csv", synthetic: "synth.csv" }));
    expect(plain.synllm).toBeUndefined();
    await expect(
      named("evaluate").invoke({ real: "real.csv", synthetic: "synth.csv", suite: "synllm" }),
    ).rejects.toThrow(/suite synllm needs --target/);
  });

  it("evaluate with decimal: ',' reads decimal commas as numbers, as `evaluate --decimal ,` does", async () => {
    const shapesOf = async (extra: Record<string, unknown>) =>
      EvaluateOutput.parse(
        await call("evaluate", { real: "commas.csv", synthetic: "commas.csv", detail: true, ...extra }),
      ).detail?.column_shapes as Record<string, Record<string, unknown>>;
    expect(Object.keys((await shapesOf({})).weight)).not.toContain("ks_complement");
    expect(Object.keys((await shapesOf({ decimal: "," })).weight)).toContain("ks_complement");
    await expect(
      named("evaluate").invoke({ real: "commas.csv", synthetic: "commas.csv", decimal: ";" }),
    ).rejects.toThrow(/schema/i);
  });

  it("evaluate: bad input is an error naming what is wrong", async () => {
    await expect(named("evaluate").invoke({ real: "real.csv" })).rejects.toThrow(/schema/i);
    await expect(
      named("evaluate").invoke({ real: "real.csv", synthetic: "synth.csv", target: "nope" }),
    ).rejects.toThrow(/nope/);
    await expect(named("evaluate").invoke({ real: "missing.csv", synthetic: "synth.csv" })).rejects.toThrow(
      /missing\.csv does not exist under the root/,
    );
  });

  it("evaluate with a condition: the CLI's --where evaluation, on the rows satisfying it in every table", async () => {
    const condition = "smoker=='yes' && age>=40";
    const out = EvaluateOutput.parse(
      await call("evaluate", { real: "real.csv", synthetic: "synth.csv", holdout: "holdout.csv", condition }),
    );
    const ref = JSON.parse(
      toJson(
        await runEvaluate({
          real: join(root, "real.csv"),
          synthetic: join(root, "synth.csv"),
          holdout: join(root, "holdout.csv"),
          where: condition,
          randomForest: false,
        }),
        0,
      ),
    );
    expect(out.summary).toEqual(ref.summary);
    expect(out.quality_report).toEqual(ref.quality_report);
    // smoker holds yes/no, read as a boolean column: its canonical form is `true`.
    expect(out.condition).toBe("smoker == true and age >= 40");
    // Brute force: the rows of each CSV whose smoker cell is "yes" and age cell at least 40.
    const count = (file: string): number =>
      readFileSync(join(root, file), "utf8")
        .trimEnd()
        .split("\n")
        .slice(1)
        .map((l) => l.split(","))
        .filter((c) => c[4] === "yes" && Number(c[0]) >= 40).length;
    expect(out.summary.rows).toEqual({
      real: count("real.csv"),
      synthetic: count("synth.csv"),
      holdout: count("holdout.csv"),
    });
    expect(out.summary.rows.real).toBeLessThan(600);
    // Without a condition the field is null and every row counts.
    expect(
      EvaluateOutput.parse(await call("evaluate", { real: "real.csv", synthetic: "synth.csv" })).condition,
    ).toBeNull();
  });

  it("evaluate with a bad condition: an unknown column, or too few rows satisfying it, is an error", async () => {
    await expect(
      named("evaluate").invoke({ real: "real.csv", synthetic: "synth.csv", condition: "smokr == 'yes'" }),
    ).rejects.toThrow(/invalid condition.*smokr.*did you mean "smoker"/);
    // insurance.csv has ages 18..64: age == 64 and bmi > 50 holds for no row of the halves.
    await expect(
      named("evaluate").invoke({
        real: "real.csv",
        synthetic: "synth.csv",
        condition: "age == 64 and bmi > 50",
      }),
    ).rejects.toThrow(/too few to compare/);
    await expect(
      named("evaluate").invoke({ real: "real.csv", synthetic: "synth.csv", condition: "" }),
    ).rejects.toThrow(/schema/i);
  });

  it("analyze: the analyzer's diagnostics and summary of the same files", async () => {
    const out = await call("analyze", { real: "real.csv", synthetic: "synth.csv" });
    const ref = JSON.parse(toJson(await analyzeFiles(join(root, "real.csv"), join(root, "synth.csv")), 0));
    expect(out).toEqual(ref);
    await expect(named("analyze").invoke({ real: "real.csv", synthetic: 42 })).rejects.toThrow(/schema/i);
  });

  it("analyze with decimal: ',' reads the comma weights of both tables as numbers (KS), without it as text", async () => {
    type Diag = { diagnostics: { ks: Record<string, unknown>; cs: Record<string, unknown> } };
    const out = (await call("analyze", {
      real: "commas.csv",
      synthetic: "commas.csv",
      decimal: ",",
    })) as Diag;
    const commas = join(root, "commas.csv");
    const ref = JSON.parse(toJson(await analyzeFiles(commas, commas, undefined, { decimal: "," }), 0));
    expect(out).toEqual(ref);
    expect(Object.keys(out.diagnostics.ks)).toContain("weight");
    expect(Object.keys(out.diagnostics.cs)).not.toContain("weight");
    const text = (await call("analyze", { real: "commas.csv", synthetic: "commas.csv" })) as Diag;
    expect(Object.keys(text.diagnostics.ks)).not.toContain("weight");
    expect(Object.keys(text.diagnostics.cs)).toContain("weight");
  });

  it("infer_metadata: types, ranges and categories of the small table (age 20..59, two sexes)", async () => {
    const out = InferMetadataOutput.parse(
      await call("infer_metadata", { data: "small/real.csv", target: "income" }),
    );
    expect(out.rows).toBe(40);
    expect(out.target).toBe("income");
    const age = out.columns.find((c) => c.name === "age");
    expect(age).toMatchObject({ sdtype: "numerical", integer: true, min: 20, max: 59, missing_rate: 0 });
    expect(out.columns.find((c) => c.name === "sex")).toMatchObject({ sdtype: "categorical", categories: 2 });
    expect(out.columns.find((c) => c.name === "income")).toMatchObject({ categories: 2 });
    // The returned metadata is valid SDV JSON that reads the table the same way.
    const again = await readTable(join(root, "small/real.csv"), {
      metadata: parseMetadataJson(out.metadata),
    });
    expect(again.metadata.columns.map((c) => c.sdtype)).toEqual(out.columns.map((c) => c.sdtype));
    await expect(named("infer_metadata").invoke({ data: "small/real.csv", target: "zzz" })).rejects.toThrow(
      /zzz/,
    );
  });

  it("infer_metadata with decimal: ',' makes the comma weights numerical with the real range; without it they are text", async () => {
    const weight = async (extra: Record<string, unknown>) => {
      const out = InferMetadataOutput.parse(await call("infer_metadata", { data: "commas.csv", ...extra }));
      return { column: out.columns.find((c) => c.name === "weight"), warnings: out.warnings };
    };
    const comma = await weight({ decimal: "," });
    expect(comma.column).toMatchObject({
      sdtype: "numerical",
      integer: false,
      min: Math.min(...COMMAS.weights),
      max: Math.max(...COMMAS.weights),
      missing_rate: 0,
    });
    expect(comma.warnings.join("\n")).toMatch(/"weight" is read as numbers with "," as the decimal mark/);
    const text = await weight({});
    expect(text.column).toMatchObject({ sdtype: "categorical", categories: new Set(COMMAS.cells).size });
    await expect(named("infer_metadata").invoke({ data: "commas.csv", decimal: "comma" })).rejects.toThrow(
      /schema/i,
    );
  });

  it("structure: the DAG learnStructure finds on the same table", async () => {
    const out = StructureOutput.parse(await call("structure", { data: "real.csv", bins: 4 }));
    const ref = learnStructure((await readTable(join(root, "real.csv"))).table, { bins: 4 });
    expect(out.edges).toEqual(ref.dag.edges.map(([a, b]) => [a, b]));
    expect(out.score).toBeCloseTo(ref.score, 9);
    expect(out.rows).toBe(600);
    await expect(named("structure").invoke({ data: "real.csv", bins: 1 })).rejects.toThrow(/schema/i);
  });

  it("structure with decimal: the DAG and score learnStructure finds on the table read with ','", async () => {
    const commas = join(root, "commas.csv");
    const numeric = learnStructure((await readTable(commas, { decimal: "," })).table, { bins: 4 });
    const text = learnStructure((await readTable(commas)).table, { bins: 4 });
    // Binned numbers and 9 text levels score differently, so the score says which reading the tool used.
    expect(Math.abs(numeric.score - text.score)).toBeGreaterThan(1);
    const out = StructureOutput.parse(await call("structure", { data: "commas.csv", bins: 4, decimal: "," }));
    expect(out.score).toBeCloseTo(numeric.score, 9);
    expect(out.edges).toEqual(numeric.dag.edges.map(([a, b]) => [a, b]));
    const plainOut = StructureOutput.parse(await call("structure", { data: "commas.csv", bins: 4 }));
    expect(plainOut.score).toBeCloseTo(text.score, 9);
  });

  it("check_rows: valid rows coerced, invalid ones with one reason per column", async () => {
    const out = CheckRowsOutput.parse(
      await call("check_rows", {
        real: "small/real.csv",
        rows: [
          { age: "30", sex: "Male", hours: 30.5, income: "<=50K" },
          { age: 212, sex: "Male", hours: 30.5, income: "<=50K" },
          { age: 30, sex: "Other", hours: 30.5 },
        ],
      }),
    );
    expect(out.valid).toBe(1);
    expect(out.invalid).toBe(2);
    expect(out.results[0]).toMatchObject({ index: 0, ok: true, row: { age: 30, sex: "Male", hours: 30.5 } });
    // realRows: ages 20..59, so 212 is above the maximum 59.
    expect(out.results[1].errors).toEqual([
      { column: "age", reason: "age: 212 is above the real maximum 59" },
    ]);
    expect(out.results[2].errors.map((e) => e.column).sort()).toEqual(["income", "sex"]);
    expect(out.results[2].errors.find((e) => e.column === "income")?.reason).toBe('missing column "income"');
    await expect(named("check_rows").invoke({ real: "small/real.csv", rows: [] })).rejects.toThrow(/schema/i);
  });

  it("check_rows with where: valid rows must satisfy the condition too, with one reason per broken part", async () => {
    const out = CheckRowsOutput.parse(
      await call("check_rows", {
        real: "small/real.csv",
        where: "age > 40 && sex == 'Female'",
        rows: [
          { age: 50, sex: "Female", hours: 30.5, income: "<=50K" },
          { age: 30, sex: "Male", hours: 30.5, income: "<=50K" },
          { age: "45", sex: "Male", hours: 30.5, income: ">50K" },
          { age: 212, sex: "Female", hours: 30.5, income: "<=50K" },
        ],
      }),
    );
    expect(out.where).toBe('age > 40 and sex == "Female"');
    expect(out.valid).toBe(1);
    expect(out.invalid).toBe(3);
    expect(out.results[0]).toMatchObject({ ok: true, condition_met: true, errors: [] });
    // 30 and Male break both parts; the coerced row is still shown.
    expect(out.results[1]).toMatchObject({ ok: false, condition_met: false, row: { age: 30, sex: "Male" } });
    expect(out.results[1].errors).toEqual([
      { column: "age", reason: "does not satisfy age > 40 (age = 30)" },
      { column: "sex", reason: 'does not satisfy sex == "Female" (sex = "Male")' },
    ]);
    // "45" is coerced to 45 > 40: only the sex part is broken.
    expect(out.results[2].errors).toEqual([
      { column: "sex", reason: 'does not satisfy sex == "Female" (sex = "Male")' },
    ]);
    // Invalid on the metadata (212 above the real maximum 59): the condition is not checked.
    expect(out.results[3]).toMatchObject({ ok: false, condition_met: null });
    expect(out.results[3].errors.map((e) => e.column)).toEqual(["age"]);

    // A part reading two columns (an or) names both; a missing cell is unknown, so the part is not met.
    const or = CheckRowsOutput.parse(
      await call("check_rows", {
        real: "small/real.csv",
        where: 'age < 25 or income == ">50K"',
        rows: [
          { age: 30, sex: "Male", hours: 30.5, income: "<=50K" },
          { age: 22, sex: "Male", hours: 30.5, income: "<=50K" },
        ],
      }),
    );
    expect(or.results[0].errors).toEqual([
      {
        column: "age, income",
        reason: 'does not satisfy age < 25 or income == ">50K" (age = 30, income = "<=50K")',
      },
    ]);
    expect(or.results[1]).toMatchObject({ ok: true, condition_met: true });
    // Without where, condition_met is null.
    const plainCheck = CheckRowsOutput.parse(
      await call("check_rows", {
        real: "small/real.csv",
        rows: [{ age: 30, sex: "Male", hours: 1, income: "<=50K" }],
      }),
    );
    expect(plainCheck).toMatchObject({ where: null, results: [{ condition_met: null }] });
  });

  it("check_rows with a bad where: unknown column or level, or a syntax error, is an error", async () => {
    const rows = [{ age: 30, sex: "Male", hours: 30.5, income: "<=50K" }];
    await expect(
      named("check_rows").invoke({ real: "small/real.csv", rows, where: "agee > 3" }),
    ).rejects.toThrow(/invalid condition "agee > 3".*did you mean "age"/);
    await expect(
      named("check_rows").invoke({ real: "small/real.csv", rows, where: 'sex == "Other"' }),
    ).rejects.toThrow(/not a level of column "sex".*the levels of "sex" are: "Female", "Male"/);
    await expect(
      named("check_rows").invoke({ real: "small/real.csv", rows, where: "age >" }),
    ).rejects.toThrow(/invalid condition/);
  });

  it("check_rows with decimal: a weight of 1.1 passes against the comma table read with ','; not against its text", async () => {
    const rows = [
      { weight: 1.1, group: "A" },
      { weight: 9.5, group: "B" },
    ];
    const out = CheckRowsOutput.parse(await call("check_rows", { real: "commas.csv", decimal: ",", rows }));
    expect(out.results[0]).toMatchObject({ ok: true, row: { weight: 1.1, group: "A" }, errors: [] });
    // The real weights read with "," end at 9.114, so 9.5 is above the real maximum.
    expect(Math.max(...COMMAS.weights)).toBe(9.114);
    expect(out.results[1].errors).toEqual([
      { column: "weight", reason: "weight: 9.5 is above the real maximum 9.114" },
    ]);
    // Read without decimal the weights are the text levels "1,100" … "9,114": 1.1 is none of them.
    const text = CheckRowsOutput.parse(
      await call("check_rows", { real: "commas.csv", rows: rows.slice(0, 1) }),
    );
    expect(text.results[0].ok).toBe(false);
    expect(text.results[0].errors.map((e) => e.column)).toEqual(["weight"]);
  });

  it("refuses paths outside the root: absolute, .. escapes, symlinks out; nothing is read", async () => {
    const refusal = /outside the root/;
    await expect(named("infer_metadata").invoke({ data: join(outside, "secret.csv") })).rejects.toThrow(
      refusal,
    );
    await expect(named("infer_metadata").invoke({ data: "../x.csv" })).rejects.toThrow(refusal);
    await expect(named("infer_metadata").invoke({ data: "link.csv" })).rejects.toThrow(refusal);
    await expect(named("infer_metadata").invoke({ data: "linkdir/secret.csv" })).rejects.toThrow(refusal);
    // Writing through a symlinked directory is refused too.
    await expect(
      named("start_run").invoke({ data: "small/real.csv", rows: 5, out: "linkdir/out.csv" }),
    ).rejects.toThrow(refusal);
  });

  it("keeps model API keys out of errors", async () => {
    const err = await named("infer_metadata")
      .invoke({ data: `${SECRET}.csv` })
      .catch((e: Error) => e);
    expect(String(err)).not.toContain(SECRET);
    expect(String(err)).toContain("[redacted]");
  });
});

describe("start_run and run_status", () => {
  it("start_run returns a run id at once; run_status waits for the background run and reports it", async () => {
    server.setDefault(responder());
    const runTools = synthgraphTools({
      root: join(root, "small"),
      env: { OPENAI_API_KEY: SECRET },
      models: loopbackModels(server, "ollama"),
    });
    const t = (n: string) => runTools.find((x) => x.name === n) as StructuredToolInterface;
    const started = StartRunOutput.parse(
      JSON.parse(
        (await t("start_run").invoke({
          data: "real.csv",
          rows: 30,
          out: "out.csv",
          seed: 5,
          max_iterations: 2,
          probe_rows: 20,
          batch_rows: 10,
          examples: 8,
        })) as string,
      ),
    );
    expect(started.status).toBe("running");
    expect(started.run_dir).toBe(join(root, "small", "runs", started.run_id));
    let status = RunStatusOutput.parse(
      JSON.parse((await t("run_status").invoke({ run_id: started.run_id })) as string),
    );
    for (let i = 0; i < 60 && status.status === "running"; i++) {
      status = RunStatusOutput.parse(
        JSON.parse((await t("run_status").invoke({ run_id: started.run_id, wait_seconds: 5 })) as string),
      );
    }
    expect(status).toMatchObject({
      status: "done",
      engine: "synthia",
      output: join(root, "small", "out.csv"),
      progress: { rows_done: 30, rows_requested: 30 },
      error: null,
    });
    expect(status.diagnostics?.similarity).toBeTypeOf("number");
    expect(csvRows(join(root, "small", "out.csv"))).toHaveLength(30);
  });

  it("start_run with decimal: recorded as the run config's decimal (run.json); the run reads the weights as numbers", async () => {
    const started = StartRunOutput.parse(
      await call("start_run", {
        data: "commas.csv",
        rows: 20,
        out: "commas-out.csv",
        engine: "copula",
        seed: 1,
        decimal: ",",
      }),
    );
    let status = RunStatusOutput.parse(await call("run_status", { run_id: started.run_id }));
    for (let i = 0; i < 60 && status.status === "running"; i++) {
      status = RunStatusOutput.parse(await call("run_status", { run_id: started.run_id, wait_seconds: 5 }));
    }
    expect(status).toMatchObject({ status: "done", error: null, progress: { rows_done: 20 } });
    expect((await readRunFile(started.run_dir)).config.decimal).toBe(",");
    // The copula fitted numbers (a text column would be sampled as its levels): every output weight is a
    // number inside the real range, written with a decimal point.
    const out = await readTable(join(root, "commas-out.csv"));
    const weight = out.metadata.columns.find((c) => c.name === "weight");
    expect(weight?.sdtype).toBe("numerical");
    expect(weight?.min).toBeGreaterThanOrEqual(Math.min(...COMMAS.weights));
    expect(weight?.max).toBeLessThanOrEqual(Math.max(...COMMAS.weights));
  });

  it("bad start_run and run_status input is an error, and no run is created", async () => {
    await expect(
      named("start_run").invoke({ data: "small/real.csv", rows: 0, out: "o.csv" }),
    ).rejects.toThrow(/schema/i);
    await expect(named("start_run").invoke({ data: "nope.csv", rows: 5, out: "o.csv" })).rejects.toThrow(
      /nope\.csv/,
    );
    await expect(
      named("start_run").invoke({ data: "small/real.csv", rows: 5, out: "o.csv", engine: "gan" }),
    ).rejects.toThrow(/schema/i);
    await expect(named("run_status").invoke({ run_id: "../etc" })).rejects.toThrow(/schema/i);
    await expect(named("run_status").invoke({ run_id: "20990101-000000-abcdef" })).rejects.toThrow(/no run/);
  });
});
