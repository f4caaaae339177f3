/**
 * Which process runs a run: <run-dir>/owner.json holds the pid and host of the process executing the graph,
 * written when it starts and removed when it stops (done, paused, failed). A kill -9 leaves the file behind
 * with a dead pid, so "status running" alone cannot tell a live run from a crashed one; `ownerAlive` can
 * (same host and the pid answers signal 0). `synthgraph steer` uses it to wait for a live run's pause point
 * and to resume a crashed one itself.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { readFile, rm } from "node:fs/promises";
import { z } from "zod";
import { writeFileAtomic } from "./atomic.ts";

export const OWNER_FILE = "owner.json";

export const RunOwnerSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  since: z.string(),
});
export type RunOwner = z.infer<typeof RunOwnerSchema>;

export const ownerPath = (dir: string): string => join(dir, OWNER_FILE);

/** The owner recorded in the run directory (null: none, or an unreadable file). */
export async function readRunOwner(dir: string): Promise<RunOwner | null> {
  try {
    const r = RunOwnerSchema.safeParse(JSON.parse(await readFile(ownerPath(dir), "utf8")));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/** Whether the recorded owner is a live process on this host (another host's owner counts as alive). */
export async function ownerAlive(dir: string): Promise<boolean> {
  const o = await readRunOwner(dir);
  if (o === null) return false;
  if (o.host !== hostname()) return true;
  if (o.pid === process.pid) return true;
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (e) {
    // EPERM: the pid exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Records this process as the run's owner; the returned function removes the record if it is still ours. */
export async function claimRun(dir: string): Promise<() => Promise<void>> {
  const me: RunOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  await writeFileAtomic(ownerPath(dir), `${JSON.stringify(me)}\n`);
  return async () => {
    const o = await readRunOwner(dir);
    if (o !== null && o.pid === me.pid && o.host === me.host) await rm(ownerPath(dir), { force: true });
  };
}
