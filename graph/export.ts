/**
 * Every engine's compiled graph without a checkpointer, for `langgraph.json` (the LangGraph server supplies
 * its own checkpointer and store) and for embedding as a subgraph.
 *
 * The engine graphs close over an EngineRuntime (config, artifact store, real table, model environment,
 * fan-out) that graph/run.ts builds before compiling. A served graph is compiled once per process and
 * then runs any number of threads, each with its own input, so its runtime cannot exist at compile time.
 * It is built lazily instead: every property of the exported graphs' runtime resolves, when a node reads
 * it, to the runtime of the thread that node runs in, made from that thread's input state (`runDir` and
 * `config`, the same input graph/run.ts gives a fresh run):
 *
 * - the thread is LangGraph's current `thread_id` (getConfig(); one shared key when there is none);
 * - a node that receives the state (getCurrentTaskInput() holds `runDir` and `config`) makes or refreshes
 *   that thread's runtime: store in <runDir>/artifacts, the table at config.input, process.env, the
 *   config's concurrency;
 * - a node that receives a Send payload (the final batches) uses the runtime its thread already has: a
 *   state node of the same thread always runs before a Send is dispatched.
 *
 * When SYNTHGRAPH_ROOT is set, runDir, the input, the output and the metadata must lie inside it
 * (tools/paths.ts), as the MCP server's tools do: whoever can reach a LangGraph server chooses these paths.
 */
import { join } from "node:path";
import { getConfig, getCurrentTaskInput, type BaseCheckpointSaver } from "@langchain/langgraph";
import { SynthgraphError } from "../data/errors.ts";
import { ArtifactStore } from "../state/artifacts.ts";
import { type EngineName, ENGINES, type RunConfig, RunConfigSchema } from "../state/config.ts";
import type { buildLlmsynthorGraph } from "../engines/llmsynthor/graph.ts";
import type { buildMallmGraph } from "../engines/mallm/graph.ts";
import type { buildSynthiaGraph } from "../engines/synthia/graph.ts";
import { PathGuard } from "../tools/paths.ts";
import { engineFor } from "./registry.ts";
import { concurrencyOf, realLoader } from "./run.ts";
import type { EngineRuntime } from "./runtime.ts";

/** The input of a thread: the run directory (artifacts) and the run's config. */
export interface ThreadInput {
  runDir: string;
  config: RunConfig;
}

interface Bound {
  runDir: string;
  configJson: string;
  rt: EngineRuntime;
}

const DEFAULT_THREAD = "__default__";

function threadOf(): string {
  const id = getConfig()?.configurable?.thread_id;
  return typeof id === "string" && id.length > 0 ? id : DEFAULT_THREAD;
}

function inputOf(): { runDir: string; config: unknown } | undefined {
  let input: unknown;
  try {
    input = getCurrentTaskInput();
  } catch {
    return undefined;
  }
  if (typeof input !== "object" || input === null) return undefined;
  const s = input as Record<string, unknown>;
  return typeof s.runDir === "string" && typeof s.config === "object" && s.config !== null
    ? { runDir: s.runDir, config: s.config }
    : undefined;
}

/** Refuses paths outside SYNTHGRAPH_ROOT when it is set. */
function confine(runDir: string, config: RunConfig, root: string | undefined): void {
  if (!root) return;
  const guard = new PathGuard(root);
  guard.writable(runDir, "runDir");
  guard.readable(config.input, "config.input");
  guard.writable(config.out, "config.out");
  if (config.metadata) guard.readable(config.metadata, "config.metadata");
}

/** A runtime whose every property is the current thread's (module comment). */
export function lazyRuntime(env: NodeJS.ProcessEnv = process.env): EngineRuntime {
  const threads = new Map<string, Bound>();
  const current = (): EngineRuntime => {
    const thread = threadOf();
    const input = inputOf();
    const known = threads.get(thread);
    if (input) {
      const configJson = JSON.stringify(input.config);
      if (known && known.runDir === input.runDir && known.configJson === configJson) return known.rt;
      const config = RunConfigSchema.parse(input.config);
      confine(input.runDir, config, env.SYNTHGRAPH_ROOT);
      const rt: EngineRuntime = {
        config,
        store: new ArtifactStore(join(input.runDir, "artifacts")),
        real: realLoader(config),
        env,
        concurrency: concurrencyOf(config),
      };
      threads.set(thread, { runDir: input.runDir, configJson, rt });
      return rt;
    }
    if (known) return known.rt;
    throw new SynthgraphError(`thread ${thread} has no run bound to it`, {
      hint: 'start the thread with the input {"runDir": DIR, "config": RunConfig}',
      exitCode: 2,
    });
  };
  return {
    perThread: true,
    get config() {
      return current().config;
    },
    get store() {
      return current().store;
    },
    real: () => current().real(),
    get env() {
      return current().env;
    },
    get concurrency() {
      return current().concurrency;
    },
  };
}

/** One engine's graph compiled without a checkpointer over a lazy runtime. */
export function exportGraph(name: EngineName) {
  // The registry compiles with the checkpointer it is given; none here (the server or the parent supplies it).
  return engineFor(name).compile(lazyRuntime(), undefined as unknown as BaseCheckpointSaver);
}

/** Every registered engine's exported graph, by engine name. */
export function exportGraphs(): Record<EngineName, ReturnType<typeof exportGraph>> {
  return Object.fromEntries(ENGINES.map((n) => [n, exportGraph(n)])) as Record<
    EngineName,
    ReturnType<typeof exportGraph>
  >;
}

type Compiled<B extends (rt: EngineRuntime) => { compile(): unknown }> = ReturnType<ReturnType<B>["compile"]>;

// The registry types its compiled graphs narrowly (what the runner uses); these are the full LangGraph types.
export const synthia = exportGraph("synthia") as unknown as Compiled<typeof buildSynthiaGraph>;
export const mallmGan = exportGraph("mallm-gan") as unknown as Compiled<typeof buildMallmGraph>;
export const llmsynthor = exportGraph("llmsynthor") as unknown as Compiled<typeof buildLlmsynthorGraph>;
