/** The LLMSynthor routers as state → target tables, one row per branch. */
import { describe, expect, it } from "vitest";
import { afterFill, afterMeasure, afterSample } from "../../../engines/llmsynthor/routers.ts";
import { LS_PHASES } from "../../../engines/llmsynthor/state.ts";
import type { RunConfig } from "../../../state/config.ts";
import { LlmsynthorOptionsSchema } from "../../../state/config.ts";
import { testConfig } from "../../support/synthia.ts";

// Routers read no model: the server addresses in the config are never used.
const UNUSED = { ollamaUrl: "http://127.0.0.1:9", openaiUrl: "http://127.0.0.1:9/v1" };

function config(rows: number, reinferGroups: boolean): RunConfig {
  return testConfig(UNUSED, "ollama", {
    input: "unused.csv",
    out: "unused-out.csv",
    rows,
    engine: "llmsynthor",
    llmsynthor: LlmsynthorOptionsSchema.parse({ reinferGroups }),
  });
}

describe("afterMeasure", () => {
  it("follows the phase measure set: write → write, fill → fill, anything else → propose", () => {
    const table = LS_PHASES.map((phase) => [phase, afterMeasure({ phase })]);
    expect(table).toEqual([
      ["init", "propose"],
      ["iterate", "propose"],
      ["fill", "fill"],
      ["write", "write"],
      ["done", "propose"],
    ]);
  });
});

describe("afterSample", () => {
  it("re-infers groups only with reinferGroups while iterations and rows are left", () => {
    const cases: [boolean, number, number, number, "copula" | "measure"][] = [
      // reinferGroups, iteration, iterations, accepted (of 60) → target
      [false, 1, 3, 20, "measure"],
      [true, 1, 3, 20, "copula"],
      [true, 2, 3, 59, "copula"],
      [true, 3, 3, 40, "measure"], // the last iteration: measure decides the stop
      [true, 1, 3, 60, "measure"], // N rows already
      [true, 1, 3, 61, "measure"],
    ];
    for (const [reinfer, iteration, iterations, accepted, target] of cases) {
      const s = { config: config(60, reinfer), iteration, iterations, accepted };
      expect([reinfer, iteration, iterations, accepted, afterSample(s)]).toEqual([
        reinfer,
        iteration,
        iterations,
        accepted,
        target,
      ]);
    }
  });
});

describe("afterFill", () => {
  it("fills again while rows are missing, then writes", () => {
    const cfg = config(60, false);
    expect([0, 59, 60, 61].map((accepted) => [accepted, afterFill({ config: cfg, accepted })])).toEqual([
      [0, "fill"],
      [59, "fill"],
      [60, "write"],
      [61, "write"],
    ]);
  });
});
