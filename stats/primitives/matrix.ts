/** The dense row-major matrix every classifier and encoding works on: entry (i, j) is data[i·nCols + j]. */
export interface Dense {
  readonly nRows: number;
  readonly nCols: number;
  readonly data: Float64Array;
}

/** Rows `rows` of X, in that order. */
export function takeRows(X: Dense, rows: ArrayLike<number>): Dense {
  const d = X.nCols;
  const out = new Float64Array(rows.length * d);
  for (let k = 0; k < rows.length; k++) out.set(X.data.subarray(rows[k] * d, rows[k] * d + d), k * d);
  return { nRows: rows.length, nCols: d, data: out };
}
