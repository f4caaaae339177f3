/**
 * `synthgraph models pull`: downloads a GGUF model into the model cache, resumably and checked.
 *
 * The file is written to `<name>.part`; an interrupted download resumes with an HTTP Range request from the
 * .part's size (a server that ignores Range answers 200 and the download restarts from zero). The finished
 * file's sha256 must match before it is renamed into place; a mismatch deletes the .part and fails, so a
 * corrupt or substituted file is never used. The cache is `$SYNTHGRAPH_HOME/models` or
 * `~/.cache/synthgraph/models`; `findCachedModel` is what the embedded default reads.
 */
import { createHash } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { SynthgraphError } from "../data/errors.ts";

/**
 * Qwen2.5 1.5B Instruct, Q4_K_M (1,117,320,736 bytes, Apache-2.0), pinned to a revision of the official
 * Qwen repository. The sha256 is the Git LFS object id Hugging Face publishes for this file at that
 * revision (shown on the file's page); it was not recomputed here (huggingface.co is unreachable from
 * the build machine), so the first real pull is also its check.
 */
export const DEFAULT_MODEL = {
  url: "https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/91cad51170dc346986eccefdc2dd33a9da36ead9/qwen2.5-1.5b-instruct-q4_k_m.gguf",
  sha256: "6a1a2eb6d15622bf3c96857206351ba97e1af16c30d7a74ee38970e434e9407e",
  file: "qwen2.5-1.5b-instruct-q4_k_m.gguf",
  bytes: 1_117_320_736,
} as const;

type Env = Readonly<Record<string, string | undefined>>;

export function modelCacheDir(env: Env = process.env): string {
  const home = env.SYNTHGRAPH_HOME?.trim();
  return home ? join(home, "models") : join(homedir(), ".cache", "synthgraph", "models");
}

/** The default model if it is cached, else the newest-named other .gguf in the cache, else undefined. */
export function findCachedModel(env: Env = process.env): string | undefined {
  const dir = modelCacheDir(env);
  if (!existsSync(dir)) return undefined;
  const ggufs = readdirSync(dir)
    .filter((f) => f.endsWith(".gguf"))
    .sort();
  if (ggufs.includes(DEFAULT_MODEL.file)) return join(dir, DEFAULT_MODEL.file);
  return ggufs.length > 0 ? join(dir, ggufs[ggufs.length - 1]) : undefined;
}

export interface PullProgress {
  received: number;
  /** Total bytes when the server said (Content-Length / Content-Range). */
  total: number | undefined;
  /** Bytes already on disk from an earlier attempt. */
  resumedFrom: number;
}

export interface PullOptions {
  url?: string;
  /** Expected sha256 (hex). Default: the default model's when `url` is the default, else none. */
  sha256?: string;
  /** Target directory (default modelCacheDir(env)). */
  dir?: string;
  /** File name (default: the URL's last path segment). */
  file?: string;
  env?: Env;
  signal?: AbortSignal;
  onProgress?: (p: PullProgress) => void;
  fetch?: typeof fetch;
}

export interface PullResult {
  path: string;
  sha256: string;
  bytes: number;
  /** Bytes taken from an earlier interrupted download. */
  resumedFrom: number;
  /** The file was already there and verified; nothing was downloaded. */
  cached: boolean;
}

export async function sha256OfFile(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

const HEX64 = /^[0-9a-f]{64}$/;

function fileNameOf(url: string): string {
  const name = basename(new URL(url).pathname);
  if (!name || name === "/") {
    throw new SynthgraphError(`cannot tell a file name from ${url}`, {
      hint: "pass a URL ending in a file name",
      exitCode: 2,
    });
  }
  return name;
}

export async function pullModel(opts: PullOptions = {}): Promise<PullResult> {
  const url = opts.url ?? DEFAULT_MODEL.url;
  const expected = (
    opts.sha256 ?? (url === DEFAULT_MODEL.url ? DEFAULT_MODEL.sha256 : undefined)
  )?.toLowerCase();
  if (expected !== undefined && !HEX64.test(expected)) {
    throw new SynthgraphError(`--sha256 must be 64 hex digits, got "${opts.sha256}"`, { exitCode: 2 });
  }
  const dir = opts.dir ?? modelCacheDir(opts.env);
  const file = opts.file ?? (url === DEFAULT_MODEL.url ? DEFAULT_MODEL.file : fileNameOf(url));
  const target = join(dir, file);
  const part = `${target}.part`;
  mkdirSync(dir, { recursive: true });
  if (existsSync(target)) {
    const got = await sha256OfFile(target);
    if (expected === undefined || got === expected)
      return { path: target, sha256: got, bytes: statSync(target).size, resumedFrom: 0, cached: true };
    throw new SynthgraphError(`${target} exists but its sha256 is ${got}, not ${expected}`, {
      hint: `delete it and pull again: rm ${JSON.stringify(target)}`,
      exitCode: 3,
    });
  }
  const doFetch = opts.fetch ?? fetch;
  let offset = existsSync(part) ? statSync(part).size : 0;
  let res: Response;
  try {
    res = await doFetch(url, {
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    throw new SynthgraphError(`cannot download ${url}: ${(err as Error).message}`, {
      hint: "check the network (or a proxy); the download resumes where it stopped when you run the command again",
      exitCode: 3,
      cause: err,
    });
  }
  if (res.status === 416 && offset > 0) {
    // The .part already holds the whole file (the rename was interrupted): verify it below.
    await res.body?.cancel();
  } else if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw new SynthgraphError(`download of ${url} failed: HTTP ${res.status}`, {
      hint: "check the URL (--url); the partial file, if any, is kept for a resume",
      exitCode: 3,
    });
  }
  if (res.status === 200 && offset > 0) offset = 0; // the server ignored Range: start over
  const resumedFrom = offset;
  if (res.status !== 416) {
    const len = Number(res.headers.get("content-length"));
    const range = /\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
    const total = range ? Number(range[1]) : Number.isFinite(len) && len > 0 ? offset + len : undefined;
    let received = offset;
    opts.onProgress?.({ received, total, resumedFrom });
    const body = res.body;
    if (!body) throw new SynthgraphError(`download of ${url} returned no body`, { exitCode: 3 });
    const counted = Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>);
    counted.on("data", (chunk: Buffer) => {
      received += chunk.length;
      opts.onProgress?.({ received, total, resumedFrom });
    });
    try {
      await pipeline(counted, createWriteStream(part, { flags: offset > 0 ? "a" : "w" }), {
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      throw new SynthgraphError(
        `download of ${url} stopped after ${received} bytes: ${(err as Error).message}`,
        {
          hint: "run the same command again: it resumes from the partial file",
          exitCode: 3,
          cause: err,
        },
      );
    }
  }
  const got = await sha256OfFile(part);
  if (expected !== undefined && got !== expected) {
    rmSync(part, { force: true });
    throw new SynthgraphError(
      `the downloaded file's sha256 is ${got}, expected ${expected}; it was deleted`,
      {
        hint: "the file is corrupt or not the one expected: pull again, or check --url and --sha256",
        exitCode: 3,
      },
    );
  }
  renameSync(part, target);
  return { path: target, sha256: got, bytes: statSync(target).size, resumedFrom, cached: false };
}
