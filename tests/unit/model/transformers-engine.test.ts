// TransformersEngine decodes every correction through the engine's own loop, speculatively by
// default, drafting from the answer being corrected; the result is what one token per pass gives,
// for the standard-attention fixture and its GroupQueryAttention form.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPrompt, correctAnswer } from '../../../model/engine';
import { loadNodeEngine } from '../../../model/node-platform';
import type { TransformersEngine } from '../../../model/transformers-engine';

interface Case { question: string; answer: string; corrected: string }
const cases: Case[] = JSON.parse(readFileSync('tests/fixtures/tiny-aligner-cases.json', 'utf8'));

for (const folder of ['tests/fixtures/models/tiny-aligner', 'tests/fixtures/models/tiny-aligner-gqa']) {
  describe(`TransformersEngine on ${folder.split('/').pop()}`, () => {
    let engine: TransformersEngine;
    beforeAll(async () => {
      engine = await loadNodeEngine({ model: folder });
    });
    afterAll(async () => {
      await engine?.dispose();
    });

    it('decodes speculatively by default (the load-time check passed)', () => {
      expect(engine.speculative).toBe(true);
    });

    it('corrects through drafts from the answer: fewer passes than tokens, the same text as one token per pass', async () => {
      const { question, answer, corrected } = cases.find((entry) => entry.answer.length > 40)!;
      const prompt = buildPrompt('aligner-v1', question, answer);
      const fast = await engine.generate(prompt, { maxNewTokens: 128, source: answer });
      expect(fast.text.trim()).toBe(corrected);
      expect(fast.decode!.accepted).toBeGreaterThan(0);
      expect(fast.decode!.passes).toBeLessThan(fast.tokens);
      engine.speculative = false;
      try {
        const plain = await engine.generate(prompt, { maxNewTokens: 128, source: answer });
        expect(plain).toMatchObject({ text: fast.text, tokens: fast.tokens });
        expect(plain.decode).toEqual({ passes: plain.tokens, drafted: 0, accepted: 0 });
      } finally {
        engine.speculative = true;
      }
    });

    it('correctAnswer hands the answer over as the source of drafts', async () => {
      const { question, answer, corrected } = cases[3]!;
      const result = await correctAnswer(engine, question, answer, { template: 'aligner-v1', contextLength: 512, maxNewTokens: 128 });
      expect(result.text).toBe(corrected);
      expect(engine.lastDecode!.accepted).toBeGreaterThan(0);
    });

    it('runs generations asked for at once one after the other, each exact', async () => {
      const picked = cases.slice(0, 4);
      const results = await Promise.all(
        picked.map(({ question, answer }) => engine.generate(buildPrompt('aligner-v1', question, answer), { maxNewTokens: 128, source: answer })),
      );
      expect(results.map((result) => result.text.trim())).toEqual(picked.map((entry) => entry.corrected));
    });

    it('stops at a stop string where one token per pass stops', async () => {
      const prompt = buildPrompt('aligner-v1', 'What do you think?', 'The plan is bad today. My dog never sleeps.');
      const stop = ['My dog'];
      const fast = await engine.generate(prompt, { maxNewTokens: 128, source: 'The plan is bad today. My dog never sleeps.', stop });
      engine.speculative = false;
      const plain = await engine.generate(prompt, { maxNewTokens: 128, stop }).finally(() => {
        engine.speculative = true;
      });
      expect(fast.text).toContain('My dog');
      expect(fast.text).not.toContain('sleeps.');
      expect(fast).toMatchObject({ text: plain.text, tokens: plain.tokens });
    });
  });
}
