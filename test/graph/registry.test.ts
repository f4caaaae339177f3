/**
 * The engine registry is complete and consistent: every name in ENGINES has a definition; the engines' CLI
 * flags do not collide with each other or with the common options of `generate`, and each flag has a field in
 * its engine's schema; each engine's toConfig gives a part of RunConfig that survives RunConfigSchema and
 * run.json, with its CLI defaults equal to RunConfig's defaults; each progress node names a node of the
 * engine's graph, and the engine's progress printer prints an event of each.
 */
import { MemorySaver } from "@langchain/langgraph";
import { Command, Option } from "commander";
import { describe, expect, it } from "vitest";
import { generateCommand } from "../../cli/generate.ts";
import { ProgressPrinter } from "../../cli/progress.ts";
import type { EngineDefinition } from "../../graph/engine.ts";
import { ENGINE_LIST, ENGINE_REGISTRY, engineFor } from "../../graph/registry.ts";
import type { RunEvent } from "../../graph/run.ts";
import { emptySnapshot } from "../../models/accounting.ts";
import { resolveRoleConfigs } from "../../models/spec.ts";
import { ArtifactStore } from "../../state/artifacts.ts";
import { type EngineName, ENGINES, type RunConfigInput, RunConfigSchema } from "../../state/config.ts";
import type { IterationRecord } from "../../state/schemas.ts";
import type { StepRecord } from "../../engines/mallm/state.ts";
import type { LsIteration } from "../../engines/llmsynthor/state.ts";

const base: RunConfigInput = {
  input: "/data/real.csv",
  rows: 30,
  out: "/data/out.csv",
  models: resolveRoleConfigs({ flags: { model: "ollama:llama3.1:8b" } }),
};

/** The options of `generate` as commander registers them (common + every engine's). */
function generateOptions(): readonly Option[] {
  const program = new Command();
  generateCommand.register(program);
  const generate = program.commands.find((c) => c.name() === "generate");
  if (!generate) throw new Error("generate is not registered");
  return generate.options;
}

/**
 * Per engine: raw CLI values that differ from every default, and the RunConfig fields they must give (the
 * mapping written out by hand from the flags' help text). A new engine adds its row here.
 */
const SAMPLES: Record<EngineName, { raw: Record<string, unknown>; config: Partial<RunConfigInput> }> = {
  synthia: {
    raw: {
      maxIterations: "3",
      probeRows: "12",
      examples: "0",
      guard: false,
      describeColumns: true,
      keepDuplicates: true,
    },
    config: {
      maxIterations: 3,
      probeRows: 12,
      examples: 0,
      guard: false,
      describeColumns: true,
      dedupe: false,
    },
  },
  "mallm-gan": {
    raw: {
      epochs: "2",
      frozenEpochs: "0",
      mallmBatch: "7",
      mallmMaxBatches: "5",
      examplesPerCall: "3",
      topK: "4",
      storeThreshold: "0.5",
      causalOrder: true,
      context: "hospital admissions, 2019",
      discriminator: "forest",
    },
    config: {
      mallm: {
        epochs: 2,
        frozenEpochs: 0,
        batchSize: 7,
        maxBatches: 5,
        examplesPerCall: 3,
        topK: 4,
        storeThreshold: 0.5,
        causalOrder: true,
        context: "hospital admissions, 2019",
        discriminator: "forest",
      },
    },
  },
  llmsynthor: {
    raw: {
      iterations: "4",
      tolerance: "0",
      joints: "2",
      proposals: "9",
      reinferGroups: true,
      mainBins: "5",
      subBins: "3",
      sourceConditioning: false,
      split: "absolute",
    },
    config: {
      llmsynthor: {
        iterations: 4,
        tolerance: 0,
        nJoints: 2,
        nProposals: 9,
        reinferGroups: true,
        mainBins: 5,
        subBins: 3,
        sourceConditioning: false,
        split: "absolute",
      },
    },
  },
  synllm: {
    raw: {
      promptType: "seedex",
      miniBatch: "7",
      seedExamples: "3",
      appendixExamples: true,
      replyFormat: "csv",
      rules: "/tmp/rules.txt",
      inferRules: false,
      maxRuleBreak: "0.01",
      sourceConditioning: false,
    },
    config: {
      synllm: {
        promptType: "seedex",
        batchRows: 7,
        examples: 3,
        appendixExamples: true,
        replyFormat: "csv",
        rules: "/tmp/rules.txt",
        inferRules: false,
        maxRuleBreak: 0.01,
        sourceConditioning: false,
      },
    },
  },
  copula: {
    raw: { copulaDistribution: "gamma", copulaChunkRows: "700" },
    config: { copula: { distribution: "gamma", chunkRows: 700 } },
  },
  bayesnet: {
    raw: { bnBins: "7", bnMaxParents: "1", bnPseudoCount: "0.5", bnRestarts: "2", bnChunkRows: "300" },
    config: { bayesnet: { bins: 7, maxParents: 1, pseudoCount: 0.5, restarts: 2, chunkRows: 300 } },
  },
};

const configOf = (e: EngineDefinition, raw: Record<string, unknown>) =>
  RunConfigSchema.parse({ ...base, engine: e.name, ...e.cli.toConfig(e.cli.schema.parse(raw)) });

describe("registry", () => {
  it("has one definition per name in ENGINES, under its own name, listed in ENGINES order", () => {
    expect(Object.keys(ENGINE_REGISTRY).sort()).toEqual([...ENGINES].sort());
    for (const name of ENGINES) {
      expect(ENGINE_REGISTRY[name].name).toBe(name);
      expect(engineFor(name)).toBe(ENGINE_REGISTRY[name]);
    }
    expect(ENGINE_LIST.map((e) => e.name)).toEqual([...ENGINES]);
  });

  it("refuses a name that is not registered, naming the available engines", () => {
    expect(() => engineFor("ctgan" as EngineName)).toThrow(/engine ctgan is not available/);
  });

  it.each(ENGINES)("%s lists each model role it calls once", (name) => {
    const models = ENGINE_REGISTRY[name].models;
    expect(new Set(models).size).toBe(models.length);
  });
});

describe("CLI options", () => {
  const engineFlags = ENGINE_LIST.flatMap((e) => e.cli.options.map((o) => new Option(o.flags).long));

  it("every flag of generate (common and engines') is registered once", () => {
    // commander itself refuses a second option with the same flag while registering.
    const options = generateOptions();
    const longs = options.map((o) => o.long);
    expect(new Set(longs).size).toBe(longs.length);
    // Each engine's flags are among generate's options, and no two engines share one.
    for (const f of engineFlags) expect(longs).toContain(f);
    expect(new Set(engineFlags).size).toBe(engineFlags.length);
  });

  it("no two options set the same raw field (commander attribute name)", () => {
    const names = generateOptions().map((o) => o.attributeName());
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(ENGINES)("%s: its flags and its schema's fields are the same set", (name) => {
    const cli = ENGINE_REGISTRY[name].cli;
    const fromFlags = cli.options.map((o) => new Option(o.flags).attributeName());
    // --no-source-conditioning is one flag read by both conditioning engines: llmsynthor lists it.
    if (name === "synllm") fromFlags.push("sourceConditioning");
    expect(fromFlags.sort()).toEqual(Object.keys(cli.schema.shape).sort());
  });
});

describe("toConfig round-trips through RunConfigSchema", () => {
  it.each(ENGINES)("%s: CLI defaults give the same config as no option at all", (name) => {
    const e = ENGINE_REGISTRY[name];
    expect(configOf(e, {})).toEqual(RunConfigSchema.parse({ ...base, engine: name }));
  });

  it.each(ENGINES)("%s: every option reaches its RunConfig field and survives run.json", (name) => {
    const e = ENGINE_REGISTRY[name];
    const sample = SAMPLES[name];
    expect(Object.keys(sample.raw).sort()).toEqual(Object.keys(e.cli.schema.shape).sort());
    const config = configOf(e, sample.raw);
    expect(config).toMatchObject(sample.config);
    expect(RunConfigSchema.parse(JSON.parse(JSON.stringify(config)))).toEqual(config);
    // Each option alone changes the config (none is dropped by toConfig).
    const defaults = configOf(e, {});
    for (const [field, value] of Object.entries(sample.raw)) {
      expect(configOf(e, { [field]: value }), field).not.toEqual(defaults);
    }
  });

  it("engines set disjoint parts of RunConfig", () => {
    const keys = ENGINE_LIST.flatMap((e) => Object.keys(e.cli.toConfig(e.cli.schema.parse({}))));
    expect(new Set(keys).size).toBe(keys.length);
  });
});

/**
 * One event per progress node: an update shaped like the node's (typed by the engine's state records), with
 * the line it must print. "collect" is the common final-round line (ProgressPrinter's own).
 */
const iteration: IterationRecord = {
  iteration: 1,
  feedback_in: [],
  probe: "probe/1.json",
  requested: 20,
  valid: 15,
  invalid: 5,
  scores: { similarity: 0.8123, coverage: 0.5, divergence: 0.25, correlation_similarity: null },
  verdict: "Synthetic",
  feedback: "too many ages of 40",
  overruled: false,
  guard_reasons: [],
};
const step: Pick<StepRecord, "optimizer"> = { optimizer: { attempts: 1, accepted: true, reasons: [] } };
const lsIteration: Pick<LsIteration, "accepted" | "exact_copies"> = { accepted: 12, exact_copies: 1 };
const collectLine =
  "rows 10/30; valid n/a of this session's rows; exact copies removed 0; 2 calls, 300 tokens";

const PROGRESS_EVENTS: Record<
  EngineName,
  Record<string, { update: Record<string, unknown>; line: string }>
> = {
  synthia: {
    collect: { update: {}, line: collectLine },
    // 15/20 = 75%; feedback on its own line; tokens 100 + 200.
    discriminate: {
      update: { phase: "iterate", history: [iteration] },
      line: "iteration 1/6: probe 15/20 valid (75%); similarity 0.81, coverage 0.50, divergence 0.25; verdict Synthetic\n  feedback: too many ages of 40\n  2 calls, 300 tokens",
    },
  },
  "mallm-gan": {
    collect: { update: {}, line: collectLine },
    optimize: { update: { trajectory: [step] }, line: "  optimizer: new theta; 2 calls, 300 tokens" },
  },
  llmsynthor: {
    sample: {
      update: { history: [lsIteration] },
      line: "  pool 10/30 rows (+12, exact copies removed 1)",
    },
    fill: { update: { exactCopiesRemoved: 2 }, line: "fill: pool 10/30 rows (exact copies removed 2)" },
  },
  synllm: {
    collect: { update: {}, line: collectLine },
  },
  copula: {
    // Families counted most used first; the first of the strongest correlations, r to two decimals.
    fit: {
      update: {
        fitSummary: {
          marginals: [
            {
              column: "age",
              kind: "numerical",
              family: "norm",
              params: { loc: 40, scale: 9 },
              missing_rate: 0,
            },
            { column: "hours", kind: "numerical", family: "beta", params: { a: 2, b: 3 }, missing_rate: 0 },
            { column: "bmi", kind: "numerical", family: "beta", params: { a: 4, b: 2 }, missing_rate: 0.1 },
          ],
          categorical: [{ column: "sex", categories: 2 }],
          strongest_correlations: [{ a: "age", b: "hours", r: -0.4162 }],
        },
      },
      line: "fitted: 3 numeric marginals (beta 2, norm 1), 1 categorical columns; strongest correlation age ~ hours -0.42",
    },
    sample: {
      update: { accepted: 12, exactCopiesRemoved: 1 },
      line: "rows 10/30 (+12, exact copies removed 1)",
    },
  },
  bayesnet: {
    fit: {
      update: {
        fitSummary: {
          bins: 5,
          pseudo_count: 1,
          edges: [["age", "income"]],
          nodes: [
            { column: "age", states: 5, parents: [], parent_configurations_seen: 0 },
            { column: "income", states: 2, parents: ["age"], parent_configurations_seen: 5 },
          ],
          parameters: 10,
        },
      },
      line: "fitted: 2 nodes, 1 edges, 10 CPT parameters; age → income",
    },
    sample: {
      update: { accepted: 12, exactCopiesRemoved: 1 },
      line: "rows 10/30 (+12, exact copies removed 1)",
    },
  },
};

function printed(e: EngineDefinition, node: string, update: Record<string, unknown>): string {
  let text = "";
  const p = new ProgressPrinter(
    { write: (s: string) => (text += s) },
    e.progress(RunConfigSchema.parse(base)),
  );
  const usage = { ...emptySnapshot(), calls: 2, prompt_tokens: 100, completion_tokens: 200 };
  const event: RunEvent = { node, update, usage, rowsDone: 10, rowsRequested: 30 };
  p.handle(event);
  return text;
}

describe("progress", () => {
  it.each(ENGINES)("%s: its progress nodes are nodes of its graph", (name) => {
    const e = ENGINE_REGISTRY[name];
    const config = RunConfigSchema.parse({ ...base, engine: name });
    const app = e.compile(
      {
        config,
        store: ArtifactStore.inMemory(),
        real: () => Promise.reject(new Error("not loaded: the graph is only compiled")),
        env: {},
        concurrency: 1,
      },
      new MemorySaver(),
    ) as unknown as { getGraph(): { nodes: Record<string, unknown> } };
    const nodes = Object.keys(app.getGraph().nodes);
    for (const n of e.progressNodes) expect(nodes).toContain(n);
  });

  it.each(ENGINES)("%s: its printer prints an event of each progress node", (name) => {
    const e = ENGINE_REGISTRY[name];
    const events = PROGRESS_EVENTS[name];
    expect(Object.keys(events).sort()).toEqual([...e.progressNodes].sort());
    for (const node of e.progressNodes) {
      expect(printed(e, node, events[node].update), node).toBe(`${events[node].line}\n`);
    }
  });

  it.each(ENGINES)("%s: an update without its fields prints nothing broken", (name) => {
    const e = ENGINE_REGISTRY[name];
    for (const node of e.progressNodes) {
      const text = printed(e, node, {});
      expect(text, node).not.toMatch(/undefined|NaN|\[object/);
    }
  });
});
