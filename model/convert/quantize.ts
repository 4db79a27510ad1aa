import { floatToHalf, decodeFloats, type SourceDtype } from './tensors';

/**
 * Block-wise asymmetric weight quantization in the layout of ONNX Runtime's MatMulNBits
 * (com.microsoft): a [N, K] weight (PyTorch's [out, in]) is cut into blocks
 * of `block` along K; each block stores `bits`-bit codes, a scale and a zero point, and
 * dequantizes as (code - zero_point) * scale.
 *
 * The rounding is specified exactly — float64 arithmetic on the float32 weights, scale rounded
 * to float32, round half up — so scripts/converter-fixtures/build.py can reproduce the same codes
 * and test the graphs against a PyTorch forward on the dequantized weights. Change both together.
 */
export interface QuantSpec {
  bits: 4 | 8;
  block: number;
}

export interface QuantizedWeight {
  /** MatMulNBits `B`: [N, blocksPerRow, block * bits / 8] bytes. */
  codes: Uint8Array;
  /** [N * blocksPerRow] float32 or float16 bytes (the activations' type). */
  scales: Uint8Array;
  /** [N, ceil(blocksPerRow * bits / 8)] packed like the codes. */
  zeroPoints: Uint8Array;
  blocksPerRow: number;
}

export function blocksPerRow(k: number, spec: QuantSpec): number {
  return Math.ceil(k / spec.block);
}

export function quantizedSizes(n: number, k: number, spec: QuantSpec, scaleBytes: 2 | 4) {
  const blocks = blocksPerRow(k, spec);
  return {
    codes: n * blocks * ((spec.block * spec.bits) / 8),
    scales: n * blocks * scaleBytes,
    zeroPoints: n * Math.ceil((blocks * spec.bits) / 8),
  };
}

/** Quantizes a [N, K] float tensor, row by row (no float32 copy of the whole tensor). */
export function quantizeRows(raw: Uint8Array, dtype: SourceDtype, n: number, k: number, spec: QuantSpec, scaleType: 'fp32' | 'fp16'): QuantizedWeight {
  const levels = (1 << spec.bits) - 1;
  const blocks = blocksPerRow(k, spec);
  const blobBytes = (spec.block * spec.bits) / 8;
  const zpBytesPerRow = Math.ceil((blocks * spec.bits) / 8);
  const codes = new Uint8Array(n * blocks * blobBytes);
  const scales32 = new Float32Array(n * blocks);
  const zeroPoints = new Uint8Array(n * zpBytesPerRow);
  const row = new Float32Array(k);
  const f32 = new Float32Array(1);

  for (let r = 0; r < n; r++) {
    decodeFloats(raw, dtype, r * k, k, row);
    for (let b = 0; b < blocks; b++) {
      const start = b * spec.block;
      const end = Math.min(k, start + spec.block);
      let lo = 0;
      let hi = 0;
      for (let i = start; i < end; i++) {
        const x = row[i]!;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      let scale = 1;
      if (hi > lo) {
        f32[0] = (hi - lo) / levels;
        scale = f32[0]!;
      }
      const zp = Math.min(levels, Math.max(0, Math.floor(-lo / scale + 0.5)));
      scales32[r * blocks + b] = scale;
      if (spec.bits === 4) zeroPoints[r * zpBytesPerRow + (b >> 1)]! |= zp << ((b & 1) * 4);
      else zeroPoints[r * zpBytesPerRow + b] = zp;
      const blobStart = (r * blocks + b) * blobBytes;
      for (let i = 0; i < spec.block; i++) {
        // Padding past K stores the zero point: it dequantizes to exactly 0.
        const code = start + i < end ? Math.min(levels, Math.max(0, Math.floor(row[start + i]! / scale + zp + 0.5))) : zp;
        if (spec.bits === 8) codes[blobStart + i] = code;
        else codes[blobStart + (i >> 1)]! |= code << ((i & 1) * 4);
      }
    }
  }
  let scales: Uint8Array;
  if (scaleType === 'fp32') scales = new Uint8Array(scales32.buffer);
  else {
    const halves = new Uint16Array(scales32.length);
    for (let i = 0; i < halves.length; i++) halves[i] = floatToHalf(scales32[i]!);
    scales = new Uint8Array(halves.buffer);
  }
  return { codes, scales, zeroPoints, blocksPerRow: blocks };
}

/**
 * The float32 weights a quantized tensor stands for, [N, K] (for tests and drift figures).
 * Reads the codes as the kernels do, so a packing mistake shows up here too.
 */
export function dequantizeRows(q: QuantizedWeight, n: number, k: number, spec: QuantSpec, scaleType: 'fp32' | 'fp16'): Float32Array {
  const out = new Float32Array(n * k);
  const blobBytes = (spec.block * spec.bits) / 8;
  const zpBytesPerRow = Math.ceil((q.blocksPerRow * spec.bits) / 8);
  const scales = scaleType === 'fp32' ? new Float32Array(q.scales.buffer, q.scales.byteOffset, q.scales.byteLength / 4) : null;
  const halves = scaleType === 'fp16' ? new Uint16Array(q.scales.buffer, q.scales.byteOffset, q.scales.byteLength / 2) : null;
  const halfScale = new Float32Array(1);
  for (let r = 0; r < n; r++) {
    for (let b = 0; b < q.blocksPerRow; b++) {
      let scale: number;
      if (scales) scale = scales[r * q.blocksPerRow + b]!;
      else {
        decodeFloats(new Uint8Array(halves!.buffer, halves!.byteOffset + (r * q.blocksPerRow + b) * 2, 2), 'F16', 0, 1, halfScale);
        scale = halfScale[0]!;
      }
      const zpByte = q.zeroPoints[r * zpBytesPerRow + (spec.bits === 4 ? b >> 1 : b)]!;
      const zp = spec.bits === 4 ? (zpByte >> ((b & 1) * 4)) & 0xf : zpByte;
      const blobStart = (r * q.blocksPerRow + b) * blobBytes;
      for (let i = 0; i < spec.block && b * spec.block + i < k; i++) {
        const code = spec.bits === 8 ? q.codes[blobStart + i]! : (q.codes[blobStart + (i >> 1)]! >> ((i & 1) * 4)) & 0xf;
        out[r * k + b * spec.block + i] = Math.fround((code - zp) * scale);
      }
    }
  }
  return out;
}
