/**
 * The privacy guard every engine applies before a row enters the output: synthetic rows that exactly copy a
 * real row (stats/privacy/exact-copies.ts) are dropped and counted (`--no-privacy-guard` keeps them).
 */
import { takeTableRows } from "../data/build.ts";
import { rowsToTable } from "../data/rows.ts";
import type { Row, Table } from "../data/types.ts";
import { exactCopyMask } from "../stats/privacy/exact-copies.ts";
import type { RealData } from "./runtime.ts";

/** Rows that are not exact copies of a real row, and how many were removed. */
export function privacyFilter(real: RealData, rows: Row[]): { rows: Row[]; exactCopies: number } {
  if (rows.length === 0) return { rows, exactCopies: 0 };
  const mask = exactCopyMask(real.table, rowsToTable(rows, real.metadata));
  const kept = rows.filter((_, i) => mask[i] === 0);
  return { rows: kept, exactCopies: rows.length - kept.length };
}

/** The columnar form for engines that sample tables by code: the rows of `table` that copy no real row. */
export function privacyFilterTable(real: RealData, table: Table): { table: Table; exactCopies: number } {
  if (table.nRows === 0) return { table, exactCopies: 0 };
  const mask = exactCopyMask(real.table, table);
  const keep: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] === 0) keep.push(i);
  return { table: takeTableRows(table, keep), exactCopies: table.nRows - keep.length };
}
