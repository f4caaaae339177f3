/**
 * The predicate language (docs/predicates.md): conditions such as `age > 60 and sex == "F"` parsed with
 * mathjs, checked against a table's metadata, and compiled by our own code into closures over the typed
 * columns. Shared by conditional generation, rules and the tools for outside agents.
 *
 *   const pred = parsePredicate('age > 60 and smoker == true', metadata);   // PredicateError (exit 2)
 *   assertFeasible(pred, metadata, realTable);                              // InfeasibleConditionError (exit 2)
 *   const mask = predicateMask(pred, table);                                // Uint8Array, 1 = satisfies
 *   rowSatisfies(pred, row, metadata);                                      // one parsed LLM row
 *   narrowMetadata(pred, metadata).metadata;                                // row schema for the region
 *   describePredicate(pred);                                                // plain English for prompts
 */
export {
  type CompareOp,
  formatColumn,
  formatPredicate,
  type Nnf,
  type NnfAtom,
  Predicate,
  type PredicateNode,
  predicateNodeSchema,
  type Scalar,
  toNnf,
} from "./ast.ts";
export {
  compilePredicate,
  compilePredicateClosures,
  compileRowCheck,
  countMatches,
  predicateMask,
  type RowTest,
  rowSatisfies,
} from "./compile.ts";
export { describePredicate } from "./describe.ts";
export {
  type FeasibilityIssue,
  InfeasibleConditionError,
  PredicateError,
  type PredicateProblem,
} from "./errors.ts";
export {
  assertFeasible,
  type ColumnNarrowing,
  FEASIBILITY_STEP_BUDGET,
  type FeasibilityResult,
  feasibility,
  type NarrowedMetadata,
  narrowMetadata,
} from "./feasibility.ts";
export { PREDICATE_FUNCTIONS, parsePredicate, predicateFromNode } from "./parse.ts";
export { didYouMean, editDistance } from "./suggest.ts";
