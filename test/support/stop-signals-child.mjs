// A process for test/cli/stop-signals.test.ts (not a test file): signal-exit watches the signals, as it does
// once node-llama-cpp is loaded, and cli/stop-signals.ts handles them. Argument "finish": the stop ends the
// process with exit code 0; "hang": the stop never finishes (a second signal must end it).
import { register } from "tsx/esm/api";
import onExit from "signal-exit";

register();
const { onStopSignals } = await import("../../cli/stop-signals.ts");
onStopSignals((signal) => {
  process.stdout.write(`stopping on ${signal}\n`);
  if (process.argv[2] === "finish") setTimeout(() => process.exit(0), 100);
});
// After the command's listeners, as in a worker that loads a local model for its first job.
onExit(() => undefined);
setInterval(() => undefined, 1000);
process.stdout.write("ready\n");
