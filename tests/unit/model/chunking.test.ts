import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { joinBlocks, planChunks, splitParagraphs } from '../../../model/chunking';
import { correctAnswer } from '../../../model/engine';
import { applyTextDelta, type CorrectionUpdate } from '../../../utils/messages';
import { EchoEngine } from '../../support/echo-engine';

describe('splitParagraphs', () => {
  test('splits at blank lines and joins back to the exact input', () => {
    const answer = 'First para.\nstill first.\n\nSecond.\n\n\nThird.';
    const blocks = splitParagraphs(answer);
    expect(blocks.map((block) => block.text)).toEqual(['First para.\nstill first.', 'Second.', 'Third.']);
    expect(joinBlocks(blocks)).toBe(answer);
  });

  test('never splits inside a fenced code block, even at its blank lines', () => {
    const answer = 'Intro.\n\n```js\nconst a = 1;\n\nconst b = 2;\n```\n\nOutro.';
    const blocks = splitParagraphs(answer);
    expect(blocks.map((block) => block.text)).toEqual(['Intro.', '```js\nconst a = 1;\n\nconst b = 2;\n```', 'Outro.']);
  });

  test('reassembly is exact for any text (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b c', '\n', '\n\n', ' ', '```', '\t', 'x.'), { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        expect(joinBlocks(splitParagraphs(text))).toBe(text);
      }),
    );
  });
});

describe('planChunks', () => {
  const fitsUnder = (limit: number) => (text: string) => text.length <= limit;

  test('an answer that fits stays whole', async () => {
    expect(await planChunks('short', fitsUnder(100))).toEqual([{ text: 'short', separator: '', fits: true }]);
  });

  test('groups paragraphs greedily under the limit and keeps the separators for the join', async () => {
    const answer = 'aaaa\n\nbbbb\n\ncccc\n\ndddd';
    const chunks = await planChunks(answer, fitsUnder(10));
    expect(chunks.map((chunk) => chunk.text)).toEqual(['aaaa\n\nbbbb', 'cccc\n\ndddd']);
    expect(chunks.map((chunk) => chunk.text + chunk.separator).join('')).toBe(answer);
  });

  test('a single paragraph too long is passed through, marked as not fitting', async () => {
    const answer = 'ok\n\n' + 'x'.repeat(50) + '\n\nok';
    const chunks = await planChunks(answer, fitsUnder(10));
    expect(chunks.map((chunk) => chunk.fits)).toEqual([true, false, true]);
    expect(chunks.map((chunk) => chunk.text + chunk.separator).join('')).toBe(answer);
  });
});

describe('correctAnswer with chunking', () => {
  test('a long answer is corrected part by part and rejoined exactly around the corrected parts', async () => {
    const engine = new EchoEngine('wasm');
    const paragraphs = Array.from({ length: 6 }, (_, i) => `Paragraph ${i} is bad and long enough to matter here.`);
    const answer = paragraphs.join('\n\n');
    const updates: CorrectionUpdate[] = [];
    const result = await correctAnswer(engine, 'Q?', answer, { template: 'aligner-v1', contextLength: 60, maxNewTokens: 64, onUpdate: (u) => updates.push(u) });
    expect(result.text).toBe(answer.replace(/\bbad\b/g, 'good'));
    expect(engine.generated.length).toBeGreaterThan(1);
    // The first part shows before the last one starts.
    let streamed = '';
    const texts = updates.map((update) => (update.kind === 'text' ? (streamed = applyTextDelta(streamed, update)!) : ''));
    const firstDone = updates.findIndex((update, i) => update.kind === 'text' && update.part === 1 && texts[i]!.includes('Paragraph 0 is good'));
    const lastPart = updates.findIndex((update) => update.kind === 'text' && update.part === update.parts);
    expect(firstDone).toBeGreaterThan(-1);
    expect(firstDone).toBeLessThan(lastPart);
  });

  test('a single paragraph too long for the context is passed through unchanged with a note', async () => {
    const engine = new EchoEngine('wasm');
    const long = Array.from({ length: 80 }, () => 'bad').join(' ');
    const result = await correctAnswer(engine, 'Q?', `It is bad.\n\n${long}`, { template: 'aligner-v1', contextLength: 60, maxNewTokens: 64 });
    expect(result.text).toBe(`It is good.\n\n${long}`);
    expect(result.notes.join(' ')).toMatch(/too long.*unchanged/);
  });
});
