/**
 * The repeated-run protocol file of `synthgraph benchmark --protocol FILE.json` (docs/benchmark.md): engines ×
 * datasets × sizes × repeats, each cell = one synthetic table of N rows from the N-row training split, scored
 * against the dataset's held-out test rows. MALLM-GAN's protocol (paper §4: N = 100…800, 200 held-out rows,
 * 5 repeats, best-of-models MLE) is examples/protocols/mallm-gan-real.json.
 */
import { z } from "zod";

const classifier = z.enum(["logistic", "random_forest", "tree", "svm", "xgboost"]);
const regressor = z.enum(["linear", "random_forest", "tree", "xgboost"]);

export const datasetSpecSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only (it names result files)"),
  /** Training split per size; "{n}" is replaced by the size. Relative to the datasets root. */
  train: z.string().min(1),
  /** Held-out test rows (same for every size, or with "{n}"). */
  test: z.string().min(1),
  target: z.string().min(1),
  task: z.enum(["classification", "regression"]),
  /** Positive class of a classification target (for F1 of the positive class); default: as evaluate. */
  positive_label: z.string().optional(),
  /**
   * A published value to compare with: `metric` of `engine` per size (e.g. MALLM-GAN's "Real data" row).
   * The Markdown table prints it beside the measured mean with the difference.
   */
  reference: z
    .object({
      engine: z.string().min(1),
      metric: z.string().min(1),
      values: z.record(z.string().regex(/^\d+$/), z.number()),
      source: z.string().min(1),
    })
    .optional(),
});
export type DatasetSpec = z.output<typeof datasetSpecSchema>;

export const protocolSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  description: z.string().optional(),
  /** "real" (the training rows themselves: the reference row), or any engine of the registry. */
  engines: z.array(z.string().min(1)).min(1),
  datasets: z.array(datasetSpecSchema).min(1),
  sizes: z.array(z.number().int().positive()).min(1),
  repeats: z.number().int().positive().default(5),
  /** Cell seed = seed + repeat index. */
  seed: z.number().int().default(0),
  /** Folder the dataset paths are relative to (itself relative to the protocol file); `--datasets` overrides. */
  datasets_root: z.string().optional(),
  /** Model spec for engines that need one (`--model` overrides); without one, those engines' cells are skipped. */
  model: z.string().optional(),
  mle: z
    .object({
      /** Score of the best-of-classifiers MLE. MALLM-GAN's code uses support-weighted F1. */
      metric: z.enum(["f1_weighted", "f1", "f1_macro", "accuracy", "roc_auc"]).default("f1_weighted"),
      classifiers: z.array(classifier).min(1).default(["logistic", "random_forest", "tree"]),
      regressors: z.array(regressor).min(1).default(["linear", "random_forest", "tree"]),
      /** Depth of the classification tree (SynLLM: 5) and of the regression tree (MALLM-GAN's code: 3). */
      tree_depth: z.number().int().positive().default(5),
      regression_tree_depth: z.number().int().positive().default(3),
      forest_trees: z.number().int().positive().default(100),
      /** Depth limit of the random forests' trees (MALLM-GAN's classifier: 3); absent = grown until pure. */
      forest_max_depth: z.number().int().positive().optional(),
      /** "standard": z-scored features for the logistic model; "none": the raw one-hot matrix (MALLM-GAN's code). */
      logistic_scaling: z.enum(["standard", "none"]).default("standard"),
      /** SVM kernel (rbf with gamma "scale", or linear) and C; sklearn SVC's defaults. */
      svm_kernel: z.enum(["rbf", "linear"]).default("rbf"),
      svm_c: z.number().positive().default(1),
      /** Gradient-boosted trees (xgboost): rounds, learning rate, depth; MALLM-GAN's settings by default. */
      boost_rounds: z.number().int().positive().default(100),
      boost_learning_rate: z.number().positive().default(0.1),
      boost_max_depth: z.number().int().positive().default(3),
    })
    // prefault: an absent "mle" is parsed as {}, so every field takes its own default.
    .prefault({}),
  /** Also score fidelity and privacy (quality, logistic detection, DCR share against the test rows). */
  fidelity: z.boolean().default(true),
});
export type Protocol = z.output<typeof protocolSchema>;

/** One cell of the grid. */
export interface Cell {
  engine: string;
  dataset: DatasetSpec;
  size: number;
  repeat: number;
  seed: number;
}

export function cellId(c: Pick<Cell, "engine" | "size" | "repeat"> & { dataset: { name: string } }): string {
  return `${c.engine}__${c.dataset.name}__n${c.size}__r${c.repeat}`;
}

/** The grid in a fixed order: engine, dataset, size, repeat. */
export function cells(p: Protocol): Cell[] {
  const out: Cell[] = [];
  for (const engine of p.engines)
    for (const dataset of p.datasets)
      for (const size of p.sizes)
        for (let repeat = 0; repeat < p.repeats; repeat++)
          out.push({ engine, dataset, size, repeat, seed: p.seed + repeat });
  return out;
}

/**
 * The settings one cell's scores depend on besides its seed: its dataset spec (not the published reference),
 * the MLE settings, fidelity, and the model of an engine that needs one.
 */
export function cellSettings(p: Protocol, cell: Cell, model: string | undefined): Record<string, unknown> {
  const { reference: _reference, ...dataset } = cell.dataset;
  const used = cell.engine === "real" ? null : (model ?? null);
  return JSON.parse(JSON.stringify({ dataset, mle: p.mle, fidelity: p.fidelity, model: used }));
}

/** The result file of one cell: its metrics (NaN written as null) and how it was produced. */
export const cellResultSchema = z.object({
  cell: z.string(),
  engine: z.string(),
  dataset: z.string(),
  size: z.number().int(),
  repeat: z.number().int(),
  seed: z.number().int(),
  rows: z.object({ train: z.number().int(), synthetic: z.number().int(), test: z.number().int() }),
  metrics: z.record(z.string(), z.number().nullable()),
  /** Which classifier or regressor reached the best-of score. */
  best_model: z.string().nullable(),
  /**
   * What the cell's scores depend on besides its seed (cellSettings): a cell file whose settings differ from
   * the current protocol's, or that has none (written before this field existed), is run again.
   */
  settings: z.record(z.string(), z.unknown()).optional(),
  seconds: z.number(),
  usage: z.object({ calls: z.number(), prompt_tokens: z.number(), completion_tokens: z.number() }).nullable(),
});
export type CellResult = z.output<typeof cellResultSchema>;
