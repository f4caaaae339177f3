/**
 * Keeps secrets out of tool results, errors and log lines: the values of environment variables whose
 * names look like credentials (…KEY, …TOKEN, …SECRET, …PASSWORD) are replaced by "[redacted]" wherever
 * they appear. Values shorter than 8 characters are left alone (they would match ordinary text).
 */
import type { Env } from "../models/factory.ts";

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$/i;
const MIN_SECRET_LENGTH = 8;

export type Redactor = (text: string) => string;

export function secretValues(env: Env, extra: readonly string[] = []): string[] {
  const out = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && SECRET_NAME.test(name) && value.length >= MIN_SECRET_LENGTH) out.add(value);
  }
  for (const v of extra) if (v.length >= MIN_SECRET_LENGTH) out.add(v);
  // Longest first, so a secret that contains another is replaced whole.
  return [...out].sort((a, b) => b.length - a.length);
}

export function redactor(env: Env, extra: readonly string[] = []): Redactor {
  const secrets = secretValues(env, extra);
  return (text) => {
    let t = text;
    for (const s of secrets) if (t.includes(s)) t = t.split(s).join("[redacted]");
    return t;
  };
}
