/**
 * Documented limits of the command line (docs/robustness.md): values past them are refused with a message
 * before any work, rather than accepted and failing hours later.
 */

/** Largest --rows `generate` accepts: the output is built in memory (rows × columns cells) before it is written. */
export const MAX_ROWS = 10_000_000;
