/**
 * The llamacpp sequence pool (models/llamacpp-pool.ts) without a model: which free sequence a call takes, and
 * the pool's hand-over to waiting calls. Sequences are plain objects holding token lists, updated as a real
 * call would leave them (its prompt, then its reply).
 */
import { describe, expect, it } from "vitest";
import {
  chooseSequence,
  commonPrefixLength,
  MIN_USEFUL_PREFIX,
  SequencePool,
} from "../../models/llamacpp-pool.ts";

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

describe("commonPrefixLength", () => {
  it("counts equal leading tokens", () => {
    expect(commonPrefixLength([1, 2, 3, 4], [1, 2, 9, 4])).toBe(2); // 1 = 1, 2 = 2, 3 ≠ 9
    expect(commonPrefixLength([1, 2], [1, 2, 3])).toBe(2); // one list is a prefix of the other
    expect(commonPrefixLength([], [1])).toBe(0);
    expect(commonPrefixLength([5], [6])).toBe(0);
    expect(commonPrefixLength(new Uint32Array([7, 8, 9]), [7, 8, 9])).toBe(3);
  });
});

describe("chooseSequence", () => {
  it("takes the free sequence sharing the longest prefix with the prompt", () => {
    const prompt = range(0, 200);
    const free = [
      { tokens: [...range(0, 80), 999], releasedAt: 0 }, // shares 80
      { tokens: [...range(0, 150), 999, 998], releasedAt: 5 }, // shares 150
      { tokens: [], releasedAt: -1 }, // empty
    ];
    expect(chooseSequence(free, prompt, 1)).toBe(1);
    expect(chooseSequence([], prompt)).toBe(-1);
  });

  it("breaks ties by the least recently released sequence, then by position", () => {
    const prompt = range(0, 100);
    const held = [...range(0, 100), 7];
    expect(
      chooseSequence(
        [
          { tokens: held, releasedAt: 9 },
          { tokens: held, releasedAt: 3 },
          { tokens: held, releasedAt: 4 },
        ],
        prompt,
        1,
      ),
    ).toBe(1);
    expect(
      chooseSequence(
        [
          { tokens: held, releasedAt: 2 },
          { tokens: held, releasedAt: 2 },
        ],
        prompt,
        1,
      ),
    ).toBe(0);
  });

  it("counts a prefix shorter than the minimum as none (the chat template's opening)", () => {
    // Both cached prompts start with the same 4 template tokens as the new prompt; the one holding a long
    // unrelated prompt must not be taken over the one released longer ago.
    const template = [2, 105, 2364, 107];
    const prompt = [...template, ...range(5000, 300)];
    const longCache = { tokens: [...template, ...range(1000, 1500)], releasedAt: 1 };
    const older = { tokens: [...template.slice(0, 1), ...range(9000, 20)], releasedAt: 0 };
    expect(chooseSequence([longCache, older], prompt)).toBe(1);
    // With no minimum the 4 template tokens win, which is the overwrite the minimum prevents.
    expect(chooseSequence([longCache, older], prompt, 0)).toBe(0);
    // At the minimum a shared prefix counts again.
    const atMin = { tokens: prompt.slice(0, MIN_USEFUL_PREFIX), releasedAt: 5 };
    expect(chooseSequence([older, atMin], prompt)).toBe(1);
    const below = { tokens: prompt.slice(0, MIN_USEFUL_PREFIX - 1), releasedAt: 5 };
    expect(chooseSequence([older, below], prompt)).toBe(0);
  });
});

/** A fake context sequence: the tokens a call leaves in it. */
interface FakeSeq {
  name: string;
  tokens: number[];
}

/** One call on the pool: acquire for `prompt`, leave prompt + reply in the sequence, release. */
async function call(
  pool: SequencePool<FakeSeq>,
  prompt: number[],
  reply: number[],
): Promise<{ name: string; cachedPrefix: number }> {
  const { seq, cachedPrefix } = await pool.acquire(prompt);
  seq.tokens = [...prompt, ...reply];
  pool.release(seq);
  return { name: seq.name, cachedPrefix };
}

describe("SequencePool", () => {
  const template = [2, 105, 2364, 107];
  // SYNTHIA's calls in order: probe (generator), discriminator analysis, discriminator decision (the analysis
  // conversation plus one turn), the next probe (same columns and examples, new feedback).
  const columnsAndExamples = range(10_000, 900);
  const probe1 = [...template, ...columnsAndExamples, ...range(20_000, 40)];
  const probe2 = [...template, ...columnsAndExamples, ...range(30_000, 60)];
  const analysis = [...template, ...range(40_000, 700)];
  const analysisReply = range(50_000, 150);
  const decision = [...analysis, ...analysisReply, ...range(60_000, 30)];

  it("keeps the generator's prompt in one sequence while the discriminator uses the other", async () => {
    const pool = new SequencePool<FakeSeq>(
      [
        { name: "a", tokens: [] },
        { name: "b", tokens: [] },
      ],
      (s) => s.tokens,
    );
    const p1 = await call(pool, probe1, range(70_000, 400));
    const d1 = await call(pool, analysis, analysisReply);
    const d2 = await call(pool, decision, range(80_000, 10));
    const p2 = await call(pool, probe2, range(90_000, 400));
    expect(p1).toEqual({ name: "a", cachedPrefix: 0 });
    expect(d1.name).toBe("b"); // not "a": only the 4 template tokens are shared with it
    // The decision call continues the analysis conversation: everything up to the analysis reply is cached.
    expect(d2).toEqual({ name: "b", cachedPrefix: analysis.length + analysisReply.length });
    // The next probe finds its columns and examples in "a".
    expect(p2).toEqual({ name: "a", cachedPrefix: template.length + columnsAndExamples.length });
  });

  it("hands a released sequence to waiting calls in arrival order; an aborted wait leaves the line", async () => {
    const pool = new SequencePool<FakeSeq>([{ name: "only", tokens: [] }], (s) => s.tokens);
    const first = await pool.acquire([1, 2, 3]);
    expect(pool.available).toBe(0);
    const order: string[] = [];
    const ac = new AbortController();
    const w1 = pool.acquire([1]).then((a) => {
      order.push("w1");
      return a;
    });
    const w2 = pool.acquire([2], ac.signal);
    const w3 = pool.acquire([1, 2, 3]).then((a) => {
      order.push("w3");
      return a;
    });
    ac.abort(new Error("cancelled while waiting"));
    await expect(w2).rejects.toThrow("cancelled while waiting");
    first.seq.tokens = [1, 2, 3, 4];
    pool.release(first.seq);
    const got1 = await w1;
    expect(got1.cachedPrefix).toBe(1);
    pool.release(got1.seq);
    const got3 = await w3;
    expect(got3.cachedPrefix).toBe(3); // the tokens [1, 2, 3, 4] left by the first call
    expect(order).toEqual(["w1", "w3"]);
    pool.release(got3.seq);
    expect(pool.available).toBe(1);
    const pre = new AbortController();
    pre.abort(new Error("already cancelled"));
    await expect(pool.acquire([1], pre.signal)).rejects.toThrow("already cancelled");
    expect(pool.available).toBe(1);
  });
});
