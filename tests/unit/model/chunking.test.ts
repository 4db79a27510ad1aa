import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { joinBlocks, MAX_PARTS, planChunks, splitParagraphs } from '../../../model/chunking';
import {
  correctAnswer,
  correctionCharLimit,
  QUESTION_CUT_MARKER,
  questionHeadAndTail,
  type AlignerEngine,
  type GenerateOptions,
  type Prompt,
} from '../../../model/engine';
import { applyTextDelta, MAX_ANSWER_CHARS, MAX_TEXT_CHARS, type CorrectionUpdate } from '../../../utils/messages';
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
  // One token a character: the plan is exact, so groups are easy to predict.
  const fitsUnder = (limit: number) => ({ countTokens: (text: string) => text.length, maxTokens: limit });

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

describe('correctAnswer streaming', () => {
  test('a first token that shows nothing (a space) does not hold back the first words', async () => {
    // Models often start with a space: it must not start the once-a-frame wait, or the first
    // words wait for the next update (measured: +16 ms to first text on the remote path).
    const engine: AlignerEngine = {
      device: 'wasm',
      countPromptTokens: async () => 10,
      generate: async (_prompt: Prompt, options: GenerateOptions) => {
        options.onText?.(' ');
        options.onText?.(' The');
        await new Promise((resolve) => setTimeout(resolve, 60));
        options.onText?.(' The weather is good.');
        return { text: ' The weather is good.', tokens: 5 };
      },
      dispose: async () => undefined,
    };
    const texts: string[] = [];
    let streamed = '';
    await correctAnswer(engine, 'How is the weather?', 'The weather is bad.', {
      template: 'aligner-v1',
      contextLength: 512,
      maxNewTokens: 64,
      onUpdate: (update) => {
        if (update.kind === 'text') texts.push((streamed = applyTextDelta(streamed, update)!));
      },
    });
    expect(texts[0]).toBe('The');
    expect(texts.at(-1)).toBe('The weather is good.');
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

/**
 * A stand-in engine that counts what it is asked: tokens are 4 characters (no real tokenizer),
 * each count is recorded, and a correction echoes its part with bad→good at once.
 */
class CountingEngine implements AlignerEngine {
  readonly device = 'wasm' as const;
  counts: number[] = [];
  prompts: string[] = [];
  generated = 0;
  async countPromptTokens(prompt: Prompt) {
    const text = prompt.kind === 'text' ? prompt.text : prompt.messages.map((m) => m.content).join('\n');
    this.counts.push(text.length);
    return Math.ceil(text.length / 4);
  }
  async generate(prompt: Prompt, options: GenerateOptions) {
    this.generated += 1;
    const text = prompt.kind === 'text' ? prompt.text : '';
    this.prompts.push(text);
    const answer = options.source ?? '';
    return { text: ` ${answer.replace(/\bbad\b/g, 'good')}`, tokens: Math.ceil(answer.length / 4) };
  }
  async dispose() {}
}

const shortParagraphs = (count: number) => Array.from({ length: count }, (_, i) => `Item ${i} is bad.`).join('\n\n');

describe('planning is bounded (issue 12)', () => {
  test('8,000 short paragraphs: a bounded number of tokenizer calls, never one per paragraph', async () => {
    const answer = shortParagraphs(8000);
    const calls: number[] = [];
    const chunks = await planChunks(answer, { countTokens: (text) => (calls.push(text.length), Math.ceil(text.length / 4)), maxTokens: 700 });
    expect(calls.length).toBeLessThanOrEqual(2 * MAX_PARTS + 8);
    // Each call tokenises at most the answer; all of them together a small multiple of it.
    expect(calls.reduce((sum, length) => sum + length, 0)).toBeLessThanOrEqual(3 * answer.length);
    expect(chunks.length).toBeLessThanOrEqual(MAX_PARTS + 1);
    expect(chunks.map((chunk) => chunk.text + chunk.separator).join('')).toBe(answer);
    expect(chunks.at(-1)).toMatchObject({ fits: false, reason: 'part-limit' });
    for (const chunk of chunks.slice(0, -1)) expect(Math.ceil(chunk.text.length / 4)).toBeLessThanOrEqual(700);
  });

  test('every planned part is verified with one count and fits, even where the density varies (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ word: fc.constantFrom('a', 'bb', '我们', 'x y z', '```', '\t'), repeat: fc.integer({ min: 1, max: 60 }) }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 20, max: 200 }),
        async (paragraphs, maxTokens) => {
          const answer = paragraphs.map(({ word, repeat }) => word.repeat(repeat)).join('\n\n');
          // CJK costs a token a character here, Latin a token per 4: the estimate is often wrong.
          const count = (text: string) => Math.ceil(text.replace(/[我们]/g, 'xxxx').length / 4);
          let calls = 0;
          const chunks = await planChunks(answer, { countTokens: (text) => (calls++, count(text)), maxTokens, maxParts: 8 });
          expect(chunks.map((chunk) => chunk.text + chunk.separator).join('')).toBe(answer);
          expect(calls).toBeLessThanOrEqual(2 * 8 + 8);
          expect(chunks.length).toBeLessThanOrEqual(9);
          for (const chunk of chunks) {
            if (chunk.fits && chunk.text.trim() !== '') expect(count(chunk.text)).toBeLessThanOrEqual(maxTokens);
            if (!chunk.fits && chunk.reason === 'too-long') expect(count(chunk.text)).toBeGreaterThan(maxTokens);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('correctAnswer on hostile sizes (issue 12)', () => {
  test('a 100 KB question plus 8,000 short paragraphs: question cut, parts capped, notes merged, calls bounded', async () => {
    const engine = new CountingEngine();
    const question = `Please fix this. ${'lorem ipsum '.repeat(8_500)} What is wrong here?`;
    const answer = shortParagraphs(8000);
    const result = await correctAnswer(engine, question, answer, { template: 'aligner-v1', contextLength: 2048, maxNewTokens: 1024 });
    // The template, the question (at most 3 counts), the base, then planning: never per paragraph.
    expect(engine.counts.length).toBeLessThanOrEqual(1 + 3 + 1 + (2 * MAX_PARTS + 8));
    expect(engine.generated).toBeLessThanOrEqual(MAX_PARTS);
    // Every prompt holds the question's beginning and end with the marker, within its share.
    for (const text of engine.prompts) {
      expect(text).toContain('Please fix this.');
      expect(text).toContain('What is wrong here?');
      expect(text).toContain(QUESTION_CUT_MARKER);
      expect(Math.ceil(text.length / 4)).toBeLessThanOrEqual(2048);
    }
    expect(result.notes.length).toBeLessThanOrEqual(3);
    expect(result.notes.join('\n')).toMatch(/question is long \(102,0\d\d characters\): the model was given its beginning and its end/);
    expect(result.notes.join('\n')).toMatch(/first \d+ parts were corrected; the rest \([\d,]+ characters\) is shown unchanged/);
    // Corrected parts read good; the rest is exactly the original.
    expect(result.text.startsWith('Item 0 is good.')).toBe(true);
    expect(result.text.endsWith('Item 7999 is bad.')).toBe(true);
    expect(result.text.replace(/\bgood\b/g, 'bad')).toBe(answer);
  });

  test('a question that fits is given whole, with no note', async () => {
    const engine = new CountingEngine();
    const result = await correctAnswer(engine, 'Short question?', 'It is bad.', { template: 'aligner-v1', contextLength: 2048, maxNewTokens: 64 });
    expect(engine.prompts[0]).toContain('Short question? |');
    expect(engine.prompts[0]).not.toContain(QUESTION_CUT_MARKER);
    expect(result.notes).toEqual([]);
    expect(result.text).toBe('It is good.');
  });

  test('questionHeadAndTail keeps both ends and never splits a surrogate pair', () => {
    expect(questionHeadAndTail('abcdefghij', 4)).toBe(`ab${QUESTION_CUT_MARKER}ij`);
    expect(questionHeadAndTail('short', 10)).toBe('short');
    const cut = questionHeadAndTail('😀😀😀😀😀😀', 5);
    expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
  });

  test('many paragraphs too long for the context make one note, not one each', async () => {
    const engine = new EchoEngine('wasm');
    const long = Array.from({ length: 80 }, () => 'bad').join(' ');
    const answer = Array.from({ length: 10 }, () => long).join('\n\n');
    const result = await correctAnswer(engine, 'Q?', answer, { template: 'aligner-v1', contextLength: 60, maxNewTokens: 64 });
    expect(result.text).toBe(answer);
    expect(result.notes).toEqual(["Parts 1–10 of 10 are single paragraphs too long for the model's context (60 tokens); they are shown unchanged."]);
  });

  test('each correction is capped in characters (3 × its part + 4,096), with one note', async () => {
    const runaway: AlignerEngine = {
      device: 'remote',
      countPromptTokens: async (prompt) => Math.ceil((prompt.kind === 'text' ? prompt.text.length : 0) / 4),
      generate: async (_prompt, options) => {
        // An engine that honours maxChars, as RemoteEngine does.
        const text = 'z'.repeat(options.maxChars ?? 1e6);
        return { text, tokens: 10, charLimitReached: true };
      },
      dispose: async () => undefined,
    };
    const result = await correctAnswer(runaway, 'Q?', 'It is bad.', { template: 'aligner-v1', contextLength: 2048, maxNewTokens: 1024 });
    expect(result.text.length).toBe(correctionCharLimit('It is bad.'.length));
    expect(result.notes).toEqual(['The correction ran far longer than the answer (over 3 times plus 4,096 characters) and was cut there.']);
  });

  test('the character cap keeps any accepted answer within the message layer', () => {
    expect(3 * MAX_ANSWER_CHARS + MAX_PARTS * correctionCharLimit(0)).toBeLessThanOrEqual(MAX_TEXT_CHARS);
  });
});
