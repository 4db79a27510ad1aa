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
import { runChecks, type OrtModule, type OrtSession } from './harness';
import { expectMatchesDequantized, expectMatchesReference, expectWithinHalfPrecision } from './exactness-expect';
import { ARCHITECTURES, conversionCache, reference, referenceFor, referenceLogits } from './fixtures';

const require_ = createRequire(import.meta.url);
let ort: typeof OrtWeb;
const cache = conversionCache();

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
    // Every format gives the same weights (the Node suite checks it): safetensors, plus one .bin.
    for (const format of arch === 'tinyllama' ? ['safetensors', 'bin'] : ['safetensors']) {
      it(`fp32 from ${format} matches the PyTorch reference`, async () => {
        expectMatchesReference(await check(arch, format, 'fp32'), arch);
      });
    }
    for (const dtype of ['q4', 'q8'] as const) {
      it(`${dtype} matches a reference with the same dequantized weights`, async () => {
        expectMatchesDequantized(await check(arch, 'safetensors', dtype), arch, dtype, 'WASM');
      });
    }
    for (const dtype of ['fp16', 'q4f16'] as const) {
      it(`${dtype} stays within half-precision error of its reference (1% of the largest logit)`, async () => {
        expectWithinHalfPrecision(await check(arch, 'safetensors', dtype), arch, dtype, 'WASM', { batch: false });
      });
    }
  });
}
