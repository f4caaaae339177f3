/**
 * Fits a discrete Bayesian network to a table: numerics binned at quantiles and every column recoded to
 * states by stats/structure/hill-climb.ts's discretiseTable (the discretisation its BIC hill climbing scores), a DAG learned
 * by that hill climbing (or given), and one Dirichlet-smoothed CPT per node (cpt.ts). The real values of each
 * bin are kept so sampling can draw inside a bin from them. id columns are not modelled.
 */
import { z } from "zod";
import { isNumeric } from "../../data/build.ts";
import { DataError } from "../../data/errors.ts";
import type { Metadata, Table } from "../../data/types.ts";
import { type Dag, dagOf } from "../../stats/structure/dag.ts";
import { discretiseTable, learnDiscretised } from "../../stats/structure/hill-climb.ts";
import { estimateCpt } from "./cpt.ts";
import type { BayesColumn, BayesNetModel, Cpt } from "./model.ts";

export const bayesNetOptionsSchema = z.strictObject({
  /** Quantile bins of numeric columns (stats/structure/hill-climb.ts's default). Default 5. */
  bins: z.number().int().min(1).default(5),
  /** Dirichlet imaginary sample size α (cpt.ts). Default 1. */
  pseudoCount: z.number().min(0).default(1),
  /** Most parents per node in the learned DAG; bounds CPT size. Default 3. */
  maxParents: z.number().int().min(0).default(3),
  /** Seed of the structure search's restarts. Default 0. */
  seed: z.number().int().default(0),
  /** Random restarts of the hill climbing. Default 0. */
  restarts: z.number().int().min(0).default(0),
});
export type BayesNetOptions = z.input<typeof bayesNetOptionsSchema> & {
  /** Use this DAG (over the non-id columns) instead of learning one. */
  readonly dag?: Dag;
};

export function fitBayesNet(table: Table, metadata: Metadata, optsIn: BayesNetOptions = {}): BayesNetModel {
  const { dag: givenDag, ...rest } = optsIn;
  const opts = bayesNetOptionsSchema.parse(rest);
  if (table.nRows === 0) throw new DataError("cannot fit a Bayesian network to a table with no rows");
  const known = new Set(metadata.columns.map((c) => c.name));
  for (const c of table.columns) {
    if (!known.has(c.name)) {
      throw new DataError("the table has a column the metadata does not describe", { column: c.name });
    }
  }
  const d = discretiseTable(table, opts.bins);
  const index = new Map(d.names.map((n, i) => [n, i] as const));
  const dag = givenDag
    ? dagOf(d.names, givenDag.edges)
    : learnDiscretised(d, { maxParents: opts.maxParents, seed: opts.seed, restarts: opts.restarts }).dag;
  if (givenDag && givenDag.nodes.length !== d.names.length) {
    const missing = d.names.filter((n) => !givenDag.nodes.includes(n));
    if (missing.length > 0) {
      throw new DataError(`the given DAG lacks the columns ${missing.join(", ")}`, {
        hint: "give a DAG over every non-id column (isolated nodes are fine)",
      });
    }
  }
  const columns: BayesColumn[] = table.columns.map((col): BayesColumn => {
    const j = index.get(col.name);
    if (j === undefined) return { kind: "id", name: col.name };
    const s = d.codes[j];
    const card = d.cards[j];
    if (isNumeric(col)) {
      const pools: number[][] = Array.from({ length: card }, () => []);
      const missing = new Uint8Array(card);
      for (let i = 0; i < table.nRows; i++) {
        const v = col.values[i];
        if (v === v) pools[s[i]].push(v);
        else missing[s[i]] = 1;
      }
      return {
        kind: col.kind,
        name: col.name,
        states: pools.map((p, k) => (missing[k] ? null : p.sort((a, b) => a - b))),
      };
    }
    if (col.kind === "id") return { kind: "id", name: col.name };
    const states = new Array<number>(card).fill(-1);
    for (let i = 0; i < table.nRows; i++) states[s[i]] = col.codes[i] < 0 ? -1 : col.codes[i];
    return { kind: col.kind, name: col.name, levels: [...col.levels], states };
  });
  const parentsOf = new Map<string, number[]>(d.names.map((n) => [n, []]));
  for (const [a, b] of dag.edges) parentsOf.get(b)?.push(index.get(a) as number);
  const cpts: Record<string, Cpt> = {};
  d.names.forEach((name, j) => {
    const parents = (parentsOf.get(name) ?? []).sort((x, y) => x - y);
    cpts[name] = estimateCpt(d.codes, d.cards, d.names, j, parents, opts.pseudoCount);
  });
  return {
    format: "synthgraph.bayesnet/1",
    nRows: table.nRows,
    bins: opts.bins,
    pseudoCount: opts.pseudoCount,
    columns,
    dag: { nodes: [...dag.nodes], edges: dag.edges.map(([a, b]) => [a, b] as [string, string]) },
    cpts,
  };
}
