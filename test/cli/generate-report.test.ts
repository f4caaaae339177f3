/**
 * `synthgraph generate --report PATH` end to end through the CLI binary (bin/synthgraph.js as a child process),
 * SYNTHIA on the loopback model server with the scripted responder (first verdict Synthetic with feedback,
 * then Real): the page exists, is self-contained (a Content-Security-Policy that forbids every external
 * resource, no script, no http(s) or protocol-relative URL in any src/href/url()), and its Run section shows
 * the run trajectory (the scores-per-iteration plot and one verdict row per iteration of SUMMARY.json, with
 * the discriminator's feedback) and the model usage.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { genericResponder, readRealView } from "../support/generic-responder.ts";
import { csvRows, exited, synthgraphChild, useLlmServer, writeRealCsv } from "../support/harness.ts";

const server = useLlmServer();
let dir = "";
let input = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "generate-report-"));
  input = writeRealCsv(dir);
});

/** The text of the element with this id, from its opening tag to the first closing tag of the same name. */
function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}">`);
  if (start < 0) return "";
  return html.slice(start, html.indexOf("</section>", start) + "</section>".length);
}

describe("generate --report through the CLI binary", () => {
  it("writes a self-contained page with the run trajectory", async () => {
    server.setDefault(genericResponder(await readRealView(input, "income")).respond);
    const report = join(dir, "report.html");
    const summaryPath = join(dir, "summary.json");
    const r = await exited(
      synthgraphChild(
        [
          "generate",
          input,
          ...["--rows", "40", "--out", join(dir, "out.csv"), "--run-dir", join(dir, "run")],
          ...["--engine", "synthia", "--model", "ollama:llama3.1:8b", "--target", "income", "--seed", "3"],
          ...["--max-iterations", "3", "--probe-rows", "10", "--batch-rows", "20", "--concurrency", "2"],
          ...["--json", summaryPath, "--report", report, "--quiet"],
        ],
        { OLLAMA_HOST: server.ollamaUrl },
        dir,
      ),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(csvRows(join(dir, "out.csv"))).toHaveLength(40);
    expect(existsSync(report)).toBe(true);
    const html = readFileSync(report, "utf8");

    // Self-contained: the CSP forbids every external resource; nothing on the page points outside it.
    expect(html).toMatch(
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/,
    );
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(link|iframe|object|embed|img)\b[^>]*\b(src|href|data)\s*=/i);
    const refs = [...html.matchAll(/\b(?:src|href|xlink:href)\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[1]);
    for (const ref of refs) expect(ref, ref).not.toMatch(/^(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import/i);

    // The run trajectory: the plot of scores per iteration and a verdict row per iteration of the summary.
    const summary = JSON.parse(readFileSync(summaryPath, "utf8")) as {
      iterations: Array<{ verdict?: string; feedback?: string }>;
    };
    expect(summary.iterations.length).toBe(2);
    const run = section(html, "run");
    expect(run).toContain("<h2>Run</h2>");
    expect(run).toMatch(/<figure id="trajectory" class="plot">/);
    expect(run).toContain("Run trajectory: scores per iteration");
    expect(run).toMatch(/<svg[\s>]/);
    const table = run.slice(run.indexOf("Verdict and feedback per iteration"));
    const verdictRows = table.slice(0, table.indexOf("</table>")).match(/<tr>/g) ?? [];
    expect(verdictRows.length).toBe(summary.iterations.length + 1); // header row + one per iteration
    expect(run).toContain("Synthetic");
    expect(run).toContain(
      "Cover the rarer categories of every categorical column in their real proportions.",
    );
    expect(run).toContain("Model usage");
  }, 240_000);
});
