/**
 * The privacy guard's test: which synthetic rows exactly copy a real row. Every engine removes those rows
 * before they enter the output (graph/privacy-guard.ts); SDMetrics calls the complement NewRowSynthesis.
 */
import { isNumeric } from "../../data/build.ts";
import type { CodedColumn, Table } from "../../data/types.ts";
import { alignTable, statColumns } from "../metrics/evaluate.ts";

/**
 * 1 where a synthetic row equals some real row in every non-id column of the real table (numbers equal,
 * categories equal as strings, missing equals missing); ids are ignored because a copied record with a
 * fresh id is still a copy. Hash set over the real rows, then one probe per synthetic row: O(n + m).
 */
export function exactCopyMask(real: Table, synthetic: Table): Uint8Array {
  const names = statColumns(real);
  const r = alignTable(real, names, "real");
  const s = alignTable(synthetic, names, "synthetic");
  const k = r.columns.length;
  const mask = new Uint8Array(s.nRows);
  if (r.nRows === 0 || s.nRows === 0) return mask;
  // Synthetic category codes mapped into the real column's code space (−2 = a category real never has).
  const synCodes: Array<Int32Array | Float64Array> = new Array(k);
  const realCodes: Array<Int32Array | Float64Array> = new Array(k);
  for (let j = 0; j < k; j++) {
    const rc = r.columns[j];
    const sc = s.columns[j];
    if (isNumeric(rc) && isNumeric(sc)) {
      realCodes[j] = rc.values;
      synCodes[j] = sc.values;
    } else if (!isNumeric(rc) && !isNumeric(sc)) {
      realCodes[j] = rc.codes;
      synCodes[j] = mapCodes(sc, rc.levels);
    } else {
      throw new Error(`column "${rc.name}" is ${rc.kind} in real but ${sc.kind} in synthetic`);
    }
  }
  // Open addressing with linear probing; slot holds real row + 1 (0 = empty).
  let cap = 1;
  while (cap < 2 * r.nRows) cap <<= 1;
  const slots = new Int32Array(cap);
  const hashes = new Uint32Array(cap);
  const m = cap - 1;
  for (let i = 0; i < r.nRows; i++) {
    const h = rowHash(realCodes, i);
    let p = h & m;
    let dup = false;
    while (slots[p] !== 0) {
      if (hashes[p] === h && rowsEqual(realCodes, slots[p] - 1, realCodes, i)) {
        dup = true;
        break;
      }
      p = (p + 1) & m;
    }
    if (dup) continue;
    slots[p] = i + 1;
    hashes[p] = h;
  }
  next: for (let i = 0; i < s.nRows; i++) {
    for (let j = 0; j < k; j++) {
      if (synCodes[j] instanceof Int32Array && synCodes[j][i] === -2) continue next;
    }
    const h = rowHash(synCodes, i);
    let p = h & m;
    while (slots[p] !== 0) {
      if (hashes[p] === h && rowsEqual(realCodes, slots[p] - 1, synCodes, i)) {
        mask[i] = 1;
        break;
      }
      p = (p + 1) & m;
    }
  }
  return mask;
}

function mapCodes(col: CodedColumn, realLevels: readonly string[]): Int32Array {
  const index = new Map<string, number>();
  for (let i = 0; i < realLevels.length; i++) index.set(realLevels[i], i);
  const map = new Int32Array(col.levels.length);
  for (let c = 0; c < col.levels.length; c++) map[c] = index.get(col.levels[c]) ?? -2;
  const out = new Int32Array(col.codes.length);
  for (let i = 0; i < out.length; i++) out[i] = col.codes[i] < 0 ? -1 : map[col.codes[i]];
  return out;
}

// Scratch view for hashing a double's bits without allocating per value.
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

// FNV-1a-style mix of 32-bit words with a murmur3 finaliser; −0 hashes as 0 and every NaN alike.
function rowHash(cols: ReadonlyArray<Int32Array | Float64Array>, i: number): number {
  let h = 0x811c9dc5;
  for (let j = 0; j < cols.length; j++) {
    const c = cols[j];
    if (c instanceof Int32Array) {
      h = Math.imul(h ^ c[i], 0x01000193);
    } else {
      const v = c[i];
      F64[0] = v !== v ? Number.NaN : v === 0 ? 0 : v;
      h = Math.imul(h ^ U32[0], 0x01000193);
      h = Math.imul(h ^ U32[1], 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rowsEqual(
  a: ReadonlyArray<Int32Array | Float64Array>,
  i: number,
  b: ReadonlyArray<Int32Array | Float64Array>,
  j: number,
): boolean {
  for (let c = 0; c < a.length; c++) {
    const x = a[c][i];
    const y = b[c][j];
    if (x !== y && !(x !== x && y !== y)) return false;
  }
  return true;
}
