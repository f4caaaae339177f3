/**
 * SYNTHIA's conditional edge as a table: state → target. discriminate sets phase "finalize" when the loop ends
 * (converged, or max iterations) and leaves the phase alone otherwise (test/engines/synthia/nodes.test.ts runs
 * the node into this router for each decision).
 */
import { describe, expect, it } from "vitest";
import { afterDiscriminate } from "../../../engines/synthia/routers.ts";
import { PHASES } from "../../../engines/synthia/state.ts";

describe("afterDiscriminate", () => {
  const table: [(typeof PHASES)[number], "plan_round" | "refine"][] = [
    ["finalize", "plan_round"],
    ["iterate", "refine"],
    ["init", "refine"],
    ["write", "refine"],
    ["done", "refine"],
  ];
  it("covers every phase", () => {
    expect(table.map(([p]) => p).sort()).toEqual([...PHASES].sort());
  });
  it.each(table)("phase %s → %s", (phase, target) => {
    expect(afterDiscriminate({ phase })).toBe(target);
  });
});
