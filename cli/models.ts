/**
 * `synthgraph models [--model SPEC] [--config FILE] [--json]`: lists the model endpoint of every role,
 * whether each endpoint answers (Ollama: GET /api/version and /api/tags; OpenAI-compatible: GET /v1/models,
 * short timeout; llamacpp: the GGUF file exists) and which models it serves. Fails with an actionable
 * message when none is reachable.
 *
 * `synthgraph models pull [--url URL] [--sha256 HEX]`: downloads a GGUF (default: a small instruct model)
 * into the model cache with progress on stderr, resume and a sha256 check (models/pull.ts).
 */
import { existsSync, statSync } from "node:fs";
import type { Command } from "commander";
import { SynthgraphError } from "../data/errors.ts";
import { unreachableHint } from "../models/errors.ts";
import { type Env, resolveBaseUrl } from "../models/factory.ts";
import { DEFAULT_MODEL, type PullProgress, type PullResult, pullModel } from "../models/pull.ts";
import { type Provider, parseModelSpec, ROLES, type Role, resolveRoleConfigs } from "../models/spec.ts";
import type { CommandModule } from "./commands.ts";

export interface ModelsOptions {
  model?: string;
  config?: string;
  json?: boolean;
  /** Per-request probe timeout (default 3000 ms). */
  timeoutMs?: number;
}

export interface RoleStatus {
  role: Role;
  spec: string;
  temperature: number;
  baseUrl: string;
  /** The endpoint answered and lists this model. */
  available: boolean;
}

export interface EndpointStatus {
  provider: Provider;
  baseUrl: string;
  roles: Role[];
  /** Models the roles ask this endpoint for. */
  wanted: string[];
  reachable: boolean;
  version?: string;
  served: string[];
  missing: string[];
  error?: string;
  hint?: string;
}

export interface ModelsReport {
  roles: RoleStatus[];
  endpoints: EndpointStatus[];
}

interface Probe {
  reachable: boolean;
  version?: string;
  served: string[];
  error?: string;
  authFailed?: boolean;
}

async function getJson(
  url: string,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

function names(list: unknown, key: string): string[] {
  if (!Array.isArray(list)) return [];
  return list
    .map((m) => (m && typeof m === "object" ? (m as Record<string, unknown>)[key] : undefined))
    .filter((n): n is string => typeof n === "string");
}

function describeFetchError(err: unknown): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError"))
    return "no answer (timed out)";
  const cause = err instanceof Error ? (err.cause as { code?: string } | undefined) : undefined;
  return cause?.code ?? (err instanceof Error ? err.message : String(err));
}

/** Asks one endpoint whether it is up and what it serves. Never throws. */
export async function probeEndpoint(
  provider: Provider,
  baseUrl: string,
  opts: { apiKey?: string; timeoutMs: number },
): Promise<Probe> {
  try {
    if (provider === "llamacpp") {
      const path = baseUrl.replace(/^llamacpp:/, "");
      if (existsSync(path) && statSync(path).isFile()) return { reachable: true, served: [path] };
      return { reachable: false, served: [], error: `no such file: ${path}` };
    }
    if (provider === "ollama") {
      const version = await getJson(`${baseUrl}/api/version`, opts.timeoutMs);
      const tags = await getJson(`${baseUrl}/api/tags`, opts.timeoutMs);
      const v = (version.body as { version?: unknown } | undefined)?.version;
      if (tags.status !== 200)
        return { reachable: true, served: [], error: `GET /api/tags answered HTTP ${tags.status}` };
      return {
        reachable: true,
        ...(typeof v === "string" ? { version: v } : {}),
        served: names((tags.body as { models?: unknown } | undefined)?.models, "name"),
      };
    }
    const headers: Record<string, string> = opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {};
    const r = await getJson(`${baseUrl}/models`, opts.timeoutMs, headers);
    if (r.status === 401 || r.status === 403) {
      return {
        reachable: true,
        served: [],
        authFailed: true,
        error: `the server rejected the credentials (HTTP ${r.status})`,
      };
    }
    if (r.status !== 200)
      return { reachable: true, served: [], error: `GET /models answered HTTP ${r.status}` };
    return { reachable: true, served: names((r.body as { data?: unknown } | undefined)?.data, "id") };
  } catch (err) {
    return { reachable: false, served: [], error: describeFetchError(err) };
  }
}

function serves(served: readonly string[], model: string): boolean {
  return served.includes(model) || served.includes(`${model}:latest`);
}

/** Builds the report (no printing). */
export async function collectModels(opts: ModelsOptions, env: Env = process.env): Promise<ModelsReport> {
  const configs = resolveRoleConfigs({
    ...(opts.config === undefined ? {} : { configFile: opts.config }),
    flags: opts.model === undefined ? {} : { model: opts.model },
  });
  const timeoutMs = opts.timeoutMs ?? 3000;
  const groups = new Map<string, EndpointStatus>();
  const roleRows: Array<Omit<RoleStatus, "available"> & { key: string; model: string }> = [];
  for (const role of ROLES) {
    const cfg = configs[role];
    const { provider, model } = parseModelSpec(cfg.spec);
    const baseUrl = resolveBaseUrl(provider, cfg, env);
    const key = `${provider} ${baseUrl}`;
    let g = groups.get(key);
    if (!g) {
      g = { provider, baseUrl, roles: [], wanted: [], reachable: false, served: [], missing: [] };
      groups.set(key, g);
    }
    g.roles.push(role);
    if (!g.wanted.includes(model)) g.wanted.push(model);
    roleRows.push({ role, spec: cfg.spec, temperature: cfg.temperature, baseUrl, key, model });
  }
  const apiKey = env.OPENAI_API_KEY?.trim() || undefined;
  await Promise.all(
    [...groups.values()].map(async (g) => {
      const p = await probeEndpoint(g.provider, g.baseUrl, { ...(apiKey ? { apiKey } : {}), timeoutMs });
      g.reachable = p.reachable;
      g.served = p.served;
      if (p.version !== undefined) g.version = p.version;
      if (p.error !== undefined) g.error = p.error;
      if (!p.reachable) {
        g.hint = unreachableHint(g.provider, g.baseUrl);
        return;
      }
      if (p.authFailed) {
        g.hint = apiKey
          ? "check OPENAI_API_KEY: it is set but was refused (the key is not printed)"
          : "set OPENAI_API_KEY";
        return;
      }
      g.missing = p.error === undefined ? g.wanted.filter((m) => !serves(p.served, m)) : [];
      if (g.missing.length > 0) {
        g.hint =
          g.provider === "ollama"
            ? g.missing.map((m) => `ollama pull ${m}`).join("; ")
            : `the server does not list ${g.missing.join(", ")}; pick one of the served models`;
      }
    }),
  );
  const roles = roleRows.map(({ key, model, ...r }) => {
    const g = groups.get(key)!;
    return { ...r, available: g.reachable && g.error === undefined && serves(g.served, model) };
  });
  return { roles, endpoints: [...groups.values()] };
}

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s + " ".repeat(n - s.length);
}

export function formatModelsReport(report: ModelsReport): string {
  const lines: string[] = [];
  const w = Math.max(...report.roles.map((r) => r.spec.length), 5) + 2;
  lines.push(`${pad("role", 15)}${pad("model", w)}${pad("temp", 6)}status`);
  for (const r of report.roles) {
    lines.push(
      `${pad(r.role, 15)}${pad(r.spec, w)}${pad(String(r.temperature), 6)}${r.available ? "ok" : "unavailable"}`,
    );
  }
  lines.push("", "endpoints:");
  for (const g of report.endpoints) {
    const state = !g.reachable
      ? `not reachable (${g.error ?? "no answer"})`
      : g.error
        ? `reachable, but ${g.error}`
        : `reachable${g.version ? `, version ${g.version}` : ""}`;
    lines.push(`  ${g.provider} ${g.baseUrl}: ${state}`);
    if (g.reachable && !g.error)
      lines.push(`    serves: ${g.served.length > 0 ? g.served.join(", ") : "(no models)"}`);
    if (g.missing.length > 0) lines.push(`    missing: ${g.missing.join(", ")}`);
    if (g.hint) lines.push(`    what to do: ${g.hint}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The command's action: prints the report, throws an actionable error when no endpoint is reachable. */
export async function runModels(
  opts: ModelsOptions,
  io: { env?: Env; write?: (s: string) => void } = {},
): Promise<ModelsReport> {
  const write = io.write ?? ((s: string) => void process.stdout.write(s));
  const report = await collectModels(opts, io.env ?? process.env);
  write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatModelsReport(report));
  if (!report.endpoints.some((g) => g.reachable)) {
    const first = report.endpoints[0];
    throw new SynthgraphError(
      `no model endpoint is reachable (${report.endpoints.map((g) => `${g.provider} ${g.baseUrl}`).join(", ")})`,
      { hint: first ? unreachableHint(first.provider, first.baseUrl) : undefined, exitCode: 3 },
    );
  }
  return report;
}

function mb(n: number): string {
  return `${(n / 1_048_576).toFixed(1)} MB`;
}

/** `models pull`: progress on stderr (at most every 0.5 s and at the end), the model path on stdout. */
export async function runPull(
  opts: { url?: string; sha256?: string },
  io: { env?: Env; stdout?: (s: string) => void; stderr?: (s: string) => void; fetch?: typeof fetch } = {},
): Promise<PullResult> {
  const out = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = io.stderr ?? ((s: string) => void process.stderr.write(s));
  const url = opts.url ?? DEFAULT_MODEL.url;
  err(`synthgraph: pulling ${url}\n`);
  let last = 0;
  const show = (p: PullProgress, final = false): void => {
    const now = performance.now();
    if (!final && now - last < 500) return;
    last = now;
    const pct = p.total ? ` (${((100 * p.received) / p.total).toFixed(1)}%)` : "";
    const resumed = p.resumedFrom > 0 ? `, resumed at ${mb(p.resumedFrom)}` : "";
    err(`  ${mb(p.received)}${p.total ? ` of ${mb(p.total)}` : ""}${pct}${resumed}\n`);
  };
  let lastP: PullProgress | undefined;
  const r = await pullModel({
    ...(opts.url === undefined ? {} : { url: opts.url }),
    ...(opts.sha256 === undefined ? {} : { sha256: opts.sha256 }),
    ...(io.env === undefined ? {} : { env: io.env }),
    ...(io.fetch === undefined ? {} : { fetch: io.fetch }),
    onProgress: (p) => {
      lastP = p;
      show(p);
    },
  });
  if (lastP) show(lastP, true);
  err(
    r.cached
      ? `synthgraph: already cached and verified (sha256 ${r.sha256})\n`
      : `synthgraph: saved ${mb(r.bytes)}, sha256 ${r.sha256}${r.resumedFrom > 0 ? ` (resumed from ${mb(r.resumedFrom)})` : ""}\n`,
  );
  err(`  use it with --model llamacpp:${r.path} (or leave --model out when Ollama is not running)\n`);
  out(`${r.path}\n`);
  return r;
}

export const modelsCommand: CommandModule = {
  register(program: Command): void {
    const models = program.command("models");
    models
      .command("pull")
      .description(
        `Download a GGUF model for in-process use (default: ${DEFAULT_MODEL.file}) into $SYNTHGRAPH_HOME/models or ~/.cache/synthgraph/models; resumes, checks sha256`,
      )
      .option("--url <url>", "GGUF file URL (default: Qwen2.5 1.5B Instruct Q4_K_M from Hugging Face)")
      .option("--sha256 <hex>", "expected sha256 of the file (checked before it is used)")
      .action(async (o: { url?: string; sha256?: string }) => {
        await runPull(o);
      });
    models
      .description(
        "List the model of every agent role, whether its endpoint is reachable, and the models it serves",
      )
      .option("--model <spec>", "model for every role, e.g. ollama:llama3.1:8b or openai:gpt-4o")
      .option("--config <file>", "JSON model config (default / per-role model, temperature, baseUrl, numCtx)")
      .option("--json", "print the report as JSON")
      .action(async (o: { model?: string; config?: string; json?: boolean }) => {
        await runModels(o);
      });
  },
};
