/**
 * The documentation names only paths that exist: every backticked path in docs/architecture.md (a folder or a
 * file of the repository), and every relative link of README.md and docs/*.md. A path with a placeholder
 * (`engines/<name>/graph.ts`) is checked up to the placeholder. Moving a file without updating the docs
 * fails here.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TOP_FOLDERS = new Set(
  readdirSync(ROOT, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules")
    .map((e) => e.name),
);

/** Backticked spans that look like repository paths: they start with a top-level folder and contain a slash. */
export function backtickedPaths(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/`([^`\s]+)`/g)) {
    const span = m[1];
    const top = span.split("/")[0];
    if (span.includes("/") && TOP_FOLDERS.has(top)) out.push(span);
  }
  return out;
}

/** The part of a path before its first placeholder segment (`<name>`, `*`), without a trailing slash. */
export function checkablePrefix(path: string): string {
  const segments = path.split("/");
  const cut = segments.findIndex((s) => /[<*{]/.test(s));
  return (cut === -1 ? segments : segments.slice(0, cut)).filter((s) => s !== "").join("/");
}

/** Relative link targets of a Markdown text (images too), without their #anchor. */
export function relativeLinks(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1].split("#")[0];
    if (target === "" || /^[a-z]+:/i.test(target)) continue;
    out.push(target);
  }
  return out;
}

describe("helpers", () => {
  it("finds backticked repository paths and ignores other code spans", () => {
    const md = "see `graph/run.ts`, `engines/<name>/graph.ts`, `runs/<id>`, `--rows`, `a/b` and `data/`";
    // `runs` and `a` are not folders of the repository; `--rows` has no slash.
    expect(backtickedPaths(md)).toEqual(["graph/run.ts", "engines/<name>/graph.ts", "data/"]);
  });
  it("cuts a path at its first placeholder", () => {
    expect(checkablePrefix("engines/<name>/graph.ts")).toBe("engines");
    expect(checkablePrefix("test/<folder>/<file>.test.ts")).toBe("test");
    expect(checkablePrefix("stats/metrics/column/")).toBe("stats/metrics/column");
  });
  it("keeps relative links only, without anchors", () => {
    const md = "[a](docs/x.md#y) [b](https://e.org) ![c](bench/results/report.png) [d](#top)";
    expect(relativeLinks(md)).toEqual(["docs/x.md", "bench/results/report.png"]);
  });
});

describe("docs/architecture.md", () => {
  const text = readFileSync(join(ROOT, "docs/architecture.md"), "utf8");
  const paths = backtickedPaths(text);

  it("names a path of every layer", () => {
    // A page that lost its folder table would pass the existence check vacuously.
    for (const folder of ["data", "stats", "models", "agents", "state", "graph", "engines", "tools", "cli"]) {
      expect(paths.some((p) => p.startsWith(`${folder}/`))).toBe(true);
    }
  });

  it("names only paths that exist", () => {
    const missing = paths.filter((p) => !existsSync(join(ROOT, checkablePrefix(p))));
    expect(missing).toEqual([]);
  });
});

describe("Markdown links", () => {
  const files = [
    "README.md",
    ...readdirSync(join(ROOT, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`),
  ];
  for (const file of files) {
    it(`${file}: every relative link resolves`, () => {
      const text = readFileSync(join(ROOT, file), "utf8");
      const missing = relativeLinks(text).filter((t) => !existsSync(resolve(ROOT, dirname(file), t)));
      expect(missing).toEqual([]);
    });
  }
});
