/**
 * zod fields of raw CLI values (commander hands over strings): the common options of `generate` and every
 * engine's `cli.schema` build on these, so a bad value gets the same message whichever option it is.
 */
import { z } from "zod";

/** An integer option at least `min`: "--rows must be an integer". */
export const cliInt = (flag: string, min: number) =>
  z.coerce
    .number({ error: `${flag} must be a number` })
    .int(`${flag} must be an integer`)
    .min(min, `${flag} must be at least ${min}`);

/** A share in [0, 1]: "--tolerance must be in [0, 1]". */
export const cliUnit = (flag: string) =>
  z.coerce
    .number({ error: `${flag} must be a number` })
    .min(0, `${flag} must be in [0, 1]`)
    .max(1, `${flag} must be in [0, 1]`);
