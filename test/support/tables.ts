/**
 * Small tables and their metadata for unit tests (not a test file): the 40-row table of harness.ts as an
 * in-memory Table, metadata derived from a table with a target and user descriptions, and the RealData a node
 * gets from its runtime. Use these instead of retyping Metadata or column literals in a test.
 */
import { codedColumn, numericColumn, tableOf } from "../../data/build.ts";
import { deriveMetadata } from "../../data/metadata.ts";
import type { Metadata, Row, Table } from "../../data/types.ts";
import type { RealData } from "../../graph/runtime.ts";
import { createRng } from "../../stats/primitives/rng.ts";
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

/** A seeded table with one very high-cardinality column (highCardinalityTable). */
export interface HighCardinalityTable {
  /** The table as CSV text (header zip,city,age,income). */
  csv: string;
  /** The zip of each row, in row order. */
  zips: string[];
}

/**
 * `rows` rows whose `zip` column has `unique` levels seen once (`${prefix}00000`, … : rows 0 … unique − 1) and,
 * on the other rows, one of 50 popular levels (`p00` … `p49`, seeded uniform): unique + 50 levels when every
 * popular level is drawn. city (8 levels), age (18–80) and income (two levels, depending on age and city) are
 * seeded too, so pairs have something to measure.
 */
export function highCardinalityTable(
  seed: number,
  rows: number,
  unique: number,
  prefix = "z",
): HighCardinalityTable {
  const rng = createRng(seed);
  const lines = ["zip,city,age,income"];
  const zips: string[] = [];
  for (let i = 0; i < rows; i++) {
    const zip =
      i < unique ? `${prefix}${String(i).padStart(5, "0")}` : `p${String(rng.int(50)).padStart(2, "0")}`;
    const city = `c${rng.int(8)}`;
    const age = 18 + rng.int(63);
    const income = age > 45 || city === "c0" ? ">50K" : rng.next() < 0.2 ? ">50K" : "<=50K";
    zips.push(zip);
    lines.push(`${zip},${city},${age},${income}`);
  }
  return { csv: `${lines.join("\n")}\n`, zips };
}

/**
 * A 60-row CSV whose weight column uses a decimal comma: cells "1,100" … "9,114" (quoted), three digits after
 * the comma, so no cell settles whether it is a thousands separator or a decimal mark and without `--decimal ,`
 * the column stays text (9 levels); group alternates A, B. `weights` are the cells read with "," as the decimal
 * mark ("1,100" is 1.1), the reference a decimal-comma reading must reproduce.
 */
export function commaTable(): { csv: string; cells: string[]; weights: number[] } {
  const cells = Array.from({ length: 60 }, (_, i) => `${1 + (i % 9)},${100 + (i % 3) * 7}`);
  const csv = ["weight,group", ...cells.map((w, i) => `"${w}",${"AB"[i % 2]}`)].join("\n");
  return { csv, cells, weights: cells.map((w) => Number(w.replace(",", "."))) };
}
