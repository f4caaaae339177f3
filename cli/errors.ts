/**
 * The one place where an error becomes what the user reads and the exit code. Known errors (SynthgraphError
 * and its subclasses, file-system errors, a damaged checkpoint database, invalid values) get their message and
 * hint; anything else is a bug: a short message asking for a report with the run directory, and the stack only
 * with --debug. Exit codes: 0 done, 1 failed run or unknown error, 2 bad usage or input, 3 model error,
 * 4 unusable model replies (docs/robustness.md has the table of cases).
 */
import { CommanderError } from "commander";
import { SynthgraphError } from "../data/errors.ts";
import { ModelError } from "../models/errors.ts";

/** The run directory the current command works in (set once it is known), named in bug reports. */
let currentRunDir: string | undefined;
export function noteRunDir(dir: string | undefined): void {
  currentRunDir = dir;
}

export interface Reported {
  text: string;
  exitCode: number;
}

interface ErrnoLike {
  code: string;
  path?: string;
  syscall?: string;
  message: string;
}

const isErrno = (e: unknown): e is ErrnoLike =>
  e instanceof Error &&
  typeof (e as { code?: unknown }).code === "string" &&
  /^E[A-Z]+$/.test((e as unknown as { code: string }).code);

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "does not exist",
  EACCES: "is not accessible (permission denied)",
  EPERM: "is not accessible (operation not permitted)",
  EISDIR: "is a folder, not a file",
  ENOTDIR: "has a file where a folder is expected",
  ENOSPC: "cannot be written: the disk is full",
  EROFS: "is on a read-only file system",
  EEXIST: "already exists",
};

/** Message and exit code for any thrown value (`debug`: append the stack). */
export function describeError(err: unknown, debug = false): Reported {
  const stack = debug && err instanceof Error && err.stack ? `\n${err.stack}\n` : "";
  if (err instanceof CommanderError) return { text: "", exitCode: err.exitCode === 0 ? 0 : 2 };
  if (err instanceof SynthgraphError) {
    const hint = err.hint ? `  what to do: ${err.hint}\n` : "";
    return { text: `synthgraph: ${err.message}\n${hint}${stack}`, exitCode: err.exitCode };
  }
  if (isErrno(err) && err.code in ERRNO_TEXT) {
    const what = err.path ?? "a file";
    return {
      text: `synthgraph: ${what} ${ERRNO_TEXT[err.code]}\n  what to do: check the path and its permissions\n${stack}`,
      exitCode: err.code === "ENOSPC" ? 1 : 2,
    };
  }
  if (err instanceof Error && err.name === "SqliteError") {
    const where = currentRunDir ? ` in ${currentRunDir}` : "";
    return {
      text: `synthgraph: the checkpoint database${where} cannot be read (${err.message})\n  what to do: \`synthgraph resume\` rebuilds a damaged checkpoint from the stored artifacts; if it fails again, start a new run\n${stack}`,
      exitCode: 1,
    };
  }
  if (err instanceof Error && err.name === "ZodError") {
    const first = (err as Error & { issues?: Array<{ path: PropertyKey[]; message: string }> }).issues?.[0];
    const where = first && first.path.length > 0 ? `${first.path.map(String).join(".")}: ` : "";
    return {
      text: `synthgraph: invalid value: ${where}${first?.message ?? err.message}\n  what to do: see \`synthgraph <command> --help\`\n${stack}`,
      exitCode: 2,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  const dir = currentRunDir ? ` and the run directory ${currentRunDir}` : "";
  return {
    text: `synthgraph: internal error: ${message}\n  this is a bug in synthgraph: please report it with the command you ran${dir}${debug ? "" : " (run again with --debug for the details)"}\n${stack}`,
    exitCode: 1,
  };
}

/**
 * The hint of an error that stopped a run with a run directory, written for that error: only a failure whose
 * cause can go away without changing the run's settings (the server, the network, a key, a pulled model, the
 * disk) says "continue with resume"; one that needs other settings says to start a new run; anything already
 * naming what to do next is left alone.
 */
export function withRunHint(err: unknown, dir: string): unknown {
  if (!(err instanceof SynthgraphError)) return err;
  const hint = err.hint ?? "";
  if (/synthgraph (resume|generate)|new run/.test(hint)) return err;
  const resume = `\`synthgraph resume ${dir}\``;
  let next: string | undefined;
  if (err instanceof ModelError) {
    switch (err.kind) {
      case "context_overflow":
        next = "the run's settings are fixed: start a new run with `synthgraph generate` and these changes";
        break;
      case "auth":
        next = `once the key is set, continue with ${resume}`;
        break;
      case "timeout":
        next = `a resume keeps the run's timeout: if the server was only busy, continue with ${resume}; for a longer timeoutMs start a new run`;
        break;
      case "model_not_found":
        next = `once the model is available, continue with ${resume}`;
        break;
      default:
        next = `once the server answers again, continue with ${resume}`;
    }
  } else if (err.exitCode === 1) {
    next = `once the cause is fixed, continue with ${resume}`;
  }
  if (next === undefined) return err;
  return Object.assign(err, { hint: hint ? `${hint}; ${next}` : next });
}

/** Lines third-party clients print on their own (the ollama client logs these while reading an error body). */
const LIBRARY_CHATTER = new Set([
  "Getting text from response",
  "Failed to parse error response as JSON",
  "Failed to get text from error response",
]);

let silenced = false;

/**
 * Drops the libraries' stray console lines (they would land in the user's stdout); everything else passes.
 * Once per process (main() may run more than once in one process, e.g. in tests).
 */
export function silenceLibraryChatter(): void {
  if (silenced) return;
  silenced = true;
  const log = console.log.bind(console);
  console.log = (...args: unknown[]): void => {
    if (args.length === 1 && typeof args[0] === "string" && LIBRARY_CHATTER.has(args[0])) return;
    log(...args);
  };
}
