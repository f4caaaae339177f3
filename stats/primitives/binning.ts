/**
 * Binning and quantile primitives that reproduce numpy bit for bit (docs/metrics.md §0). Pure, no allocation
 * beyond the returned arrays.
 */

/** Non-missing values of a numeric column, in order. */
export function dropNaN(values: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) n++;
  if (n === values.length) return values;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) out[k++] = values[i];
  return out;
}

/** A sorted copy (ascending; NaN must already be removed). */
export function sortedCopy(values: Float64Array): Float64Array {
  return Float64Array.from(values).sort();
}

/** numpy.quantile(x, q, method="linear") on an ascending array (docs/metrics.md §0, numpy `_lerp`). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const v = (n - 1) * q;
  if (v >= n - 1) return sorted[n - 1];
  const i = Math.floor(v);
  const g = v - i;
  const a = sorted[i];
  const b = sorted[i + 1];
  return g < 0.5 ? a + (b - a) * g : b - (b - a) * (1 - g);
}

/** numpy.histogram_bin_edges(x, bins) for non-empty finite x: edge_k = lo + k·step, edge_B = hi (§0). */
export function histogramBinEdges(values: Float64Array, bins: number): Float64Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = new Float64Array(bins + 1);
  const step = (hi - lo) / bins;
  for (let k = 0; k < bins; k++) edges[k] = k * step + lo;
  edges[bins] = hi;
  return edges;
}

/** numpy.digitize(v, edges) (left-closed): i with edges[i-1] <= v < edges[i]; NaN -> edges.length (§0). */
export function digitize(v: number, edges: Float64Array): number {
  if (v !== v) return edges.length;
  let lo = 0;
  let hi = edges.length;
  // First index whose edge is > v (binary search, upper bound).
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** numpy.linspace(0, 1, n): k·(1/(n−1)) for k < n−1 and exactly 1 at the end (§0). */
export function linspace01(n: number): Float64Array {
  const out = new Float64Array(n);
  const step = 1 / (n - 1);
  for (let k = 0; k < n - 1; k++) out[k] = k * step;
  out[n - 1] = 1;
  return out;
}

/** First index with a[i] ≥ x in an ascending array (binary search). */
export function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
