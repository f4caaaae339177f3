/**
 * Feasibility and narrowing: reasoning about which values a predicate allows, per column, without any data.
 *
 * Every atom of the negation normal form (ast.ts) constrains one column, so a conjunction of atoms is
 * satisfiable iff each column's constraints are: an interval with included/excluded points for numbers and
 * dates (integers counted for integer columns), an allowed/excluded set for categories and booleans, and a
 * missing / present flag. A predicate is satisfiable iff some term of its disjunctive normal form is; the
 * terms are searched depth-first, one branch of each `or` at a time, stopping at the first satisfiable one
 * (with a step budget: past it the predicate is assumed feasible and a warning says so).
 *
 * "Infeasible" means outside the real data's range or levels (generated rows are held to those) or
 * self-contradictory (`age > 60 and age < 50`); a satisfiable predicate that no real row meets gets a warning.
 */
import { formatIsoDatetime, parseBoolean, parseIsoDatetime } from "../cells.ts";
import type { ColumnMeta, Metadata, Table } from "../types.ts";
import {
  formatPredicate,
  type Nnf,
  type NnfAtom,
  type Predicate,
  type PredicateNode,
  type Scalar,
  toNnf,
} from "./ast.ts";
import { countMatches } from "./compile.ts";
import { type FeasibilityIssue, InfeasibleConditionError } from "./errors.ts";

interface NumDomain {
  readonly kind: "num";
  readonly lo: number;
  readonly loInc: boolean;
  readonly hi: number;
  readonly hiInc: boolean;
  /** Allowed points (from == and in), or null for "any in the interval". */
  readonly only: readonly number[] | null;
  readonly not: readonly number[];
}

interface SetDomain {
  readonly kind: "set";
  /** Allowed values (level texts; booleans "true" / "false"), or null for "any". */
  readonly only: readonly string[] | null;
  readonly not: readonly string[];
}

/** What the atoms seen so far allow for one column. */
interface ColState {
  readonly mustMissing: boolean;
  readonly mustPresent: boolean;
  /** null when no value atom constrained the column. */
  readonly value: NumDomain | SetDomain | null;
  /** The atoms applied, as canonical text, for messages. */
  readonly atoms: readonly string[];
}

const FREE: ColState = { mustMissing: false, mustPresent: false, value: null, atoms: [] };
const ALL_NUMBERS: NumDomain = {
  kind: "num",
  lo: -Infinity,
  loInc: false,
  hi: Infinity,
  hiInc: false,
  only: null,
  not: [],
};
const ALL_TEXT: SetDomain = { kind: "set", only: null, not: [] };

function isNumeric(meta: ColumnMeta): boolean {
  return meta.sdtype === "numerical" || meta.sdtype === "datetime";
}

function numberOf(v: Scalar): number {
  if (typeof v === "number") return v;
  return parseIsoDatetime(String(v))?.ms ?? Number.NaN;
}

function textOf(v: Scalar, meta: ColumnMeta): string {
  if (meta.sdtype === "boolean") return String(typeof v === "boolean" ? v : parseBoolean(String(v), true));
  return String(v);
}

function atomText(a: NnfAtom): string {
  const node: PredicateNode =
    a.type === "compare"
      ? a
      : a.type === "in"
        ? a.negated
          ? { type: "not", arg: { type: "in", column: a.column, values: a.values } }
          : { type: "in", column: a.column, values: a.values }
        : a.negated
          ? { type: "not", arg: { type: "missing", column: a.column } }
          : { type: "missing", column: a.column };
  return formatPredicate(node);
}

/** The state of one atom alone. */
function atomState(a: NnfAtom, meta: ColumnMeta): ColState {
  const atoms = [atomText(a)];
  if (a.type === "missing") {
    return a.negated
      ? { mustMissing: false, mustPresent: true, value: null, atoms }
      : { mustMissing: true, mustPresent: false, value: null, atoms };
  }
  let value: NumDomain | SetDomain;
  if (isNumeric(meta)) {
    const d = ALL_NUMBERS;
    if (a.type === "in") {
      const pts = a.values.map(numberOf);
      value = a.negated ? { ...d, not: pts } : { ...d, only: pts };
    } else {
      const c = numberOf(a.value);
      switch (a.op) {
        case "<":
          value = { ...d, hi: c, hiInc: false };
          break;
        case "<=":
          value = { ...d, hi: c, hiInc: true };
          break;
        case ">":
          value = { ...d, lo: c, loInc: false };
          break;
        case ">=":
          value = { ...d, lo: c, loInc: true };
          break;
        case "==":
          value = { ...d, only: [c] };
          break;
        case "!=":
          value = { ...d, not: [c] };
          break;
      }
    }
  } else {
    const vals = a.type === "in" ? a.values.map((v) => textOf(v, meta)) : [textOf(a.value, meta)];
    const negated = a.type === "in" ? a.negated : a.op === "!=";
    value = negated ? { ...ALL_TEXT, not: vals } : { ...ALL_TEXT, only: vals };
  }
  // Every value test needs a value: under three-valued logic a missing cell never passes one.
  return { mustMissing: false, mustPresent: true, value, atoms };
}

function intersectValues(
  a: NumDomain | SetDomain | null,
  b: NumDomain | SetDomain | null,
): NumDomain | SetDomain | null {
  if (a === null) return b;
  if (b === null) return a;
  const only =
    a.only === null
      ? b.only
      : b.only === null
        ? a.only
        : (a.only as Array<number | string>).filter((x) => (b.only as Array<number | string>).includes(x));
  const not = [...a.not, ...b.not];
  if (a.kind === "set" || b.kind === "set")
    return { kind: "set", only: only as string[] | null, not: not as string[] };
  const [lo, loInc] =
    a.lo > b.lo ? [a.lo, a.loInc] : b.lo > a.lo ? [b.lo, b.loInc] : [a.lo, a.loInc && b.loInc];
  const [hi, hiInc] =
    a.hi < b.hi ? [a.hi, a.hiInc] : b.hi < a.hi ? [b.hi, b.hiInc] : [a.hi, a.hiInc && b.hiInc];
  return { kind: "num", lo, loInc, hi, hiInc, only: only as number[] | null, not: not as number[] };
}

function intersect(a: ColState, b: ColState): ColState {
  return {
    mustMissing: a.mustMissing || b.mustMissing,
    mustPresent: a.mustPresent || b.mustPresent,
    value: intersectValues(a.value, b.value),
    atoms: [...a.atoms, ...b.atoms],
  };
}

/** The smallest state holding both (interval hull, set union): what an `or` allows for a column. */
function union(a: ColState, b: ColState): ColState {
  let value: NumDomain | SetDomain | null = null;
  if (a.value !== null && b.value !== null) {
    const only =
      a.value.only === null || b.value.only === null
        ? null
        : [...new Set<number | string>([...a.value.only, ...b.value.only])];
    const not = (a.value.not as Array<number | string>).filter((x) =>
      (b.value as NumDomain | SetDomain).not.includes(x as never),
    );
    if (a.value.kind === "num" && b.value.kind === "num") {
      const x = a.value;
      const y = b.value;
      const [lo, loInc] =
        x.lo < y.lo ? [x.lo, x.loInc] : y.lo < x.lo ? [y.lo, y.loInc] : [x.lo, x.loInc || y.loInc];
      const [hi, hiInc] =
        x.hi > y.hi ? [x.hi, x.hiInc] : y.hi > x.hi ? [y.hi, y.hiInc] : [x.hi, x.hiInc || y.hiInc];
      value = { kind: "num", lo, loInc, hi, hiInc, only: only as number[] | null, not: not as number[] };
    } else value = { kind: "set", only: only as string[] | null, not: not as string[] };
  }
  return {
    mustMissing: a.mustMissing && b.mustMissing,
    mustPresent: a.mustPresent && b.mustPresent,
    value,
    atoms: [...a.atoms, ...b.atoms],
  };
}

function inInterval(d: NumDomain, x: number): boolean {
  return (d.loInc ? x >= d.lo : x > d.lo) && (d.hiInc ? x <= d.hi : x < d.hi);
}

/** Whether a numeric domain holds no value (no integer, for integer columns). */
function numEmpty(d: NumDomain, integer: boolean): boolean {
  if (d.only !== null) {
    return !d.only.some((x) => inInterval(d, x) && !d.not.includes(x) && (!integer || Number.isInteger(x)));
  }
  if (d.lo > d.hi) return true;
  if (d.lo === d.hi)
    return !(d.loInc && d.hiInc) || d.not.includes(d.lo) || (integer && !Number.isInteger(d.lo));
  if (!integer) return false; // an interval minus finitely many points
  const first = Number.isInteger(d.lo) ? (d.loInc ? d.lo : d.lo + 1) : Math.ceil(d.lo);
  const last = Number.isInteger(d.hi) ? (d.hiInc ? d.hi : d.hi - 1) : Math.floor(d.hi);
  if (first > last) return true;
  const excluded = new Set(d.not.filter((x) => Number.isInteger(x) && x >= first && x <= last));
  return last - first + 1 <= excluded.size;
}

/** The values of a set domain among `universe` (null universe: unbounded, never empty unless `only` is). */
function setValues(d: SetDomain, universe: readonly string[] | null): string[] | null {
  const candidates = d.only ?? universe;
  if (candidates === null) return null;
  return candidates.filter((x) => !d.not.includes(x) && (universe === null || universe.includes(x)));
}

function universeOf(meta: ColumnMeta): string[] {
  return meta.sdtype === "boolean" ? ["false", "true"] : (meta.levels ?? []).map((l) => l.value);
}

function realRangeOf(meta: ColumnMeta): { min: number | string; max: number | string } | undefined {
  if (meta.min === undefined || meta.max === undefined) return undefined;
  if (meta.sdtype === "datetime") {
    const f = meta.datetimeFormat ?? "datetime";
    return { min: formatIsoDatetime(meta.min, f), max: formatIsoDatetime(meta.max, f) };
  }
  return { min: meta.min, max: meta.max };
}

/** Within the real range: the domain intersected with [min, max]. */
function withinReal(d: NumDomain, meta: ColumnMeta): NumDomain {
  if (meta.min === undefined || meta.max === undefined) return d;
  return intersectValues(d, {
    ...ALL_NUMBERS,
    lo: meta.min,
    loInc: true,
    hi: meta.max,
    hiInc: true,
  }) as NumDomain;
}

/** Why this column's state can hold no value, or undefined when it can. */
function columnProblem(meta: ColumnMeta, s: ColState): FeasibilityIssue | undefined {
  const column = meta.name;
  const what = s.atoms.join(" and ");
  const both = s.atoms.length > 1 ? "cannot all hold together" : "can never hold";
  if (s.mustMissing && s.mustPresent) {
    return { column, message: `column "${column}": ${what} asks for it both missing and present` };
  }
  if (s.mustMissing) {
    if (meta.missingRate === 0) {
      return {
        column,
        message: `column "${column}": ${what} can never hold, the real data has no missing "${column}" (so generated rows have none either)`,
      };
    }
    return undefined;
  }
  const d = s.value;
  if (d === null) return undefined;
  if (d.kind === "num") {
    const integer = meta.sdtype === "numerical" && meta.integer === true;
    if (numEmpty(d, integer)) {
      return {
        column,
        message: `column "${column}": ${what} ${both}${integer && !numEmpty(d, false) ? ` (no whole number does, and "${column}" holds whole numbers)` : ""}`,
      };
    }
    const range = realRangeOf(meta);
    if (range !== undefined && numEmpty(withinReal(d, meta), integer)) {
      return {
        column,
        message: `column "${column}": ${what} is outside the real range ${range.min} to ${range.max}`,
        realRange: range,
      };
    }
    return undefined;
  }
  if (setValues(d, null)?.length === 0) return { column, message: `column "${column}": ${what} ${both}` };
  const universe = universeOf(meta);
  if (setValues(d, universe)?.length === 0) {
    return {
      column,
      message: `column "${column}": ${what} leaves none of its levels (${universe.map((l) => JSON.stringify(l)).join(", ")})`,
      levels: universe,
    };
  }
  return undefined;
}

export interface FeasibilityResult {
  /** False when no value within the real ranges and levels can meet the condition. */
  readonly ok: boolean;
  readonly errors: readonly FeasibilityIssue[];
  readonly warnings: readonly string[];
  /** Real rows that satisfy the condition (when a real table was given). */
  readonly realMatches?: number;
}

/** Steps of the DNF search before it gives up (and calls the predicate feasible with a warning). */
export const FEASIBILITY_STEP_BUDGET = 20_000;

/**
 * Whether the predicate can hold for values inside the real data's ranges and levels; with `realTable`, also
 * how many real rows meet it (a warning when none does: the model will have no examples).
 */
export function feasibility(pred: Predicate, metadata: Metadata, realTable?: Table): FeasibilityResult {
  const metas = new Map(metadata.columns.map((c) => [c.name, c]));
  const issues = new Map<string, FeasibilityIssue>();
  let steps = 0;
  let gaveUp = false;
  const search = (stack: Nnf[], states: Map<string, ColState>): boolean => {
    while (stack.length > 0) {
      if (++steps > FEASIBILITY_STEP_BUDGET) {
        gaveUp = true;
        return true;
      }
      const n = stack.pop() as Nnf;
      if (n.type === "and") {
        for (let k = n.args.length - 1; k >= 0; k--) stack.push(n.args[k]);
      } else if (n.type === "or") {
        for (const branch of n.args) if (search([...stack, branch], new Map(states))) return true;
        return false;
      } else {
        const meta = metas.get(n.column);
        if (meta === undefined) {
          issues.set(`unknown ${n.column}`, { column: n.column, message: `unknown column "${n.column}"` });
          return false;
        }
        const s = intersect(states.get(n.column) ?? FREE, atomState(n, meta));
        const problem = columnProblem(meta, s);
        if (problem !== undefined) {
          issues.set(problem.message, problem);
          return false;
        }
        states.set(n.column, s);
      }
    }
    return true;
  };
  const ok = search([toNnf(pred.root)], new Map());
  const warnings: string[] = [];
  if (gaveUp) {
    warnings.push(
      `the condition has too many or-branches to check fully (over ${FEASIBILITY_STEP_BUDGET} steps); assumed feasible`,
    );
  }
  if (!ok) return { ok, errors: [...issues.values()], warnings };
  if (realTable === undefined) return { ok, errors: [], warnings };
  const realMatches = countMatches(pred, realTable);
  if (realMatches === 0) {
    warnings.push(
      `no real row satisfies ${pred.toString()}: the condition is within the real ranges, but the model has no examples of such rows`,
    );
  }
  return { ok, errors: [], warnings, realMatches };
}

/** feasibility, throwing InfeasibleConditionError (exit 2) when the condition can never hold. */
export function assertFeasible(pred: Predicate, metadata: Metadata, realTable?: Table): FeasibilityResult {
  const r = feasibility(pred, metadata, realTable);
  if (!r.ok) throw new InfeasibleConditionError(pred.toString(), r.errors);
  return r;
}

// ---------------------------------------------------------------------------------------------------------
// Narrowing.

/** What a predicate implies for one column, for every row that satisfies it. */
export interface ColumnNarrowing {
  readonly column: string;
  readonly sdtype: ColumnMeta["sdtype"];
  /** "forbidden": never missing; "required": always missing; "allowed": either. */
  readonly missing: "allowed" | "forbidden" | "required";
  /** Numbers / dates: bounds within the real range (epoch ms for dates) and whether they are included. */
  readonly min?: number;
  readonly max?: number;
  readonly minInclusive?: boolean;
  readonly maxInclusive?: boolean;
  /** Numbers / dates: the only values allowed (from == or in), when the predicate lists them. */
  readonly values?: readonly number[];
  /** Numbers / dates: values excluded (from != or not in). */
  readonly excluded?: readonly number[];
  /** Categories / booleans: the levels still allowed ("true" / "false" for booleans). */
  readonly levels?: readonly string[];
}

export interface NarrowedMetadata {
  /** The metadata with levels restricted, min/max tightened and missing rates set where the predicate says. */
  readonly metadata: Metadata;
  /** One entry per column the predicate constrains, in metadata order. */
  readonly columns: readonly ColumnNarrowing[];
}

/** The per-column state every row satisfying `n` must be in (columns absent are unconstrained). */
function narrowing(n: Nnf, metas: Map<string, ColumnMeta>): Map<string, ColState> {
  if (n.type === "and") {
    const out = new Map<string, ColState>();
    for (const a of n.args) {
      for (const [c, s] of narrowing(a, metas)) out.set(c, intersect(out.get(c) ?? FREE, s));
    }
    return out;
  }
  if (n.type === "or") {
    const parts = n.args.map((a) => narrowing(a, metas));
    const out = new Map<string, ColState>();
    for (const [c, s] of parts[0]) {
      // A column is constrained by an `or` only when every branch constrains it.
      if (!parts.every((p) => p.has(c))) continue;
      out.set(
        c,
        parts.slice(1).reduce((acc, p) => union(acc, p.get(c) as ColState), s),
      );
    }
    return out;
  }
  const meta = metas.get(n.column);
  return meta === undefined ? new Map() : new Map([[n.column, atomState(n, meta)]]);
}

/**
 * The metadata as seen by rows that satisfy the predicate: categorical/boolean levels restricted, numeric and
 * date min/max tightened (integer columns to whole numbers), missing rate 0 where a value is required and 1
 * where it must be missing. From `and`s at any depth; an `or` narrows a column only when each branch does
 * (to the union of the branches). Engines use it for the row schema and the prompt; rows are still checked
 * by the compiled predicate. Call `feasibility` first: an infeasible predicate narrows to empty levels or
 * min > max.
 */
export function narrowMetadata(pred: Predicate, metadata: Metadata): NarrowedMetadata {
  const metas = new Map(metadata.columns.map((c) => [c.name, c]));
  const states = narrowing(toNnf(pred.root), metas);
  const narrowed: ColumnNarrowing[] = [];
  const columns = metadata.columns.map((meta): ColumnMeta => {
    const s = states.get(meta.name);
    if (s === undefined) return meta;
    const missing = s.mustMissing ? "required" : s.mustPresent ? "forbidden" : "allowed";
    const missingRate = missing === "required" ? 1 : missing === "forbidden" ? 0 : meta.missingRate;
    const base = { column: meta.name, sdtype: meta.sdtype, missing } as const;
    const d = s.value;
    if (d === null) {
      narrowed.push(base);
      return { ...meta, missingRate };
    }
    if (d.kind === "num") {
      const integer = meta.sdtype === "numerical" && meta.integer === true;
      const w = withinReal(d, meta);
      let lo = w.lo;
      let hi = w.hi;
      let loInc = w.loInc;
      let hiInc = w.hiInc;
      const values = w.only?.filter((x) => inInterval(w, x) && !w.not.includes(x)).sort((a, b) => a - b);
      if (values !== undefined && values.length > 0) {
        [lo, hi, loInc, hiInc] = [values[0], values[values.length - 1], true, true];
      } else if (integer) {
        // Whole numbers: age > 60 starts at 61.
        if (Number.isFinite(lo))
          [lo, loInc] = [Number.isInteger(lo) && !loInc ? lo + 1 : Math.ceil(lo), true];
        if (Number.isFinite(hi))
          [hi, hiInc] = [Number.isInteger(hi) && !hiInc ? hi - 1 : Math.floor(hi), true];
      }
      const bounds = {
        ...(Number.isFinite(lo) ? { min: lo, minInclusive: loInc } : {}),
        ...(Number.isFinite(hi) ? { max: hi, maxInclusive: hiInc } : {}),
      };
      narrowed.push({
        ...base,
        ...bounds,
        ...(values === undefined ? {} : { values }),
        ...(w.not.length > 0 ? { excluded: [...new Set(w.not)].sort((a, b) => a - b) } : {}),
      });
      return {
        ...meta,
        missingRate,
        ...(bounds.min === undefined ? {} : { min: bounds.min }),
        ...(bounds.max === undefined ? {} : { max: bounds.max }),
      };
    }
    const allowed = setValues(d, universeOf(meta)) ?? universeOf(meta);
    narrowed.push({ ...base, levels: allowed });
    return {
      ...meta,
      missingRate,
      ...(meta.levels === undefined ? {} : { levels: meta.levels.filter((l) => allowed.includes(l.value)) }),
    };
  });
  return { metadata: { ...metadata, columns }, columns: narrowed };
}
