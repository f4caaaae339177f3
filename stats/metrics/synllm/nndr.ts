/**
 * The SynLLM paper's nearest-neighbour distance ratio (docs/papers.md, SynLLM "Evaluation"; docs/metrics.md
 * §3.4): NNDR = mean_s min_r ‖s − r‖ / mean_r min_{r' ≠ r} ‖r − r'‖, synthetic-to-nearest-real over
 * real-to-nearest-other-real, Euclidean. Higher is more private (≥ 1: synthetic rows sit as far from the real
 * ones as real rows sit from each other). Not the authors' code's within-table variant (`synllm_ratio` in
 * rows/rowlevel.ts), which compares synthetic-to-synthetic spacing with real-to-real spacing.
 * Encoding (the paper says only "Euclidean"): numerical columns min–max scaled on the real range, categorical
 * columns one-hot (rows/encode.ts encodeOhMinmax), so every column weighs at most 1 (√2 for a category), and no
 * column dominates by its unit (raw glucose in mg/dL would otherwise outweigh everything else).
 */
import type { Table } from "../../../data/types.ts";
import { encodeOhMinmax } from "../rows/encode.ts";
import { nearestL2, nearestOtherL2 } from "../rows/neighbors.ts";

export function nndrSyntheticToReal(real: Table, synthetic: Table): number {
  const [R, S] = encodeOhMinmax(real, [real, synthetic]);
  const toReal = nearestL2(S.data, R.data, R.cols).dist;
  const withinReal = nearestOtherL2(R.data, R.cols);
  return mean(toReal) / mean(withinReal);
}

function mean(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return x.length > 0 ? s / x.length : Number.NaN;
}
