/**
 * File paths of tool calls, confined to one root directory. The tools read and write files on behalf of
 * whoever talks to the server, so a path is accepted only if it stays inside the root both as written
 * (absolute paths elsewhere and `..` escapes are refused) and after following symlinks (a link inside the
 * root that points outside is refused). Refusals are SynthgraphErrors that name the path and the root; the
 * file itself is never opened.
 */
import { realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { SynthgraphError } from "../data/errors.ts";

export class PathGuard {
  /** The root as given, resolved (lexical checks). */
  readonly root: string;
  /** The root with symlinks followed (checks after following links). */
  readonly realRoot: string;

  constructor(root: string) {
    this.root = resolve(root);
    try {
      this.realRoot = realpathSync(this.root);
    } catch (e) {
      throw new SynthgraphError(`the root ${this.root} does not exist: ${(e as Error).message}`, {
        hint: "pass an existing directory as --root",
        exitCode: 2,
      });
    }
  }

  /** An existing file inside the root (symlinks followed), as an absolute path. */
  readable(path: string, field: string): string {
    const abs = this.lexical(path, field);
    let real: string;
    try {
      real = realpathSync(abs);
    } catch {
      throw new SynthgraphError(`${field}: ${path} does not exist under the root ${this.root}`, {
        hint: "pass a path relative to the root (or an absolute path inside it) of an existing file",
        exitCode: 2,
      });
    }
    this.inside(real, path, field);
    return real;
  }

  /**
   * A path to create or overwrite inside the root: its nearest existing ancestor, symlinks followed, must be
   * inside the root, and so must the path itself when it already exists (a symlink pointing out is refused).
   */
  writable(path: string, field: string): string {
    const abs = this.lexical(path, field);
    let probe = abs;
    for (;;) {
      let real: string | undefined;
      try {
        real = realpathSync(probe);
      } catch {
        real = undefined;
      }
      if (real !== undefined) {
        this.inside(real, path, field);
        return abs;
      }
      const up = dirname(probe);
      if (up === probe) break;
      probe = up;
    }
    return this.refuse(path, field);
  }

  /** Resolved against the root; refused if it leaves the root as written. */
  private lexical(path: string, field: string): string {
    if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
      throw new SynthgraphError(`${field}: an empty or malformed path`, { exitCode: 2 });
    }
    const abs = resolve(this.root, path);
    if (!within(this.root, abs)) this.refuse(path, field);
    return abs;
  }

  private inside(real: string, path: string, field: string): void {
    if (!within(this.realRoot, real)) this.refuse(path, field);
  }

  private refuse(path: string, field: string): never {
    throw new SynthgraphError(`${field}: ${path} is outside the root ${this.root}; refused`, {
      hint: "the server only reads and writes files under its root (synthgraph mcp --root DIR)",
      exitCode: 2,
    });
  }
}

function within(root: string, abs: string): boolean {
  const rel = relative(root, abs);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}
