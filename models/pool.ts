/**
 * Several servers for one role, used as one (`--endpoint URL` repeated, or `baseUrls` in the model config): a
 * pool of Ollama or vLLM servers serving the same model. Each member keeps its own concurrency limit (the
 * per-base-URL semaphore of models/resilience.ts) and its own retry policy; a call goes to the healthy member
 * with the most free slots (ties: the next in turn), and when that member fails in a way another server could
 * fix (unreachable, refused, timed out, 5xx, rate-limited past the retries) the call moves to the next member and
 * the failed one is left out for a cooldown. A failure the request itself causes (bad credentials, unknown
 * model, a prompt too long, an unusable reply) is not retried elsewhere.
 */
import { ModelError } from "./errors.ts";
import { endpointLimiter } from "./resilience.ts";

/** What a pooled endpoint needs: its members (full endpoints, one per server). */
export interface PoolMember {
  baseUrl: string;
  maxConcurrency: number;
}

/** How long a failed server is skipped (while another member is healthy). */
export const POOL_COOLDOWN_MS = 30_000;

const downUntil = new Map<string, number>();
let turn = 0;

/** Failures another server may not have. */
export function failsOver(err: unknown): boolean {
  return (
    err instanceof ModelError &&
    ["unreachable", "connection", "timeout", "server", "rate_limit"].includes(err.kind)
  );
}

/** Members in the order a call tries them: healthy before cooled-down, most free slots first, then in turn. */
export function memberOrder<M extends PoolMember>(members: readonly M[], now: number = Date.now()): M[] {
  const start = turn++ % members.length;
  const scored = members.map((m, i) => {
    const lim = endpointLimiter(m.baseUrl, m.maxConcurrency);
    return {
      m,
      down: (downUntil.get(m.baseUrl) ?? 0) > now ? 1 : 0,
      free: lim.max - lim.inFlight,
      rank: (i - start + members.length) % members.length,
    };
  });
  scored.sort((a, b) => a.down - b.down || b.free - a.free || a.rank - b.rank);
  return scored.map((s) => s.m);
}

/** Runs `call` on the pool's members until one succeeds or a failure is not one another server could fix. */
export async function withFailover<M extends PoolMember, T>(
  members: readonly M[],
  call: (member: M) => Promise<T>,
): Promise<T> {
  let last: unknown;
  for (const m of memberOrder(members)) {
    try {
      const value = await call(m);
      downUntil.delete(m.baseUrl);
      return value;
    } catch (err) {
      if (!failsOver(err)) throw err;
      downUntil.set(m.baseUrl, Date.now() + POOL_COOLDOWN_MS);
      last = err;
    }
  }
  throw last;
}

/** Forgets every cooldown (tests). */
export function resetPoolHealth(): void {
  downUntil.clear();
  turn = 0;
}
