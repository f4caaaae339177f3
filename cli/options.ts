/**
 * zod fields of raw CLI values (commander hands over strings): the common options of `generate` and every
 * engine's `cli.schema` build on these, so a bad value gets the same message whichever option it is.
 */
import { z } from "zod";
import { DECIMAL_MARKS } from "../data/infer.ts";

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

/** `--decimal , | .`: the decimal mark of the numbers in every table the command reads (data/infer.ts). */
export const cliDecimal = z.enum(DECIMAL_MARKS, { error: "--decimal must be , or ." }).optional();

/** The flag and its help line, the same on every command that reads a table. */
export const DECIMAL_FLAG = {
  flags: "--decimal <mark>",
  description:
    'decimal mark of the numbers in the tables: "," reads 27,9 and 1,234 as 27.9 and 1.234 in every column; "." never reads a comma as one (default: inferred per column, with a note)',
} as const;
