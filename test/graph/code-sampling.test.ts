/**
 * Conditional sampling of the engines that sample by code (graph/code-sampling.ts), end to end through the
 * CLI binary (bin/synthgraph.js as a child process) on examples/adult.csv, every model endpoint pointed at a
 * loopback LLM server that answers only the constraint agent:
 *  - a three-group conditions file: exactly the requested rows per group, group after group, every row
 *    satisfying its group's condition (checked here on the CSV text, not with data/predicate);
 *  - exact conditioning vs rejection, read from SUMMARY.json: the Bayesian network conditions on levels and
 *    closed ranges by evidence (every drawn row kept), the copula and an `or` across columns by rejection;
 *  - kill -9 mid-sampling and `resume`: the uninterrupted run's bytes, so the same exact counts;
 *  - `--where` with `--rows`, and `--condition` words through the constraint agent (no generator call);
 *  - an infeasible condition exits 2 before any work (no run directory).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CONSTRAINT_SYSTEM } from "../../prompts/constraint.ts";
import { readRunFile } from "../../state/run-dir.ts";
import {
  exited,
  killThenResume,
  loopbackEnv,
  loopbackModel,
  storedArtifacts,
  synthgraphChild,
  useLlmServer,
} from "../support/harness.ts";
import type { RecordedRequest } from "../support/llm-server.ts";
import { ADULT_EXAMPLE, csvObjects } from "../support/offline-engines.ts";

type CsvRow = Record<string, string>;

/** The groups, each with a check written against the CSV cells (adult's age and hours have no missing cell). */
const GROUPS: Array<{ where: string; rows: number; holds: (r: CsvRow) => boolean }> = [
  { where: 'sex == "Female"', rows: 1000, holds: (r) => r.sex === "Female" },
  {
    where: "age < 30 or `hours-per-week` > 45",
    rows: 800,
    holds: (r) => Number(r.age) < 30 || Number(r["hours-per-week"]) > 45,
  },
  {
    where: 'workclass in ["Private", "Self-emp-not-inc"] and age >= 30 and age <= 50',
    rows: 700,
    holds: (r) =>
      ["Private", "Self-emp-not-inc"].includes(r.workclass) && Number(r.age) >= 30 && Number(r.age) <= 50,
  },
];
const TOTAL = GROUPS.reduce((n, g) => n + g.rows, 0);
const CHUNK = 100;

const ENGINES = [
  { engine: "copula", chunkFlag: "--copula-chunk-rows" },
  { engine: "bayesnet", chunkFlag: "--bn-chunk-rows" },
] as const;

interface GroupSummary {
  where: string;
  rows: number;
  drawn: number;
  unmet: number;
  satisfied_share: number;
  exact_copies: number;
  chunks: number;
}

const server = useLlmServer();
let dir = "";
let conditionsFile = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "synthgraph-code-conditions-"));
  conditionsFile = join(dir, "groups.json");
  writeFileSync(conditionsFile, JSON.stringify(GROUPS.map(({ where, rows }) => ({ where, rows }))));
});

const env = () => ({ ...loopbackEnv(server, "ollama") });
const common = (engine: string, chunkFlag: string, name: string): string[] => [
  "generate",
  ADULT_EXAMPLE,
  "--engine",
  engine,
  "--seed",
  "4",
  chunkFlag,
  String(CHUNK),
  "--model",
  loopbackModel("ollama"),
  "--out",
  join(dir, `${name}.csv`),
  "--json",
  join(dir, `${name}.json`),
  "--run-dir",
  join(dir, name),
];
const run = (args: string[]) => exited(synthgraphChild(args, env(), dir));
const csv = (name: string): string => readFileSync(join(dir, `${name}.csv`), "utf8");
const summaryOf = (name: string) =>
  JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")) as Record<string, unknown>;

/** Rows of the output, cut into the groups by the requested counts, each checked against its group. */
function checkGroups(name: string): void {
  const rows = csvObjects(csv(name));
  expect(rows).toHaveLength(TOTAL);
  let at = 0;
  for (const [g, group] of GROUPS.entries()) {
    const part = rows.slice(at, at + group.rows);
    const missed = part.findIndex((r) => !group.holds(r));
    expect(missed, `group ${g + 1}, row ${at + missed + 1}: ${JSON.stringify(part[missed])}`).toBe(-1);
    at += group.rows;
  }
}

describe.each(ENGINES)(
  "synthgraph generate --engine $engine with a conditions file (child process)",
  ({ engine, chunkFlag }) => {
    it("writes exactly the rows of each group, all satisfying it; survives kill -9 mid-sampling with the same bytes", async () => {
      const before = server.stats.requests;
      const a = await run([...common(engine, chunkFlag, `${engine}-a`), "--conditions", conditionsFile]);
      expect(a.code, a.stderr).toBe(0);
      checkGroups(`${engine}-a`);

      const summary = summaryOf(`${engine}-a`);
      expect(summary).toMatchObject({ rows: TOTAL, engine, privacy: { guard: true } });
      expect((summary.usage as { calls: number }).calls).toBe(0);
      const groups = summary.conditions as GroupSummary[];
      expect(groups.map((g) => g.rows)).toEqual(GROUPS.map((g) => g.rows));
      // The CSV's groups above are in file order; SUMMARY.json records the canonical predicates in that order.
      expect((await readRunFile(join(dir, `${engine}-a`))).config.conditions?.map((c) => c.rows)).toEqual(
        GROUPS.map((g) => g.rows),
      );
      for (const g of groups) {
        // The samplers return only satisfying rows; the code's check found none to drop.
        expect(g.unmet).toBe(0);
        expect(g.satisfied_share).toBeGreaterThan(0);
        expect(g.satisfied_share).toBeLessThanOrEqual(1);
      }
      // Group 2, an `or` across two columns, is drawn by rejection in both engines: rows were rejected.
      expect(groups[1].satisfied_share).toBeLessThan(1);
      if (engine === "bayesnet") {
        // A level, and levels with a closed range, are evidence: exact conditioning, no draw rejected.
        expect(groups[0].satisfied_share).toBe(1);
        expect(groups[2].satisfied_share).toBe(1);
      } else {
        // The copula conditions by rejection only.
        expect(groups[0].satisfied_share).toBeLessThan(1);
        expect(groups[2].satisfied_share).toBeLessThan(1);
      }

      // kill -9 once a few chunks are stored, then resume: the uninterrupted run's bytes.
      const runDir = join(dir, `${engine}-d`);
      const stored = () => storedArtifacts(runDir, `${engine}/sample`);
      await killThenResume({
        env: env(),
        cwd: dir,
        args: [...common(engine, chunkFlag, `${engine}-d`), "--conditions", conditionsFile],
        runDir,
        stored,
        atLeast: 3,
        below: TOTAL / CHUNK,
        timeoutMs: 120_000,
        pollMs: 5,
      });
      expect(csv(`${engine}-d`)).toBe(csv(`${engine}-a`));
      checkGroups(`${engine}-d`);
      expect(summaryOf(`${engine}-d`).conditions).toEqual(groups);
      // No model was called: the constraint agent is only asked for words.
      expect(server.stats.requests).toBe(before);
    }, 600_000);
  },
);

describe("--where, --condition and infeasible conditions with the offline engines (child process)", () => {
  it("--where with --rows: exactly N rows, every one satisfying it", async () => {
    const where = 'income == ">50K" and age > 45';
    const r = await run([
      ...common("copula", "--copula-chunk-rows", "where"),
      "--rows",
      "300",
      "--where",
      where,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const rows = csvObjects(csv("where"));
    expect(rows).toHaveLength(300);
    expect(rows.every((x) => x.income === ">50K" && Number(x.age) > 45)).toBe(true);
    expect(r.stderr).toContain(`condition: 300 rows where ${where}`);
    const [group] = summaryOf("where").conditions as GroupSummary[];
    expect(group).toMatchObject({ where, rows: 300, unmet: 0 });
  }, 300_000);

  it("--condition: the constraint agent reads the words (its only model call), the network samples", async () => {
    const constraint: RecordedRequest[] = [];
    server.setDefault((req: RecordedRequest) => {
      if (req.messages[0]?.content === CONSTRAINT_SYSTEM) {
        constraint.push(req);
        return JSON.stringify({ where: 'sex == "Male" and age >= 60', rows: 40 });
      }
      throw new Error("only the constraint agent may be called");
    });
    const before = server.stats.requests;
    const r = await run([
      ...common("bayesnet", "--bn-chunk-rows", "words"),
      "--condition",
      "forty men of sixty or more",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(constraint).toHaveLength(1);
    expect(server.stats.requests - before).toBe(1);
    const canonical = 'sex == "Male" and age >= 60';
    expect(r.stderr).toContain(`"forty men of sixty or more" read as: ${canonical}`);
    expect(r.stderr).toContain(
      "(no model needed to sample; the constraint model read the condition's words)",
    );
    const rows = csvObjects(csv("words"));
    expect(rows).toHaveLength(40);
    expect(rows.every((x) => x.sex === "Male" && Number(x.age) >= 60)).toBe(true);
  }, 300_000);

  it.each(ENGINES)(
    "$engine: an infeasible condition exits 2 before any work, naming the column",
    async ({ engine, chunkFlag }) => {
      const name = `${engine}-never`;
      const r = await run([...common(engine, chunkFlag, name), "--rows", "10", "--where", "age > 95"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('column "age"');
      expect(r.stderr).toContain("outside the real range");
      expect(existsSync(join(dir, name))).toBe(false);
      expect(existsSync(join(dir, `${name}.csv`))).toBe(false);
    },
    120_000,
  );
});
