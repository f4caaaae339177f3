/**
 * The engine registry: the one list of engines. The runner (graph/run.ts) and the CLI (generate options and
 * --help, start banner, progress lines, SUMMARY.json) read engines only from here. Each entry is an engine's
 * EngineDefinition (graph/engine.ts) from engines/<name>/engine.ts; the names are state/config.ts ENGINES,
 * and the Record type makes a name without an entry a compile error. docs/adding-an-engine.md walks through
 * adding one.
 */
import { SynthgraphError } from "../data/errors.ts";
import { bayesnetEngine } from "../engines/bayesnet/engine.ts";
import { copulaEngine } from "../engines/copula/engine.ts";
import { llmsynthorEngine } from "../engines/llmsynthor/engine.ts";
import { mallmEngine } from "../engines/mallm/engine.ts";
import { synllmEngine } from "../engines/synllm/engine.ts";
import { synthiaEngine } from "../engines/synthia/engine.ts";
import { type EngineName, ENGINES } from "../state/config.ts";
import type { EngineDefinition } from "./engine.ts";

export type { EngineDefinition, EngineStateBase } from "./engine.ts";

/** Registered engines. */
export const ENGINE_REGISTRY: Record<EngineName, EngineDefinition> = {
  synthia: synthiaEngine,
  "mallm-gan": mallmEngine,
  llmsynthor: llmsynthorEngine,
  synllm: synllmEngine,
  copula: copulaEngine,
  bayesnet: bayesnetEngine,
};

/** The engines in ENGINES order (the order of --help and of the CLI schema). */
export const ENGINE_LIST: readonly EngineDefinition[] = ENGINES.map((name) => ENGINE_REGISTRY[name]);

export function engineFor(name: EngineName): EngineDefinition {
  // run.json is validated, so this guards only against a name from outside (an old run, a library caller).
  const e = (ENGINE_REGISTRY as Partial<Record<string, EngineDefinition>>)[name];
  if (!e) {
    throw new SynthgraphError(`engine ${name} is not available in this build`, {
      hint: `available engines: ${ENGINES.join(", ")}`,
      exitCode: 2,
    });
  }
  return e;
}
