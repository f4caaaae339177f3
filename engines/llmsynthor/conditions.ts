/**
 * LLMSynthor conditioned at the source (docs/conditions.md; graph/conditions.ts holds the run's groups). A
 * conditional run keeps ONE loop of T iterations, and in each iteration every group that still misses rows gets
 * its own proposer call and its own pool:
 *
 * - the group's reference is the real rows that satisfy its predicate (the whole real table when none does:
 *   then the discrepancy can only steer the columns the condition leaves free), so the discrepancy and the
 *   guidance describe the conditional distribution the group must match;
 * - the proposer sees the narrowed metadata (levels restricted, ranges tightened: data/predicate narrowMetadata)
 *   and the condition; its proposals are validated against the narrowed ranges and levels (ranges clipped to the
 *   region, a category outside it drops the proposal — booleans included, which `validateProposal` alone does
 *   not restrict);
 * - the sampler draws from the group's sampling metadata: the real column order and levels (so chunks line up
 *   with the real table), ranges tightened to the region, and the columns a proposal leaves out drawn from the
 *   region's real marginal (level frequencies and missing share of the satisfying real rows; the narrowed
 *   metadata's when no real row satisfies it);
 * - every drawn row is then checked by code (predicateMask): the narrowed region is a box, a predicate with
 *   `or`, `!=` or exclusive float bounds is not, and misses are dropped and counted (`unmet`).
 *
 * `sourceConditioning: false` (config.ts) turns the first three off — the proposer sees the plain metadata and
 * no condition, the sampler the whole real range — leaving only the code's check: what the bench compares.
 */
import { takeTableRows } from "../../data/build.ts";
import { SynthgraphError } from "../../data/errors.ts";
import { describePredicate } from "../../data/predicate/describe.ts";
import { predicateMask } from "../../data/predicate/compile.ts";
import type { ColumnMeta, Metadata, Table } from "../../data/types.ts";
import { type RunCondition, runConditions, satisfyingRealRows } from "../../graph/conditions.ts";
import type { RealData } from "../../graph/runtime.ts";
import type { RunConfig } from "../../state/config.ts";
import type { Proposal } from "./proposals.ts";
import { keepRows } from "./state.ts";

/** What one group of a conditional LLMSynthor run works with. */
export interface LsGroupView {
  readonly cond: RunCondition;
  /** Real rows the group's discrepancy is measured against. */
  readonly reference: Table;
  /** Real rows that satisfy the predicate (the reference's size when there are any). */
  readonly satisfying: number;
  /** The proposer's metadata: narrowed (source conditioning) or the real one. */
  readonly proposerMetadata: Metadata;
  /** The sampler's metadata: real levels in real order, region ranges and region marginals. */
  readonly samplerMetadata: Metadata;
  /** Allowed level texts per constrained coded column (booleans "false" / "true"); source conditioning only. */
  readonly allowed: ReadonlyMap<string, ReadonlySet<string>>;
  /** The condition as the proposer prompt states it; undefined without source conditioning. */
  readonly promptLines?: readonly string[];
}

/** The sentence a proposer prompt states a condition with (the test responder recognises it). */
export const CONDITION_SENTENCE = "Every sample must satisfy: ";

/** The condition in the proposal prompt: the canonical expression, its reading, and what happens to misses. */
export function proposalConditionLines(c: RunCondition): string[] {
  return [
    "**Condition (every proposal must stay inside it):**",
    `${CONDITION_SENTENCE}${c.where}`,
    `In words: ${describePredicate(c.predicate)}.`,
    "The Variables above are already restricted to this condition; samples outside it are discarded.",
  ];
}

/** Level counts and missing share of `meta`'s column over the real rows `idx` (coded columns). */
function regionLevels(meta: ColumnMeta, real: Table, idx: Int32Array): ColumnMeta {
  const col = real.columns.find((c) => c.name === meta.name);
  if (col === undefined || "values" in col || meta.levels === undefined) return meta;
  const counts = new Map<string, number>();
  let missing = 0;
  for (const i of idx) {
    const code = col.codes[i];
    if (code < 0) missing++;
    else counts.set(col.levels[code], (counts.get(col.levels[code]) ?? 0) + 1);
  }
  return {
    ...meta,
    missingRate: idx.length > 0 ? missing / idx.length : meta.missingRate,
    levels: meta.levels.map((l) => ({ ...l, count: counts.get(l.value) ?? 0 })),
  };
}

/**
 * The sampler's metadata for a group: every real column with its real level list (counts zero outside the
 * region, else the satisfying real rows' counts), min / max and the missing share from the narrowed metadata.
 */
function samplerMetadataOf(c: RunCondition, real: RealData, idx: Int32Array): Metadata {
  const narrowed = new Map(c.narrowed.metadata.columns.map((m) => [m.name, m]));
  const columns = real.metadata.columns.map((meta): ColumnMeta => {
    const n = narrowed.get(meta.name) ?? meta;
    if (meta.sdtype === "numerical" || meta.sdtype === "datetime") {
      return {
        ...meta,
        missingRate: n.missingRate,
        ...(n.min === undefined ? {} : { min: n.min }),
        ...(n.max === undefined ? {} : { max: n.max }),
      };
    }
    if (meta.levels === undefined) return { ...meta, missingRate: n.missingRate };
    const allowed = new Set((n.levels ?? meta.levels).map((l) => l.value));
    const region = idx.length > 0 ? regionLevels(meta, real.table, idx) : meta;
    const levels = (region.levels ?? []).map((l) => (allowed.has(l.value) ? l : { ...l, count: 0 }));
    // The predicate decides the missing share where it says anything; else the region's real share.
    const missingRate = n.missingRate === 0 || n.missingRate === 1 ? n.missingRate : region.missingRate;
    return { ...meta, missingRate, levels };
  });
  return { ...real.metadata, columns };
}

const viewCache = new WeakMap<RunConfig, WeakMap<Table, LsGroupView[]>>();

/** The groups of a conditional run as LLMSynthor uses them (empty when unconditional); built once per run. */
export function groupViews(config: RunConfig, real: RealData): LsGroupView[] {
  let perTable = viewCache.get(config);
  if (perTable === undefined) {
    perTable = new WeakMap();
    viewCache.set(config, perTable);
  }
  let out = perTable.get(real.table);
  if (out === undefined) {
    out = buildViews(config, real);
    perTable.set(real.table, out);
  }
  return out;
}

function buildViews(config: RunConfig, real: RealData): LsGroupView[] {
  const atSource = config.llmsynthor.sourceConditioning;
  return runConditions(config, real.metadata).map((cond) => {
    const idx = satisfyingRealRows(cond, real.table);
    const allowed = new Map<string, Set<string>>();
    if (atSource) {
      for (const n of cond.narrowed.columns) {
        if (n.levels !== undefined) allowed.set(n.column, new Set(n.levels.map(String)));
      }
    }
    return {
      cond,
      reference: idx.length > 0 ? takeTableRows(real.table, idx) : real.table,
      satisfying: idx.length,
      proposerMetadata: atSource ? cond.narrowed.metadata : real.metadata,
      samplerMetadata: atSource ? samplerMetadataOf(cond, real, idx) : real.metadata,
      allowed,
      ...(atSource ? { promptLines: proposalConditionLines(cond) } : {}),
    };
  });
}

/** Why a validated proposal names a category outside the group's region, or null. */
export function outsideRegion(p: Proposal, view: LsGroupView): string | null {
  for (const [column, set] of view.allowed) {
    const part = p.parts[column];
    if (part?.kind === "category" && !set.has(part.value)) {
      return `${JSON.stringify(column)} = ${JSON.stringify(part.value)} is outside the condition (${[...set].map((v) => JSON.stringify(v)).join(", ")})`;
    }
  }
  return null;
}

/**
 * The fallback proposal of a group whose proposer gave none: every variable drawn from the group's sampling
 * metadata (the region's real marginals), so the group can still be filled without a model call.
 */
export function marginalProposal(metadata: Metadata, count: number): Proposal {
  const parts: Proposal["parts"] = {};
  for (const c of metadata.columns) if (c.sdtype !== "id") parts[c.name] = { kind: "marginal" };
  return { parts, count, reason: "no valid proposal for this group: the region's real marginals" };
}

/** The rows of `drawn` that satisfy the group's predicate (checked by code), and how many did not. */
export function keepSatisfying(view: LsGroupView, drawn: Table): { table: Table; unmet: number } {
  if (drawn.nRows === 0) return { table: drawn, unmet: 0 };
  const mask = predicateMask(view.cond.predicate, drawn);
  const table = keepRows(drawn, mask);
  return { table, unmet: drawn.nRows - table.nRows };
}

/** The view of group g, or an internal error. */
export function viewOf(views: readonly LsGroupView[], g: number): LsGroupView {
  const v = views[g];
  if (v === undefined) throw new SynthgraphError(`internal: no condition group ${g}`);
  return v;
}
