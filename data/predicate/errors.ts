/** Errors of the predicate language: every problem found in one condition, listed together. */
import { SynthgraphError } from "../errors.ts";

/** One thing wrong with a condition. */
export interface PredicateProblem {
  readonly message: string;
  /** The column concerned, when there is one. */
  readonly column?: string;
  /** The name or value probably meant ("did you mean"), when one is close. */
  readonly suggestion?: string;
  /** What to do about it. */
  readonly hint?: string;
}

export const SYNTAX_HINT =
  'write e.g. age > 60 and sex == "F"; quote names that are not identifiers in backticks: `hours per week` >= 40 (docs/predicates.md)';

/** A condition that does not parse or does not fit the table (exit code 2, like any bad input). */
export class PredicateError extends SynthgraphError {
  readonly problems: readonly PredicateProblem[];
  readonly text: string;
  constructor(text: string, problems: readonly PredicateProblem[]) {
    const list = problems.map((p) => p.message);
    super(`invalid condition ${JSON.stringify(text)}: ${list.join("; ")}`, {
      hint: problems.find((p) => p.hint !== undefined)?.hint ?? SYNTAX_HINT,
      exitCode: 2,
    });
    this.name = "PredicateError";
    this.problems = problems;
    this.text = text;
  }
}

/** One reason a condition can never hold. */
export interface FeasibilityIssue {
  readonly column: string;
  readonly message: string;
  /** The real data's range of the column (numbers; ISO text for dates), when the range is the obstacle. */
  readonly realRange?: { readonly min: number | string; readonly max: number | string };
  /** The column's levels, when they are the obstacle. */
  readonly levels?: readonly string[];
}

/** A condition no value can meet (exit code 2, raised before any model call). */
export class InfeasibleConditionError extends SynthgraphError {
  readonly issues: readonly FeasibilityIssue[];
  constructor(text: string, issues: readonly FeasibilityIssue[]) {
    super(
      `the condition ${JSON.stringify(text)} can never hold: ${issues.map((i) => i.message).join("; ")}`,
      {
        hint: "change the condition so that values inside the real data's ranges and levels can meet it",
        exitCode: 2,
      },
    );
    this.name = "InfeasibleConditionError";
    this.issues = issues;
  }
}
