/**
 * The embedded default: with no model configured (every role on the built-in `ollama:` default) and no
 * Ollama answering, a run uses a local GGUF in-process instead of failing: SYNTHGRAPH_MODEL_FILE (already
 * applied by resolveRoleConfigs) or the model cache (`synthgraph models pull` fills it). With neither, the
 * configuration is left alone and the run fails with the unreachable error, whose hint names
 * `synthgraph models pull`.
 */
import { findCachedModel } from "./pull.ts";
import { normalizeOllamaHost } from "./factory.ts";
import { DEFAULT_SPEC, type RoleConfigMap } from "./spec.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** True when Ollama answers GET /api/version within `timeoutMs`. */
export async function ollamaAnswers(baseUrl: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/api/version`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** The role configs switched to the cached GGUF, with a note to print, or undefined to keep them. */
export async function embeddedDefault(
  models: RoleConfigMap,
  env: Env = process.env,
  probe: (baseUrl: string) => Promise<boolean> = ollamaAnswers,
): Promise<{ models: RoleConfigMap; note: string } | undefined> {
  const cfgs = Object.values(models);
  if (!cfgs.every((c) => c.spec === DEFAULT_SPEC && c.baseUrl === undefined)) return undefined;
  const cached = findCachedModel(env);
  if (cached === undefined) return undefined;
  const host = normalizeOllamaHost(env.OLLAMA_HOST);
  if (await probe(host)) return undefined;
  const out = {} as RoleConfigMap;
  for (const [role, c] of Object.entries(models) as Array<
    [keyof RoleConfigMap, RoleConfigMap[keyof RoleConfigMap]]
  >)
    out[role] = { ...c, spec: `llamacpp:${cached}` };
  return {
    models: out,
    note: `no model configured and Ollama is not answering at ${host}: using the local model ${cached} (in-process, llama.cpp)`,
  };
}
