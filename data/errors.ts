/**
 * User-facing errors. Every error a person can cause or fix carries a message that says what is wrong
 * and a hint that says what to do; the CLI prints both and exits with `exitCode`.
 */
export class SynthgraphError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SynthgraphError";
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Bad input data: names the file and, where known, the 1-based row (as a spreadsheet shows it) and column. */
export class DataError extends SynthgraphError {
  readonly file: string | undefined;
  readonly row: number | undefined;
  readonly column: string | undefined;
  constructor(message: string, where: { file?: string; row?: number; column?: string; hint?: string } = {}) {
    const loc = [
      where.file === undefined ? undefined : where.file,
      where.row === undefined ? undefined : `row ${where.row}`,
      where.column === undefined ? undefined : `column "${where.column}"`,
    ]
      .filter((s) => s !== undefined)
      .join(", ");
    super(loc ? `${loc}: ${message}` : message, { hint: where.hint, exitCode: 2 });
    this.name = "DataError";
    this.file = where.file;
    this.row = where.row;
    this.column = where.column;
  }
}
