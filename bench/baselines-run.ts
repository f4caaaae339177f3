/**
 * One synthesizer run of the baselines bench in its own process (so its peak memory is its own):
 *   tsx bench/baselines-run.ts <copula|bayesnet> <workdir> <rows> <seed>
 * Reads <workdir>/real.csv with <workdir>/metadata.json, times fit + sample only (not CSV I/O), writes
 * <workdir>/<engine>.csv and prints {seconds, rss_before_mb, peak_rss_mb} as JSON on stdout.
 */
import { join } from "node:path";
import { readMetadataFile } from "../data/metadata.ts";
import { readTable } from "../data/read.ts";
import { writeCsv } from "../data/write.ts";
import { fitBayesNet } from "../engines/bayesnet/fit.ts";
import { sampleBayesNet } from "../engines/bayesnet/sample.ts";
import { fitCopula } from "../engines/copula/fit.ts";
import { sampleCopula } from "../engines/copula/sample.ts";

const [engine, dir, rowsText, seedText] = process.argv.slice(2);
const rows = Number(rowsText);
const seed = Number(seedText);
const { table, metadata } = await readTable(join(dir, "real.csv"), {
  metadata: await readMetadataFile(join(dir, "metadata.json")),
});
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
let synth;
if (engine === "copula") synth = sampleCopula(fitCopula(table, metadata, { seed }), rows, seed, metadata);
else if (engine === "bayesnet") synth = sampleBayesNet(fitBayesNet(table, metadata, { seed }), rows, seed);
else throw new Error(`unknown engine ${engine}`);
const seconds = (performance.now() - t0) / 1000;
const peak = process.resourceUsage().maxRSS * 1024;
await writeCsv(join(dir, `${engine}.csv`), synth, metadata);
process.stdout.write(
  `${JSON.stringify({ seconds, rss_before_mb: rssBefore / 2 ** 20, peak_rss_mb: peak / 2 ** 20 })}\n`,
);
