/**
 * Small tables and their metadata for unit tests (not a test file): the 40-row table of harness.ts as an
 * in-memory Table, metadata derived from a table with a target and user descriptions, and the RealData a node
 * gets from its runtime. Use these instead of retyping Metadata or column literals in a test.
 */
import { codedColumn, numericColumn, tableOf } from "../../data/build.ts";
import { deriveMetadata } from "../../data/metadata.ts";
import type { Metadata, Row, Table } from "../../data/types.ts";
import type { RealData } from "../../graph/runtime.ts";
import { type RealRow, realRows } from "./harness.ts";

/** harness.ts realRows() (age, sex, hours, income; 40 rows) as a Table: the same values the CSV tests read. */
export function smallRealTable(): Table {
  const rows = realRows();
  const values = <K extends keyof RealRow>(k: K): RealRow[K][] => rows.map((r) => r[k]);
  return tableOf([
    numericColumn("age", values("age")),
    codedColumn("sex", values("sex")),
    numericColumn("hours", values("hours")),
    codedColumn("income", values("income")),
  ]);
}

/** harness.ts realRows() as data rows (objects keyed by column name), e.g. a probe identical to the real table. */
export function smallRealRows(): Row[] {
  return realRows().map((r) => ({ age: r.age, sex: r.sex, hours: r.hours, income: r.income }));
}

/** `meta` with a description on each named column (other columns unchanged); unknown names are an error. */
export function withDescriptions(meta: Metadata, descriptions: Readonly<Record<string, string>>): Metadata {
  const names = new Set(meta.columns.map((c) => c.name));
  for (const name of Object.keys(descriptions)) {
    if (!names.has(name)) throw new Error(`withDescriptions: no column "${name}" in the metadata`);
  }
  return {
    ...meta,
    columns: meta.columns.map((c) =>
      descriptions[c.name] === undefined ? c : { ...c, description: descriptions[c.name] },
    ),
  };
}

/** Metadata derived from `table` (as the CLI derives it from a CSV), with an optional target and descriptions. */
export function metadataOf(
  table: Table,
  a: { target?: string; descriptions?: Readonly<Record<string, string>> } = {},
): Metadata {
  const meta = deriveMetadata(table, undefined, a.target);
  return a.descriptions ? withDescriptions(meta, a.descriptions) : meta;
}

/**
 * What EngineRuntime.real() returns, for a table held in memory: the dataset reference names `path` (no file
 * is read; the sha256 is a placeholder, never compared in node tests).
 */
export function realDataOf(table: Table, a: { metadata?: Metadata; path?: string } = {}): RealData {
  return {
    table,
    metadata: a.metadata ?? metadataOf(table),
    dataset: {
      path: a.path ?? "memory/real.csv",
      sha256: "0".repeat(64),
      rows: table.nRows,
      columns: table.columns.map((c) => c.name),
    },
  };
}
