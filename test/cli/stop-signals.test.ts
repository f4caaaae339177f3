/**
 * cli/stop-signals.ts in a child process that also loads signal-exit (as node-llama-cpp does, through
 * proper-lockfile): the first SIGTERM or SIGINT reaches the command's stop and the process ends the way the stop
 * decides; a second signal exits at once with 143 / 130. With `process.once` listeners signal-exit killed the
 * process on the first signal.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const CHILD = join(import.meta.dirname, "../support/stop-signals-child.mjs");

/** Starts the child, sends `signals` one by one (each after the previous one's line), returns its end. */
async function signalled(
  mode: "finish" | "hang",
  signals: NodeJS.Signals[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  const child = spawn(process.execPath, [CHILD, mode], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let sent = 0;
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
    // "ready", then one "stopping" line per signal the stop received.
    const lines = out.split("\n").filter((l) => l !== "").length;
    if (lines > sent && sent < signals.length) child.kill(signals[sent++]);
  });
  let err = "";
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) =>
    child.on("exit", (c, s) => res([c, s])),
  );
  expect(err).toBe("");
  return { code, signal, out };
}

describe("stop signals beside signal-exit", () => {
  it("the first SIGTERM reaches the stop, which ends the process with exit code 0", async () => {
    const r = await signalled("finish", ["SIGTERM"]);
    expect(r).toEqual({ code: 0, signal: null, out: "ready\nstopping on SIGTERM\n" });
  });

  it("the first SIGINT too", async () => {
    const r = await signalled("finish", ["SIGINT"]);
    expect(r).toEqual({ code: 0, signal: null, out: "ready\nstopping on SIGINT\n" });
  });

  it("a second signal exits at once with the signal's shell code", async () => {
    expect(await signalled("hang", ["SIGTERM", "SIGTERM"])).toEqual({
      code: 143,
      signal: null,
      out: "ready\nstopping on SIGTERM\n",
    });
    expect(await signalled("hang", ["SIGINT", "SIGINT"])).toEqual({
      code: 130,
      signal: null,
      out: "ready\nstopping on SIGINT\n",
    });
  });
});
