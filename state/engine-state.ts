/**
 * The head every engine's graph state starts with (same names, same meaning): the run directory, the run's
 * config, the engine's phase, the dataset reference and the real table's metadata. graph/run.ts, the resume
 * check and the common summary read these; the engine adds its own fields after `...engineStateHead(PHASES)`.
 */
import { z } from "zod";
import type { Metadata } from "../data/types.ts";
import { RunConfigSchema } from "./config.ts";
import { AppliedSteeringSchema } from "./steering.ts";

export const DatasetRefSchema = z.object({
  path: z.string(),
  /** sha256 of the file bytes: resume refuses a changed input. */
  sha256: z.string(),
  rows: z.number().int(),
  columns: z.array(z.string()),
});
export type DatasetRef = z.infer<typeof DatasetRefSchema>;

/** Fields of the state head, with `phase` restricted to the engine's own phases (the first is the start). */
export function engineStateHead<const P extends readonly [string, ...string[]]>(phases: P) {
  return {
    runDir: z.string(),
    config: RunConfigSchema,
    phase: z.enum(phases).default(phases[0] as P[0]),
    dataset: DatasetRefSchema.nullable().default(null),
    /** M: the real table's metadata (per-column statistics: size independent of the row count). */
    metadata: z.custom<Metadata>().nullable().default(null),
    /** Steering actions applied at pause points, in order, with their time (graph/pause.ts). */
    steering: z.array(AppliedSteeringSchema).default(() => []),
    /** Feedback given by steering, in order (each engine routes it to where it keeps feedback). */
    userFeedback: z.array(z.string()).default(() => []),
    /** A steering "stop": the loop ends at this pause point and the output comes from the best state so far. */
    stopRequested: z.boolean().default(false),
  };
}
