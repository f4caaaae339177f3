/**
 * `synthgraph generate` / `resume` / `runs` through their action functions (env-configured models on the
 * loopback server, both providers): SUMMARY.json, live progress, run listing, option errors, and an
 * unreachable model (actionable error, run kept, `resume` finishes once the model is up).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runGenerate, runResume, runRuns } from "../../cli/generate.ts";
import { SynthgraphError } from "../../data/errors.ts";
import { readRunFile } from "../../state/run-dir.ts";
import { captureIo, loopbackEnv, loopbackModel, useLlmServer, useRunFiles } from "../support/harness.ts";
import { PROVIDERS } from "../support/llm-endpoints.ts";
import { unusedPort } from "../support/llm-server.ts";
import { responder } from "../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("synthia-cli-");

describe.each(PROVIDERS)("generate over %s", (provider) => {
  it("writes OUT.csv and SUMMARY.json, prints progress, and lists the run", async () => {
    server.setDefault(responder());
    const root = join(files.dir, `runs-${provider}`);
    const runDir = join(root, "r1");
    const out = join(files.dir, `out-${provider}.csv`);
    const json = join(files.dir, `summary-${provider}.json`);
    const t = captureIo(loopbackEnv(server, provider));
    const before = { ...server.stats };
    await runGenerate(
      {
        data: files.input,
        rows: "40",
        out,
        json,
        runDir,
        model: loopbackModel(provider),
        seed: "3",
        probeRows: "20",
        batchRows: "10",
        examples: "8",
      },
      t,
    );
    const summary = JSON.parse(readFileSync(json, "utf8"));
    expect(summary.rows).toBe(40);
    expect(summary.run_dir).toBe(runDir);
    expect(summary.stopped_because).toBe("converged");
    expect(summary.iterations).toHaveLength(1);
    expect(summary.iterations[0]).toMatchObject({
      iteration: 1,
      verdict: "Real",
      overruled: false,
      feedback: null,
      valid_rows: 20,
    });
    expect(summary.iterations[0].scores.similarity).toBeGreaterThan(0.5);
    expect(summary.final_prompt).toContain("Reply with exactly 10 rows");
    // Usage equals what the server served (it reports usage for every reply).
    expect(summary.usage.calls).toBe(server.stats.completions - before.completions);
    expect(summary.usage.prompt_tokens).toBe(server.stats.promptTokens - before.promptTokens);
    expect(summary.usage.completion_tokens).toBe(server.stats.completionTokens - before.completionTokens);
    expect(summary.privacy).toEqual({ guard: true, exact_copies_removed: 0 });
    expect(summary.evaluate.summary.rows).toEqual({ real: 40, synthetic: 40, holdout: null });
    expect(summary.evaluate.quality_report.overall).toBeGreaterThan(0.5);
    expect(readFileSync(out, "utf8").trimEnd().split("\n")).toHaveLength(41);

    const err = t.err();
    expect(err).toContain("loaded 40 real rows × 4 columns");
    expect(err).toMatch(
      /iteration 1\/6: probe 20\/20 valid \(100%\); similarity \d\.\d\d, coverage \d\.\d\d, divergence \d\.\d\d; verdict Real/,
    );
    expect(err).toMatch(/rows 40\/40; valid 100%/);
    expect(err).toMatch(/\d+ calls, \d+ tokens/);
    expect(t.out()).toContain(`done: 40 rows in ${out}`);

    const listing = captureIo({});
    const runs = await runRuns({ root }, listing);
    expect(runs).toEqual([
      expect.objectContaining({
        id: "r1",
        engine: "synthia",
        status: "done",
        rows_done: 40,
        rows_requested: 40,
        iterations: 1,
      }),
    ]);
    expect(listing.out()).toMatch(
      /^id\s+engine\s+status\s+rows\s+iterations\s+updated\nr1\s+synthia\s+done\s+40\/40\s+1\s/,
    );
  });
});

describe("generate errors", () => {
  it("rejects bad options with exit code 2", async () => {
    const t = captureIo({});
    const err = await runGenerate({ data: files.input, rows: "0", out: join(files.dir, "x.csv") }, t).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SynthgraphError);
    expect((err as SynthgraphError).exitCode).toBe(2);
    expect((err as SynthgraphError).message).toContain("--rows must be at least 1");
  });

  it("fails on a missing or malformed input before creating a run directory, with no resume hint", async () => {
    const runDir = join(files.dir, "never");
    for (const data of [join(files.dir, "absent.csv"), writeRagged(files.dir)]) {
      const t = captureIo({});
      const err = await runGenerate({ data, rows: "10", out: join(files.dir, "x.csv"), runDir }, t).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SynthgraphError);
      expect((err as SynthgraphError).exitCode).toBe(2);
      expect((err as SynthgraphError).message).toContain(
        data.endsWith("absent.csv") ? "cannot read" : "row 3",
      );
      expect((err as SynthgraphError).hint ?? "").not.toContain("resume");
      expect(existsSync(runDir)).toBe(false);
      expect(t.err()).not.toContain("synthgraph: run ");
    }
  });

  it("fails with an actionable message when the model is unreachable, keeps the run, and resumes once it is up", async () => {
    server.setDefault(responder());
    const port = await unusedPort();
    const runDir = join(files.dir, "unreachable");
    const out = join(files.dir, "unreachable.csv");
    const t = captureIo({ OLLAMA_HOST: `127.0.0.1:${port}` });
    const err = await runGenerate(
      { data: files.input, rows: "20", out, runDir, ...{ probeRows: "20", batchRows: "10", examples: "8" } },
      t,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynthgraphError);
    const e = err as SynthgraphError;
    expect(e.exitCode).not.toBe(0);
    expect(e.message).toBe(`Ollama is not reachable at http://127.0.0.1:${port}`);
    expect(e.hint).toContain("ollama serve");
    expect(e.hint).toContain(`synthgraph resume ${runDir}`);
    const run = await readRunFile(runDir);
    expect(run.status).toBe("failed");
    expect(run.error?.message).toContain("not reachable");

    // "Start the model": a proxy to the loopback server on the port the run was configured with.
    const target = new URL(server.ollamaUrl);
    const proxy = createServer((req, res) => {
      const up = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(port, "127.0.0.1", r));
    try {
      const summary = await runResume({ dir: runDir }, captureIo({ OLLAMA_HOST: `127.0.0.1:${port}` }));
      expect(summary && "rows" in summary ? summary.rows : undefined).toBe(20);
      expect((await readRunFile(runDir)).status).toBe("done");
      expect(readFileSync(out, "utf8").trimEnd().split("\n")).toHaveLength(21);
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});

function writeRagged(dir: string): string {
  const path = join(dir, "ragged.csv");
  writeFileSync(path, "age,sex\n30,Male\n41\n");
  return path;
}
