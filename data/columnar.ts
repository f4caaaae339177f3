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

/**
 * Distinct raw field bytes (untrimmed) → the column's code: an open-addressing hash table over a byte arena,
 * so a field seen before costs a hash and a byte compare, and only a new spelling becomes a string.
 */
class RawFieldTable {
  arena = new Uint8Array(1 << 12);
  used = 0;
  starts: Int32Array = new Int32Array(64);
  lens: Int32Array = new Int32Array(64);
  hashes: Int32Array = new Int32Array(64);
  codes: Int32Array = new Int32Array(64);
  size = 0;
  slots = new Int32Array(256).fill(-1);

  /** The code stored for bytes buf[a, b) with hash h, or NOT_FOUND. */
  find(buf: Uint8Array, a: number, b: number, h: number): number {
    const mask = this.slots.length - 1;
    const len = b - a;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s];
      if (e < 0) return NOT_FOUND;
      if (this.hashes[e] !== h || this.lens[e] !== len) continue;
      const o = this.starts[e];
      let k = 0;
      while (k < len && this.arena[o + k] === buf[a + k]) k++;
      if (k === len) return this.codes[e];
    }
  }

  add(buf: Uint8Array, a: number, b: number, h: number, code: number): void {
    const len = b - a;
    if (this.size === this.starts.length) {
      const grow = (x: Int32Array): Int32Array => {
        const y = new Int32Array(x.length * 2);
        y.set(x);
        return y;
      };
      this.starts = grow(this.starts);
      this.lens = grow(this.lens);
      this.hashes = grow(this.hashes);
      this.codes = grow(this.codes);
    }
    if (this.used + len > this.arena.length) {
      const next = new Uint8Array(Math.max(this.arena.length * 2, this.used + len));
      next.set(this.arena.subarray(0, this.used));
      this.arena = next;
    }
    this.arena.set(buf.subarray(a, b), this.used);
    const e = this.size++;
    this.starts[e] = this.used;
    this.lens[e] = len;
    this.hashes[e] = h;
    this.codes[e] = code;
    this.used += len;
    if (this.size * 2 > this.slots.length) this.rehash();
    else this.place(e);
  }

  private place(e: number): void {
    const mask = this.slots.length - 1;
    let s = this.hashes[e] & mask;
    while (this.slots[s] >= 0) s = (s + 1) & mask;
    this.slots[s] = e;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 4).fill(-1);
    for (let e = 0; e < this.size; e++) this.place(e);
  }
}

const NOT_FOUND = -2;
const CHUNK_BYTES = 8 << 20;
const SPACE = 0x20;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;

/**
 * Reads a plain CSV file (see the header comment) into dictionary columns, or `undefined` when the file needs
 * the general parser. `delimiterOf(headerLine)` picks the delimiter as data/read.ts does. Works on bytes:
 * line breaks (CR, LF; CRLF is a CR line then an empty line, which is skipped like every empty line) and the
 * delimiter are ASCII, so they never occur inside a UTF-8 sequence; each new field spelling is decoded
 * strictly, and a file whose every field decodes is valid UTF-8. One-column files go to csv-parse (a line of
 * blanks is an empty record there).
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
    const decode = (b: Uint8Array): string | undefined => {
      try {
        return decoder.decode(b);
      } catch {
        return undefined;
      }
    };
    let buf = new Uint8Array(chunkBytes);
    let filled = 0;
    let eof = false;
    let names: string[] | undefined;
    let delim = -1;
    let k = 0;
    let tables: RawFieldTable[] = [];
    let byText: Map<string, number>[] = [];
    let dicts: string[][] = [];
    let codes: CodeBuffer[] = [];
    let nRows = 0;
    let first = true;
    while (!eof) {
      if (filled === buf.length) {
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      const got = readSync(fd, buf, filled, buf.length - filled, null);
      eof = got === 0;
      filled += got;
      if (first && (filled >= 3 || eof)) {
        first = false;
        if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
          buf.copyWithin(0, 3, filled);
          filled -= 3;
        }
      }
      let pos = 0;
      // Complete lines only; the rest waits for the next read (all of it at the end of the file).
      let end = filled;
      if (!eof) {
        end = filled - 1;
        while (end >= pos && buf[end] !== LF && buf[end] !== CR) end--;
        if (end < pos) continue;
        end++;
      }
      if (names === undefined) {
        let eol = pos;
        while (eol < end && (buf[eol] === LF || buf[eol] === CR)) eol++;
        pos = eol;
        while (eol < end && buf[eol] !== LF && buf[eol] !== CR) eol++;
        if (eol === end && !eof) continue;
        const header = decode(buf.subarray(pos, eol));
        if (header === undefined || header.length === 0) return undefined;
        const d = delimiterOf(header);
        delim = d.charCodeAt(0);
        names = splitHeader(header, d);
        if (names === undefined) return undefined;
        k = names.length;
        if (k < 2) return undefined;
        tables = names.map(() => new RawFieldTable());
        byText = names.map(() => new Map<string, number>());
        dicts = names.map(() => []);
        codes = names.map(() => new CodeBuffer());
        pos = eol;
      }
      // One pass over the bytes: fields end at the delimiter or a line break; empty lines are skipped.
      let j = 0;
      let a = pos;
      let h = FNV_OFFSET;
      for (let i = pos; i <= end; i++) {
        const c = i === end ? LF : buf[i];
        if (c === delim || c === LF || c === CR) {
          const lineBreak = c !== delim;
          if (lineBreak && j === 0 && i === a) {
            a = i + 1;
            continue;
          }
          if (j >= k) return undefined;
          let code = tables[j].find(buf, a, i, h);
          if (code === NOT_FOUND) {
            const text = fieldText(buf, a, i, decode);
            if (text === undefined) return undefined;
            let known = byText[j].get(text);
            if (known === undefined) {
              known = isMissing(text) ? -1 : dicts[j].length;
              if (known >= 0) dicts[j].push(text);
              byText[j].set(text, known);
            }
            code = known;
            tables[j].add(buf, a, i, h, code);
          }
          codes[j].push(code);
          j++;
          a = i + 1;
          h = FNV_OFFSET;
          if (lineBreak) {
            if (j !== k) return undefined;
            nRows++;
            j = 0;
          }
        } else if (c === QUOTE || c < SPACE) {
          return undefined;
        } else {
          h = Math.imul(h ^ c, FNV_PRIME);
        }
      }
      buf.copyWithin(0, end, filled);
      filled -= end;
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
function splitHeader(header: string, delim: string): string[] | undefined {
  const out: string[] = [];
  for (const raw of header.split(delim)) {
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c === QUOTE || c < SPACE) return undefined;
    }
    const f = trimSpaces(raw);
    if (f === undefined) return undefined;
    out.push(f);
  }
  return out;
}

/** The field decoded and trimmed of spaces, or undefined when not valid UTF-8 or not plain. */
function fieldText(
  buf: Uint8Array,
  a: number,
  b: number,
  decode: (b: Uint8Array) => string | undefined,
): string | undefined {
  const text = decode(buf.subarray(a, b));
  return text === undefined ? undefined : trimSpaces(text);
}

/** Trimmed of spaces; undefined when a non-ASCII character is at an edge (csv-parse's right trim removes
 * Unicode white space). */
function trimSpaces(s: string): string | undefined {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) === SPACE) a++;
  while (b > a && s.charCodeAt(b - 1) === SPACE) b--;
  if (a < b && (s.charCodeAt(a) >= 0x80 || s.charCodeAt(b - 1) >= 0x80)) return undefined;
  return s.slice(a, b);
}
