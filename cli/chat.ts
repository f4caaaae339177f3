/** `synthgraph chat`: registered below; the conversation loop is in cli/chat-loop.ts. */
import type { Command } from "commander";
import type { CommandModule } from "./commands.ts";

export const chatCommand: CommandModule = {
  register(program: Command): void {
    program
      .command("chat")
      .description("talk with a steering agent: start a run, watch it, pause, steer and resume it")
      .argument("[data]", "real table, CSV or JSON Lines")
      .option("--run <dir>", "attach to an existing run directory")
      .option("--model <spec>", "model for the steering agent and new runs")
      .option("--out <file>", "output CSV of a run started from the chat")
      .option("--seed <n>", "seed of a run started from the chat")
      .option("--max-iterations <k>", "SYNTHIA iterations at most for a run started from the chat")
      .option("--probe-rows <p>", "SYNTHIA probe rows for a run started from the chat")
      .option("--batch-rows <b>", "rows per final call for a run started from the chat")
      .option("--examples <k>", "real example rows in prompts for a run started from the chat")
      .action(async (data: string | undefined, opts: Record<string, unknown>) => {
        const { runChat } = await import("./chat-loop.ts");
        await runChat({ ...opts, ...(data === undefined ? {} : { data }) });
      });
  },
};
