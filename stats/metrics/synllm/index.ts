/**
 * The SynLLM suite of scores (docs/papers.md, SynLLM "Evaluation" and "Scores"): quality, privacy and harmonic
 * scores (scores.ts), the paper's NNDR and identifiability, TSTR / TRTS utility (utility.ts) and clinical
 * consistency (clinical.ts). Beside the paper's NNDR (synthetic-to-real) it reports, named apart, the authors'
 * code's within-table ratio `synllm_ratio` (rows/rowlevel.ts synllmNndr, docs/metrics.md §3.4): the two answer
 * different questions (distance to real rows vs. spread of the synthetic rows) and are easily confused.
 */
import type { Table } from "../../../data/types.ts";
import { encodeSynllm } from "../rows/encode.ts";
import { synllmNndr } from "../rows/rowlevel.ts";
import { type ClinicalConsistency, clinicalConsistency } from "./clinical.ts";
import { type SynllmQualityPrivacy, synllmQualityPrivacy } from "./scores.ts";
import { synllmUtility, type UtilityScores } from "./utility.ts";

export interface SynllmSuite extends SynllmQualityPrivacy {
  /** The authors' code's "NNDR": synthetic-to-other-synthetic over real-to-other-real (not a privacy score). */
  synllm_ratio: number;
  /** Null without a target, or when the target is not binary. */
  utility: UtilityScores | null;
  clinical_consistency: ClinicalConsistency;
}

export function synllmSuite(
  real: Table,
  synthetic: Table,
  opts: { target?: string; seed: number; holdout?: Table },
): SynllmSuite {
  const [snR, snS] = encodeSynllm(real, synthetic);
  return {
    ...synllmQualityPrivacy(real, synthetic),
    synllm_ratio: synllmNndr(snR, snS),
    utility:
      opts.target === undefined ? null : synllmUtility(real, synthetic, opts.target, opts.seed, opts.holdout),
    clinical_consistency: clinicalConsistency(real, synthetic),
  };
}
