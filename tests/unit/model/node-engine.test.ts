import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AbortError, buildPrompt, correctAnswer } from '../../../model/engine';
import { loadNodeEngine, missingFromModelFolder } from '../../../model/node-platform';
import type { TransformersEngine } from '../../../model/transformers-engine';
import { applyTextDelta, type CorrectionUpdate } from '../../../utils/messages';

interface Case {
  question: string;
  answer: string;
  corrected: string;
}
const cases: Case[] = JSON.parse(readFileSync('tests/fixtures/tiny-aligner-cases.json', 'utf8'));
const FOLDER = 'tests/fixtures/models/tiny-aligner';

let engine: TransformersEngine;
beforeAll(async () => {
  engine = await loadNodeEngine({ model: FOLDER });
});
afterAll(async () => {
  await engine?.dispose();
});

describe('the engine on the tiny Aligner (onnxruntime-node, the same code the extension runs)', () => {
  test.each(cases.slice(0, 6))('corrects "$answer" exactly', async ({ question, answer, corrected }) => {
    const result = await correctAnswer(engine, question, answer, { template: 'aligner-v1', contextLength: 512, maxNewTokens: 128 });
    expect(result.text).toBe(corrected);
    expect(result.notes).toEqual([]);
  });

  test('returns the continuation only, never the echoed prompt', async () => {
    const result = await engine.generate(buildPrompt('aligner-v1', 'How is the weather?', 'The weather is bad today.'), { maxNewTokens: 64 });
    expect(result.text).toBe(' The weather is good today.');
    expect(result.text).not.toContain('ASSISTANT');
  });

  test('the engine streams the continuation piece by piece, in order', async () => {
    const seen: string[] = [];
    const result = await engine.generate(buildPrompt('aligner-v1', 'What do you think?', 'The plan is bad today. My dog never sleeps.'), {
      maxNewTokens: 128,
      onText: (text) => seen.push(text),
    });
    expect(seen.length).toBeGreaterThan(2);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.startsWith(seen[i - 1]!)).toBe(true);
    expect(seen.at(-1)).toBe(result.text);
  });

  test('correction updates only grow, in order, ending with done', async () => {
    const updates: CorrectionUpdate[] = [];
    await correctAnswer(engine, 'What do you think?', 'The plan is bad today. My dog never sleeps.', {
      template: 'aligner-v1',
      contextLength: 512,
      maxNewTokens: 128,
      onUpdate: (update) => updates.push(update),
    });
    // Deltas rebuild the text as it grew (each one an append, or a tail taken back).
    const texts: string[] = [];
    for (const update of updates) if (update.kind === 'text') texts.push(applyTextDelta(texts.at(-1) ?? '', update)!);
    expect(texts.length).toBeGreaterThan(0);
    for (let i = 1; i < texts.length; i++) expect(texts[i]!.startsWith(texts[i - 1]!.trimEnd())).toBe(true);
    expect(texts.at(-1)).toBe('The plan is good today. My dog always sleeps.');
    expect(updates.at(-1)).toMatchObject({ kind: 'done', text: 'The plan is good today. My dog always sleeps.' });
  });

  test('an abort stops generation within a token step', async () => {
    const controller = new AbortController();
    let pieces = 0;
    const run = engine.generate(buildPrompt('aligner-v1', 'What do you think?', 'The plan is bad today. My dog never sleeps. The food is bad.'), {
      maxNewTokens: 128,
      signal: controller.signal,
      onText: () => {
        pieces += 1;
        if (pieces === 2) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(pieces).toBeLessThanOrEqual(3);
  });

  test('a long answer is split at paragraphs, each part corrected by the model, and rejoined exactly', async () => {
    const multi = cases.filter((entry) => entry.answer.includes('\n\n'));
    const answer = multi.map((entry) => entry.answer).join('\n\n');
    const expected = multi.map((entry) => entry.corrected).join('\n\n');
    const updates: CorrectionUpdate[] = [];
    // 72 tokens of context: a part holds a paragraph or two, as the toy grammar was trained on.
    const result = await correctAnswer(engine, 'What do you think?', answer, {
      template: 'aligner-v1',
      contextLength: 72,
      maxNewTokens: 128,
      onUpdate: (update) => updates.push(update),
    });
    const parts = Math.max(...updates.flatMap((update) => (update.kind === 'text' ? [update.parts] : [0])));
    expect(parts).toBeGreaterThan(1);
    expect(result.text).toBe(expected);
  });

  test('a missing model folder names what is missing', async () => {
    expect(missingFromModelFolder('tests/fixtures/sites')).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/*.onnx']);
    await expect(loadNodeEngine({ model: './no/such/folder' })).rejects.toThrow(/missing: the folder .*no\/such\/folder itself/);
  });
});
