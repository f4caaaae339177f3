/**
 * Column scalers fitted on one dense matrix and applied to others (docs/metrics.md §3.6 step 3b, §3.8).
 */
import { quantileSorted } from "../primitives/binning.ts";
import type { Dense } from "../primitives/matrix.ts";

/** x ↦ (x − center_j) / scale_j per column. */
export interface Scaling {
  readonly center: Float64Array;
  readonly scale: Float64Array;
}

const TINY_SCALE = 10 * Number.EPSILON;

// center = median, scale = q75 − q25 with linear quantiles, scale < 10·eps → 1 (sklearn RobustScaler).
export function fitRobustScaler(X: Dense): Scaling {
  const { nRows: n, nCols: d } = X;
  const center = new Float64Array(d);
  const scale = new Float64Array(d);
  const col = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) col[i] = X.data[i * d + j];
    col.sort();
    const h = n >> 1;
    // np.median averages the two middle values for even n.
    center[j] = n === 0 ? Number.NaN : n % 2 === 1 ? col[h] : (col[h - 1] + col[h]) / 2;
    const iqr = quantileSorted(col, 0.75) - quantileSorted(col, 0.25);
    scale[j] = iqr < TINY_SCALE ? 1 : iqr;
  }
  return { center, scale };
}

// center = mean, scale = sqrt(Σ(x − mean)²/n) (ddof 0), scale < 10·eps → 1 (sklearn StandardScaler).
export function fitStandardScaler(X: Dense): Scaling {
  const { nRows: n, nCols: d } = X;
  const center = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) center[j] += X.data[i * d + j];
  for (let j = 0; j < d; j++) center[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const t = X.data[i * d + j] - center[j];
      scale[j] += t * t;
    }
  }
  for (let j = 0; j < d; j++) {
    const sd = Math.sqrt(scale[j] / n);
    scale[j] = sd < TINY_SCALE ? 1 : sd;
  }
  return { center, scale };
}

/** A new matrix with every column mapped by (x − center)/scale. */
export function applyScaling(X: Dense, s: Scaling): Dense {
  const { nRows: n, nCols: d } = X;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) out[i * d + j] = (X.data[i * d + j] - s.center[j]) / s.scale[j];
  }
  return { nRows: n, nCols: d, data: out };
}
