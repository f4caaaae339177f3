/**
 * Checks made before a run touches a model: every role's server address is one Node's fetch will connect to.
 * fetch refuses the "bad ports" of the WHATWG Fetch standard (port blocking) without opening a socket, which the
 * client would otherwise report as a lost connection to a server that may well be running.
 */
import type { Env } from "../models/factory.ts";
import { resolveBaseUrl } from "../models/factory.ts";
import { parseModelSpec, ROLES } from "../models/spec.ts";
import { SynthgraphError } from "../data/errors.ts";
import type { RunConfig } from "../state/config.ts";

/** The Fetch standard's bad ports (https://fetch.spec.whatwg.org/#port-blocking). */
export const FETCH_BAD_PORTS: ReadonlySet<number> = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104,
  109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515,
  526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049,
  3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** Throws (exit 2) when a role's server listens on a port fetch refuses. */
export function checkModelAddresses(config: Pick<RunConfig, "models">, env: Env): void {
  for (const role of ROLES) {
    const cfg = config.models[role];
    const provider = parseModelSpec(cfg.spec).provider;
    // A pool of servers (--endpoint, baseUrls): every member is checked.
    const members = provider !== "llamacpp" && cfg.baseUrls?.length ? cfg.baseUrls : [cfg.baseUrl];
    for (const baseUrl of members)
      checkAddress(role, provider, resolveBaseUrl(provider, { ...cfg, baseUrl }, env));
  }
}

/** Throws (exit 2) when one server address is not a URL or uses a port fetch refuses. */
function checkAddress(role: string, provider: string, base: string): void {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new SynthgraphError(`the ${role} model's server address ${base} is not a URL`, {
      hint:
        provider === "ollama"
          ? "set OLLAMA_HOST to host:port or http://host:port"
          : "set OPENAI_BASE_URL to http://host:port/v1",
      exitCode: 2,
    });
  }
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  if (FETCH_BAD_PORTS.has(port)) {
    const what = provider === "ollama" ? "OLLAMA_HOST" : "OPENAI_BASE_URL (or baseUrl in the model config)";
    throw new SynthgraphError(
      `the ${role} model's server ${base} uses port ${port}, which Node's fetch refuses to connect to (a blocked port of the Fetch standard)`,
      {
        hint: `run the server on another port (Ollama: OLLAMA_HOST=127.0.0.1:11434 ollama serve) and point ${what} at it`,
        exitCode: 2,
      },
    );
  }
}
