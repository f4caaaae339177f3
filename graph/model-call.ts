/**
 * One memoised model call of a node: the artifact under `key` is returned when it exists (a re-run after a
 * crash makes no call), otherwise the call runs with its own Accounting and the role's endpoint (seeded), and
 * its value is stored together with the usage it cost. The node returns that usage to the state, so a call is
 * counted exactly once whether it ran now or before a crash.
 */
import { z } from "zod";
import { Accounting, type AccountingSnapshot } from "../models/accounting.ts";
import type { Endpoint } from "../models/factory.ts";
import type { Role } from "../models/spec.ts";
import { AccountingSnapshotSchema } from "../state/schemas.ts";
import { type EngineRuntime, endpointFor } from "./runtime.ts";

export interface ModelCallContext {
  endpoint: Endpoint;
  accounting: Accounting;
  seed: number;
}

export async function memoModelCall<T extends Record<string, unknown>>(
  rt: Pick<EngineRuntime, "config" | "env" | "store">,
  a: {
    key: string;
    /** Schema of the stored value without its usage. */
    schema: z.ZodObject<z.ZodRawShape>;
    role: Role;
    seed: number;
    call: (ctx: ModelCallContext) => Promise<T>;
  },
): Promise<{ value: T & { usage: AccountingSnapshot }; cached: boolean }> {
  const stored = a.schema.extend({ usage: AccountingSnapshotSchema }) as unknown as z.ZodType<
    T & { usage: AccountingSnapshot }
  >;
  return rt.store.memo(a.key, stored, async () => {
    const accounting = new Accounting();
    const value = await a.call({ endpoint: endpointFor(rt, a.role, a.seed), accounting, seed: a.seed });
    return { ...value, usage: accounting.snapshot() };
  });
}
