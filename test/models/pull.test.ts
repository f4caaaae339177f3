/**
 * `synthgraph models pull` against a loopback HTTP server serving a generated file: a full download, an
 * interrupted one resumed with a Range request, a bad checksum refused, the CLI's progress and output, and
 * the embedded default that picks the cached file up.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embeddedDefault } from "../../models/embedded.ts";
import { findCachedModel, modelCacheDir, pullModel } from "../../models/pull.ts";
import { DEFAULT_SPEC, resolveRoleConfigs } from "../../models/spec.ts";

const BODY = randomBytes(3 * 1024 * 1024 + 17);
const SHA = createHash("sha256").update(BODY).digest("hex");
/** Requests seen: the Range header of each (or "" for none). */
const ranges: string[] = [];
/** When > 0, the next full (non-Range) response stops after this many bytes and drops the connection. */
let cutAfter = 0;
let server: Server;
let base = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    const range = req.headers.range ?? "";
    ranges.push(range);
    const m = /^bytes=(\d+)-$/.exec(range);
    if (m) {
      const from = Number(m[1]);
      if (from >= BODY.length) {
        res.writeHead(416, { "content-range": `bytes */${BODY.length}` }).end();
        return;
      }
      res.writeHead(206, {
        "content-length": String(BODY.length - from),
        "content-range": `bytes ${from}-${BODY.length - 1}/${BODY.length}`,
      });
      res.end(BODY.subarray(from));
      return;
    }
    res.writeHead(200, { "content-length": String(BODY.length) });
    if (cutAfter > 0) {
      const n = cutAfter;
      cutAfter = 0;
      res.write(BODY.subarray(0, n), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    res.end(BODY);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const fresh = (): string => mkdtempSync(join(tmpdir(), "synthgraph-pull-"));

describe("pullModel", () => {
  it("downloads into $SYNTHGRAPH_HOME/models and checks the sha256", async () => {
    const home = fresh();
    const r = await pullModel({ url: `${base}/m/tiny.gguf`, sha256: SHA, env: { SYNTHGRAPH_HOME: home } });
    expect(r.path).toBe(join(home, "models", "tiny.gguf"));
    expect(readFileSync(r.path).equals(BODY)).toBe(true);
    expect(r).toMatchObject({ sha256: SHA, bytes: BODY.length, resumedFrom: 0, cached: false });
    // A second pull finds it and downloads nothing.
    const before = ranges.length;
    const again = await pullModel({
      url: `${base}/m/tiny.gguf`,
      sha256: SHA,
      env: { SYNTHGRAPH_HOME: home },
    });
    expect(again.cached).toBe(true);
    expect(ranges.length).toBe(before);
  });

  it("resumes an interrupted download with a Range request from the .part's size", async () => {
    const home = fresh();
    const url = `${base}/m/resume.gguf`;
    cutAfter = 1024 * 1024;
    await expect(pullModel({ url, sha256: SHA, env: { SYNTHGRAPH_HOME: home } })).rejects.toThrow(
      /stopped after/,
    );
    const part = join(home, "models", "resume.gguf.part");
    const kept = statSync(part).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(BODY.length);
    expect(readFileSync(part).equals(BODY.subarray(0, kept))).toBe(true);
    const seen: number[] = [];
    const r = await pullModel({
      url,
      sha256: SHA,
      env: { SYNTHGRAPH_HOME: home },
      onProgress: (p) => seen.push(p.received),
    });
    expect(ranges.at(-1)).toBe(`bytes=${kept}-`);
    expect(r.resumedFrom).toBe(kept);
    expect(seen[0]).toBe(kept);
    expect(seen.at(-1)).toBe(BODY.length);
    expect(readFileSync(r.path).equals(BODY)).toBe(true);
    expect(existsSync(part)).toBe(false);
  });

  it("refuses a file whose sha256 differs, deleting it", async () => {
    const home = fresh();
    const wrong = createHash("sha256").update("something else").digest("hex");
    await expect(
      pullModel({ url: `${base}/m/bad.gguf`, sha256: wrong, env: { SYNTHGRAPH_HOME: home } }),
    ).rejects.toThrow(new RegExp(`sha256 is ${SHA}, expected ${wrong}`));
    expect(existsSync(join(home, "models", "bad.gguf"))).toBe(false);
    expect(existsSync(join(home, "models", "bad.gguf.part"))).toBe(false);
  });

  it("rejects a malformed --sha256 before downloading", async () => {
    await expect(pullModel({ url: `${base}/m/x.gguf`, sha256: "abc", dir: fresh() })).rejects.toThrow(
      /64 hex/,
    );
  });
});

/** Runs the CLI without blocking the event loop (the loopback server lives in this process). */
function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [resolve("bin/synthgraph.js"), ...args], { env }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code ?? 1) : 0;
      done({ status: typeof code === "number" ? code : 1, stdout, stderr });
    });
  });
}

describe("synthgraph models pull (CLI binary)", () => {
  it("prints progress on stderr and the model path on stdout; exit code 3 on a bad checksum", async () => {
    const home = fresh();
    const env = { ...process.env, SYNTHGRAPH_HOME: home };
    const ok = await cli(["models", "pull", "--url", `${base}/m/cli.gguf`, "--sha256", SHA], env);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe(join(home, "models", "cli.gguf"));
    expect(ok.stderr).toMatch(/3\.0 MB of 3\.0 MB \(100\.0%\)/);
    expect(ok.stderr).toContain(`sha256 ${SHA}`);
    const bad = await cli(
      ["models", "pull", "--url", `${base}/m/cli2.gguf`, "--sha256", "0".repeat(64)],
      env,
    );
    expect(bad.status).toBe(3);
    expect(bad.stderr).toMatch(/sha256/);
  });
});

describe("embedded default", () => {
  it("uses the cached GGUF only when nothing is configured and Ollama does not answer", async () => {
    const home = fresh();
    const env = { SYNTHGRAPH_HOME: home };
    const models = resolveRoleConfigs({ env });
    expect(models.generator.spec).toBe(DEFAULT_SPEC);
    // Empty cache: nothing changes (the run then fails with the unreachable hint naming `models pull`).
    expect(await embeddedDefault(models, env, async () => false)).toBeUndefined();
    mkdirSync(modelCacheDir(env), { recursive: true });
    writeFileSync(join(modelCacheDir(env), "a.gguf"), "x");
    const file = findCachedModel(env);
    expect(file).toBe(join(home, "models", "a.gguf"));
    expect(await embeddedDefault(models, env, async () => true)).toBeUndefined();
    const used = await embeddedDefault(models, env, async () => false);
    expect(used?.models.optimizer.spec).toBe(`llamacpp:${file}`);
    expect(used?.note).toContain(file);
    const configured = resolveRoleConfigs({ env, flags: { model: "openai:gpt-4o" } });
    expect(await embeddedDefault(configured, env, async () => false)).toBeUndefined();
  });

  it("SYNTHGRAPH_MODEL_FILE replaces the built-in default but not a configured model", () => {
    const env = { SYNTHGRAPH_MODEL_FILE: "/models/x.gguf" };
    expect(resolveRoleConfigs({ env }).metadata.spec).toBe("llamacpp:/models/x.gguf");
    expect(resolveRoleConfigs({ env, flags: { model: "ollama:qwen2.5:7b" } }).metadata.spec).toBe(
      "ollama:qwen2.5:7b",
    );
  });
});
