/**
 * The durable runner (graph/run.ts) and the final batches' bound on parallel model calls (graph/finalize.ts):
 * at --concurrency 1 every Send of a wave runs in the graph's own stream (LangGraph 1.7.3 stopped a superstep
 * after its first task when given maxConcurrency 1, and the run was finished by the recovery path), with at most
 * one generator call at a time; at 2, at most two.
 */
import { describe, expect, it } from "vitest";
import { createSlots } from "../../graph/finalize.ts";
import { type RunEvent, startRun } from "../../graph/run.ts";
import { csvRows, storedArtifacts, TEST_ENV, useLlmServer, useRunFiles } from "../support/harness.ts";
import { responder, testConfig } from "../support/synthia.ts";

const server = useLlmServer();
const files = useRunFiles("graph-run-");

describe.each([1, 2])("final generation at --concurrency %i", (concurrency) => {
  it("runs every batch in the graph's stream, never more than the limit at once", async () => {
    server.setDefault(responder());
    const p = files.paths();
    // 60 rows in batches of 10: 6 batches, waves of 4 × concurrency Sends.
    const config = testConfig(server, "ollama", {
      input: files.input,
      out: p.out,
      maxIterations: 1,
      concurrency,
    });
    const nodes: string[] = [];
    const result = await startRun(p.runDir, config, {
      env: TEST_ENV,
      onEvent: (e: RunEvent) => nodes.push(e.node),
    });
    expect(result.status).toBe("done");
    expect(csvRows(p.out)).toHaveLength(60);
    const batches = storedArtifacts(p.runDir, "final");
    expect(batches.length).toBeGreaterThanOrEqual(6);
    // Each stored batch was a `batch` node of the stream, and `write` ran in it too (not the recovery's events).
    expect(nodes.filter((n) => n === "batch")).toHaveLength(batches.length);
    expect(nodes.filter((n) => n === "write")).toHaveLength(1);
    expect(server.stats.maxInFlight).toBeLessThanOrEqual(concurrency);
  });
});

describe("createSlots", () => {
  it("runs at most n calls at once, in the order they asked, and frees a slot when a call fails", async () => {
    const slots = createSlots(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const releases: Array<() => void> = [];
    const call = (k: number, fail = false) =>
      slots(async () => {
        started.push(k);
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => releases.push(r));
        running--;
        if (fail) throw new Error(`call ${k} failed`);
        return k;
      });
    const calls = [call(0, true), call(1), call(2), call(3)];
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual([0, 1]);
    releases[0]();
    await expect(calls[0]).rejects.toThrow("call 0 failed");
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual([0, 1, 2]);
    releases[1]();
    releases[2]();
    await new Promise((r) => setTimeout(r, 10));
    releases[3]();
    expect(await Promise.all(calls.slice(1))).toEqual([1, 2, 3]);
    expect(started).toEqual([0, 1, 2, 3]);
    expect(peak).toBe(2);
  });
});
