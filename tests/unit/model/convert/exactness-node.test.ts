// Converted graphs against the PyTorch references, on onnxruntime-node: every architecture in
// every checkpoint format at fp32 (logits within 1e-3, greedy tokens exact through the KV cache,
// multi-token steps on a past, a rolled-back cache, a left-padded batch), q4/q8 against the
// same dequantized weights, fp16/q4f16 within half-precision tolerance. Drift of the quantized
// graphs from fp32 is printed as a figure, not a pass mark.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { TargetDtype } from '../../../../model/convert/index';
import { runChecks, type OrtModule, type OrtSession } from './harness';
import { expectMatchesDequantized, expectMatchesReference, expectWithinHalfPrecision } from './exactness-expect';
import { ARCHITECTURES, conversionCache, formatsOf, reference, referenceFor, referenceLogits } from './fixtures';

const cache = conversionCache();
afterAll(() => cache.cleanup());

async function check(arch: (typeof ARCHITECTURES)[number], format: string, dtype: TargetDtype) {
  const { modelPath } = await cache.convert(arch, format, dtype);
  const session = await ort.InferenceSession.create(modelPath);
  try {
    return await runChecks(ort as unknown as OrtModule, session as unknown as OrtSession, reference(arch), referenceLogits(arch, referenceFor(dtype)), referenceLogits(arch, 'batch'));
  } finally {
    await session.release();
  }
}

for (const arch of ARCHITECTURES) {
  describe(`${arch} on onnxruntime-node`, () => {
    for (const format of formatsOf(arch)) {
      it(`fp32 from ${format} matches the PyTorch reference`, async () => {
        expectMatchesReference(await check(arch, format, 'fp32'), arch);
      });
    }

    it('writes the same weights from every format', async () => {
      const data = async (format: string) => readFileSync(join((await cache.convert(arch, format, 'fp32')).folder, 'onnx', 'model.onnx_data'));
      const first = await data(formatsOf(arch)[0]!);
      for (const format of formatsOf(arch).slice(1)) expect(Buffer.compare(await data(format), first)).toBe(0);
    });

    for (const dtype of ['q4', 'q8'] as const) {
      it(`${dtype} matches a reference with the same dequantized weights`, async () => {
        expectMatchesDequantized(await check(arch, 'safetensors', dtype), arch, dtype, 'onnxruntime-node');
      });
    }

    // Half precision: activations, cache and weights in float16 (norms and softmax in float32).
    for (const dtype of ['fp16', 'q4f16'] as const) {
      it(`${dtype} stays within half-precision error of its reference (1% of the largest logit)`, async () => {
        expectWithinHalfPrecision(await check(arch, 'safetensors', dtype), arch, dtype, 'onnxruntime-node', { batch: dtype === 'fp16' });
      });
    }
  });
}
