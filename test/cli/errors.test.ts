/**
 * The top-level error handler (cli/errors.ts): unknown errors ask for a bug report naming the run directory,
 * with the stack only under --debug; run hints are written per error (resume only where it can help).
 */
import { describe, expect, it } from "vitest";
import { describeError, noteRunDir, withRunHint } from "../../cli/errors.ts";
import { SynthgraphError } from "../../data/errors.ts";
import { ModelContextOverflowError, ModelError } from "../../models/errors.ts";

describe("describeError", () => {
  it("an unknown error: a bug report with the run directory, the stack only with --debug", () => {
    noteRunDir("/tmp/runs/r1");
    const err = new TypeError("cannot read properties of undefined");
    const plain = describeError(err, false);
    expect(plain.exitCode).toBe(1);
    expect(plain.text).toContain("internal error: cannot read properties of undefined");
    expect(plain.text).toContain(
      "please report it with the command you ran and the run directory /tmp/runs/r1",
    );
    expect(plain.text).not.toMatch(/\n\s+at /);
    expect(describeError(err, true).text).toMatch(/\n\s+at /);
    noteRunDir(undefined);
  });
  it("file-system errors are messages with exit 2", () => {
    const e = Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT", path: "/x/y.json" });
    expect(describeError(e)).toEqual({
      text: "synthgraph: /x/y.json does not exist\n  what to do: check the path and its permissions\n",
      exitCode: 2,
    });
  });
});

describe("withRunHint", () => {
  it("a server failure: continue with resume", () => {
    const e = withRunHint(
      new ModelError("server", "HTTP 500", { hint: "check its logs" }),
      "/r",
    ) as SynthgraphError;
    expect(e.hint).toBe(
      "check its logs; once the server answers again, continue with `synthgraph resume /r`",
    );
  });
  it("a context overflow: a new run (a resume keeps the settings); the flag it names exists", () => {
    const e = withRunHint(new ModelContextOverflowError("4096 tokens"), "/r") as SynthgraphError;
    expect(e.hint).toContain("start a new run");
    expect(e.hint).not.toContain("synthgraph resume");
    expect(e.hint).toContain("--num-ctx");
  });
  it("a hint that already says what to do next is left alone", () => {
    const e = new SynthgraphError("input changed", {
      hint: "start a new run with `synthgraph generate`",
      exitCode: 2,
    });
    expect((withRunHint(e, "/r") as SynthgraphError).hint).toBe("start a new run with `synthgraph generate`");
  });
});
