/**
 * Loads the shared metric fixtures (fixtures/metrics of the shared folder, located below) and compares computed trees with their leaves.
 * Checking rule (fixtures README): leaf {value, atol}; number -> |a − v| <= atol; array -> elementwise;
 * null -> actual must be NaN/null (or the code threw); keys starting with "_" and string labels are skipped.
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { codedColumn, numericColumn, tableOf } from "../../data/build.ts";
import type { Column, Table } from "../../data/types.ts";

const here = dirname(fileURLToPath(import.meta.url));
export const SHARED = resolve(here, "../../../shared");
export const FIXTURE_DIR = join(SHARED, "fixtures/metrics");
export const DATASETS = join(SHARED, "datasets");

export interface FixtureSchemaEntry {
  name: string;
  type: "numerical" | "categorical";
}
export type ColumnData = Record<string, Array<number | string | null>>;

export interface TableFixture {
  format: string;
  case_id: string;
  kind: "table";
  schema: FixtureSchemaEntry[];
  target: string;
  positive_label: string;
  data: { real: ColumnData; synthetic: ColumnData; holdout: ColumnData };
  params: {
    bins: number;
    kl_pseudo_count: number;
    ks_round_decimals: number;
    alpha_beta_steps: number;
    detection_folds: number[][];
  };
  expected: Record<string, unknown>;
}

export interface EdgeFixture {
  kind: "edge_cases";
  column_cases: Array<{
    name: string;
    type: "numerical" | "categorical";
    note: string;
    real: Array<number | string | null>;
    synthetic: Array<number | string | null>;
    expected: Record<string, unknown>;
  }>;
  ks_exact_pvalue_table: Array<{ n1: number; n2: number; d: number; expected: Leaf }>;
  kstwo_sf_table: Array<{ n: number; d: number; expected: Leaf }>;
  chi2_sf_table: Array<{ df: number; x: number; expected: Leaf }>;
  ks_large_samples: Array<{
    name: string;
    real: number[];
    synthetic: number[];
    expected: Record<string, unknown>;
  }>;
}

export interface Leaf {
  value: number | number[] | null | boolean;
  atol?: number;
}

export function fixtureFiles(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort();
}

export function loadFixture(file: string): TableFixture | EdgeFixture {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, file), "utf8")) as TableFixture | EdgeFixture;
}

export function tableFixtures(): TableFixture[] {
  return fixtureFiles()
    .map(loadFixture)
    .filter((f): f is TableFixture => f.kind === "table");
}

export function edgeFixture(): EdgeFixture {
  const f = fixtureFiles()
    .map(loadFixture)
    .find((x): x is EdgeFixture => x.kind === "edge_cases");
  if (!f) throw new Error("no edge_cases fixture");
  return f;
}

/** A typed column from a fixture vector. Categorical levels in first-appearance order. */
export function fixtureColumn(
  name: string,
  type: "numerical" | "categorical",
  values: Array<number | string | null>,
): Column {
  return type === "numerical"
    ? numericColumn(name, values as Array<number | null>)
    : codedColumn(name, values as Array<string | null>);
}

/** A typed table from a fixture's column-major data, in schema order. */
export function fixtureTable(schema: FixtureSchemaEntry[], data: ColumnData): Table {
  return tableOf(schema.map((s) => fixtureColumn(s.name, s.type, data[s.name])));
}

export function isLeaf(x: unknown): x is Leaf {
  return typeof x === "object" && x !== null && !Array.isArray(x) && "value" in x;
}

/**
 * Walks `expected` and returns one message per leaf that `actual` misses. Missing actual keys are failures.
 * An `error` string in expected accepts either an `error` in actual or NaN/null leaves.
 */
export function compareTree(actual: unknown, expected: unknown, path = ""): string[] {
  const failures: string[] = [];
  if (isLeaf(expected)) {
    checkLeaf(actual, expected, path, failures);
    return failures;
  }
  if (Array.isArray(expected)) {
    const arr = Array.isArray(actual) ? actual : [];
    expected.forEach((e, i) => {
      if (i >= arr.length) failures.push(`${path}[${i}]: missing in actual`);
      else failures.push(...compareTree(arr[i], e, `${path}[${i}]`));
    });
    return failures;
  }
  if (typeof expected !== "object" || expected === null) return failures;
  for (const [key, exp] of Object.entries(expected)) {
    if (key.startsWith("_")) continue;
    if (typeof exp === "string") continue; // labels such as method_auto, report_metric
    const sub = `${path}${path ? "." : ""}${key}`;
    const act =
      typeof actual === "object" && actual !== null ? (actual as Record<string, unknown>)[key] : undefined;
    if (typeof exp === "boolean") {
      if (act !== exp) failures.push(`${sub}: expected ${exp}, got ${String(act)}`);
      continue;
    }
    if (act === undefined && !isNullLeafTree(exp)) {
      failures.push(`${sub}: missing in actual`);
      continue;
    }
    failures.push(...compareTree(act, exp, sub));
  }
  return failures;
}

function isNullLeafTree(x: unknown): boolean {
  if (isLeaf(x)) return x.value === null;
  if (typeof x !== "object" || x === null) return true;
  return Object.entries(x).every(([k, v]) => k.startsWith("_") || typeof v === "string" || isNullLeafTree(v));
}

function unwrap(actual: unknown): unknown {
  return isLeaf(actual) ? actual.value : actual;
}

function checkLeaf(actualRaw: unknown, leaf: Leaf, path: string, failures: string[]): void {
  const actual = unwrap(actualRaw);
  const atol = leaf.atol ?? 0;
  if (leaf.value === null) {
    const ok =
      actual === null || actual === undefined || (typeof actual === "number" && Number.isNaN(actual));
    if (!ok) failures.push(`${path}: expected undefined (null/NaN), got ${JSON.stringify(actual)}`);
    return;
  }
  if (typeof leaf.value === "boolean") {
    if (actual !== leaf.value) failures.push(`${path}: expected ${leaf.value}, got ${String(actual)}`);
    return;
  }
  if (Array.isArray(leaf.value)) {
    const arr = actual as ArrayLike<number | null> | undefined;
    if (!arr || typeof arr !== "object" || !("length" in arr)) {
      failures.push(`${path}: expected an array, got ${JSON.stringify(actual)}`);
      return;
    }
    if (arr.length !== leaf.value.length) {
      failures.push(`${path}: length ${arr.length}, expected ${leaf.value.length}`);
      return;
    }
    for (let i = 0; i < leaf.value.length; i++) {
      const e = leaf.value[i];
      const a = arr[i];
      if (e === null) {
        if (!(a === null || (typeof a === "number" && Number.isNaN(a))))
          failures.push(`${path}[${i}]: expected null, got ${a}`);
      } else if (typeof a !== "number" || !(Math.abs(a - e) <= atol)) {
        failures.push(`${path}[${i}]: expected ${e} ± ${atol}, got ${a}`);
      }
    }
    return;
  }
  if (typeof actual !== "number" || !(Math.abs(actual - leaf.value) <= atol)) {
    failures.push(`${path}: expected ${leaf.value} ± ${atol}, got ${JSON.stringify(actual)}`);
  }
}
