/**
 * MALLM-GAN's conditional edges: state → target for every branch. The loop's length is
 * (epochs + frozenEpochs) × batchesPerEpoch steps; optimize has advanced `iteration` to the next step.
 */
import { describe, expect, it } from "vitest";
import { afterOptimize } from "../../../engines/mallm/routers.ts";
import { resolveSchedule } from "../../../engines/mallm/state.ts";
import { MallmOptionsSchema } from "../../../state/config.ts";

describe("afterOptimize", () => {
  // 40 real rows, batches of 20 → 2 batches per epoch; 2 learning + 1 frozen epochs → 6 steps.
  const six = resolveSchedule(40, MallmOptionsSchema.parse({ epochs: 2, batchSize: 20 }));
  // 40 real rows, one batch of 50 → 1 batch per epoch; 1 learning + 0 frozen epochs → 1 step.
  const one = resolveSchedule(40, MallmOptionsSchema.parse({ epochs: 1, frozenEpochs: 0 }));

  it.each([
    { schedule: six, iteration: 1, target: "generate" },
    { schedule: six, iteration: 5, target: "generate" },
    { schedule: six, iteration: 6, target: "choose" },
    { schedule: one, iteration: 1, target: "choose" },
    // Past the end (cannot happen from optimize, which advances by one): still out of the loop.
    { schedule: one, iteration: 2, target: "choose" },
  ])(
    "iteration $iteration of $schedule.batchesPerEpoch×($schedule.epochs+$schedule.frozenEpochs) → $target",
    (c) => {
      expect(afterOptimize({ iteration: c.iteration, schedule: c.schedule })).toBe(c.target);
    },
  );

  it("refuses a state without a schedule (init did not run)", () => {
    expect(() => afterOptimize({ iteration: 1, schedule: null })).toThrow(/schedule missing/);
  });
});
