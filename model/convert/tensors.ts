import type { ReadOptions } from './sources';

/** Element types a checkpoint may store (safetensors names). Only the float ones are converted. */
export type SourceDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const SOURCE_BYTES: Record<SourceDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** One tensor of a checkpoint, not yet read. */
export interface TensorEntry {
  name: string;
  dtype: SourceDtype;
  shape: number[];
  /** Bytes of the tensor once read (contiguous, row-major). */
  byteLength: number;
  /** The tensor's bytes: contiguous, row-major, little-endian, in a fresh buffer. */
  read(options?: ReadOptions): Promise<Uint8Array>;
}

export function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

// ---------------------------------------------------------------------------------------------
// Float conversions
// ---------------------------------------------------------------------------------------------

let halfTable: Float32Array | null = null;

/** float16 bits → float32, by a 64 K-entry table (exact, including subnormals, inf, NaN). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    let value: number;
    if (exponent === 0) value = mantissa * 2 ** -24;
    else if (exponent === 31) value = mantissa ? NaN : Infinity;
    else value = (1 + mantissa / 1024) * 2 ** (exponent - 15);
    halfTable[h] = sign * value;
  }
  return halfTable;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** float32 → float16 bits, round to nearest even (as numpy / torch `.half()`). */
export function floatToHalf(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal half: shift the full mantissa (with its implicit 1) into place, round to even.
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let result = mantissa >>> shift;
    if (rest > half || (rest === half && result & 1)) result++;
    return sign | result;
  }
  const rest = mantissa & 0x1fff;
  let result = (e << 10) | (mantissa >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && result & 1)) result++; // may carry into the exponent: correct
  return sign | result;
}

/** Float32 values of a float tensor's raw bytes, elements [start, start + count). */
export function decodeFloats(raw: Uint8Array, dtype: SourceDtype, start: number, count: number, out: Float32Array, outAt = 0): void {
  switch (dtype) {
    case 'F32': {
      out.set(new Float32Array(raw.buffer, raw.byteOffset + start * 4, count), outAt);
      return;
    }
    case 'F16': {
      const table = halfToFloatTable();
      const halves = new Uint16Array(raw.buffer, raw.byteOffset + start * 2, count);
      for (let i = 0; i < count; i++) out[outAt + i] = table[halves[i]!]!;
      return;
    }
    case 'BF16': {
      const halves = new Uint16Array(raw.buffer, raw.byteOffset + start * 2, count);
      const bits = new Uint32Array(out.buffer, out.byteOffset + outAt * 4, count);
      for (let i = 0; i < count; i++) bits[i] = halves[i]! << 16;
      return;
    }
    case 'F64': {
      const doubles = new Float64Array(raw.buffer, raw.byteOffset + start * 8, count);
      for (let i = 0; i < count; i++) out[outAt + i] = doubles[i]!;
      return;
    }
    default:
      throw new Error(`not a float tensor: ${dtype}`);
  }
}

export function isFloatDtype(dtype: SourceDtype): boolean {
  return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16' || dtype === 'F64';
}

/** A whole float tensor as float32 (a view when it already is float32). */
export function toFloat32(raw: Uint8Array, dtype: SourceDtype): Float32Array {
  if (dtype === 'F32') return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const count = raw.byteLength / (dtype === 'F64' ? 8 : 2);
  const out = new Float32Array(count);
  decodeFloats(raw, dtype, 0, count, out);
  return out;
}

/** Float32 values as float16 bytes. */
export function toFloat16Bytes(values: Float32Array): Uint8Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i]!);
  return new Uint8Array(out.buffer);
}

/**
 * A [rows, cols] float matrix transposed to [cols, rows] and stored as float32 or float16 bytes,
 * converting 64 source rows at a time (so no float32 copy of a whole float16 source is made).
 */
export function transposeToBytes(raw: Uint8Array, dtype: SourceDtype, rows: number, cols: number, target: 'fp32' | 'fp16'): Uint8Array {
  const count = rows * cols;
  const TILE = 64;
  if (target === 'fp32') {
    const out = new Float32Array(count);
    const rowBuffer = new Float32Array(TILE * cols);
    for (let r0 = 0; r0 < rows; r0 += TILE) {
      const r1 = Math.min(rows, r0 + TILE);
      decodeFloats(raw, dtype, r0 * cols, (r1 - r0) * cols, rowBuffer);
      for (let r = r0; r < r1; r++) {
        const base = (r - r0) * cols;
        for (let c = 0; c < cols; c++) out[c * rows + r] = rowBuffer[base + c]!;
      }
    }
    return new Uint8Array(out.buffer);
  }
  const out = new Uint16Array(count);
  if (dtype === 'F16') {
    // Already float16: the bits move as they are, no decoding.
    const halves = new Uint16Array(raw.buffer, raw.byteOffset, count);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      for (let c = 0; c < cols; c++) out[c * rows + r] = halves[base + c]!;
    }
    return new Uint8Array(out.buffer);
  }
  const rowBuffer = new Float32Array(TILE * cols);
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    decodeFloats(raw, dtype, r0 * cols, (r1 - r0) * cols, rowBuffer);
    for (let r = r0; r < r1; r++) {
      const base = (r - r0) * cols;
      for (let c = 0; c < cols; c++) out[c * rows + r] = floatToHalf(rowBuffer[base + c]!);
    }
  }
  return new Uint8Array(out.buffer);
}

/** A float tensor stored as float32 or float16 bytes, same layout. */
export function convertToBytes(raw: Uint8Array, dtype: SourceDtype, target: 'fp32' | 'fp16'): Uint8Array {
  if (target === 'fp32' && dtype === 'F32') return raw;
  if (target === 'fp16' && dtype === 'F16') return raw;
  const values = toFloat32(raw, dtype);
  return target === 'fp32' ? new Uint8Array(values.buffer, values.byteOffset, values.byteLength) : toFloat16Bytes(values);
}
