/**
 * A hand-assembled WebAssembly SIMD kernel (f64x2 lanes) for the dot products of Pearson correlation matrices
 * (stats/metrics/pairs/correlation.ts): the byte code is written out here because no toolchain is needed to
 * build it and it validates at load; engines without WebAssembly SIMD get undefined and the caller falls back
 * to scalar tiles. Tested against the scalar path and brute force.
 */

/** The tile kernel: `tile(a, a1, b, bytes, out)` and its memory (byte offsets into it; columns `block` doubles apart). */
export interface SimdTiles {
  readonly tile: (a: number, a1: number, b: number, bytes: number, out: number) => void;
  /** Subtracts `mean` from the doubles at byte offsets [at, end) (end − at a multiple of 16). */
  readonly center: (at: number, end: number, mean: number) => void;
  /** A Float64Array view of the first `length` doubles of the kernel's memory (grown as needed). */
  readonly block: (length: number) => Float64Array;
}

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/**
 * out[k] = Σ_i blk_p[i]·blk_{q+k}[i], out[4+k] = Σ_i blk_{p+1}[i]·blk_{q+k}[i] (k < 4), i over `bytes`/8 rows:
 * a hand-assembled WebAssembly function on f64x2 lanes (even rows in lane 0, odd in lane 1, added at the end).
 * Scalar JS cannot reach numpy's vectorised BLAS here; two lanes per instruction and no bounds checks can.
 * Undefined where the engine lacks WebAssembly SIMD (the scalar tiles are used then).
 */
export function createSimdTiles(block: number): SimdTiles | undefined {
  const stride = block * 8;
  // Opcodes (WebAssembly core + SIMD): local.get/set, i32.const/add/ge_u, br/br_if, f64.add/store, and after the
  // 0xfd prefix v128.load, f64x2.extract_lane, f64x2.add, f64x2.mul (LEB128 u32 opcodes).
  const get = (i: number) => [0x20, ...leb128(i)];
  const set = (i: number) => [0x21, ...leb128(i)];
  const F64X2_ADD = [0xfd, 0xf0, 0x01];
  const F64X2_MUL = [0xfd, 0xf2, 0x01];
  // Params 0..4: a, a1, b, bytes, out. Locals: 5 = i (bytes), 6..13 = accumulators,
  // 14/15 = the a/a1 rows, 16..19 = the b rows.
  const I = 5;
  const load = (base: number, offset: number) => [
    ...get(base),
    ...get(I),
    0x6a,
    0xfd,
    0x00,
    3,
    ...leb128(offset),
  ];
  const mulAdd = (acc: number, x: number, y: number) => [
    ...get(acc),
    ...get(x),
    ...get(y),
    ...F64X2_MUL,
    ...F64X2_ADD,
  ];
  const accs = [6, 7, 8, 9, 10, 11, 12, 13];
  const bs = [16, 17, 18, 19];
  const laneSum = (acc: number, k: number) => [
    ...get(4),
    ...[...get(acc), 0xfd, 0x21, 0, ...get(acc), 0xfd, 0x21, 1, 0xa0], // lane 0 + lane 1
    ...[0x39, 3, ...leb128(8 * k)], // f64.store at out + 8k
  ];
  const body = [
    ...[0x02, 0x40, 0x03, 0x40], // block, loop
    ...[...get(I), ...get(3), 0x4f, 0x0d, 1], // i ≥ bytes → leave the block
    ...[...load(0, 0), ...set(14), ...load(1, 0), ...set(15)],
    ...bs.flatMap((b, k) => [...load(2, k * stride), ...set(b)]),
    ...bs.flatMap((b, k) => [...mulAdd(accs[k], 14, b), ...set(accs[k])]),
    ...bs.flatMap((b, k) => [...mulAdd(accs[4 + k], 15, b), ...set(accs[4 + k])]),
    ...[...get(I), 0x41, 16, 0x6a, ...set(I), 0x0c, 0, 0x0b, 0x0b], // i += 16, next; end loop, end block
    ...accs.flatMap(laneSum),
    0x0b,
  ];
  const tile = [2, 1, 0x7f, 14, 0x7b, ...body]; // locals: 1 i32, 14 v128
  // center(at, end, mean): mem[at..end) −= mean, two doubles per step (f64x2.splat once, then sub and store).
  const center = [
    ...[1, 1, 0x7b], // local 3: the splatted mean
    ...[...get(2), 0xfd, 0x14, ...set(3)],
    ...[0x02, 0x40, 0x03, 0x40],
    ...[...get(0), ...get(1), 0x4f, 0x0d, 1],
    ...[...get(0), ...get(0), 0xfd, 0x00, 3, 0, ...get(3), 0xfd, 0xf1, 0x01, 0xfd, 0x0b, 3, 0],
    ...[...get(0), 0x41, 16, 0x6a, ...set(0), 0x0c, 0, 0x0b, 0x0b],
    0x0b,
  ];
  const section = (id: number, content: number[]) => [id, ...leb128(content.length), ...content];
  const name = (t: string) => [t.length, ...Array.from(t, (ch) => ch.charCodeAt(0))];
  const bytes = Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    // Types: 0 = (i32 ×5) → (), 1 = (i32, i32, f64) → ().
    ...section(1, [2, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0, 0x60, 3, 0x7f, 0x7f, 0x7c, 0]),
    ...section(3, [2, 0, 1]),
    ...section(5, [1, 0x00, 4]), // memory: 4 pages to start
    ...section(7, [3, ...name("tile"), 0x00, 0, ...name("center"), 0x00, 1, ...name("mem"), 0x02, 0]),
    ...section(10, [2, ...leb128(tile.length), ...tile, ...leb128(center.length), ...center]),
  ]);
  if (typeof WebAssembly === "undefined" || !WebAssembly.validate(bytes)) return undefined;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const memory = instance.exports.mem as WebAssembly.Memory;
  return {
    tile: instance.exports.tile as SimdTiles["tile"],
    center: instance.exports.center as SimdTiles["center"],
    block: (length) => {
      const need = length * 8 - memory.buffer.byteLength;
      if (need > 0) memory.grow(Math.ceil(need / 65536));
      return new Float64Array(memory.buffer, 0, length);
    },
  };
}
