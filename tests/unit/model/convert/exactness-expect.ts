// The pass marks of the exactness suites, shared so that every runtime (onnxruntime-node,
// onnxruntime-web WASM) is held to the same thresholds.
import { expect } from 'vitest';
import { drift, type Checks } from './harness';
import { reference, referenceFor, referenceLogits, type Architecture } from './fixtures';

const largest = (values: Float32Array) => values.reduce((max, x) => Math.max(max, Math.abs(x)), 0);

/** fp32 against the PyTorch reference: logits within 1e-3 every way, greedy tokens exact. */
export function expectMatchesReference(result: Checks, arch: Architecture): void {
  expect(result.full).toBeLessThanOrEqual(1e-3);
  expect(result.stepwise).toBeLessThanOrEqual(1e-3);
  expect(result.greedy).toEqual(reference(arch).greedy);
  expect(result.multiToken).toBeLessThanOrEqual(1e-3);
  expect(result.rollback).toBeLessThanOrEqual(1e-3);
  // The batch reference includes the padded row, which only matches if the mask is right.
  expect(result.batch).toBeLessThanOrEqual(1e-3);
}

/** q4/q8 against a reference with the same dequantized weights; drift from fp32 is printed, not judged. */
export function expectMatchesDequantized(result: Checks, arch: Architecture, dtype: 'q4' | 'q8', runtime: string): void {
  expect(result.full).toBeLessThanOrEqual(1e-3);
  expect(result.stepwise).toBeLessThanOrEqual(1e-3);
  expect(result.multiToken).toBeLessThanOrEqual(1e-3);
  expect(result.rollback).toBeLessThanOrEqual(1e-3);
  const figures = drift(result.logits, referenceLogits(arch, 'fp32'), reference(arch).config.vocab_size);
  console.log(`[drift] ${arch} ${dtype} vs fp32 (${runtime}): cosine ${figures.cosine.toFixed(4)}, argmax agreement ${(figures.argmaxAgreement * 100).toFixed(0)}%`);
}

/** fp16/q4f16 within half-precision error: 1% of the largest reference logit. */
export function expectWithinHalfPrecision(result: Checks, arch: Architecture, dtype: 'fp16' | 'q4f16', runtime: string, options: { batch: boolean }): void {
  const tolerance = 0.01 * largest(referenceLogits(arch, referenceFor(dtype)));
  console.log(`[fp16] ${arch} ${dtype} (${runtime}): max |diff| ${result.full.toExponential(2)} full, ${result.stepwise.toExponential(2)} through the cache (tolerance ${tolerance.toFixed(3)})`);
  expect(result.full).toBeLessThanOrEqual(tolerance);
  expect(result.stepwise).toBeLessThanOrEqual(tolerance);
  expect(result.multiToken).toBeLessThanOrEqual(tolerance);
  expect(result.rollback).toBeLessThanOrEqual(tolerance);
  if (options.batch) expect(result.batch).toBeLessThanOrEqual(tolerance);
}
