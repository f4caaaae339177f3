/**
 * The `synthgraph` command line. Each sub-command lives in its own module under cli/ and registers itself
 * here; this file only wires them and turns errors into messages and exit codes.
 */
import { Command, CommanderError } from "commander";
import { SynthgraphError } from "../data/errors.ts";
import { commandModules } from "./commands.ts";

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command("synthgraph")
    .description("Turn a small real table into a larger synthetic one that is faithful, useful and private.")
    .version("0.1.0")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const mod of commandModules) mod.register(program);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version end through here with code 0; usage errors were already printed.
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof SynthgraphError) {
    process.stderr.write(`synthgraph: ${err.message}\n`);
    if (err.hint) process.stderr.write(`  what to do: ${err.hint}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`synthgraph: unexpected error: ${message}\n`);
  return 1;
}
