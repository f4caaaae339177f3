/**
 * Runs a protocol (protocol/schema.ts) cell by cell. A cell's result is written to `<out>/cells/<id>.json` as
 * soon as it is done, and a cell whose file exists with the same settings (cellSettings) is not run again, so a
 * killed benchmark resumes where it stopped and a changed protocol redoes only the cells it changes. Engines: "real" is the training rows themselves (the reference row: train on the real N rows, test
 * on the held-out rows); any other name is run through the engine registry when this build has it (cells of
 * an engine that needs a model are skipped, with the reason, unless a model is configured).
 *
 * Scores per cell (docs/metrics-protocol.md): MLE = the best over the protocol's classifiers (regressors) of
 * the TSTR score on the test rows (MALLM-GAN §4: "for each setting, we average the best scores across random
 * seeds"), each model's own TSTR score, and with `fidelity` the quality score, logistic detection and DCR
 * share of the synthetic table against the training table (the test rows as holdout).
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { SynthgraphError } from "../data/errors.ts";
import { metadataToJson } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import type { Table } from "../data/types.ts";
import type { EngineStateBase } from "../graph/engine.ts";
import { ENGINE_REGISTRY } from "../graph/registry.ts";
import { startRun } from "../graph/run.ts";
import type { Env } from "../models/factory.ts";
import { resolveRoleConfigs } from "../models/spec.ts";
import { RunConfigSchema } from "../state/config.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { evaluateTables, toJson } from "../stats/metrics/evaluate.ts";
import { trainTestRegression } from "../stats/metrics/table/regression-utility.ts";
import { trainTestBinary } from "../stats/metrics/table/utility-protocols.ts";
import { isDeepStrictEqual } from "node:util";
import {
  type Cell,
  type CellResult,
  cellId,
  cellResultSchema,
  cellSettings,
  cells,
  type Protocol,
  protocolSchema,
} from "./schema.ts";

export interface ProtocolRunOptions {
  /** Folder of the results (cells/, runs/, synthetic/, results.json, results.md). */
  out: string;
  /** Folder the protocol file lives in (datasets_root is relative to it). */
  baseDir: string;
  /** Overrides the protocol's datasets_root. */
  datasets?: string;
  /** Overrides the protocol's model. */
  model?: string;
  env?: Env;
  /** One line per cell (done, skipped, resumed). */
  log?: (line: string) => void;
}

export interface SkippedCell {
  cell: string;
  reason: string;
}

export interface ProtocolRun {
  results: CellResult[];
  /** Cells whose result file already existed (not run again). */
  reused: string[];
  skipped: SkippedCell[];
}

/** Reads and validates a protocol file. */
export async function readProtocol(path: string): Promise<Protocol> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new SynthgraphError(`cannot read the protocol file as JSON: ${(e as Error).message}`, {
      hint: "see examples/protocols/mallm-gan-real.json and docs/benchmark.md",
      exitCode: 2,
    });
  }
  const parsed = protocolSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SynthgraphError(
      `invalid protocol ${path}: ${issue.path.join(".") || "(root)"}: ${issue.message}`,
      { hint: "see docs/benchmark.md for the fields", exitCode: 2 },
    );
  }
  return parsed.data;
}

function datasetPath(root: string, pattern: string, size: number): string {
  const p = pattern.replaceAll("{n}", String(size));
  return isAbsolute(p) ? p : join(root, p);
}

/** Why an engine's cells cannot run here, or null when they can. */
function engineBlocker(engine: string, model: string | undefined): string | null {
  if (engine === "real") return null;
  const def = (ENGINE_REGISTRY as Partial<Record<string, { models: readonly string[] }>>)[engine];
  if (!def)
    return `engine "${engine}" is not available in this build (engines: real, ${Object.keys(ENGINE_REGISTRY).join(", ")})`;
  if (def.models.length > 0 && !model)
    return `engine "${engine}" needs a model: pass --model or set "model" in the protocol`;
  return null;
}

const finiteOrNull = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : x;

/** MLE and per-model TSTR scores of one synthetic table. */
function utilityMetrics(
  p: Protocol,
  cell: Cell,
  synthetic: Table,
  test: Table,
  positive: string,
): { metrics: Record<string, number | null>; best: string | null } {
  const metrics: Record<string, number | null> = {};
  let best: string | null = null;
  let bestScore = Number.NaN;
  const consider = (model: string, score: number): void => {
    if (Number.isFinite(score) && !(score <= bestScore)) {
      bestScore = score;
      best = model;
    }
  };
  const { target } = cell.dataset;
  const boost = {
    boostRounds: p.mle.boost_rounds,
    boostLearningRate: p.mle.boost_learning_rate,
    boostMaxDepth: p.mle.boost_max_depth,
  };
  if (cell.dataset.task === "classification") {
    let bestF1 = Number.NaN;
    for (const c of p.mle.classifiers) {
      const s = trainTestBinary(synthetic, test, target, positive, c, {
        seed: cell.seed,
        treeDepth: p.mle.tree_depth,
        forestTrees: p.mle.forest_trees,
        ...(p.mle.forest_max_depth !== undefined ? { forestMaxDepth: p.mle.forest_max_depth } : {}),
        logisticScaling: p.mle.logistic_scaling,
        svmKernel: p.mle.svm_kernel,
        svmC: p.mle.svm_c,
        ...boost,
      });
      metrics[`${p.mle.metric}.${c}`] = finiteOrNull(s[p.mle.metric]);
      metrics[`f1.${c}`] = finiteOrNull(s.f1);
      consider(c, s[p.mle.metric]);
      if (Number.isFinite(s.f1) && !(s.f1 <= bestF1)) bestF1 = s.f1;
    }
    metrics.mle_f1_positive = finiteOrNull(bestF1);
  } else {
    for (const r of p.mle.regressors) {
      const s = trainTestRegression(synthetic, test, target, r, {
        seed: cell.seed,
        treeDepth: p.mle.regression_tree_depth,
        forestTrees: p.mle.forest_trees,
        ...boost,
      });
      metrics[`r2.${r}`] = finiteOrNull(s.r2);
      metrics[`rmse.${r}`] = finiteOrNull(s.rmse);
      consider(r, s.r2);
    }
  }
  metrics.mle = finiteOrNull(bestScore);
  return { metrics, best };
}

/** Runs one registry engine on the training file; returns the synthetic table and the run's usage. */
async function runEngine(
  cell: Cell,
  trainPath: string,
  opts: ProtocolRunOptions,
  model: string | undefined,
): Promise<{ path: string; usage: CellResult["usage"] }> {
  const id = cellId(cell);
  const outCsv = resolve(opts.out, "synthetic", `${id}.csv`);
  const runDir = resolve(opts.out, "runs", id);
  await mkdir(dirname(outCsv), { recursive: true });
  const config = RunConfigSchema.parse({
    input: resolve(trainPath),
    rows: cell.size,
    out: outCsv,
    engine: cell.engine,
    models: resolveRoleConfigs({ flags: model ? { model } : {} }),
    seed: cell.seed,
    target: cell.dataset.target,
  });
  // A run directory left by a killed cell is replaced: the cell is redone from its start.
  await rm(runDir, { recursive: true, force: true });
  const result = await startRun<EngineStateBase>(runDir, config, opts.env ? { env: opts.env } : {});
  if (result.status !== "done")
    throw new SynthgraphError(`the ${cell.engine} run of cell ${id} paused instead of finishing`, {
      hint: `continue it with \`synthgraph resume ${runDir}\`, then run the benchmark again`,
    });
  const u = result.state.usage;
  return {
    path: outCsv,
    usage: { calls: u.calls, prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens },
  };
}

async function runCell(
  p: Protocol,
  cell: Cell,
  opts: ProtocolRunOptions,
  root: string,
  settings: Record<string, unknown>,
): Promise<CellResult> {
  const t0 = performance.now();
  const trainPath = datasetPath(root, cell.dataset.train, cell.size);
  const testPath = datasetPath(root, cell.dataset.test, cell.size);
  const train = await readTable(trainPath, { target: cell.dataset.target });
  const same = {
    metadata: metadataToJson(train.metadata),
    metadataSource: `the training split (${trainPath})`,
  };
  const test = await readTable(testPath, same);
  let synthetic = train.table;
  let usage: CellResult["usage"] = null;
  if (cell.engine !== "real") {
    const model = opts.model ?? p.model;
    const ran = await runEngine(cell, trainPath, opts, model);
    synthetic = (await readTable(ran.path, same)).table;
    usage = ran.usage;
  }
  const positive =
    cell.dataset.positive_label ??
    (cell.dataset.task === "classification" ? minorityLabel(train.table, cell.dataset.target) : "");
  const { metrics, best } = utilityMetrics(p, cell, synthetic, test.table, positive);
  if (p.fidelity) {
    const ev = evaluateTables(train.table, synthetic, test.table, {
      seed: cell.seed,
      skip_random_forest: true,
    });
    metrics.quality = finiteOrNull(ev.summary.quality_overall);
    metrics.detection = finiteOrNull(ev.summary.logistic_detection);
    metrics.dcr_share = finiteOrNull(ev.summary.dcr_share);
    metrics.exact_copy_share =
      ev.summary.exact_copies === null ? null : ev.summary.exact_copies / Math.max(1, synthetic.nRows);
  }
  return {
    cell: cellId(cell),
    engine: cell.engine,
    dataset: cell.dataset.name,
    size: cell.size,
    repeat: cell.repeat,
    seed: cell.seed,
    rows: { train: train.table.nRows, synthetic: synthetic.nRows, test: test.table.nRows },
    metrics,
    best_model: best,
    settings,
    seconds: (performance.now() - t0) / 1000,
    usage,
  };
}

/** The less frequent level of a categorical target (the usual "event" class). */
function minorityLabel(t: Table, target: string): string {
  const col = t.columns.find((c) => c.name === target);
  if (!col || col.kind === "numerical" || !("levels" in col))
    throw new SynthgraphError(`classification target "${target}" is not categorical`, {
      hint: 'set "positive_label" of the dataset in the protocol, or use "task": "regression"',
      exitCode: 2,
    });
  const counts = new Float64Array(col.levels.length);
  for (const c of col.codes) if (c >= 0) counts[c]++;
  let best = 0;
  for (let k = 1; k < counts.length; k++) if (counts[k] > 0 && counts[k] < counts[best]) best = k;
  return col.levels[best];
}

/** Runs every cell not done yet; returns all results (reused and new) in grid order. */
export async function runProtocol(p: Protocol, opts: ProtocolRunOptions): Promise<ProtocolRun> {
  const log = opts.log ?? (() => {});
  const rootSpec = opts.datasets ?? p.datasets_root;
  if (!rootSpec)
    throw new SynthgraphError("the protocol names no datasets folder", {
      hint: 'pass --datasets DIR or set "datasets_root" (relative to the protocol file)',
      exitCode: 2,
    });
  const root = opts.datasets ? resolve(opts.datasets) : resolve(opts.baseDir, rootSpec);
  const cellsDir = join(opts.out, "cells");
  await mkdir(cellsDir, { recursive: true });
  const model = opts.model ?? p.model;
  const out: ProtocolRun = { results: [], reused: [], skipped: [] };
  for (const cell of cells(p)) {
    const id = cellId(cell);
    const file = join(cellsDir, `${id}.json`);
    const settings = cellSettings(p, cell, model);
    if (existsSync(file)) {
      const earlier = cellResultSchema.parse(JSON.parse(await readFile(file, "utf8")));
      if (isDeepStrictEqual(earlier.settings, settings)) {
        out.results.push(earlier);
        out.reused.push(id);
        log(`${id}: done earlier (${file})`);
        continue;
      }
      log(`${id}: ${file} was made with other settings; running it again`);
    }
    const blocker = engineBlocker(cell.engine, model);
    if (blocker) {
      out.skipped.push({ cell: id, reason: blocker });
      log(`${id}: skipped: ${blocker}`);
      continue;
    }
    const r = await runCell(p, cell, opts, root, settings);
    await writeFileAtomic(file, `${toJson(r)}\n`);
    out.results.push(r);
    log(
      `${id}: mle ${r.metrics.mle?.toFixed(3) ?? "n/a"} (${r.best_model ?? "n/a"}) in ${r.seconds.toFixed(1)} s`,
    );
  }
  return out;
}
