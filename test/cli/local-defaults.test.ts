/**
 * The small-model defaults (cli/local-defaults.ts): applied only when every model role of the engine is an
 * in-process llamacpp model, only to options the user did not give, and said in a note; and the run config
 * `generate` builds from them.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { flagOf, smallModelDefaults } from "../../cli/local-defaults.ts";
import { GenerateOptionsSchema, runConfigFromOptions } from "../../cli/generate.ts";
import { engineFor } from "../../graph/registry.ts";
import { embeddedDefault } from "../../models/embedded.ts";
import { modelCacheDir } from "../../models/pull.ts";
import { resolveRoleConfigs } from "../../models/spec.ts";

const LOCAL = "llamacpp:/models/small.gguf";
const models = (flags: Parameters<typeof resolveRoleConfigs>[0] = {}) =>
  resolveRoleConfigs({ ...flags, env: {} });

describe("flagOf", () => {
  it("spells a commander attribute as its flag", () => {
    expect(flagOf("maxIterations")).toBe("--max-iterations");
    expect(flagOf("batchRows")).toBe("--batch-rows");
    expect(flagOf("iterations")).toBe("--iterations");
  });
});

describe("smallModelDefaults", () => {
  const synthia = engineFor("synthia");

  it("gives SYNTHIA's small-model values for every option not given, with a note naming them", () => {
    const r = smallModelDefaults(synthia, models({ flags: { model: LOCAL } }), {});
    expect(r?.values).toEqual(synthia.cli.smallModelDefaults);
    expect(r?.values).toEqual({ maxIterations: 2, probeRows: 10, batchRows: 10 });
    expect(r?.note).toBe(
      "in-process model: --max-iterations 2, --probe-rows 10, --batch-rows 10 (defaults for a small local model; give the flag to change it)",
    );
  });

  it("leaves an option the user gave alone, and returns nothing when all were given", () => {
    const m = models({ flags: { model: LOCAL } });
    const r = smallModelDefaults(synthia, m, { maxIterations: "6", batchRows: "25" });
    expect(r?.values).toEqual({ probeRows: 10 });
    expect(r?.note).toContain("--probe-rows 10");
    expect(r?.note).not.toContain("--max-iterations");
    expect(smallModelDefaults(synthia, m, { maxIterations: "6", probeRows: "50", batchRows: "25" })).toBe(
      undefined,
    );
  });

  it("changes nothing for server models, mixed roles, or engines without small-model defaults", () => {
    expect(smallModelDefaults(synthia, models({ flags: { model: "ollama:llama3.1:8b" } }), {})).toBe(
      undefined,
    );
    expect(smallModelDefaults(synthia, models(), {})).toBe(undefined); // the built-in default (Ollama)
    const mixed = models({ flags: { model: LOCAL, roleModels: { discriminator: "openai:gpt-4o" } } });
    expect(smallModelDefaults(synthia, mixed, {})).toBe(undefined);
    // The offline engines call no model; MALLM-GAN on a server keeps the paper's schedule.
    expect(smallModelDefaults(engineFor("copula"), models({ flags: { model: LOCAL } }), {})).toBe(undefined);
    expect(
      smallModelDefaults(engineFor("mallm-gan"), models({ flags: { model: "ollama:llama3.1:8b" } }), {}),
    ).toBe(undefined);
  });

  it("a role the engine does not call may be on a server (SYNTHIA's metadata role is used only on request)", () => {
    // SYNTHIA's roles are generator, discriminator and metadata: a server model for the constraint role
    // (not one of them) does not matter.
    const m = models({ flags: { model: LOCAL, roleModels: { constraint: "openai:gpt-4o" } } });
    expect(smallModelDefaults(synthia, m, {})?.values).toEqual({
      maxIterations: 2,
      probeRows: 10,
      batchRows: 10,
    });
  });

  it("apply to the embedded default (a cached GGUF used because no model is configured)", async () => {
    const home = mkdtempSync(join(tmpdir(), "synthgraph-local-defaults-"));
    const env = { SYNTHGRAPH_HOME: home };
    mkdirSync(modelCacheDir(env), { recursive: true });
    writeFileSync(join(modelCacheDir(env), "small.gguf"), "x");
    const configured = resolveRoleConfigs({ env });
    expect(smallModelDefaults(synthia, configured, {})).toBe(undefined); // Ollama, as configured
    const embedded = await embeddedDefault(configured, env, async () => false);
    expect(smallModelDefaults(synthia, embedded?.models ?? configured, {})?.values).toEqual({
      maxIterations: 2,
      probeRows: 10,
      batchRows: 10,
    });
  });

  it("become the run config's values through the generate options", () => {
    const raw = { data: "in.csv", out: "out.csv", rows: "20", model: LOCAL };
    const r = smallModelDefaults(synthia, models({ flags: { model: LOCAL } }), raw);
    const config = runConfigFromOptions(GenerateOptionsSchema.parse({ ...raw, ...r?.values }));
    expect([config.maxIterations, config.probeRows, config.batchRows]).toEqual([2, 10, 10]);
    // Without them (a server model) the schema's defaults stay.
    const server = runConfigFromOptions(GenerateOptionsSchema.parse({ ...raw, model: "ollama:llama3.1:8b" }));
    expect([server.maxIterations, server.probeRows, server.batchRows]).toEqual([6, 50, 25]);
  });
});

describe("MALLM-GAN's small-model defaults", () => {
  it("one epoch, none frozen, two batches of 20 real rows, 5 per call, final calls of 10 rows; into the config", () => {
    const mallm = engineFor("mallm-gan");
    const raw = {
      data: "in.csv",
      out: "out.csv",
      rows: "20",
      model: LOCAL,
      engine: "mallm-gan",
      epochs: "2",
    };
    const r = smallModelDefaults(mallm, models({ flags: { model: LOCAL } }), raw);
    // --epochs was given: it stays the user's.
    expect(r?.values).toEqual({
      frozenEpochs: 0,
      examplesPerCall: 5,
      mallmBatch: 20,
      mallmMaxBatches: 2,
      batchRows: 10,
    });
    expect(r?.note).toBe(
      "in-process model: --frozen-epochs 0, --examples-per-call 5, --mallm-batch 20, --mallm-max-batches 2, --batch-rows 10 (defaults for a small local model; give the flag to change it)",
    );
    const config = runConfigFromOptions(GenerateOptionsSchema.parse({ ...raw, ...r?.values }));
    expect(config.mallm).toMatchObject({
      epochs: 2,
      frozenEpochs: 0,
      examplesPerCall: 5,
      batchSize: 20,
      maxBatches: 2,
    });
    expect(config.batchRows).toBe(10);
  });
});
