/**
 * MALLM-GAN's conditional edges: state → target for every branch. The loop's length is
 * (epochs + frozenEpochs) × batchesPerEpoch steps, at most the cap; optimize has advanced `iteration` to the
 * next step.
 */
import { describe, expect, it } from "vitest";
import { afterOptimize } from "../../../engines/mallm/routers.ts";
import { lastEpoch, resolveSchedule, totalSteps } from "../../../engines/mallm/state.ts";
import { MallmOptionsSchema } from "../../../state/config.ts";

describe("afterOptimize", () => {
  // 40 real rows, batches of 20 → 2 batches per epoch; 2 learning + 1 frozen epochs → 6 steps.
  const six = resolveSchedule(40, MallmOptionsSchema.parse({ epochs: 2, batchSize: 20 }));
  // 40 real rows, one batch of 50 → 1 batch per epoch; 1 learning + 0 frozen epochs → 1 step.
  const one = resolveSchedule(40, MallmOptionsSchema.parse({ epochs: 1, frozenEpochs: 0 }));
  // The six-step schedule capped at 4 batches (--mallm-max-batches 4).
  const capped = resolveSchedule(40, MallmOptionsSchema.parse({ epochs: 2, batchSize: 20, maxBatches: 4 }));

  it.each([
    { schedule: six, iteration: 1, target: "generate" },
    { schedule: six, iteration: 5, target: "generate" },
    { schedule: six, iteration: 6, target: "choose" },
    { schedule: one, iteration: 1, target: "choose" },
    { schedule: capped, iteration: 3, target: "generate" },
    { schedule: capped, iteration: 4, target: "choose" },
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

describe("the loop's cap (--mallm-max-batches)", () => {
  it("shortens the loop and moves the final choice to the epoch it ends in; a cap past the end changes nothing", () => {
    const opts = (maxBatches?: number) =>
      resolveSchedule(40, MallmOptionsSchema.parse({ epochs: 2, batchSize: 20, maxBatches }));
    // 2 batches per epoch, 2 learning epochs + 1 frozen = 6 steps; the last one's epoch is 2 (0-based).
    expect([totalSteps(opts()), lastEpoch(opts())]).toEqual([6, 2]);
    // Steps 0..2 run: step 2 is batch 0 of epoch 1.
    expect([totalSteps(opts(3)), lastEpoch(opts(3))]).toEqual([3, 1]);
    expect([totalSteps(opts(1)), lastEpoch(opts(1))]).toEqual([1, 0]);
    expect([totalSteps(opts(50)), lastEpoch(opts(50))]).toEqual([6, 2]);
    expect(opts(3).maxSteps).toBe(3);
    expect(opts().maxSteps).toBeUndefined();
  });
});
