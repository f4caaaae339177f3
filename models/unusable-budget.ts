/**
 * The budget of consecutive unusable model replies of one run. A structured call whose replies stay unusable
 * after its re-asks is not fatal by itself: the engine records the batch with 0 rows and goes on (a probe
 * feeds the engine's "no valid rows" feedback, a final batch is generated again in the next round with new
 * seeds). Only when `limit` calls in a row end unusable does the run stop — resumable — with exit code 4:
 * the model answers, but not in a form the run can use, and more calls would only spend tokens.
 * Any usable reply resets the count.
 */
import { SynthgraphError } from "../data/errors.ts";

export const DEFAULT_MAX_UNUSABLE_CALLS = 6;

export class UnusableRepliesError extends SynthgraphError {
  readonly reasons: string[];
  constructor(role: string, calls: number, topReasons: string[], resumeHint: string) {
    super(
      `the ${role} model answered, but its replies were unusable ${calls} calls in a row; most frequent reasons: ${topReasons.map((r) => `"${r}"`).join("; ")}`,
      {
        hint: `try a stronger model (--model or --role-model ${role}=...), a lower temperature for this role (--temperature ${role}=0.3), or fewer rows per call (--batch-rows, --probe-rows); ${resumeHint}`,
        exitCode: 4,
      },
    );
    this.name = "UnusableRepliesError";
    this.reasons = topReasons;
  }
}

/** A reason without its "attempt N: " and "item N: " prefixes, so the same problem counts as one. */
export function reasonKind(reason: string): string {
  return reason
    .replace(/^attempt \d+: /, "")
    .replace(/^item \d+(\.\S*)?: /, "")
    .replace(/^row \d+:? ?/, "")
    .trim();
}

/** The `k` most frequent reason kinds, most frequent first (ties: first seen first). */
export function topReasons(reasons: readonly string[], k = 3): string[] {
  const counts = new Map<string, number>();
  for (const r of reasons) {
    const kind = reasonKind(r);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([kind]) => kind);
}

export class UnusableReplyBudget {
  readonly limit: number;
  private consecutive = 0;
  private readonly reasons: string[] = [];
  private readonly resumeHint: string;
  constructor(
    limit = DEFAULT_MAX_UNUSABLE_CALLS,
    resumeHint = "then continue the run with `synthgraph resume DIR`",
  ) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`unusable-call budget must be a positive integer, got ${limit}`);
    this.limit = limit;
    this.resumeHint = resumeHint;
  }

  /** A call ended with a usable reply. */
  usable(): void {
    this.consecutive = 0;
    this.reasons.length = 0;
  }

  /** A call ended unusable; throws UnusableRepliesError once `limit` calls in a row did. */
  unusable(role: string, reasons: readonly string[]): void {
    this.consecutive++;
    this.reasons.push(...reasons);
    if (this.consecutive >= this.limit) {
      throw new UnusableRepliesError(role, this.consecutive, topReasons(this.reasons), this.resumeHint);
    }
  }

  get consecutiveUnusable(): number {
    return this.consecutive;
  }
}
