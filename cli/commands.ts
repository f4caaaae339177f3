/** The list of sub-command modules. A new command adds one import and one entry here. */
import type { Command } from "commander";
import { evaluateCommand } from "./evaluate.ts";
import { exampleCommand } from "./example.ts";
import { generateCommand, resumeCommand, runsCommand } from "./generate.ts";
import { mcpCommand } from "./mcp.ts";
import { modelsCommand } from "./models.ts";
import { pauseCommand } from "./pause.ts";
import { steerCommand } from "./steer.ts";
import { chatCommand } from "./chat.ts";
import { structureCommand } from "./structure.ts";
import { reportCommand } from "./report.ts";
import { benchmarkCommand } from "./benchmark.ts";
import { workerCommand } from "./worker.ts";

export interface CommandModule {
  register(program: Command): void;
}

export const commandModules: readonly CommandModule[] = [
  generateCommand,
  resumeCommand,
  runsCommand,
  evaluateCommand,
  modelsCommand,
  structureCommand,
  exampleCommand,
  steerCommand,
  pauseCommand,
  chatCommand,
  mcpCommand,
  reportCommand,
  benchmarkCommand,
  workerCommand,
];
