/**
 * Columnar CSV reading for large files: the file is read in chunks and each field goes straight into a
 * per-column dictionary (distinct text → code, codes in an Int32Array), so no per-row objects or string arrays
 * are kept. Typing then works per column on the dictionary (each distinct text parsed once) and inference
 * sees the column's cells rebuilt from the dictionary one column at a time (shared strings, freed after).
 *
 * The scanner only takes the plain case: no quote character, no control characters other than the delimiter
 * and line breaks, no line of blanks only, every record as long as the header, valid UTF-8, fields trimmed of
 * spaces only. Anything else returns `undefined` and the caller reads the file with csv-parse as before, so
 * results and error messages are exactly those of the csv-parse path (data/read.ts).
 */
import { closeSync, openSync, readSync } from "node:fs";
import type { Cell } from "./infer.ts";

/** A column as a dictionary of distinct trimmed texts (first-appearance order) and one code per row (-1 missing). */
export interface DictColumn {
  readonly dict: string[];
  readonly codes: Int32Array;
}

/** Raw text columns, dictionary coded. */
export interface DictColumns {
  readonly names: string[];
  readonly columns: DictColumn[];
  readonly nRows: number;
}

/** Cells of one column as data/infer.ts takes them (null = missing); strings are the dictionary's own. */
export function cellsOf(c: DictColumn, nRows: number): Cell[] {
  const out = new Array<Cell>(nRows);
  for (let i = 0; i < nRows; i++) {
    const k = c.codes[i];
    out[i] = k < 0 ? null : c.dict[k];
  }
  return out;
}

/** Growable Int32Array. */
class CodeBuffer {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

const CHUNK_BYTES = 8 << 20;
const SPACE = 0x20;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Reads a plain CSV file (see the header comment) into dictionary columns, or `undefined` when the file needs
 * the general parser. `delimiterOf(headerLine)` picks the delimiter as data/read.ts does.
 */
export function readPlainCsv(
  path: string,
  isMissing: (s: string) => boolean,
  delimiterOf: (header: string) => string,
  chunkBytes = CHUNK_BYTES,
): DictColumns | undefined {
  const fd = openSync(path, "r");
  try {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const buf = Buffer.allocUnsafe(chunkBytes);
    let carry = "";
    let names: string[] | undefined;
    let delim = 0;
    let maps: Map<string, number>[] = [];
    let dicts: string[][] = [];
    let codes: CodeBuffer[] = [];
    let nRows = 0;
    let first = true;
    let eof = false;
    while (!eof) {
      const got = readSync(fd, buf, 0, chunkBytes, null);
      eof = got === 0;
      let text: string;
      try {
        text = carry + decoder.decode(buf.subarray(0, got), { stream: !eof });
      } catch {
        return undefined;
      }
      if (first && text.length > 0) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      // Complete lines only; the rest waits for the next chunk (all of it at the end of the file).
      let end = text.length;
      if (!eof) {
        end = Math.max(text.lastIndexOf("\n"), text.lastIndexOf("\r"));
        // A CR at the end may be the first half of a CRLF split across chunks.
        if (end === text.length - 1 && text.charCodeAt(end) === CR) end = text.lastIndexOf("\n", end - 1);
        if (end < 0) {
          carry = text;
          continue;
        }
        end++;
      }
      let pos = 0;
      while (pos < end) {
        let eol = pos;
        while (eol < end) {
          const c = text.charCodeAt(eol);
          if (c === LF || c === CR) break;
          eol++;
        }
        if (eol > pos) {
          if (names === undefined) {
            const header = text.slice(pos, eol);
            const d = delimiterOf(header);
            delim = d.charCodeAt(0);
            const fields = splitLine(text, pos, eol, delim);
            if (fields === undefined) return undefined;
            names = fields;
            maps = names.map(() => new Map<string, number>());
            dicts = names.map(() => []);
            codes = names.map(() => new CodeBuffer());
          } else {
            if (!addRecord(text, pos, eol, delim, maps, dicts, codes, isMissing)) return undefined;
            nRows++;
          }
        }
        // Line breaks: CRLF, LF or CR.
        pos = eol + (text.charCodeAt(eol) === CR && eol + 1 < end && text.charCodeAt(eol + 1) === LF ? 2 : 1);
      }
      carry = text.slice(end);
    }
    if (names === undefined || nRows === 0) return undefined;
    return {
      names,
      columns: codes.map((c, j) => ({ dict: dicts[j], codes: c.data.slice(0, c.length) })),
      nRows,
    };
  } finally {
    closeSync(fd);
  }
}

/** The header's fields, or undefined when the line is not plain. */
function splitLine(text: string, start: number, end: number, delim: number): string[] | undefined {
  const out: string[] = [];
  let a = start;
  for (let i = start; i <= end; i++) {
    const c = i === end ? delim : text.charCodeAt(i);
    if (c === delim) {
      const f = field(text, a, i);
      if (f === undefined) return undefined;
      out.push(f);
      a = i + 1;
    } else if (c === QUOTE || c < SPACE) {
      return undefined;
    }
  }
  return out;
}

/** The field text trimmed of spaces, or undefined when trimming could involve other white space. */
function field(text: string, a: number, b: number): string | undefined {
  while (a < b && text.charCodeAt(a) === SPACE) a++;
  while (b > a && text.charCodeAt(b - 1) === SPACE) b--;
  // Non-ASCII at an edge may be Unicode white space, which csv-parse's right trim removes.
  if (a < b && (text.charCodeAt(a) >= 0x80 || text.charCodeAt(b - 1) >= 0x80)) return undefined;
  return text.slice(a, b);
}

/** Adds one data line's fields to the columns; false when the line is not plain or has the wrong length. */
function addRecord(
  text: string,
  start: number,
  end: number,
  delim: number,
  maps: Map<string, number>[],
  dicts: string[][],
  codes: CodeBuffer[],
  isMissing: (s: string) => boolean,
): boolean {
  const k = maps.length;
  let j = 0;
  let a = start;
  let blank = true;
  for (let i = start; i <= end; i++) {
    const c = i === end ? delim : text.charCodeAt(i);
    if (c === delim) {
      if (j >= k) return false;
      const f = field(text, a, i);
      if (f === undefined) return false;
      if (f.length > 0) blank = false;
      const map = maps[j];
      let code = map.get(f);
      if (code === undefined) {
        const miss = isMissing(f);
        code = miss ? -1 : dicts[j].length;
        if (!miss) dicts[j].push(f);
        map.set(f, code);
      }
      codes[j].push(code);
      j++;
      a = i + 1;
    } else if (c === QUOTE || c < SPACE) {
      return false;
    }
  }
  // A line of blanks only is skipped or an error in csv-parse depending on the header: leave it to csv-parse.
  if (blank && end - start > 0 && k === 1) return false;
  return j === k;
}
