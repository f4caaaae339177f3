/**
 * Defaults for a small in-process model. A GGUF model run by llama.cpp on a laptop CPU writes a few tokens
 * per second, so the defaults chosen for Ollama and hosted models (SYNTHIA: 6 iterations of 50 probe rows)
 * would keep it busy for hours: measured with Gemma 3 270M on 2 shared cores, one 50-row probe took 10
 * minutes and one discriminator turn 6. When every model role the engine calls is `llamacpp:` and the user
 * did not give an option, the engine's `cli.smallModelDefaults` (graph/engine.ts) replace the defaults, and the
 * run's first line says which. Server models keep their defaults; a flag the user gives always wins.
 */
import type { EngineDefinition } from "../graph/engine.ts";
import { parseModelSpec, type RoleConfigMap } from "../models/spec.ts";

/** `maxIterations` → `--max-iterations`. */
export function flagOf(attribute: string): string {
  return `--${attribute.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * The raw option values to add and the note to print, or undefined when nothing changes (a server model, a
 * model-less engine, no small-model defaults, or every such option given).
 */
export function smallModelDefaults(
  engine: Pick<EngineDefinition, "models" | "cli">,
  models: RoleConfigMap,
  raw: Readonly<Record<string, unknown>>,
): { values: Record<string, number>; note: string } | undefined {
  const defaults = engine.cli.smallModelDefaults;
  if (defaults === undefined || engine.models.length === 0) return undefined;
  if (!engine.models.every((role) => parseModelSpec(models[role].spec).provider === "llamacpp"))
    return undefined;
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(defaults)) if (raw[k] === undefined) values[k] = v;
  const given = Object.entries(values);
  if (given.length === 0) return undefined;
  return {
    values,
    note: `in-process model: ${given.map(([k, v]) => `${flagOf(k)} ${v}`).join(", ")} (defaults for a small local model; give the flag to change it)`,
  };
}
