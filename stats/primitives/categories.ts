/**
 * Category alignment across tables. Coded columns of different tables have their own level lists; metrics
 * compare categories by their string value, so codes are first mapped onto one shared level list.
 */
import type { CodedColumn } from "../../data/types.ts";

/** Compares strings by Unicode code point (sklearn/numpy order), not UTF-16 units (docs/metrics.md §0). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const d = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}

/** Distinct levels that actually occur in the column (a level list may hold unused entries). */
export function usedLevels(col: CodedColumn): string[] {
  const seen = new Uint8Array(col.levels.length);
  for (let i = 0; i < col.codes.length; i++) if (col.codes[i] >= 0) seen[col.codes[i]] = 1;
  const out: string[] = [];
  // Keep first-appearance order of occurrence, not level-list order.
  const done = new Uint8Array(col.levels.length);
  for (let i = 0; i < col.codes.length; i++) {
    const c = col.codes[i];
    if (c >= 0 && seen[c] && !done[c]) {
      done[c] = 1;
      out.push(col.levels[c]);
    }
  }
  return out;
}

/** Sorted (code-point order) distinct levels occurring in any of the columns. */
export function sortedUnionLevels(...cols: readonly CodedColumn[]): string[] {
  const set = new Set<string>();
  for (const c of cols) for (const l of usedLevels(c)) set.add(l);
  return [...set].sort(compareCodePoints);
}

/**
 * Re-codes a column onto `levels`: result[i] = index of its value in `levels`, -1 if missing,
 * -2 if the value is not in `levels` (unseen category).
 */
export function recode(col: CodedColumn, levels: readonly string[]): Int32Array {
  const index = new Map<string, number>();
  levels.forEach((l, i) => index.set(l, i));
  const map = new Int32Array(col.levels.length);
  for (let k = 0; k < col.levels.length; k++) map[k] = index.get(col.levels[k]) ?? -2;
  const out = new Int32Array(col.codes.length);
  for (let i = 0; i < col.codes.length; i++) {
    const c = col.codes[i];
    out[i] = c < 0 ? -1 : map[c];
  }
  return out;
}
