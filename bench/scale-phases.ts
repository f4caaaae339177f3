/**
 * Where an evaluate's time and memory go: reads the two files, then runs each part of evaluateTables on its
 * own and prints seconds and RSS after each. `npx tsx bench/scale-phases.ts <real.csv> <synthetic.csv>
 * [target] [rowLevelSample]`, with the samples evaluateTables takes above its threshold (stats/metrics/sampling.ts).
 * Diagnostic only (bench/scale.bench.ts measures the whole command).
 */
import { metadataToJson } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import { alignTable, statColumns } from "../stats/metrics/evaluate.ts";
import { correlationMatrices } from "../stats/metrics/pairs/correlation.ts";
import { columnPairs } from "../stats/metrics/pairs/pairs.ts";
import { rowLevelMetrics } from "../stats/metrics/rows/rowlevel.ts";
import { detectionMetrics, stratifiedFolds } from "../stats/metrics/table/detection.ts";
import { isNumeric } from "../data/build.ts";
import {
  MODEL_SAMPLE,
  modelSample,
  ROW_LEVEL_SAMPLE,
  SAMPLING_STREAMS,
  SCALE_THRESHOLD,
} from "../stats/metrics/sampling.ts";
import { categoricalShapes, numericalShapes } from "../stats/metrics/column/shapes.ts";

const [realPath, synthPath, target = "income", maxRowsArg] = process.argv.slice(2);
let t = performance.now();
function lap(label: string): void {
  const now = performance.now();
  const rss = process.memoryUsage().rss / 2 ** 20;
  process.stdout.write(
    `${label.padEnd(22)} ${((now - t) / 1000).toFixed(2).padStart(8)} s   rss ${rss.toFixed(0)} MB\n`,
  );
  t = performance.now();
}
const real = await readTable(realPath, { target });
lap("read real");
const synth = await readTable(synthPath, { metadata: metadataToJson(real.metadata) });
lap("read synthetic");
const names = statColumns(real.table);
const R = alignTable(real.table, names, "real");
const S = alignTable(synth.table, names, "synthetic");
const sp = { bins: 10, klPseudoCount: 1e-6, ksRoundDecimals: 14 };
R.columns.forEach((rc, j) => {
  const sc = S.columns[j];
  if (isNumeric(rc) && isNumeric(sc)) numericalShapes(rc.values, sc.values, sp);
  else if (!isNumeric(rc) && !isNumeric(sc)) categoricalShapes(rc, sc, sp);
});
lap("column shapes");
columnPairs(R, S, { bins: 10 });
lap("column pairs");
correlationMatrices(R, S);
lap("correlation matrices");
const rl = rowLevelMetrics(R, S, undefined, {
  alphaBetaSteps: 30,
  seed: 0,
  maxRows: maxRowsArg ? Number(maxRowsArg) : ROW_LEVEL_SAMPLE,
});
lap("row level");
process.stdout.write(`  ${rl._notes.join("; ")}\n`);
const sp2 = {
  threshold: SCALE_THRESHOLD,
  rowLevelSample: ROW_LEVEL_SAMPLE,
  modelSample: MODEL_SAMPLE,
  seed: 0,
};
const dR = modelSample(R, sp2, SAMPLING_STREAMS.detectionReal, "real", []);
const dS = modelSample(S, sp2, SAMPLING_STREAMS.detectionSynthetic, "synthetic", []);
detectionMetrics(dR, dS, stratifiedFolds(dR.nRows, dS.nRows, 3, 0));
lap("detection");
