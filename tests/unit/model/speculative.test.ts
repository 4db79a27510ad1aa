// The speculative greedy loop emits what the same loop emits at one token per pass, on
// onnxruntime-node and onnxruntime-web's WASM backend, for both graph forms, on inputs in the tiny
// Aligner's grammar and on random ones, with the real drafter and with drafters that are right for
// a random while and then wrong. A k-token pass sums floats in another order, so a divergence is
// allowed only where the one-token run's top-2 logit margin is below 1e-4: those are counted and
// reported (and none was seen when this was written).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError } from '../../../model/engine';
import { DraftSizer, decodeGreedy, type Drafter, type GreedyOptions, type GreedyResult } from '../../../model/speculative';
import { encodeCase, loadStepModel, type Backend, type LoadedModel } from '../../support/transformers-backends';
import { correctInGrammar, grammarAnswer, QUESTIONS } from '../../support/tiny-grammar';

const EOS = 0;
const VOCAB = 500;
const MARGIN = 1e-4;
const divergences: string[] = [];

afterAll(() => {
  console.log(`speculative vs one-token greedy: ${divergences.length} divergence(s) at a top-2 margin below ${MARGIN}${divergences.length ? `: ${divergences.join('; ')}` : ''}`);
});

/** Same tokens, or a first difference where the one-token run's choice was a near tie. */
function expectGreedyEqual(plain: GreedyResult, fast: GreedyResult, label: string): void {
  const length = Math.min(plain.tokens.length, fast.tokens.length);
  let first = 0;
  while (first < length && plain.tokens[first] === fast.tokens[first]) first++;
  if (first === plain.tokens.length && first === fast.tokens.length) return;
  const margin = plain.margins?.[first] ?? Infinity;
  expect(margin, `${label}: outputs differ at token ${first} where the top-2 margin is ${margin}`).toBeLessThan(MARGIN);
  divergences.push(`${label} at token ${first} (margin ${margin.toExponential(2)})`);
}

/** Proposes the true continuation for a random number of tokens, then wrong ones. */
function oracleDrafter(truth: number[], rightFor: number, wrongToken: number): Drafter {
  return (_source, generated, maxDraft) => {
    const out: number[] = [];
    for (let i = 0; i < maxDraft; i++) {
      const at = generated.length + i;
      out.push(i < rightFor && at < truth.length ? truth[at]! : (wrongToken + i) % VOCAB);
    }
    return out;
  };
}

for (const backend of ['node', 'wasm'] as Backend[]) {
  for (const folder of ['tiny-aligner', 'tiny-aligner-gqa']) {
    describe(`speculative decoding equals one token per pass: ${folder} on ${backend === 'node' ? 'onnxruntime-node' : 'onnxruntime-web WASM'}`, () => {
      let loaded: LoadedModel;
      beforeAll(async () => {
        loaded = await loadStepModel(backend, folder);
      });
      const plainRun = (options: Omit<GreedyOptions, 'speculative'>) =>
        decodeGreedy(loaded.steps, { ...options, speculative: false, recordMargins: true });

      it('on answers in its grammar, with the copy-aware drafter and adaptive drafts (and corrects them)', async () => {
        await fc.assert(
          fc.asyncProperty(fc.constantFrom(...QUESTIONS), grammarAnswer, async (question, answer) => {
            const { prompt, source } = encodeCase(loaded.tokenizer, question, answer);
            const base = { prompt, source, maxNewTokens: 128, eosTokenIds: [EOS] };
            const plain = await plainRun(base);
            const fast = await decodeGreedy(loaded.steps, { ...base, sizer: new DraftSizer() });
            expectGreedyEqual(plain, fast, `${folder}/${backend} "${answer}"`);
            expect(fast.stats.passes).toBeLessThanOrEqual(plain.stats.passes);
            expect(loaded.tokenizer.decode(plain.tokens, { skip_special_tokens: true }).trim()).toBe(correctInGrammar(answer));
          }),
          { numRuns: 20, seed: 1 },
        );
      });

      it('with fixed draft lengths 1–12 from the drafter, accepting or rejecting anywhere', async () => {
        await fc.assert(
          fc.asyncProperty(fc.constantFrom(...QUESTIONS), grammarAnswer, fc.integer({ min: 1, max: 12 }), async (question, answer, fixedDraft) => {
            const { prompt, source } = encodeCase(loaded.tokenizer, question, answer);
            const base = { prompt, source, maxNewTokens: 128, eosTokenIds: [EOS] };
            const plain = await plainRun(base);
            const fast = await decodeGreedy(loaded.steps, { ...base, fixedDraft, maxDraft: 12 });
            expectGreedyEqual(plain, fast, `${folder}/${backend} k=${fixedDraft} "${answer}"`);
            expect(fast.stats.drafted).toBeGreaterThan(0);
          }),
          { numRuns: 15, seed: 2 },
        );
      });

      it('with drafts right for a random while and then wrong (every rejection point)', async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...QUESTIONS),
            grammarAnswer,
            fc.integer({ min: 0, max: 10 }),
            fc.integer({ min: 1, max: 10 }),
            fc.integer({ min: 2, max: VOCAB - 1 }),
            async (question, answer, rightFor, fixedDraft, wrongToken) => {
              const { prompt } = encodeCase(loaded.tokenizer, question, answer);
              const base = { prompt, maxNewTokens: 64, eosTokenIds: [EOS] };
              const plain = await plainRun(base);
              const fast = await decodeGreedy(loaded.steps, { ...base, fixedDraft, maxDraft: 10, drafter: oracleDrafter(plain.tokens, rightFor, wrongToken) });
              expectGreedyEqual(plain, fast, `${folder}/${backend} oracle ${rightFor}/${fixedDraft}`);
              if (rightFor >= fixedDraft) expect(fast.stats.passes).toBeLessThan(plain.stats.passes);
            },
          ),
          { numRuns: 20, seed: 3 },
        );
      });

      it('on random prompts and sources (outside its grammar)', async () => {
        const tokens = fc.array(fc.integer({ min: 2, max: VOCAB - 1 }), { minLength: 1, maxLength: 60 });
        await fc.assert(
          fc.asyncProperty(tokens, tokens, fc.integer({ min: 0, max: 8 }), async (body, source, fixedDraft) => {
            const prompt = [1, ...body];
            const base = { prompt, source, maxNewTokens: 40, eosTokenIds: [EOS] };
            const plain = await plainRun(base);
            const fast = await decodeGreedy(loaded.steps, { ...base, maxDraft: 8, ...(fixedDraft ? { fixedDraft } : {}) });
            expectGreedyEqual(plain, fast, `${folder}/${backend} random`);
          }),
          { numRuns: 20, seed: 4 },
        );
      });

      it('stops where one token per pass stops: EOS, max new tokens, a stop callback', async () => {
        const { prompt, source } = encodeCase(loaded.tokenizer, 'What do you think?', 'The plan is bad today. My dog never sleeps. The food is bad.');
        const full = await plainRun({ prompt, source, maxNewTokens: 128, eosTokenIds: [EOS] });
        expect(full.tokens.at(-1)).toBe(EOS);
        expect(full.stats.stoppedBy).toBe('eos');
        for (const maxNewTokens of [1, 2, 5, 9]) {
          const cut = await decodeGreedy(loaded.steps, { prompt, source, maxNewTokens, eosTokenIds: [EOS], fixedDraft: 6 });
          expect(cut.tokens).toEqual(full.tokens.slice(0, maxNewTokens));
          expect(cut.stats.stoppedBy).toBe('length');
        }
        const stopAfter = 7;
        const seen: number[] = [];
        const stopped = await decodeGreedy(loaded.steps, {
          prompt,
          source,
          maxNewTokens: 128,
          eosTokenIds: [EOS],
          fixedDraft: 8,
          onToken: (token) => {
            seen.push(token);
            return seen.length === stopAfter;
          },
        });
        expect(stopped.tokens).toEqual(full.tokens.slice(0, stopAfter));
        expect(seen).toEqual(stopped.tokens);
        expect(stopped.stats.stoppedBy).toBe('stop');
      });

      it('applies a repetition penalty as transformers.js does, identically with drafts', async () => {
        const { prompt, source } = encodeCase(loaded.tokenizer, 'What do you think?', 'The plan is bad today. My dog never sleeps. The food is bad.');
        const base = { prompt, source, maxNewTokens: 48, eosTokenIds: [EOS], repetitionPenalty: 1.3 };
        const plain = await plainRun(base);
        const unpenalised = await plainRun({ ...base, repetitionPenalty: 1 });
        expect(plain.tokens).not.toEqual(unpenalised.tokens);
        const reference = await transformersGreedy(loaded, prompt, 48, 1.3);
        expect(plain.tokens).toEqual(reference);
        for (const fixedDraft of [2, 5]) expectGreedyEqual(plain, await decodeGreedy(loaded.steps, { ...base, fixedDraft }), 'penalty');
      });
    });
  }
}

/** transformers.js's own generate(), greedy, as the reference for the penalty. */
async function transformersGreedy(loaded: LoadedModel, prompt: number[], maxNewTokens: number, repetitionPenalty: number): Promise<number[]> {
  const input_ids = new loaded.tjs.Tensor('int64', BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]);
  const attention_mask = new loaded.tjs.Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]);
  const output = (await loaded.model.generate({ input_ids, attention_mask, max_new_tokens: maxNewTokens, do_sample: false, repetition_penalty: repetitionPenalty } as never)) as { tolist(): bigint[][] };
  return output.tolist()[0]!.slice(prompt.length).map(Number);
}

describe('the loop around the passes', () => {
  let loaded: LoadedModel;
  beforeAll(async () => {
    loaded = await loadStepModel('node', 'tiny-aligner');
  });
  const longCase = () => encodeCase(loaded.tokenizer, 'How was your day?', 'The day is bad today. It is never warm!\n\nMy dog always sleeps. He never talks me.');

  it('an AbortSignal stops it between tokens, and one aborted before it starts runs nothing', async () => {
    const { prompt, source } = longCase();
    const controller = new AbortController();
    let emitted = 0;
    const run = decodeGreedy(loaded.steps, {
      prompt,
      source,
      maxNewTokens: 128,
      eosTokenIds: [EOS],
      signal: controller.signal,
      onToken: () => {
        emitted += 1;
        if (emitted === 3) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(emitted).toBe(3);
    await expect(decodeGreedy(loaded.steps, { prompt, source, maxNewTokens: 8, signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
  });

  it('yields to the event loop between passes, so messages get through mid-generation (WASM never leaves the task itself)', async () => {
    const wasm = await loadStepModel('wasm', 'tiny-aligner');
    const { prompt, source } = encodeCase(wasm.tokenizer, 'How was your day?', 'The day is bad today. It is never warm!\n\nMy dog always sleeps. He never talks me.');
    let delivered = -1;
    let emitted = 0;
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      delivered = emitted;
      channel.port1.close();
    };
    const result = await decodeGreedy(wasm.steps, {
      prompt,
      source,
      maxNewTokens: 128,
      eosTokenIds: [EOS],
      speculative: false,
      yieldIntervalMs: 0,
      onToken: () => {
        emitted += 1;
        // Sent while the loop is running, as a cancel or a settings message would be.
        if (emitted === 1) channel.port2.postMessage(null);
      },
    });
    expect(result.tokens.length).toBeGreaterThan(10);
    expect(delivered).toBeGreaterThanOrEqual(1);
    expect(delivered).toBeLessThanOrEqual(2);
  });

  it('counts passes, drafted and accepted tokens', async () => {
    const { prompt, source } = longCase();
    const plain = await decodeGreedy(loaded.steps, { prompt, source, maxNewTokens: 128, eosTokenIds: [EOS], speculative: false });
    expect(plain.stats.passes).toBe(plain.tokens.length);
    expect(plain.stats.drafted).toBe(0);
    const fast = await decodeGreedy(loaded.steps, { prompt, source, maxNewTokens: 128, eosTokenIds: [EOS], fixedDraft: 8 });
    expect(fast.tokens).toEqual(plain.tokens);
    // Every pass after the prefill emits its accepted draft tokens and one more.
    expect(fast.stats.accepted + fast.stats.passes).toBe(fast.tokens.length);
    expect(fast.stats.accepted).toBeGreaterThan(fast.tokens.length / 2);
  });
});

describe('DraftSizer', () => {
  /** Feeds the sizer passes costing a + b·n ms and drafts right for their first `right` tokens. */
  function trained(a: number, b: number, right: number, copyRun = 20): DraftSizer {
    const sizer = new DraftSizer(16);
    for (let i = 0; i < 60; i++) {
      const n = 1 + (i % 9);
      sizer.observeCost(n, a + b * n);
      sizer.observeMatch(copyRun, right, 16);
    }
    return sizer;
  }

  it('drafts long when passes cost little more per token and drafts are right', () => {
    expect(trained(10, 0.2, 16).choose(16, 20)).toBe(16);
  });

  it('drafts nothing when drafts are never right', () => {
    expect(trained(10, 0.2, 0).choose(16, 20)).toBe(0);
  });

  it('drafts nothing when each token costs a full pass (a compute-bound CPU) and drafts are often wrong', () => {
    const sizer = new DraftSizer(16);
    for (let i = 0; i < 60; i++) {
      sizer.observeCost(1 + (i % 5), 10 * (1 + (i % 5)));
      sizer.observeMatch(20, i % 2 === 0 ? 1 : 0, 16);
    }
    expect(sizer.choose(16, 20)).toBe(0);
  });

  it('drafts as far as drafts tend to be right', () => {
    const k = trained(10, 1, 4).choose(16, 20);
    expect(k).toBeGreaterThanOrEqual(3);
    expect(k).toBeLessThanOrEqual(5);
  });

  it('keeps acceptance apart by copy run: right while copying, wrong after an edit', () => {
    const sizer = new DraftSizer(16);
    for (let i = 0; i < 60; i++) {
      sizer.observeCost(1 + (i % 9), 10 + 0.2 * (1 + (i % 9)));
      sizer.observeMatch(30, 16, 16);
      sizer.observeMatch(0, 0, 16);
    }
    expect(sizer.choose(16, 30)).toBe(16);
    expect(sizer.choose(16, 0)).toBe(0);
  });

  it('tries a longer draft again now and then when drafts are right, so one slow measurement does not stick', () => {
    const sizer = new DraftSizer(16);
    for (let i = 0; i < 9; i++) sizer.observeCost(1, 10);
    sizer.observeCost(5, 400); // a pause landed in the only 5-token pass
    for (let i = 0; i < 30; i++) sizer.observeMatch(20, 16, 16);
    const choices = Array.from({ length: 8 }, () => sizer.choose(16, 20));
    expect(Math.max(...choices.slice(0, 7))).toBeLessThanOrEqual(1);
    expect(choices[7]).toBe(4);
    // Measured again at its usual cost, the long draft wins from then on.
    for (let i = 0; i < 9; i++) sizer.observeCost(5, 11);
    expect(sizer.choose(16, 20)).toBe(16);
  });

  it('does not try longer drafts where drafts are wrong', () => {
    const sizer = new DraftSizer(16);
    for (let i = 0; i < 9; i++) sizer.observeCost(1, 10);
    for (let i = 0; i < 30; i++) sizer.observeMatch(20, 0, 16);
    expect(Array.from({ length: 40 }, () => sizer.choose(16, 20)).every((k) => k === 0)).toBe(true);
  });

  it('never drafts more than the candidate holds', () => {
    expect(trained(10, 0.2, 16).choose(3, 20)).toBe(3);
    expect(trained(10, 0.2, 16).choose(0, 20)).toBe(0);
  });
});
