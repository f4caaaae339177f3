/**
 * Progress lines of a SynLLM run (besides ProgressPrinter's common lines): the prompt type and the rules on
 * the loaded line, each demoted rule with its count on the real data.
 */
import type { EngineProgress } from "../../graph/engine.ts";
import type { PromptType } from "./config.ts";

interface RuleView {
  text: string;
  hard: boolean;
  broken: number;
}

export function synllmProgress(promptType: PromptType): EngineProgress {
  return {
    loaded: (u) => {
      const rules = Array.isArray(u.rules) ? (u.rules as RuleView[]) : [];
      const soft = rules.filter((r) => !r.hard);
      const head = `prompt ${promptType}; ${rules.length - soft.length} hard rules, ${soft.length} demoted to soft`;
      return [head, ...soft.map((r) => `  soft: ${r.text} (broken by ${r.broken} real rows)`)].join("\n");
    },
    node: () => null,
  };
}
