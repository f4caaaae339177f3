/**
 * The progress printer: the common "loaded" line carries each engine's own detail (SYNTHIA's prompt examples,
 * MALLM-GAN's schedule, LLMSynthor's planned iterations), and the engines' own nodes print through their hooks.
 */
import { describe, expect, it } from "vitest";
import { llmsynthorProgress } from "../../engines/llmsynthor/progress.ts";
import { mallmProgress } from "../../engines/mallm/progress.ts";
import { type EngineProgress, ProgressPrinter } from "../../cli/progress.ts";
import { synthiaProgress } from "../../engines/synthia/progress.ts";
import type { RunEvent } from "../../graph/run.ts";
import { emptySnapshot } from "../../models/accounting.ts";

const dataset = { path: "real.csv", sha256: "0", rows: 40, columns: ["age", "sex", "hours", "income"] };

function lines(
  engine: EngineProgress,
  events: Array<Pick<RunEvent, "node" | "update"> & { rowsDone?: number }>,
): string[] {
  let text = "";
  const p = new ProgressPrinter({ write: (s: string) => (text += s) }, engine);
  for (const e of events) p.handle({ rowsDone: 0, ...e, usage: emptySnapshot(), rowsRequested: 30 });
  return text.trimEnd().split("\n");
}

describe("loaded line", () => {
  it("SYNTHIA: the stratified examples of the prompt", () => {
    expect(lines(synthiaProgress(3), [{ node: "init", update: { dataset, xSub: [4, 9, 17] } }])).toEqual([
      "loaded 40 real rows × 4 columns; 3 stratified examples in the prompt",
    ]);
  });

  it("MALLM-GAN: the schedule, no stratified examples; one epoch and one batch in the singular", () => {
    const schedule = { epochs: 2, frozenEpochs: 1, batchSize: 20, batchesPerEpoch: 2 };
    expect(lines(mallmProgress, [{ node: "init", update: { dataset, schedule } }])).toEqual([
      "loaded 40 real rows × 4 columns; 2 epochs (1 frozen) of 2 batches of 20 real rows",
    ]);
    const one = { epochs: 1, frozenEpochs: 0, batchSize: 100, batchesPerEpoch: 1 };
    expect(lines(mallmProgress, [{ node: "init", update: { dataset, schedule: one } }])).toEqual([
      "loaded 40 real rows × 4 columns; 1 epoch (0 frozen) of 1 batch of 100 real rows",
    ]);
  });

  it("LLMSynthor: the planned iterations", () => {
    expect(lines(llmsynthorProgress, [{ node: "load", update: { dataset, iterations: 2 } }])).toEqual([
      "loaded 40 real rows × 4 columns; 2 iterations planned",
    ]);
  });
});

describe("engine nodes", () => {
  it("SYNTHIA's final choice after the last iteration; other engines' nodes are not SYNTHIA's", () => {
    const choice = {
      node: "discriminate",
      update: { phase: "finalize", finalChoice: { reason: "max_iterations", iteration: 2 } },
    };
    expect(lines(synthiaProgress(3), [choice])).toEqual([
      'no "Real" verdict within 3 iterations: generating 30 rows with the prompt of iteration 2 (best similarity − divergence)',
    ]);
    expect(lines(mallmProgress, [choice])).toEqual([""]);
    expect(lines(synthiaProgress(3), [{ node: "copula", update: { groups: [["age", "sex"]] } }])).toEqual([
      "",
    ]);
    expect(lines(llmsynthorProgress, [{ node: "copula", update: { groups: [["age", "sex"]] } }])).toEqual([
      "joint groups: [age, sex]",
    ]);
  });
});

describe("duplicates removed between rounds", () => {
  it("says how many and the rows left, when a round's plan removed some; nothing otherwise", () => {
    const plan = (duplicatesRemoved: number, rowsDone: number) => ({
      node: "plan_round",
      update: { accepted: -duplicatesRemoved, duplicatesRemoved, phase: "finalize" },
      rowsDone,
    });
    expect(lines(synthiaProgress(3), [plan(4, 26)])).toEqual([
      "removed 4 duplicate rows (--keep-duplicates keeps them): rows 26/30, generating the rest",
    ]);
    expect(lines(mallmProgress, [plan(1, 29)])).toEqual([
      "removed 1 duplicate row (--keep-duplicates keeps them): rows 29/30, generating the rest",
    ]);
    expect(lines(synthiaProgress(3), [{ node: "plan_round", update: { phase: "finalize" } }])).toEqual([""]);
  });
});
