/**
 * Token and call accounting per role and per run. Provider usage (LangChain `usage_metadata`) is used
 * when the server reports it; otherwise tokens are estimated from text length and the totals are marked
 * `estimated`. The snapshot is a plain JSON-serialisable object for the graph state and the CLI summary.
 */

export interface UsageTotals {
  /** Model responses received (each retry that got an answer counts). */
  calls: number;
  /** Attempts that failed (HTTP error, timeout, dropped connection); they carry no tokens. */
  failed_calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** True when any counted call had no provider usage and was estimated. */
  estimated: boolean;
  latency_ms: number;
}

export interface AccountingSnapshot extends UsageTotals {
  by_role: Record<string, UsageTotals>;
}

/** One model response's usage. */
export interface CallUsage {
  prompt_tokens: number;
  completion_tokens: number;
  estimated: boolean;
}

const emptyTotals = (): UsageTotals => ({
  calls: 0,
  failed_calls: 0,
  prompt_tokens: 0,
  completion_tokens: 0,
  estimated: false,
  latency_ms: 0,
});

/** tokens ≈ ceil(chars / 4) (OpenAI's rule of thumb for English text); used only when usage is missing. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Usage from a LangChain message's `usage_metadata`, else estimated from the prompt and completion text.
 * ChatOllama reports 0/0 when the server sent no counts, so an all-zero usage is treated as missing.
 */
export function usageFrom(
  usage: { input_tokens?: number; output_tokens?: number } | undefined,
  promptText: string,
  completionText: string,
): CallUsage {
  const p = usage?.input_tokens ?? 0;
  const c = usage?.output_tokens ?? 0;
  if (usage !== undefined && p + c > 0) return { prompt_tokens: p, completion_tokens: c, estimated: false };
  return {
    prompt_tokens: estimateTokens(promptText),
    completion_tokens: estimateTokens(completionText),
    estimated: true,
  };
}

function add(into: UsageTotals, u: Partial<UsageTotals>): void {
  into.calls += u.calls ?? 0;
  into.failed_calls += u.failed_calls ?? 0;
  into.prompt_tokens += u.prompt_tokens ?? 0;
  into.completion_tokens += u.completion_tokens ?? 0;
  into.estimated ||= u.estimated ?? false;
  into.latency_ms += u.latency_ms ?? 0;
}

/** Mutable per-run ledger; `snapshot()` copies it out. */
export class Accounting {
  private readonly total = emptyTotals();
  private readonly roles = new Map<string, UsageTotals>();

  private role(role: string): UsageTotals {
    let t = this.roles.get(role);
    if (!t) {
      t = emptyTotals();
      this.roles.set(role, t);
    }
    return t;
  }

  /** Records one answered call. */
  record(role: string, usage: CallUsage, latencyMs: number): void {
    const u = { calls: 1, ...usage, latency_ms: latencyMs };
    add(this.total, u);
    add(this.role(role), u);
  }

  /** Records failed attempts (no tokens). */
  recordFailures(role: string, count: number, latencyMs = 0): void {
    if (count <= 0) return;
    const u = { failed_calls: count, latency_ms: latencyMs };
    add(this.total, u);
    add(this.role(role), u);
  }

  snapshot(): AccountingSnapshot {
    const by_role: Record<string, UsageTotals> = {};
    for (const [k, v] of [...this.roles].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      by_role[k] = { ...v };
    return { ...this.total, by_role };
  }
}

export function emptySnapshot(): AccountingSnapshot {
  return { ...emptyTotals(), by_role: {} };
}

/** a + b, role by role (a reducer for graph state that accumulates snapshots from parallel branches). */
export function mergeSnapshots(a: AccountingSnapshot, b: AccountingSnapshot): AccountingSnapshot {
  const out = emptySnapshot();
  add(out, a);
  add(out, b);
  for (const src of [a.by_role, b.by_role]) {
    for (const [role, t] of Object.entries(src)) {
      out.by_role[role] ??= emptyTotals();
      add(out.by_role[role], t);
    }
  }
  return out;
}
