/**
 * SIGINT / SIGTERM for the long-running commands (`worker`, `mcp --http`): the first signal asks the command to
 * stop (work in flight finishes); a second one exits at once with the shell's code for the signal (130 / 143).
 *
 * The listeners are added with `process.on`, never `process.once`: signal-exit (loaded with node-llama-cpp, by
 * proper-lockfile) kills the process with the signal when its own listener is the only one left, and Node
 * removes a `once` listener before calling it, so with `once` a worker that had used a local model died of
 * the signal (exit 143) instead of stopping.
 */
export function onStopSignals(stop: (signal: NodeJS.Signals) => void): () => void {
  let stopping = false;
  const listener = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(signal === "SIGINT" ? 130 : 143);
    stopping = true;
    stop(signal);
  };
  process.on("SIGINT", listener);
  process.on("SIGTERM", listener);
  return () => {
    process.off("SIGINT", listener);
    process.off("SIGTERM", listener);
  };
}
