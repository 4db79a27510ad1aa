// The step-level model over transformers.js's own ONNX session, on onnxruntime-node and on
// onnxruntime-web's WASM backend, for both graph forms: standard attention (the tiny Aligner, the
// converter's output) and GroupQueryAttention (the onnx-community / genai builder form). After a
// rejected draft is cut away, the next logits are those of a fresh run on the accepted prefix.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { StepModel, type Logits, type OrtSession, type OrtTensor, type OrtTensorConstructor } from '../../../model/step-model';
import { buildCacheSliceModel } from '../../../model/onnx-slice';
import { encodeCase, loadStepModel, type Backend, type LoadedModel } from '../../support/transformers-backends';

interface Case { question: string; answer: string; corrected: string }
const cases: Case[] = JSON.parse(readFileSync('tests/fixtures/tiny-aligner-cases.json', 'utf8'));
const VOCAB = 500;
/** Float32 logits of the same positions from differently shaped passes agree this closely. */
const TOLERANCE = 1e-4;

const lastRow = (logits: Logits) => logits.data.subarray((logits.rows - 1) * logits.vocab, logits.rows * logits.vocab);
const maxDifference = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
};

const FIXTURES = [
  { folder: 'tiny-aligner', attention: 'standard attention' },
  { folder: 'tiny-aligner-gqa', attention: 'GroupQueryAttention' },
] as const;

for (const backend of ['node', 'wasm'] as Backend[]) {
  for (const { folder, attention } of FIXTURES) {
    describe(`step model, ${attention}, on ${backend === 'node' ? 'onnxruntime-node' : 'onnxruntime-web WASM'}`, () => {
      let loaded: LoadedModel;
      let graphCut: StepModel;
      beforeAll(async () => {
        loaded = await loadStepModel(backend, folder);
        graphCut = StepModel.fromTransformers(loaded.model as never, loaded.tjs.Tensor as never, { graphCutProvider: backend === 'node' ? 'cpu' : 'wasm' });
      });

      it('prefill then one-token steps give the logits of one pass over the whole sequence', async () => {
        const { prompt } = encodeCase(loaded.tokenizer, cases[0]!.question, cases[0]!.answer);
        const { steps } = loaded;
        steps.reset();
        const whole = await steps.forward(prompt);
        steps.reset();
        await steps.forward(prompt.slice(0, 10));
        for (let i = 10; i < prompt.length; i++) {
          const step = await steps.forward([prompt[i]!]);
          const expected = whole.data.subarray(i * VOCAB, (i + 1) * VOCAB);
          expect(maxDifference(lastRow(step), expected)).toBeLessThan(TOLERANCE);
        }
        expect(steps.length).toBe(prompt.length);
      });

      it('passes several tokens at a time and cuts caches back (the load-time check agrees)', async () => {
        const { prompt } = encodeCase(loaded.tokenizer, cases[1]!.question, cases[1]!.answer);
        const fresh = StepModel.fromTransformers(loaded.model as never, loaded.tjs.Tensor as never);
        await expect(fresh.supportsMultiTokenSteps(prompt.slice(1, 8))).resolves.toBe(true);
      });

      for (const [label, cutter] of [
        ['copying each head in JS', () => loaded.steps],
        ['the Slice graph as its own session', () => graphCut],
      ] as const) {
        it(`after rejected drafts are cut (${label}), the next logits equal a fresh run on the accepted prefix`, async () => {
          const steps = cutter();
          await fc.assert(
            fc.asyncProperty(
              fc.constantFrom(...cases),
              // Rounds of: a draft of 1..8 tokens, of which 0..all are kept.
              fc.array(fc.tuple(fc.array(fc.integer({ min: 2, max: VOCAB - 1 }), { minLength: 1, maxLength: 8 }), fc.nat()), { minLength: 1, maxLength: 4 }),
              fc.integer({ min: 2, max: VOCAB - 1 }),
              async ({ question, answer }, rounds, probe) => {
                const { prompt } = encodeCase(loaded.tokenizer, question, answer);
                const accepted = [...prompt];
                steps.reset();
                await steps.forward(prompt, 1);
                for (const [draft, keepSeed] of rounds) {
                  const keep = keepSeed % (draft.length + 1);
                  await steps.forward(draft);
                  await steps.truncate(accepted.length + keep);
                  accepted.push(...draft.slice(0, keep));
                  expect(steps.length).toBe(accepted.length);
                }
                const next = lastRow(await steps.forward([probe]));
                steps.reset();
                const reference = lastRow(await steps.forward([...accepted, probe], 1));
                expect(maxDifference(next, reference)).toBeLessThan(TOLERANCE);
              },
            ),
            { numRuns: 25, seed: 15 },
          );
        });
      }

      it('refuses to cut a cache to more positions than it holds', async () => {
        const { steps } = loaded;
        steps.reset();
        await steps.forward([1, 5, 6]);
        await expect(steps.truncate(4)).rejects.toThrow(/Cannot cut a cache of 3 positions to 4/);
        await steps.truncate(0);
        expect(steps.length).toBe(0);
      });
    });
  }
}

describe('why rollback cuts and never masks', () => {
  /**
   * Runs the raw session with 3 stale entries left in the cache and hidden by zeros in
   * attention_mask (what masking would do), next to a clean run on the kept prefix. Returns the
   * probe's logits from both, and the key each wrote at slot n (right after the prompt).
   */
  async function maskedVersusClean(folder: string) {
    const { model, tjs, tokenizer } = await loadStepModel('node', folder);
    const session = (model as unknown as { sessions: { model: OrtSession } }).sessions.model;
    const Tensor = (new tjs.Tensor('float32', new Float32Array(1), [1]) as unknown as { ort_tensor: { constructor: OrtTensorConstructor } }).ort_tensor.constructor;
    const { prompt } = encodeCase(tokenizer, cases[3]!.question, cases[3]!.answer);
    const ids = (values: number[]) => new Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);
    const empty = () => new Tensor('float32', new Float32Array(0), [1, 2, 0, 16]);
    const run = async (tokens: number[], mask: number[], positions: number[], past: Record<string, OrtTensor> | null) => {
      const feeds: Record<string, OrtTensor> = { input_ids: ids(tokens), attention_mask: ids(mask) };
      if (session.inputNames.includes('position_ids')) feeds.position_ids = ids(positions);
      for (let layer = 0; layer < 2; layer++) {
        for (const kind of ['key', 'value']) feeds[`past_key_values.${layer}.${kind}`] = past?.[`present.${layer}.${kind}`] ?? empty();
      }
      return session.run(feeds);
    };
    const n = prompt.length;
    const probe = 42;
    const first = await run(prompt, new Array(n).fill(1), prompt.map((_, i) => i), null);
    const withStale = await run([7, 8, 9], new Array(n + 3).fill(1), [n, n + 1, n + 2], first);
    const masked = await run([probe], [...new Array(n).fill(1), 0, 0, 0, 1], [n], withStale);
    const clean = await run([probe], new Array(n + 1).fill(1), [n], first);
    // Slot n of head 0 in layer 0's keys: [1, 2, T, 16] → offset n·16.
    const slotN = (outputs: Record<string, OrtTensor>) => (outputs['present.0.key']!.data as Float32Array).slice(n * 16, n * 16 + 16);
    const staleSlot = (withStale['present.0.key']!.data as Float32Array).slice(n * 16, n * 16 + 16);
    return {
      logitsDifference: maxDifference(masked.logits!.data as Float32Array, clean.logits!.data as Float32Array),
      slotNIsProbe: maxDifference(slotN(masked), slotN(clean)) < TOLERANCE,
      slotNIsStale: maxDifference(slotN(masked), staleSlot) < TOLERANCE,
      length: masked['present.0.key']!.dims[2],
    };
  }

  it('standard attention would hide masked stale entries, but keep them in its cache for good', async () => {
    const result = await maskedVersusClean('tiny-aligner');
    expect(result.logitsDifference).toBeLessThan(TOLERANCE);
    expect(result.slotNIsStale).toBe(true);
    expect(result.length).toBeGreaterThan(0);
  });

  it('GroupQueryAttention reads only a length from the mask: it writes the new token over the first stale slot', async () => {
    // The zeros do not hide positions n..n+2: the graph takes sum(mask) − 1 as the sequence
    // length and overwrites slot n, whatever the mask says about it. A cache that holds stale
    // entries means something else to each graph form; a cut cache means the same to both.
    const result = await maskedVersusClean('tiny-aligner-gqa');
    expect(result.slotNIsProbe).toBe(true);
    expect(result.slotNIsStale).toBe(false);
  });
});

describe('the cache Slice graph', () => {
  it('is a valid ONNX model that cuts each input along its own axis', async () => {
    const ort = await import('onnxruntime-node');
    const bytes = buildCacheSliceModel([
      { type: 'float32', rank: 4, axis: 2 },
      { type: 'float32', rank: 3, axis: 1 },
    ]);
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['cache.0', 'cache.1', 'keep']);
    const a = Float32Array.from({ length: 2 * 3 * 5 * 2 }, (_, i) => i);
    const b = Float32Array.from({ length: 2 * 4 * 3 }, (_, i) => -i);
    const out = await session.run({
      'cache.0': new ort.Tensor('float32', a, [2, 3, 5, 2]),
      'cache.1': new ort.Tensor('float32', b, [2, 4, 3]),
      keep: new ort.Tensor('int64', BigInt64Array.from([2n]), [1]),
    });
    expect(out['cut.0']!.dims).toEqual([2, 3, 2, 2]);
    expect(out['cut.1']!.dims).toEqual([2, 2, 3]);
    // Element [0, 1, 1, 1] of the cut is element [0, 1, 1, 1] of the input: (1·5 + 1)·2 + 1.
    expect((out['cut.0']!.data as Float32Array)[(1 * 2 + 1) * 2 + 1]).toBe(13);
    expect(Array.from(out['cut.1']!.data as Float32Array).slice(0, 6)).toEqual([-0, -1, -2, -3, -4, -5]);
  });
});

describe('graphs the loop cannot drive', () => {
  const fakeSession = (inputNames: string[], outputNames: string[]): OrtSession => ({
    inputNames,
    outputNames,
    inputMetadata: inputNames.map((name) => ({ name, type: 'float32', shape: ['batch_size', 2, 'past_sequence_length', 16] })),
    run: () => Promise.reject(new Error('not run')),
  });
  const AnyTensor = class {} as unknown as OrtTensorConstructor;

  it('names inputs it does not know', () => {
    expect(() => new StepModel(fakeSession(['input_ids', 'pixel_values'], ['logits']), AnyTensor)).toThrow(/pixel_values/);
  });

  it('needs a present output for each past input', () => {
    expect(() => new StepModel(fakeSession(['input_ids', 'past_key_values.0.key'], ['logits']), AnyTensor)).toThrow(/no present\.0\.key/);
  });
});
