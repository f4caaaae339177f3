/** The bayesnet graph's routers: state → target for every branch (chunks of 25 rows, a round of 60 = 3 chunks). */
import { describe, expect, it } from "vitest";
import { afterPlan, afterSample } from "../../../engines/bayesnet/routers.ts";
import { offlineConfig } from "../../support/offline-engines.ts";

describe("bayesnet routers", () => {
  it("afterPlan: write once N rows are in, else sample", () => {
    expect(afterPlan({ phase: "write" })).toBe("write");
    expect(afterPlan({ phase: "sample" })).toBe("sample");
  });

  it("afterSample: the round's next chunk while chunks are left (⌈60 / 25⌉ = 3), then plan_round", () => {
    const config = offlineConfig({ out: "/tmp/x.csv", bayesnet: { chunkRows: 25 } });
    const at = (nextChunk: number) => afterSample({ config, roundRows: [60], nextChunk });
    expect([1, 2, 3].map(at)).toEqual(["sample", "sample", "plan_round"]);
    // A top-up round of 10 rows is one chunk.
    expect(afterSample({ config, roundRows: [60, 10], nextChunk: 1 })).toBe("plan_round");
  });
});
