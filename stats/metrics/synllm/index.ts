/**
 * The SynLLM suite of scores (docs/papers.md, SynLLM "Evaluation" and "Scores"): quality, privacy and harmonic
 * scores (scores.ts), the paper's NNDR and identifiability, TSTR / TRTS utility (utility.ts) and clinical
 * consistency (clinical.ts).
 */
import type { Table } from "../../../data/types.ts";
import { type ClinicalConsistency, clinicalConsistency } from "./clinical.ts";
import { type SynllmQualityPrivacy, synllmQualityPrivacy } from "./scores.ts";
import { synllmUtility, type UtilityScores } from "./utility.ts";

export interface SynllmSuite extends SynllmQualityPrivacy {
  utility: UtilityScores | null;
  clinical_consistency: ClinicalConsistency;
}

export function synllmSuite(
  real: Table,
  synthetic: Table,
  opts: { target?: string; seed: number },
): SynllmSuite {
  return {
    ...synllmQualityPrivacy(real, synthetic),
    utility: opts.target === undefined ? null : synllmUtility(real, synthetic, opts.target, opts.seed),
    clinical_consistency: clinicalConsistency(real, synthetic),
  };
}
