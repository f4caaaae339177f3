/**
 * The pool of context sequences of one loaded llamacpp model (models/llamacpp.ts): one sequence per concurrent
 * call, and the choice of which free sequence a call takes.
 *
 * A sequence keeps the tokens of its last call in its KV cache after the call. llama.cpp (through
 * node-llama-cpp's LlamaChat, which aligns the sequence with `adaptStateToTokens` before evaluating) keeps the
 * longest common prefix of the cached tokens and the new prompt and evaluates only the rest. So a call should
 * take the free sequence whose cached tokens share the longest prefix with its prompt: with "the last freed"
 * instead, the discriminator's calls overwrite the sequence that held the generator's prompt, and the next
 * probe reads its whole prompt again (measured: 0.2 % of row-generation prompt tokens reused).
 *
 * A prefix shorter than MIN_USEFUL_PREFIX counts as none: every prompt of a model starts with the same chat
 * template opening (Gemma: 4 tokens; Qwen's default system prompt: about 30), and taking a sequence for those
 * few tokens would throw away a long cached prompt that a later call could reuse, to save a fraction of a
 * second. Ties go to the sequence released longest ago (a never-used sequence first), so the caches used
 * most recently, the likeliest to be reused, survive. A call that finds every sequence busy waits in line
 * (first come, first served) and takes the next one released.
 */

/** Shared prompt tokens below which a sequence counts as holding nothing of the prompt. */
export const MIN_USEFUL_PREFIX = 64;

/** Tokens at the start of `a` and `b` that are equal (the longest common prefix's length). */
export function commonPrefixLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** A free sequence as the choice sees it: its cached tokens and when it was released (larger = later). */
export interface FreeSequence {
  tokens: ArrayLike<number>;
  releasedAt: number;
}

/**
 * The index in `free` of the sequence a call with `prompt` should take: the longest common prefix with the
 * prompt (one under `minPrefix` tokens counts as 0), ties to the smallest `releasedAt` (then the lowest
 * index). -1 when `free` is empty.
 */
export function chooseSequence(
  free: readonly FreeSequence[],
  prompt: ArrayLike<number>,
  minPrefix = MIN_USEFUL_PREFIX,
): number {
  let best = -1;
  let bestPrefix = -1;
  for (let i = 0; i < free.length; i++) {
    const shared = commonPrefixLength(free[i].tokens, prompt);
    const p = shared >= minPrefix ? shared : 0;
    if (p > bestPrefix || (p === bestPrefix && free[i].releasedAt < free[best].releasedAt)) {
      best = i;
      bestPrefix = p;
    }
  }
  return best;
}

/** A sequence handed to a call, with how many of its cached tokens the call's prompt starts with. */
export interface Acquired<S> {
  seq: S;
  /** Longest common prefix of the sequence's cached tokens and the prompt (before the call evaluates). */
  cachedPrefix: number;
}

/** Sequences shared by concurrent calls; `tokensOf` reads a sequence's cached tokens. */
export class SequencePool<S> {
  private readonly free: Array<{ seq: S; releasedAt: number }>;
  private readonly waiters: Array<(seq: S) => void> = [];
  private clock = 0;

  constructor(
    sequences: readonly S[],
    private readonly tokensOf: (seq: S) => ArrayLike<number>,
    private readonly minPrefix = MIN_USEFUL_PREFIX,
  ) {
    this.free = sequences.map((seq) => ({ seq, releasedAt: this.clock++ }));
  }

  /** Free sequences now. */
  get available(): number {
    return this.free.length;
  }

  /** The free sequence sharing the longest prefix with `prompt`, or the next one released (in arrival order). */
  acquire(prompt: ArrayLike<number>, signal?: AbortSignal): Promise<Acquired<S>> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const i = chooseSequence(
      this.free.map((f) => ({ tokens: this.tokensOf(f.seq), releasedAt: f.releasedAt })),
      prompt,
      this.minPrefix,
    );
    if (i >= 0) {
      const [{ seq }] = this.free.splice(i, 1);
      return Promise.resolve({ seq, cachedPrefix: commonPrefixLength(this.tokensOf(seq), prompt) });
    }
    return new Promise((res, rej) => {
      const take = (seq: S): void => {
        signal?.removeEventListener("abort", onAbort);
        res({ seq, cachedPrefix: commonPrefixLength(this.tokensOf(seq), prompt) });
      };
      const onAbort = (): void => {
        const k = this.waiters.indexOf(take);
        if (k >= 0) this.waiters.splice(k, 1);
        rej(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(take);
    });
  }

  release(seq: S): void {
    const next = this.waiters.shift();
    if (next) next(seq);
    else this.free.push({ seq, releasedAt: this.clock++ });
  }
}
