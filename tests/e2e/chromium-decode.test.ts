// The engine's decode loop in real Chromium, on WebGPU (SwiftShader via --enable-unsafe-webgpu,
// the KV cache in GPU buffers) and on WASM: cutting the cache after a rejected draft gives the
// logits of a fresh run on the accepted prefix (on WebGPU the cut runs as a Slice session on the
// GPU, and the cache never leaves it), and speculative decoding emits what one token per pass
// emits, on answers in the tiny Aligner's grammar. A divergence is allowed only where the
// one-token run's top-2 margin is below 1e-4; those are counted and reported.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDecodePage, type DecodePage } from '../support/decode-page';
import { correctInGrammar, grammarAnswer, QUESTIONS } from '../support/tiny-grammar';

const REPOS = { 'realign/tiny-aligner': 'tests/fixtures/models/tiny-aligner', 'realign/tiny-aligner-gqa': 'tests/fixtures/models/tiny-aligner-gqa' };
const VOCAB = 500;
const divergences: string[] = [];

interface Run {
  tokens: number[];
  margins: number[];
  stats: { passes: number; drafted: number; accepted: number };
}

let decode: DecodePage;
const keys: Record<string, { key: string; multiToken: boolean; gpuResident: boolean }> = {};

beforeAll(async () => {
  decode = await openDecodePage(REPOS);
  for (const device of ['webgpu', 'wasm'] as const) {
    for (const repo of Object.keys(REPOS)) keys[`${repo}@${device}`] = await decode.load(repo, device);
  }
});

afterAll(async () => {
  console.log(`Chromium: speculative vs one-token greedy: ${divergences.length} divergence(s) at a top-2 margin below 1e-4${divergences.length ? `: ${divergences.join('; ')}` : ''}`);
  await decode?.close();
});

const draftRounds = (maxTotal: number) =>
  fc.array(fc.tuple(fc.array(fc.integer({ min: 2, max: VOCAB - 1 }), { minLength: 1, maxLength: 6 }), fc.nat()), { minLength: 1, maxLength: 3 }).filter((rounds) => rounds.reduce((sum, [draft]) => sum + draft.length, 0) <= maxTotal);

async function rollbackProperty(key: string, promptLimit: number, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...QUESTIONS), grammarAnswer, draftRounds(10), fc.integer({ min: 2, max: VOCAB - 1 }), async (question, answer, rounds, probe) => {
      const { prompt } = await decode.call<{ prompt: number[] }>('encodeCase', key, question, answer);
      const kept = rounds.map(([draft, seed]) => [draft, seed % (draft.length + 1)] as [number[], number]);
      const result = await decode.call<{ worst: number; scale: number; gpuResident: boolean }>('rollbackCheck', key, prompt.slice(0, promptLimit), kept, probe);
      expect(result.worst, `${key}: logits after the cut vs a fresh run`).toBeLessThan(1e-4 * Math.max(1, result.scale));
      expect(result.gpuResident).toBe(key.endsWith('@webgpu'));
    }),
    { numRuns, seed: 15 },
  );
}

describe('Chromium, WebGPU (SwiftShader) and WASM', () => {
  it('WebGPU keeps the KV cache in GPU buffers; WASM on the CPU; both pass the multi-token check', () => {
    for (const repo of Object.keys(REPOS)) {
      expect(keys[`${repo}@webgpu`]).toMatchObject({ multiToken: true, gpuResident: true });
      expect(keys[`${repo}@wasm`]).toMatchObject({ multiToken: true, gpuResident: false });
    }
  });

  for (const device of ['webgpu', 'wasm'] as const) {
    const key = `realign/tiny-aligner@${device}`;

    it(`${device}, standard attention: after rejected drafts are cut, the next logits equal a fresh run`, async () => {
      await rollbackProperty(key, 200, device === 'webgpu' ? 8 : 15);
    });

    it(`${device}, GroupQueryAttention: the same, within 30 positions`, async () => {
      // onnxruntime-web's WebGPU GroupQueryAttention (1.31.0-dev, SwiftShader) already disagrees
      // with WASM past ~30 positions with no cut at all (prefill and one-token steps alike), so
      // the cut is checked where the kernel itself is right.
      await rollbackProperty(`realign/tiny-aligner-gqa@${device}`, 16, device === 'webgpu' ? 6 : 10);
    });

    it(`${device}: speculative decoding emits what one token per pass emits (and corrects the answer)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...QUESTIONS), grammarAnswer, fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }), async (question, answer, fixedDraft) => {
          const encoded = await decode.call<{ prompt: number[]; source: number[] }>('encodeCase', key, question, answer);
          const base = { prompt: encoded.prompt, source: encoded.source, maxNewTokens: 96 };
          const plain = await decode.call<Run>('decodeRun', key, { ...base, speculative: false, recordMargins: true });
          const fast = await decode.call<Run>('decodeRun', key, { ...base, speculative: true, fixedDraft, sizer: 'test' });
          let first = 0;
          while (first < plain.tokens.length && plain.tokens[first] === fast.tokens[first]) first++;
          if (first < plain.tokens.length || fast.tokens.length !== plain.tokens.length) {
            const margin = plain.margins[first] ?? Infinity;
            expect(margin, `${device} "${answer}": outputs differ at token ${first}`).toBeLessThan(1e-4);
            divergences.push(`${device} "${answer}" at ${first}`);
          }
          expect(fast.stats.passes).toBeLessThanOrEqual(plain.stats.passes);
          const text = await decode.call<string>('decodeText', key, plain.tokens);
          expect(text.trim()).toBe(correctInGrammar(answer));
        }),
        { numRuns: device === 'webgpu' ? 8 : 15, seed: 16 },
      );
    });
  }
});
