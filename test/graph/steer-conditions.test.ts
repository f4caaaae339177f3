/**
 * Steering a run's conditions (graph/conditions.ts steerConditions and scaleGroupRows, graph/steer.ts,
 * `synthgraph steer --where`): the rules on their own (a condition joined with `and` to each group, a later one
 * replacing it, groups rescaled to a new N in their proportions), the checks before anything is recorded (a
 * group the joined condition empties, fewer rows than groups), and a SYNTHIA run over the loopback server
 * started with two groups, steered with --where, --rows and --stop: exactly the rescaled rows per group, every
 * row meeting its group's condition and the steered one (read from the CSV text), though the scripted model
 * writes one row per batch (of two rows or more) that misses the steered condition. An LLMSynthor run with groups
 * refuses both a new row count and a condition, and still writes its own groups after a stop.
 */
import { describe, expect, it } from "vitest";
import { runSteer } from "../../cli/steer.ts";
import { SynthgraphError } from "../../data/errors.ts";
import { parsePredicate, predicateMask } from "../../data/predicate/index.ts";
import { readTable } from "../../data/read.ts";
import { checkSteeredConditions, scaleGroupRows, steerConditions } from "../../graph/conditions.ts";
import { startRun } from "../../graph/run.ts";
import { LlmsynthorOptionsSchema, type RunConfig } from "../../state/config.ts";
import { readRunFile } from "../../state/run-dir.ts";
import { readSteeringFile } from "../../state/steering.ts";
import {
  captureIo,
  csvRows,
  killWhen,
  storedArtifacts,
  TEST_ENV,
  useLlmServer,
  useRunFiles,
} from "../support/harness.ts";
import { lsResponder } from "../support/llmsynthor.ts";
import { conditionHonouringGenerator, responder, syntheticVerdict, testConfig } from "../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("steer-conditions-");

describe("scaleGroupRows", () => {
  it("splits N in the groups' proportions, each at least 1, summing to N exactly", () => {
    expect(scaleGroupRows([300, 100], 100)).toEqual([75, 25]);
    expect(scaleGroupRows([1, 1, 1], 10)).toEqual([4, 3, 3]); // the tie goes to the earlier group
    expect(scaleGroupRows([1000, 1], 3)).toEqual([2, 1]); // the small group keeps one row
    expect(scaleGroupRows([5], 17)).toEqual([17]);
    for (const [counts, total] of [
      [[7, 3, 11, 2], 50],
      [[1, 99], 7],
      [[13, 13, 13], 40],
      [[2, 5, 9, 1, 4], 5],
    ] as const) {
      const out = scaleGroupRows(counts, total);
      expect(out.reduce((a, b) => a + b, 0)).toBe(total);
      const sum = counts.reduce((a, b) => a + b, 0);
      for (const [g, c] of counts.entries()) {
        // Each group's rows lie within one of its exact share of the rows above the one it always keeps.
        const exact = 1 + ((total - counts.length) * c) / sum;
        expect(out[g]).toBeGreaterThanOrEqual(1);
        expect(Math.abs(out[g] - exact)).toBeLessThan(1);
      }
    }
  });
});

describe("steerConditions", () => {
  const base = { rows: 30 } as RunConfig;
  it("makes an unconditional run one group of N, and a later condition replaces the first", () => {
    const once = steerConditions(base, { rows: null, condition: "age > 50" });
    expect(once.conditions).toEqual([{ where: "age > 50", rows: 30, steered_from: "" }]);
    const twice = steerConditions(once, { rows: 12, condition: "age < 30" });
    expect(twice.conditions).toEqual([{ where: "age < 30", rows: 12, steered_from: "" }]);
    expect(twice.rows).toBe(12);
    // Nothing to change: the same object (the pause nodes then leave the state's config alone).
    expect(steerConditions(once, { rows: null, condition: null })).toBe(once);
    expect(steerConditions(base, { rows: 40, condition: null })).toEqual({ rows: 40 });
  });

  it("joins a condition to each group's own and rescales the groups; the joined text is a predicate", async () => {
    const groups = {
      rows: 30,
      conditions: [
        { where: 'sex == "Female"', rows: 20 },
        { where: "hours > 40 or age < 25", rows: 10, request: "long hours or young" },
      ],
    } as RunConfig;
    const steered = steerConditions(groups, { rows: 60, condition: "age > 50" });
    expect(steered.rows).toBe(60);
    expect(steered.conditions).toEqual([
      { where: '(sex == "Female") and (age > 50)', rows: 40, steered_from: 'sex == "Female"' },
      {
        where: "(hours > 40 or age < 25) and (age > 50)",
        rows: 20,
        request: "long hours or young",
        steered_from: "hours > 40 or age < 25",
      },
    ]);
    const again = steerConditions(steered, { rows: null, condition: "age > 30" });
    expect(again.conditions?.map((g) => g.where)).toEqual([
      '(sex == "Female") and (age > 30)',
      "(hours > 40 or age < 25) and (age > 30)",
    ]);
    // The joined predicate selects exactly the rows both parts select, on the real table.
    const { table, metadata } = await readTable(files.input);
    const mask = (where: string) => Array.from(predicateMask(parsePredicate(where, metadata), table));
    const own = mask("hours > 40 or age < 25");
    const steer = mask("age > 50");
    const joined = mask("(hours > 40 or age < 25) and (age > 50)");
    expect(joined).toEqual(own.map((m, i) => (m && steer[i] ? 1 : 0)));
    expect(joined.some((m) => m === 1)).toBe(true);
  });

  it("checkSteeredConditions names the group a joined condition leaves without any possible row", async () => {
    const real = await readTable(files.input);
    const groups = {
      rows: 30,
      conditions: [
        { where: "age < 40", rows: 20 },
        { where: "age > 45", rows: 10 },
      ],
    } as RunConfig;
    checkSteeredConditions(steerConditions(groups, { rows: null, condition: "age > 30" }), real);
    const err = (() => {
      try {
        checkSteeredConditions(steerConditions(groups, { rows: null, condition: "age < 35" }), real);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SynthgraphError);
    expect((err as SynthgraphError).exitCode).toBe(2);
    expect((err as SynthgraphError).message).toMatch(
      /^steering condition rejected for group 2 \(\(age > 45\) and \(age < 35\)\)/,
    );
  });
});

describe("synthgraph steer --where on a paused SYNTHIA run with two groups", () => {
  it("refuses what empties a group or starves it, records nothing; then writes the rescaled groups, all rows meeting both conditions", async () => {
    server.setDefault(
      responder({
        decision: syntheticVerdict,
        generator: conditionHonouringGenerator,
      }),
    );
    const p = files.paths();
    const config = testConfig(server, "ollama", {
      input: files.input,
      out: p.out,
      rows: 30,
      maxIterations: 4,
      conditions: [
        { where: 'sex == "Female"', rows: 20 },
        { where: 'sex == "Male"', rows: 10 },
      ],
    });
    const first = await startRun(p.runDir, config, { env: TEST_ENV, pauseEvery: true });
    expect(first.status).toBe("paused");
    const io = () => captureIo({ OLLAMA_HOST: server.ollamaUrl });

    const starved = await runSteer({ dir: p.runDir, rows: 1, resume: false }, io()).catch((e: unknown) => e);
    expect(starved).toMatchObject({ exitCode: 2 });
    expect(String((starved as Error).message)).toContain("rows 1 is fewer than the run's 2 condition groups");
    const emptied = await runSteer({ dir: p.runDir, where: 'sex == "Male"', resume: false }, io()).catch(
      (e: unknown) => e,
    );
    expect(emptied).toMatchObject({ exitCode: 2 });
    expect(String((emptied as Error).message)).toContain("group 1");
    expect((await readSteeringFile(p.runDir)).history).toEqual([]);

    const doneIo = io();
    const done = await runSteer({ dir: p.runDir, where: "age>50", rows: "12", stop: true }, doneIo);
    expect(done).not.toBeNull();
    // The last lines name each group's condition, its rows and the valid model rows the code dropped for
    // missing it: each group's first batch held one younger row (valid against the real range 20..59).
    const summary = done as unknown as { conditions: Array<{ unmet: number }>; invalid_rows_dropped: number };
    const unmet = summary.conditions.map((g) => g.unmet);
    expect(unmet).toEqual([1, 1]);
    expect(summary.invalid_rows_dropped).toBe(0);
    expect(doneIo.out()).toContain(
      `  condition group 1: 8 rows where (sex == "Female") and (age > 50); ${unmet[0]} valid rows that missed it were dropped\n  condition group 2: 4 rows where (sex == "Male") and (age > 50); ${unmet[1]} valid rows that missed it were dropped\n`,
    );
    expect((await readRunFile(p.runDir)).status).toBe("done");
    // run.json holds the steered groups (the next process reads them from there).
    expect((await readRunFile(p.runDir)).config.conditions).toEqual([
      { where: '(sex == "Female") and (age > 50)', rows: 8, steered_from: 'sex == "Female"' },
      { where: '(sex == "Male") and (age > 50)', rows: 4, steered_from: 'sex == "Male"' },
    ]);
    // Group after group in the CSV: 8 women then 4 men, all over 50 (the model's younger rows were dropped).
    const rows = csvRows(p.out).map((l) => l.split(","));
    expect(rows.map((r) => r[1])).toEqual([...Array(8).fill("Female"), ...Array(4).fill("Male")]);
    expect(rows.filter((r) => !(Number(r[0]) > 50))).toEqual([]);
    const history = (await readSteeringFile(p.runDir)).history.map((h) => h.action);
    expect(history).toEqual([
      { type: "rows", rows: 12 },
      { type: "condition", text: "age > 50", columns: ["age"] },
      { type: "stop" },
    ]);
  }, 120_000);
});

describe("an LLMSynthor run with condition groups", () => {
  it("refuses a new row count and a condition (its pools grow per group); nothing is recorded", async () => {
    server.setDefault(lsResponder());
    const p = files.paths();
    const config = testConfig(server, "ollama", {
      input: files.input,
      out: p.out,
      rows: 60,
      engine: "llmsynthor",
      llmsynthor: LlmsynthorOptionsSchema.parse({ tolerance: 0 }),
      conditions: [
        { where: 'sex == "Female"', rows: 40 },
        { where: 'sex == "Male"', rows: 20 },
      ],
    });
    const first = await startRun(p.runDir, config, { env: TEST_ENV, pauseEvery: true });
    expect(first.status).toBe("paused");
    const io = () => captureIo({ OLLAMA_HOST: server.ollamaUrl });
    const rows = await runSteer({ dir: p.runDir, rows: 90, resume: false }, io()).catch((e: unknown) => e);
    expect(rows).toMatchObject({ exitCode: 2 });
    expect(String((rows as Error).message)).toContain("condition groups keep the sizes they started with");
    const cond = await runSteer({ dir: p.runDir, where: "age > 30", resume: false }, io()).catch(
      (e: unknown) => e,
    );
    expect(cond).toMatchObject({ exitCode: 2 });
    expect(String((cond as Error).message)).toContain("conditions are fixed when it starts");
    expect((await readSteeringFile(p.runDir)).history).toEqual([]);
    // What it does take: stop, with the groups it started with.
    await runSteer({ dir: p.runDir, stop: true }, io());
    const sexes = csvRows(p.out).map((l) => l.split(",")[1]);
    expect(sexes).toEqual([...Array(40).fill("Female"), ...Array(20).fill("Male")]);
  }, 120_000);
});

describe("steering a stopped run of an engine without pause points", () => {
  it("takes no action and leaves run.json's config as the run had it (kill -9 mid-sampling, then steer --where)", async () => {
    const p = files.paths();
    const args = [
      ...["generate", files.input, "--engine", "copula", "--rows", "60000", "--copula-chunk-rows", "1000"],
      ...["--seed", "2", "--out", p.out, "--run-dir", p.runDir],
    ];
    const killed = await killWhen({
      args,
      env: {},
      cwd: files.dir,
      ready: () => storedArtifacts(p.runDir, "copula/sample").length >= 2,
      timeoutMs: 120_000,
      pollMs: 5,
    });
    expect(killed.signal).toBe("SIGKILL");
    const before = (await readRunFile(p.runDir)).config;
    const io = captureIo({});
    const out = await runSteer({ dir: p.runDir, where: "age > 30", quiet: true }, io);
    expect(out).not.toBeNull();
    expect(io.out()).toContain("not applied condition: age > 30");
    const after = await readRunFile(p.runDir);
    expect(after.status).toBe("done");
    expect(after.config.conditions).toBeUndefined();
    expect(after.config).toEqual(before);
    expect(csvRows(p.out)).toHaveLength(60000);
  }, 180_000);
});
