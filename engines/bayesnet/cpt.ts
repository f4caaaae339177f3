/**
 * Conditional probability tables with a Dirichlet prior: the posterior mean
 *   P(X = k | Pa = j) = (N_jk + α/(q·r)) / (N_j + α/q),
 * α the imaginary sample size spread evenly over the q·r cells of the table (the BDeu prior; bnlearn
 * bn.fit(method = "bayes", iss = α)). q = Π parent cardinalities, r = the node's cardinality. Only parent
 * configurations present in the data are stored; an unseen configuration backs off to the node's smoothed
 * marginal (N_k + α/r)/(N + α) instead of BDeu's uniform row, which would put mass on states the
 * neighbourhood never shows. α = 0 gives the maximum-likelihood CPTs (PrivBayes without noise).
 */
import type { Cpt } from "./model.ts";

/** Mixed-radix index of each row's parent states (first parent most significant). */
export function parentConfigIndex(
  codes: readonly Int32Array[],
  cards: ArrayLike<number>,
  parents: readonly number[],
  nRows: number,
): Float64Array {
  const ids = new Float64Array(nRows);
  for (const p of parents) {
    const c = codes[p];
    const card = cards[p];
    for (let i = 0; i < nRows; i++) ids[i] = ids[i] * card + c[i];
  }
  return ids;
}

/** The CPT of `child` given `parents` (indices into codes/cards; names for the JSON form). */
export function estimateCpt(
  codes: readonly Int32Array[],
  cards: ArrayLike<number>,
  names: readonly string[],
  child: number,
  parents: readonly number[],
  alpha: number,
): Cpt {
  const n = codes[child].length;
  const r = cards[child];
  let q = 1;
  for (const p of parents) q *= cards[p];
  const x = codes[child];
  const ids = parentConfigIndex(codes, cards, parents, n);
  const counts = new Map<number, Float64Array>();
  const total = new Float64Array(r);
  for (let i = 0; i < n; i++) {
    let row = counts.get(ids[i]);
    if (!row) {
      row = new Float64Array(r);
      counts.set(ids[i], row);
    }
    row[x[i]]++;
    total[x[i]]++;
  }
  const cell = alpha / (q * r);
  const rows: Record<string, number[]> = {};
  for (const [id, row] of counts) {
    let nj = 0;
    for (let k = 0; k < r; k++) nj += row[k];
    rows[String(id)] = Array.from(row, (c) => (c + cell) / (nj + cell * r));
  }
  const marginal = Array.from(total, (c) => (c + alpha / r) / (n + alpha));
  return { parents: parents.map((p) => names[p]), marginal, rows };
}
