/**
 * docs/tools.md documents every tool: a section per tool of TOOL_SPECS, in the same order, whose tables name
 * every field of the tool's input and output schemas (and no field the schemas lack); README's "Use from
 * agents" table names every tool. Adding a field or a tool without documenting it fails here.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../../tools/index.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const doc = readFileSync(join(ROOT, "docs/tools.md"), "utf8");

/** The text of the section of `name`, up to the next `## `. */
function section(name: string): string {
  const start = doc.indexOf(`## \`${name}\``);
  if (start === -1) return "";
  const next = doc.indexOf("\n## ", start + 1);
  return doc.slice(start, next === -1 ? undefined : next);
}

/** Field names of the table that follows `heading` (Input: / Output:) in a section. */
function fields(text: string, heading: string): string[] {
  const at = text.indexOf(`${heading}\n`);
  if (at === -1) return [];
  const out: string[] = [];
  for (const line of text.slice(at).split("\n").slice(2)) {
    if (line.trim() === "" && out.length > 0) break;
    const m = /^\| `([a-z_]+)` +\|/.exec(line);
    if (m) out.push(m[1]);
  }
  return out;
}

describe("docs/tools.md", () => {
  it("has a section per tool, in the order tools/list shows them", () => {
    const order = [...doc.matchAll(/^## `([a-z_]+)`$/gm)].map((m) => m[1]);
    expect(order).toEqual(TOOL_SPECS.map((s) => s.name));
  });

  it.each(TOOL_SPECS.map((s) => [s.name, s] as const))("%s: every input and output field", (name, spec) => {
    const text = section(name);
    expect(fields(text, "Input:")).toEqual(Object.keys(spec.input.shape));
    expect(fields(text, "Output:")).toEqual(Object.keys(spec.output.shape));
  });

  it("README's Use from agents table names every tool", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const part = readme.slice(readme.indexOf("## Use from agents"), readme.indexOf("**LangChain tools**"));
    const listed = [...part.matchAll(/^\| `([a-z_]+)` +\|/gm)].map((m) => m[1]);
    expect(listed).toEqual(TOOL_SPECS.map((s) => s.name));
  });
});
