import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { joinBlocks, planChunks, splitParagraphs } from '../../../model/chunking';

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
