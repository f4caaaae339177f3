/**
 * The `synthgraph` command line. Each sub-command lives in its own module under cli/ and registers itself
 * here; this file only wires them and turns errors into messages and exit codes.
 */
import { Command } from "commander";
import { commandModules } from "./commands.ts";
import { describeError, silenceLibraryChatter } from "./errors.ts";

export async function main(argv: readonly string[]): Promise<number> {
  // --debug works with any command and anywhere on the line: it only adds stacks to error reports.
  const debug = argv.includes("--debug");
  const args = argv.filter((a) => a !== "--debug");
  silenceLibraryChatter();
  const program = new Command("synthgraph")
    .description("Turn a small real table into a larger synthetic one that is faithful, useful and private.")
    .version("0.1.0")
    .addHelpText("after", "\nAdd --debug to any command to print the stack trace of an error.")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const mod of commandModules) mod.register(program);
  try {
    await program.parseAsync(args, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    const r = describeError(err, debug);
    if (r.text) process.stderr.write(r.text);
    return r.exitCode;
  }
}
