/**
 * The Adult report in a real browser (Debian's chromium driven by playwright-core): opened from file: with every
 * non-file: request aborted, it must attempt none, log no console error, show every plot as an SVG with its
 * title, and leave a screenshot at bench/results/report.png. Skips only when /usr/bin/chromium is absent.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReport } from "../../report/build.ts";
import { evaluateTables } from "../../stats/metrics/evaluate.ts";
import { adultReportTables } from "../support/report-adult.ts";

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`SKIPPED report browser test: ${CHROMIUM} not found (apt-get install -y chromium)`);
const SCREENSHOT = resolve(import.meta.dirname, "../../bench/results/report.png");

describe.skipIf(!HAVE_CHROMIUM)("Adult report in chromium (needs /usr/bin/chromium)", () => {
  let dir: string;
  let file: string;
  let html: string;
  beforeAll(async () => {
    const a = await adultReportTables();
    const evaluation = evaluateTables(a.real, a.synthetic, a.holdout, {
      target: a.target,
      positive_label: ">50K",
      skip_random_forest: true,
    });
    html = await buildReport({
      ...a,
      evaluation,
      run: {
        iterations: [
          {
            iteration: 1,
            scores: { quality: 0.81, detection: 0.42 },
            verdict: "revise",
            feedback: "age too young",
          },
          { iteration: 2, scores: { quality: 0.86, detection: 0.55 }, verdict: "accept" },
        ],
        usage: {
          calls: 4,
          failed_calls: 0,
          prompt_tokens: 1200,
          completion_tokens: 800,
          estimated: false,
          latency_ms: 5400,
        },
      },
    });
    dir = mkdtempSync(join(tmpdir(), "report-browser-"));
    file = join(dir, "report.html");
    writeFileSync(file, html);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("opens offline: no non-file request, no console error, every plot with its title", async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1600 } });
      const attempted: string[] = [];
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(e.message));
      await page.route("**/*", (route) => {
        const url = route.request().url();
        if (url.startsWith("file:")) return route.continue();
        attempted.push(url);
        return route.abort();
      });
      await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
      expect(await page.title()).toBe("Synthetic data report");

      const figures = await page.$$eval("figure.plot", (fs) =>
        fs.map((f) => ({
          id: f.id,
          title: f.querySelector("figcaption strong")?.textContent ?? "",
          svgs: f.querySelectorAll("svg").length,
          width: f.querySelector("svg")?.getBoundingClientRect().width ?? 0,
          labelled: f.querySelector("svg")?.getAttribute("aria-labelledby") ?? "",
          table: f.querySelectorAll("details table").length,
        })),
      );
      // 15 columns + 3 correlation heatmaps + 4 pairs + DCR + utility + trajectory.
      expect(figures.length).toBe(15 + 3 + 4 + 3);
      for (const f of figures) {
        expect(f.svgs, f.id).toBe(1);
        expect(f.width, f.id).toBeGreaterThan(50);
        expect(f.title.length, f.id).toBeGreaterThan(0);
        expect(f.labelled).toBe(`${f.id}-title`);
        expect(f.table, f.id).toBe(1);
        // The vega title drawn inside the SVG is the figure's title.
        const inSvg = await page.$eval(`#${f.id} svg`, (s) => s.textContent ?? "");
        expect(inSvg, f.id).toContain(f.title.split(":")[0]);
      }
      expect(await page.locator("section#summary .card").count()).toBe(4);

      mkdirSync(resolve(SCREENSHOT, ".."), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: false });
      expect(existsSync(SCREENSHOT)).toBe(true);
      expect(attempted).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
