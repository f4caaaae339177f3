/**
 * LLMSynthor proposals (LLMSynthor paper, §3.4 "LLM Proposal Sampling", appendix E rules 3–5; docs/papers.md): validation of what the
 * proposal LLM wrote against the metadata, repair where the intent is unambiguous, and the rescaling of the
 * counts to the requested total. Pure: no I/O, no LLM.
 *
 * Rules (each repair or drop is reported with its reason):
 * - Variable names match exactly, else ignoring case and outer spaces (repaired); unknown names are ignored;
 *   id columns are never proposed (ids are assigned by the sampler).
 * - Categories match exactly, else ignoring case and outer spaces when that names one level (repaired); a
 *   one-element list is unwrapped; an unknown category or several categories (rule 4) drop the proposal.
 * - Ranges: [min, max] of numbers (datetimes: ISO strings or epoch ms); a single value v means [v, v];
 *   min > max is swapped; a range overlapping the real [min, max] is clipped to it; one entirely outside drops
 *   the proposal. Integer (and date) columns need an integer (whole day) inside; otherwise the range snaps to
 *   the nearest one to its midpoint.
 * - null (or "(missing)") proposes missing values where the real column has some.
 * - A variable the proposal leaves out (or sets to missing where the real column never is) is, by default,
 *   filled per row from the real marginal the metadata carries (level frequencies and missing share; for
 *   numbers, uniform over the real range, as the metadata carries no shape); `missingVariable: "drop"` drops
 *   the proposal instead (rule 5 says every variable must be present).
 * - Counts are weights: any finite positive number; ≤ 0 or not a number drops the proposal. The kept counts are
 *   rescaled to the requested total exactly (largest remainder), so a proposal may get 0 rows.
 * - Proposals beyond `maxProposals` (the prompt's n_proposals) are dropped, the first ones kept.
 */
import { rescaleCounts } from "../../stats/primitives/apportion.ts";
import { parseDecimal, parseIsoDatetime } from "../../data/cells.ts";
import type { ColumnMeta, Metadata } from "../../data/types.ts";
import { MISSING_LABEL } from "./discrepancy.ts";

export const DAY_MS = 86_400_000;

/** What a proposal fixes for one variable. Ranges of datetime columns are epoch ms. */
export type ProposalPart =
  | { kind: "category"; value: string }
  | { kind: "range"; min: number; max: number }
  | { kind: "missing" }
  /** Drawn per row from the real marginal in the metadata (a variable the proposal left out). */
  | { kind: "marginal" };

export interface Proposal {
  /** One part per non-id column of the metadata, by column name. */
  parts: Record<string, ProposalPart>;
  /** Rows to draw (after rescaling: a non-negative integer). */
  count: number;
  reason: string;
}

/** A proposal as the LLM wrote it (after the reply's shape was checked). */
export interface RawProposal {
  proposal: Record<string, unknown>;
  num: unknown;
  reason?: string;
}

export interface ProposalIssue {
  /** 0-based index of the proposal in the reply. */
  proposal: number;
  action: "repaired" | "dropped";
  reason: string;
}

export interface ProposalValidationOptions {
  /** A variable left out: fill it from the real marginal (default) or drop the proposal. */
  missingVariable?: "marginal" | "drop";
  /** At most this many proposals are kept (the first ones). */
  maxProposals?: number;
}

export type ProposalVerdict =
  { ok: true; proposal: Proposal; repairs: string[] } | { ok: false; reason: string };

/** Spacing of the values a column can hold: 1 for integers, a day for dates, 0 for continuous. */
export function gridOf(c: ColumnMeta): number {
  if (c.sdtype === "numerical") return c.integer ? 1 : 0;
  if (c.sdtype === "datetime") return c.datetimeFormat === "date" ? DAY_MS : 1;
  return 0;
}

/** The levels a coded column can take, in the metadata's order (booleans: "false", "true"). */
export function levelsOf(c: ColumnMeta): string[] {
  if (c.sdtype === "boolean") return ["false", "true"];
  return (c.levels ?? []).map((l) => l.value);
}

function q(s: string): string {
  return JSON.stringify(s);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}

function isMissingValue(v: unknown): boolean {
  return v === null || (typeof v === "string" && v.trim().toLowerCase() === MISSING_LABEL);
}

type PartResult = { part: ProposalPart; repair?: string } | { absent: string } | { drop: string };

function categoryPart(c: ColumnMeta, v: unknown): PartResult {
  let value = v;
  let repair: string | undefined;
  if (Array.isArray(value)) {
    if (value.length !== 1)
      return { drop: `${q(c.name)} has ${value.length} categories ${show(v)}; a proposal names exactly one` };
    value = value[0];
    repair = `${q(c.name)}: unwrapped the one-element list ${show(v)}`;
  }
  if (isMissingValue(value)) {
    return c.missingRate > 0
      ? { part: { kind: "missing" }, ...(repair ? { repair } : {}) }
      : { absent: `${q(c.name)} is never missing in the real data` };
  }
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
    return { drop: `${q(c.name)} needs one category, got ${show(v)}` };
  }
  const text = String(value);
  const levels = levelsOf(c);
  if (levels.includes(text)) {
    return { part: { kind: "category", value: text }, ...(repair ? { repair } : {}) };
  }
  const key = text.trim().toLowerCase();
  const hits = levels.filter((l) => l.trim().toLowerCase() === key);
  if (hits.length === 1) {
    return {
      part: { kind: "category", value: hits[0] },
      repair: `${q(c.name)}: ${show(value)} read as the category ${q(hits[0])}`,
    };
  }
  return { drop: `${q(c.name)} has no category ${show(value)}` };
}

function toNumber(c: ColumnMeta, v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return Number.NaN;
  if (c.sdtype === "datetime") {
    const parsed = parseIsoDatetime(v);
    if (parsed) return parsed.ms;
  }
  return parseDecimal(v);
}

function rangePart(c: ColumnMeta, v: unknown): PartResult {
  if (isMissingValue(v)) {
    return c.missingRate > 0
      ? { part: { kind: "missing" } }
      : { absent: `${q(c.name)} is never missing in the real data` };
  }
  const repairs: string[] = [];
  let pair: unknown[];
  if (Array.isArray(v)) {
    if (v.length === 1) repairs.push(`the single value ${show(v[0])} used as a range`);
    else if (v.length !== 2) return { drop: `${q(c.name)} needs [min, max], got ${show(v)}` };
    pair = v.length === 1 ? [v[0], v[0]] : v;
  } else if (v !== null && typeof v === "object" && "min" in v && "max" in v) {
    pair = [(v as { min: unknown }).min, (v as { max: unknown }).max];
    repairs.push("read {min, max} as [min, max]");
  } else {
    pair = [v, v];
    repairs.push(`the single value ${show(v)} used as a range`);
  }
  let lo = toNumber(c, pair[0]);
  let hi = toNumber(c, pair[1]);
  if (!Number.isFinite(lo) || !Number.isFinite(hi))
    return { drop: `${q(c.name)} needs two numbers, got ${show(v)}` };
  if (lo > hi) {
    [lo, hi] = [hi, lo];
    repairs.push("swapped min > max");
  }
  const realMin = c.min;
  const realMax = c.max;
  if (realMin === undefined || realMax === undefined) {
    return c.missingRate > 0
      ? { part: { kind: "missing" }, repair: `${q(c.name)} has no real values: missing proposed instead` }
      : { drop: `${q(c.name)} has no real range` };
  }
  if (hi < realMin || lo > realMax) {
    return { drop: `${q(c.name)} range ${show(v)} lies outside the real range [${realMin}, ${realMax}]` };
  }
  if (lo < realMin || hi > realMax) {
    lo = Math.max(lo, realMin);
    hi = Math.min(hi, realMax);
    repairs.push(`clipped to the real range [${realMin}, ${realMax}]`);
  }
  const g = gridOf(c);
  if (g > 0 && Math.ceil(lo / g) > Math.floor(hi / g)) {
    // No grid value inside: the nearest one to the midpoint that lies in the real range.
    const gLo = Math.ceil(realMin / g);
    const gHi = Math.floor(realMax / g);
    const snapped = Math.min(Math.max(Math.round((lo + hi) / 2 / g), gLo), gHi) * g;
    lo = snapped;
    hi = snapped;
    repairs.push(`snapped to ${snapped}, the nearest ${g === 1 ? "integer" : "whole day"}`);
  }
  const part: ProposalPart = { kind: "range", min: lo, max: hi };
  return repairs.length > 0 ? { part, repair: `${q(c.name)}: ${repairs.join(", ")}` } : { part };
}

/** One proposal against the metadata (see the module comment for the rules). */
export function validateProposal(
  raw: RawProposal,
  metadata: Metadata,
  opts: ProposalValidationOptions = {},
): ProposalVerdict {
  const policy = opts.missingVariable ?? "marginal";
  const count =
    typeof raw.num === "string" ? parseDecimal(raw.num) : typeof raw.num === "number" ? raw.num : Number.NaN;
  if (!Number.isFinite(count) || count <= 0)
    return { ok: false, reason: `"num" must be a positive number, got ${show(raw.num)}` };
  const values = raw.proposal;
  const repairs: string[] = [];
  // Exact names first; then names equal ignoring case and outer spaces.
  const byName = new Map<string, string>();
  const columns = metadata.columns;
  const known = new Set(columns.map((c) => c.name));
  for (const key of Object.keys(values)) {
    if (known.has(key)) byName.set(key, key);
  }
  for (const key of Object.keys(values)) {
    if (known.has(key)) continue;
    const folded = key.trim().toLowerCase();
    const hits = columns.filter((c) => c.name.trim().toLowerCase() === folded && !byName.has(c.name));
    if (hits.length === 1) {
      byName.set(hits[0].name, key);
      repairs.push(`variable ${q(key)} read as ${q(hits[0].name)}`);
    } else {
      repairs.push(`ignored unknown variable ${q(key)}`);
    }
  }
  const parts: Record<string, ProposalPart> = {};
  for (const c of columns) {
    const key = byName.get(c.name);
    if (c.sdtype === "id") {
      if (key !== undefined) repairs.push(`ignored id column ${q(c.name)} (ids are assigned)`);
      continue;
    }
    const r: PartResult =
      key === undefined
        ? { absent: `${q(c.name)} is missing from the proposal` }
        : c.sdtype === "numerical" || c.sdtype === "datetime"
          ? rangePart(c, values[key])
          : categoryPart(c, values[key]);
    if ("drop" in r) return { ok: false, reason: r.drop };
    if ("absent" in r) {
      if (policy === "drop") return { ok: false, reason: r.absent };
      parts[c.name] = { kind: "marginal" };
      repairs.push(`${r.absent}: filled from the real marginal`);
      continue;
    }
    parts[c.name] = r.part;
    if (r.repair) repairs.push(r.repair);
  }
  const reason = typeof raw.reason === "string" ? raw.reason : "";
  return { ok: true, proposal: { parts, count, reason }, repairs };
}

/**
 * Validates every proposal, keeps at most `maxProposals` valid ones, and rescales their counts to `total`.
 * An empty result (every proposal dropped) is the caller's to handle.
 */
export function validateProposals(
  raws: readonly RawProposal[],
  metadata: Metadata,
  total: number,
  opts: ProposalValidationOptions = {},
): { proposals: Proposal[]; issues: ProposalIssue[] } {
  const issues: ProposalIssue[] = [];
  const kept: Proposal[] = [];
  raws.forEach((raw, i) => {
    const v = validateProposal(raw, metadata, opts);
    if (!v.ok) {
      issues.push({ proposal: i, action: "dropped", reason: v.reason });
      return;
    }
    if (opts.maxProposals !== undefined && kept.length >= opts.maxProposals) {
      issues.push({
        proposal: i,
        action: "dropped",
        reason: `more than the ${opts.maxProposals} proposals asked for`,
      });
      return;
    }
    for (const r of v.repairs) issues.push({ proposal: i, action: "repaired", reason: r });
    kept.push(v.proposal);
  });
  if (kept.length === 0) return { proposals: [], issues };
  const counts = rescaleCounts(
    kept.map((p) => p.count),
    total,
  );
  return { proposals: kept.map((p, k) => ({ ...p, count: counts[k] })), issues };
}
