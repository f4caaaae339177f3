/**
 * models/unusable-budget.ts: reason kinds (prefixes stripped so one problem counts once), the most frequent
 * kinds (ties in first-seen order), and the run-wide count of consecutive unusable calls: it throws exit code 4
 * at the limit, quotes the top reasons of the streak only, and any usable reply resets it.
 */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_UNUSABLE_CALLS,
  reasonKind,
  topReasons,
  UnusableRepliesError,
  UnusableReplyBudget,
} from "../../models/unusable-budget.ts";

describe("reasonKind", () => {
  it("strips the attempt, item and row prefixes", () => {
    expect(reasonKind("attempt 2: item 7: expected 4 values, got 2")).toBe("expected 4 values, got 2");
    expect(reasonKind("item 3.age: not a number")).toBe("not a number");
    expect(reasonKind("attempt 1: row 12: missing column income")).toBe("missing column income");
    expect(reasonKind("row 4 missing column income")).toBe("missing column income");
    expect(reasonKind("  no JSON in the reply  ")).toBe("no JSON in the reply");
  });

  it("leaves a reason without prefix as it is (only leading prefixes go)", () => {
    expect(reasonKind("the reply names item 3: twice")).toBe("the reply names item 3: twice");
  });
});

describe("topReasons", () => {
  it("counts kinds, most frequent first, ties in first-seen order, at most k", () => {
    const reasons = [
      "attempt 1: no JSON in the reply", // A
      "attempt 1: item 0: expected 4 values, got 2", // B
      "attempt 2: item 1: expected 4 values, got 2", // B
      "attempt 2: refusal", // C
      "attempt 3: no JSON in the reply", // A
      "attempt 3: item 5: expected 4 values, got 2", // B
      "attempt 3: empty reply", // D
    ];
    // Counts: B 3, A 2, C 1, D 1 → B, A, then C (seen before D).
    expect(topReasons(reasons)).toEqual(["expected 4 values, got 2", "no JSON in the reply", "refusal"]);
    expect(topReasons(reasons, 1)).toEqual(["expected 4 values, got 2"]);
    expect(topReasons([])).toEqual([]);
  });
});

describe("UnusableReplyBudget", () => {
  it("defaults to 6 and rejects a limit that is not a positive integer", () => {
    expect(new UnusableReplyBudget().limit).toBe(DEFAULT_MAX_UNUSABLE_CALLS);
    expect(DEFAULT_MAX_UNUSABLE_CALLS).toBe(6);
    expect(() => new UnusableReplyBudget(0)).toThrow(/positive integer/);
    expect(() => new UnusableReplyBudget(2.5)).toThrow(/positive integer/);
  });

  it("throws exit code 4 on the limit-th unusable call in a row, not before", () => {
    const b = new UnusableReplyBudget(3);
    b.unusable("generator", ["attempt 1: no JSON in the reply"]);
    b.unusable("generator", ["attempt 1: refusal"]);
    expect(b.consecutiveUnusable).toBe(2);
    let err: unknown;
    try {
      b.unusable("generator", ["attempt 1: no JSON in the reply"]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnusableRepliesError);
    const u = err as UnusableRepliesError;
    expect(u.exitCode).toBe(4);
    expect(u.reasons).toEqual(["no JSON in the reply", "refusal"]);
    expect(u.message).toContain("unusable 3 calls in a row");
    expect(u.message).toContain('"no JSON in the reply"; "refusal"');
    expect(u.hint).toContain("synthgraph resume");
  });

  it("a usable reply resets the count and forgets the streak's reasons", () => {
    const b = new UnusableReplyBudget(2);
    b.unusable("proposer", ["attempt 1: old reason"]);
    b.usable();
    expect(b.consecutiveUnusable).toBe(0);
    b.unusable("proposer", ["attempt 1: new reason"]);
    expect(b.consecutiveUnusable).toBe(1);
    let err: UnusableRepliesError | undefined;
    try {
      b.unusable("proposer", ["attempt 2: new reason"]);
    } catch (e) {
      err = e as UnusableRepliesError;
    }
    // Two in a row after the reset; the reason before the reset is not quoted.
    expect(err?.reasons).toEqual(["new reason"]);
    expect(err?.message).toContain("the proposer model answered");
  });

  it("uses the resume hint it was given", () => {
    const b = new UnusableReplyBudget(1, "then call resumeRun(dir)");
    let err: UnusableRepliesError | undefined;
    try {
      b.unusable("optimizer", ["x"]);
    } catch (e) {
      err = e as UnusableRepliesError;
    }
    expect(err?.hint).toContain("then call resumeRun(dir)");
    expect(err?.hint).toContain("--role-model optimizer=");
  });
});
