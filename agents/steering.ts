/**
 * The steering agent: an LLM role ("steering") with structured output. `interpretSteering` turns one sentence
 * into steering actions (`synthgraph steer DIR "TEXT"`); `chatTurn` answers one chat message with a reply and
 * tool calls (`synthgraph chat`, which executes the calls). Both outputs are zod-validated; actions are then
 * validated against the run by graph/steer.ts before anything is applied.
 */
import { z } from "zod";
import type { Accounting } from "../models/accounting.ts";
import type { Endpoint } from "../models/factory.ts";
import { type ChatInput, callStructured } from "../models/structured.ts";
import { ENGINES } from "../state/config.ts";
import { SteeringActionSchema, type SteeringAction } from "../state/steering.ts";
import {
  CHAT_SYSTEM,
  chatUserPrompt,
  STEERING_SYSTEM,
  type SteeringContextText,
  steeringUserPrompt,
} from "./steering-prompts.ts";

export const SteeringAnswerSchema = z.object({
  actions: z.array(SteeringActionSchema).min(1),
  explanation: z.string().default(""),
});
export type SteeringAnswer = z.infer<typeof SteeringAnswerSchema>;

export async function interpretSteering(a: {
  endpoint: Endpoint;
  context: SteeringContextText;
  sentence: string;
  seed?: number;
  accounting?: Accounting;
}): Promise<SteeringAnswer> {
  const r = await callStructured({
    role: "steering",
    endpoint: a.endpoint,
    messages: [
      { role: "system", content: STEERING_SYSTEM },
      { role: "user", content: steeringUserPrompt(a.context, a.sentence) },
    ],
    schema: SteeringAnswerSchema,
    schemaName: "steering",
    itemsKey: "actions",
    ...(a.seed === undefined ? {} : { seed: a.seed }),
    ...(a.accounting ? { accounting: a.accounting } : {}),
  });
  return r.value;
}

export const ChatToolCallSchema = z.discriminatedUnion("tool", [
  z.object({
    tool: z.literal("start_run"),
    rows: z.number().int().positive(),
    engine: z.enum(ENGINES).default("synthia"),
  }),
  z.object({ tool: z.literal("status") }),
  z.object({ tool: z.literal("pause") }),
  z.object({ tool: z.literal("steer"), actions: z.array(SteeringActionSchema).min(1) }),
  z.object({ tool: z.literal("resume") }),
  z.object({ tool: z.literal("evaluate") }),
  z.object({ tool: z.literal("output") }),
]);
export type ChatToolCall = z.infer<typeof ChatToolCallSchema>;

export const ChatTurnSchema = z.object({
  reply: z.string(),
  calls: z.array(ChatToolCallSchema).default(() => []),
});
export type ChatTurn = z.infer<typeof ChatTurnSchema>;

/** One chat turn: the conversation so far (user and assistant texts) and the new message. */
export async function chatTurn(a: {
  endpoint: Endpoint;
  context: SteeringContextText;
  history: readonly ChatInput[];
  said: string;
  seed?: number;
  accounting?: Accounting;
}): Promise<ChatTurn> {
  const r = await callStructured({
    role: "steering",
    endpoint: a.endpoint,
    messages: [
      { role: "system", content: CHAT_SYSTEM },
      ...a.history,
      { role: "user", content: chatUserPrompt(a.context, a.said) },
    ],
    schema: ChatTurnSchema,
    schemaName: "chat_turn",
    itemsKey: "calls",
    ...(a.seed === undefined ? {} : { seed: a.seed }),
    ...(a.accounting ? { accounting: a.accounting } : {}),
  });
  return r.value;
}

export type { SteeringAction };
