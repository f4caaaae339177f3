/**
 * streamRun and steerRun events across pauses: every pause point's `iteration_finished` is reported once,
 * although LangGraph re-runs the paused node (which streams its diagnostics again) on every resume.
 */
import { describe, expect, it } from "vitest";
import type { RunStreamEvent } from "../../graph/run.ts";
import { steerRun, streamRun } from "../../graph/steer.ts";
import { TEST_ENV, useLlmServer, useRunFiles } from "../support/harness.ts";
import { responder, testConfig } from "../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("steering-stream-");

describe("iteration_finished across resumes", () => {
  it("is reported once per pause point over a run paused at every one", async () => {
    // Never "Real": the loop runs its 3 iterations, pausing after each.
    server.setDefault(
      responder({ decision: () => JSON.stringify({ Type: "Synthetic", Feedback: "too narrow" }) }),
    );
    const p = files.paths();
    const config = testConfig(server, "ollama", {
      input: files.input,
      out: p.out,
      rows: 20,
      maxIterations: 3,
    });
    const events: RunStreamEvent[] = [];
    const gen = streamRun({ dir: p.runDir, config }, { env: TEST_ENV, pauseEvery: true });
    let next = await gen.next();
    while (!next.done) {
      events.push(next.value);
      next = await gen.next();
    }
    expect(next.value.status).toBe("paused");
    let status = next.value.status;
    let resumes = 0;
    while (status === "paused") {
      resumes++;
      const r = await steerRun(
        p.runDir,
        { type: "continue" },
        { env: TEST_ENV, onStream: (e) => events.push(e) },
      );
      status = r.result?.status ?? "paused";
      expect(resumes).toBeLessThan(10);
    }
    expect(status).toBe("done");
    const finished = events.flatMap((e) => (e.type === "iteration_finished" ? [e.point.iteration] : []));
    const paused = events.flatMap((e) => (e.type === "paused" && e.point ? [e.point.iteration] : []));
    // Three pause points (after probes 1, 2, 3; the last one is also the one before the final generation).
    expect(paused).toEqual([1, 2, 3]);
    expect(finished).toEqual([1, 2, 3]);
    expect(resumes).toBe(3);
    // Each segment: its own iteration_finished before its paused event.
    const order = events
      .filter((e) => e.type === "iteration_finished" || e.type === "paused" || e.type === "finished")
      .map((e) => e.type);
    expect(order).toEqual([
      "iteration_finished",
      "paused",
      "iteration_finished",
      "paused",
      "iteration_finished",
      "paused",
      "finished",
    ]);
  }, 120_000);
});
