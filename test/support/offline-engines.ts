/**
 * What the offline engines' tests share (not a test file): the example Adult table as the engines read it,
 * and end-to-end runs of `synthgraph generate --engine <copula|bayesnet>` as child processes with every model
 * endpoint pointed at a loopback listener that counts connections (so a test can assert none was made).
 */
import { createServer, type Server } from "node:net";
import { resolve } from "node:path";
import { MemorySaver } from "@langchain/langgraph";
import { codedColumn, numericColumn, tableOf } from "../../data/build.ts";
import { readTable } from "../../data/read.ts";
import type { Metadata, Table } from "../../data/types.ts";
import type { EngineRuntime, RealData } from "../../graph/runtime.ts";
import { resolveRoleConfigs } from "../../models/spec.ts";
import { ArtifactStore } from "../../state/artifacts.ts";
import { type RunConfig, type RunConfigInput, RunConfigSchema } from "../../state/config.ts";

export const ADULT_EXAMPLE = resolve(import.meta.dirname, "../../examples/adult.csv");

export async function adultModelInputs(): Promise<{ table: Table; metadata: Metadata }> {
  return readTable(ADULT_EXAMPLE);
}

/** A loopback port that accepts and immediately drops connections, counting them. */
export async function connectionCounter(): Promise<{
  url: string;
  count: () => number;
  close: () => Promise<void>;
}> {
  let n = 0;
  const server: Server = createServer((socket) => {
    n++;
    socket.destroy();
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    count: () => n,
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}

/** The data rows of a CSV without quoted fields (the engines write adult's values unquoted), as objects. */
export function csvObjects(text: string): Array<Record<string, string>> {
  if (text.includes('"')) throw new Error("a quoted field: parse with data/read.ts instead");
  const [head, ...lines] = text.trimEnd().split("\n");
  const names = head.split(",");
  return lines.map((l) => {
    const cells = l.split(",");
    if (cells.length !== names.length) throw new Error(`row with ${cells.length} cells: ${l}`);
    return Object.fromEntries(names.map((n, j) => [n, cells[j]]));
  });
}

/**
 * A real table on which about half of all synthetic rows copy a real row: k = i mod 10 (whole numbers 0..9)
 * and s = "A" for even i, "B" for odd, so the real rows cover 10 of the 20 (k, s) pairs; the normal scores of
 * k and s are nearly uncorrelated, so a model draws every pair and the privacy guard drops the real ones.
 */
export function halfCopiedTable(): Table {
  const n = 40;
  return tableOf([
    numericColumn(
      "k",
      Array.from({ length: n }, (_, i) => i % 10),
    ),
    codedColumn(
      "s",
      Array.from({ length: n }, (_, i) => (i % 2 === 0 ? "A" : "B")),
    ),
  ]);
}

/** A run config for node and graph tests of an offline engine (models resolved offline, never called). */
export function offlineConfig(a: { out: string } & Partial<RunConfigInput>): RunConfig {
  return RunConfigSchema.parse({
    input: "memory/real.csv",
    models: resolveRoleConfigs({}),
    rows: 60,
    seed: 3,
    ...a,
  });
}

/** Compiles an engine's graph with an in-memory checkpointer and runs it to the end on `real`. */
export async function runOfflineGraph<S>(
  build: (rt: EngineRuntime) => { compile(o: { checkpointer: MemorySaver }): unknown },
  config: RunConfig,
  real: RealData,
  store: ArtifactStore = ArtifactStore.inMemory(),
): Promise<S> {
  const rt: EngineRuntime = { config, store, real: async () => real, env: {}, concurrency: 1 };
  const app = build(rt).compile({ checkpointer: new MemorySaver() }) as {
    invoke(input: unknown, cfg: unknown): Promise<unknown>;
  };
  return (await app.invoke(
    { runDir: "memory", config },
    { configurable: { thread_id: "t" }, recursionLimit: 10_000 },
  )) as S;
}
