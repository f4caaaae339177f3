/**
 * The fitted discrete Bayesian network as plain JSON (zod-checked), storable as a run artifact.
 * Every modelled column has states 0..r−1: a coded column's states are its levels (−1 = missing); a numeric
 * column's states are its quantile bins, each holding the sorted real values that fell in it (null = missing).
 */
import { z } from "zod";

export const bayesCodedColumnSchema = z.strictObject({
  kind: z.enum(["categorical", "boolean"]),
  name: z.string(),
  levels: z.array(z.string()),
  /** Level index of each state (−1 = missing). */
  states: z.array(z.number().int().min(-1)),
});

export const bayesNumericColumnSchema = z.strictObject({
  kind: z.enum(["numerical", "datetime"]),
  name: z.string(),
  /** Sorted real values of each bin (null = the missing state). */
  states: z.array(z.array(z.number()).nullable()),
});

export const bayesIdColumnSchema = z.strictObject({ kind: z.literal("id"), name: z.string() });

export const cptSchema = z.strictObject({
  parents: z.array(z.string()),
  /** Smoothed P(state) of the node alone: the row used for parent configurations never seen. */
  marginal: z.array(z.number()),
  /** P(state | parent configuration), keyed by the mixed-radix index of the parents' states (parents' order). */
  rows: z.record(z.string(), z.array(z.number())),
});

export const bayesNetModelSchema = z.strictObject({
  format: z.literal("synthgraph.bayesnet/1"),
  nRows: z.number().int().min(0),
  bins: z.number().int().min(1),
  pseudoCount: z.number().min(0),
  columns: z.array(z.union([bayesCodedColumnSchema, bayesNumericColumnSchema, bayesIdColumnSchema])),
  dag: z.strictObject({
    nodes: z.array(z.string()),
    edges: z.array(z.tuple([z.string(), z.string()])),
  }),
  /** One CPT per modelled (non-id) column, keyed by column name. */
  cpts: z.record(z.string(), cptSchema),
});

export type Cpt = z.infer<typeof cptSchema>;
export type BayesNetModel = z.infer<typeof bayesNetModelSchema>;
export type BayesColumn = BayesNetModel["columns"][number];
