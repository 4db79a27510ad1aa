// The same exactness checks on onnxruntime-web's WASM backend (the browser's CPU path), run in
// Node with the package's own wasm files: fp32 against the PyTorch reference, q4/q8 against the
// same dequantized weights, fp16/q4f16 within half-precision error. Weights arrive as ORT-web's
// `externalData`, as transformers.js passes them in a browser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as OrtWeb from 'onnxruntime-web';
import type { TargetDtype } from '../../../../model/convert/index';
import { drift, runChecks, type OrtModule, type OrtSession } from './harness';
import { ARCHITECTURES, conversionCache, reference, referenceFor, referenceLogits } from './fixtures';

const require_ = createRequire(import.meta.url);
let ort: typeof OrtWeb;
const cache = conversionCache();
const largest = (values: Float32Array) => values.reduce((max, x) => Math.max(max, Math.abs(x)), 0);

beforeAll(async () => {
  ort = await import('onnxruntime-web');
  ort.env.wasm.wasmPaths = `${pathToFileURL(path.dirname(require_.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))).href}/`;
  ort.env.wasm.numThreads = 1;
});
afterAll(() => cache.cleanup());

async function check(arch: (typeof ARCHITECTURES)[number], format: string, dtype: TargetDtype) {
  const { modelPath } = await cache.convert(arch, format, dtype);
  const dataName = `${path.basename(modelPath)}_data`;
  const session = await ort.InferenceSession.create(readFileSync(modelPath), {
    executionProviders: ['wasm'],
    externalData: [{ path: dataName, data: readFileSync(path.join(path.dirname(modelPath), dataName)) }],
  });
  try {
    return await runChecks(ort as unknown as OrtModule, session as unknown as OrtSession, reference(arch), referenceLogits(arch, referenceFor(dtype)), referenceLogits(arch, 'batch'));
  } finally {
    await session.release();
  }
}

for (const arch of ARCHITECTURES) {
  describe(`${arch} on onnxruntime-web WASM`, () => {
    for (const format of arch === 'tinyllama' ? ['safetensors', 'bin'] : ['safetensors']) {
      it(`fp32 from ${format} matches the PyTorch reference`, async () => {
        const result = await check(arch, format, 'fp32');
        expect(result.full).toBeLessThanOrEqual(1e-3);
        expect(result.stepwise).toBeLessThanOrEqual(1e-3);
        expect(result.greedy).toEqual(reference(arch).greedy);
        expect(result.multiToken).toBeLessThanOrEqual(1e-3);
        expect(result.rollback).toBeLessThanOrEqual(1e-3);
        expect(result.batch).toBeLessThanOrEqual(1e-3);
      });
    }
    for (const dtype of ['q4', 'q8'] as const) {
      it(`${dtype} matches a reference with the same dequantized weights`, async () => {
        const result = await check(arch, 'safetensors', dtype);
        expect(result.full).toBeLessThanOrEqual(1e-3);
        expect(result.stepwise).toBeLessThanOrEqual(1e-3);
        expect(result.multiToken).toBeLessThanOrEqual(1e-3);
        expect(result.rollback).toBeLessThanOrEqual(1e-3);
        const figures = drift(result.logits, referenceLogits(arch, 'fp32'), reference(arch).config.vocab_size);
        console.log(`[drift] ${arch} ${dtype} vs fp32 (WASM): cosine ${figures.cosine.toFixed(4)}, argmax agreement ${(figures.argmaxAgreement * 100).toFixed(0)}%`);
      });
    }
    for (const dtype of ['fp16', 'q4f16'] as const) {
      it(`${dtype} stays within half-precision error of its reference (1% of the largest logit)`, async () => {
        const result = await check(arch, 'safetensors', dtype);
        const tolerance = 0.01 * largest(referenceLogits(arch, referenceFor(dtype)));
        console.log(`[fp16] ${arch} ${dtype} (WASM): max |diff| ${result.full.toExponential(2)} full, ${result.stepwise.toExponential(2)} through the cache`);
        expect(result.full).toBeLessThanOrEqual(tolerance);
        expect(result.stepwise).toBeLessThanOrEqual(tolerance);
        expect(result.multiToken).toBeLessThanOrEqual(tolerance);
        expect(result.rollback).toBeLessThanOrEqual(tolerance);
      });
    }
  });
}
