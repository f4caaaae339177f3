/**
 * SynLLM's quality, privacy and harmonic scores (docs/papers.md, SynLLM "Scores", §IV-C eq. 1):
 *   Quality  = mean of the normalised quality metrics, Privacy = mean of the normalised privacy metrics, each
 *   metric min–max normalised to [0, 1] and turned so that 1 is best; Harmonic = 2QP/(Q + P) (0 when Q + P = 0).
 * Normalisation range: the paper normalises across the models and prompts of one comparison, which a single
 * run does not have, so each metric is normalised over its own natural range instead (a run scores alone and
 * two runs' scores compare directly):
 *   wasserstein   1 − mean over numerical columns of W1(real, synthetic) / (real max − real min), clipped to [0, 1]
 *   jensen-shannon 1 − mean over categorical and boolean columns of the base-2 JSD (already in [0, 1])
 *   correlation   1 − ‖C_real − C_synthetic‖_F / (2·√(d(d − 1))) over the d numerical columns' Pearson matrices
 *                 (the largest possible norm: every off-diagonal entry 2 apart)
 *   nndr          min(NNDR, 1) (nndr.ts; 1 = synthetic rows as far from real ones as real rows from each other)
 *   identifiability 1 − share of synthetic rows that exactly copy a real row
 * A metric that cannot be computed (no column of its kind) is left out of its mean.
 */
import { isNumeric } from "../../../data/build.ts";
import type { Table } from "../../../data/types.ts";
import { wasserstein1 } from "../column/distances1d.ts";
import { alignCategories, jensenShannonCounts } from "../column/divergences.ts";
import { pearsonPairwise } from "../pairs/correlation.ts";
import { matchColumn } from "../rows/encode.ts";
import { identifiability } from "../rows/rowlevel.ts";
import { nndrSyntheticToReal } from "./nndr.ts";

export interface SynllmQualityPrivacy {
  normalised: {
    wasserstein: number | null;
    jensen_shannon: number | null;
    correlation: number | null;
    nndr: number;
    identifiability: number;
  };
  nndr_synthetic_to_real: number;
  identifiability: number;
  quality: number;
  privacy: number;
  harmonic: number;
}

const clip01 = (x: number): number => Math.min(1, Math.max(0, x));

function meanOf(xs: ReadonlyArray<number | null>): number {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
}

/** 2QP/(Q + P), 0 when both are 0. */
export function harmonicScore(q: number, p: number): number {
  return q + p === 0 ? 0 : (2 * q * p) / (q + p);
}

export function synllmQualityPrivacy(real: Table, synthetic: Table): SynllmQualityPrivacy {
  const w: number[] = [];
  const js: number[] = [];
  const numeric: Array<[Float64Array, Float64Array]> = [];
  for (const rc of real.columns) {
    if (rc.kind === "id" || rc.kind === "datetime") continue;
    const sc = matchColumn(synthetic, rc);
    if (isNumeric(rc) && isNumeric(sc)) {
      const a = rc.values.filter((x) => !Number.isNaN(x));
      const b = sc.values.filter((x) => !Number.isNaN(x));
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const x of a) {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
      if (a.length > 0 && b.length > 0 && hi > lo) w.push(clip01(1 - wasserstein1(a, b) / (hi - lo)));
      numeric.push([rc.values, sc.values]);
    } else if (!isNumeric(rc) && !isNumeric(sc)) {
      const al = alignCategories(rc, sc);
      const d = jensenShannonCounts(al.real, al.synthetic).divergenceBase2;
      if (Number.isFinite(d)) js.push(clip01(1 - d));
    }
  }
  let corr: number | null = null;
  const d = numeric.length;
  if (d >= 2) {
    let ss = 0;
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        if (i === j) continue;
        const r = pearsonPairwise(numeric[i][0], numeric[j][0]);
        const s = pearsonPairwise(numeric[i][1], numeric[j][1]);
        // An undefined correlation (a constant column) counts as 0.
        ss += ((Number.isFinite(r) ? r : 0) - (Number.isFinite(s) ? s : 0)) ** 2;
      }
    corr = clip01(1 - Math.sqrt(ss) / (2 * Math.sqrt(d * (d - 1))));
  }
  const nndr = nndrSyntheticToReal(real, synthetic);
  const ident = identifiability(real, synthetic).exact_match_rate;
  const normalised = {
    wasserstein: w.length > 0 ? meanOf(w) : null,
    jensen_shannon: js.length > 0 ? meanOf(js) : null,
    correlation: corr,
    nndr: clip01(nndr),
    identifiability: 1 - ident,
  };
  const quality = meanOf([normalised.wasserstein, normalised.jensen_shannon, normalised.correlation]);
  const privacy = meanOf([normalised.nndr, normalised.identifiability]);
  return {
    normalised,
    nndr_synthetic_to_real: nndr,
    identifiability: ident,
    quality,
    privacy,
    harmonic: harmonicScore(quality, privacy),
  };
}
