/**
 * The SynLLM graph state: the shared head, the calibrated rules and the prompt of a full batch (for the
 * record), then the shared final-generation fields. The profile and the example rows live in the artifact
 * store (INPUTS_KEY), read by every batch.
 */
import { StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import { engineStateHead } from "../../state/engine-state.ts";
import { finalizeFields } from "../../state/finalize.ts";

export const PHASES = ["init", "finalize", "write", "done"] as const;

export const CalibratedRuleSchema = z.object({
  text: z.string(),
  source: z.enum(["file", "range", "pair"]),
  english: z.string(),
  broken: z.number().int(),
  premise: z.number().int().nullable(),
  share: z.number(),
  hard: z.boolean(),
});

export const SynllmState = new StateSchema({
  ...engineStateHead(PHASES),
  /** SynLLM is single-pass: no refinement iterations (run.json's iterations stays 0). */
  iteration: z.number().int().default(0),
  rules: z.array(CalibratedRuleSchema).default(() => []),
  /** The prompt of a batch of config.synllm.batchRows rows. */
  prompt: z.string().default(""),
  ...finalizeFields(),
});

export type SynllmStateT = typeof SynllmState.State;
export type SynllmUpdate = typeof SynllmState.Update;
