/** Hamilton's largest-remainder apportionment (stats/primitives/apportion.ts). */
import { describe, expect, it } from "vitest";
import { rescaleCounts } from "../../../stats/primitives/apportion.ts";
import { createRng } from "../../../stats/primitives/rng.ts";

describe("rescaleCounts (largest remainder)", () => {
  it("matches hand-computed apportionments", () => {
    // quotas 3.33 each: floors 3,3,3 and the one left goes to the first (ties by index)
    expect(rescaleCounts([1, 1, 1], 10)).toEqual([4, 3, 3]);
    // quotas 3.5, 2.1, 1.4: floors 3, 2, 1; remainder 1 goes to the largest fraction (0.5)
    expect(rescaleCounts([50, 30, 20], 7)).toEqual([4, 2, 1]);
    // quotas 200·(30, 10, 60)/100 exactly
    expect(rescaleCounts([30, 10, 60], 200)).toEqual([60, 20, 120]);
    expect(rescaleCounts([2.5, 2.5], 3)).toEqual([2, 1]);
    expect(rescaleCounts([5], 0)).toEqual([0]);
  });

  it("always sums exactly to the total", () => {
    const rng = createRng(3);
    for (let t = 0; t < 200; t++) {
      const w = Array.from(
        { length: 1 + rng.int(8) },
        () => rng.next() * 1000 + (rng.int(3) === 0 ? 0 : 1e-9),
      );
      const total = rng.int(100_000);
      const c = rescaleCounts(w, total);
      expect(c.reduce((s, x) => s + x, 0)).toBe(total);
      for (const x of c) expect(Number.isInteger(x) && x >= 0).toBe(true);
    }
  });

  it("rejects negative weights and all-zero weights", () => {
    expect(() => rescaleCounts([1, -1], 5)).toThrow(RangeError);
    expect(() => rescaleCounts([0, 0], 5)).toThrow(RangeError);
  });
});
