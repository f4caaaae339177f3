/**
 * Small seeded CSV tables for the report and protocol tests: age (numerical), sex (categorical), hours
 * (numerical), income (categorical target, depends on age and hours) and charges (numerical target). The rows
 * are returned as plain objects too, so a test can count conditions by plain filtering, independently of the
 * predicate compiler.
 */
import { writeFileSync } from "node:fs";
import { createRng } from "../../stats/primitives/rng.ts";

export interface PlainRow {
  age: number;
  sex: string;
  hours: number;
  income: string;
  charges: number;
}

export function plainRows(n: number, seed: number): PlainRow[] {
  const rng = createRng(seed);
  const rows: PlainRow[] = [];
  for (let i = 0; i < n; i++) {
    const age = 18 + Math.floor(60 * rng.next());
    const hours = 10 + Math.floor(50 * rng.next());
    const sex = rng.next() < 0.45 ? "F" : "M";
    const income = age / 78 + hours / 60 + 0.4 * rng.next() > 1.3 ? ">50K" : "<=50K";
    const charges = Math.round(100 * (200 * age + 50 * hours + 3000 * rng.next())) / 100;
    rows.push({ age, sex, hours, income, charges });
  }
  return rows;
}

export function writeRowsCsv(path: string, rows: readonly PlainRow[]): void {
  const lines = ["age,sex,hours,income,charges"];
  for (const r of rows) lines.push(`${r.age},${r.sex},${r.hours},${r.income},${r.charges}`);
  writeFileSync(path, `${lines.join("\n")}\n`);
}
