/**
 * The privacy guard every engine applies before a row enters the output: synthetic rows that exactly copy a
 * real row (stats/privacy/exact-copies.ts) are dropped and counted (`--no-privacy-guard` keeps them).
 */
import { rowsToTable } from "../data/rows.ts";
import type { Row } from "../data/types.ts";
import { exactCopyMask } from "../stats/privacy/exact-copies.ts";
import type { RealData } from "./runtime.ts";

/** Rows that are not exact copies of a real row, and how many were removed. */
export function privacyFilter(real: RealData, rows: Row[]): { rows: Row[]; exactCopies: number } {
  if (rows.length === 0) return { rows, exactCopies: 0 };
  const mask = exactCopyMask(real.table, rowsToTable(rows, real.metadata));
  const kept = rows.filter((_, i) => mask[i] === 0);
  return { rows: kept, exactCopies: rows.length - kept.length };
}
