import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { _setSegmenterForTests, countChanges, diffAnswer, isFoldable, splitBlocks, tokenize, type DiffPart } from '../../../utils/diff';
import { editWords, generateAnswer, seededRandom } from '../../support/prose';

const original = (parts: DiffPart[]) => parts.filter((p) => p.kind !== 'added').map((p) => p.text).join('');
const corrected = (parts: DiffPart[]) => parts.filter((p) => p.kind !== 'removed').map((p) => p.text).join('');

/** Checks the shape every diff must have: exact both ways, no empty parts, neighbours merged, removed before added. */
function expectWellFormed(parts: DiffPart[], a: string, b: string): void {
  expect(original(parts)).toBe(a);
  expect(corrected(parts)).toBe(b);
  for (let i = 0; i < parts.length; i++) {
    expect(parts[i].text).not.toBe('');
    if (i > 0) {
      expect(parts[i].kind).not.toBe(parts[i - 1].kind);
      // Within a change, the removal comes first.
      expect(parts[i - 1].kind === 'added' && parts[i].kind === 'removed').toBe(false);
    }
  }
}

const hasLoneSurrogate = (s: string) => /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

describe('diffAnswer reassembles both texts exactly', () => {
  it('for arbitrary strings, including unpaired surrogates and mixed scripts', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', '.', '我', '😀', 'م', '\u0301', '\ud83d'), maxLength: 60 }),
    );
    fc.assert(
      fc.property(text, text, (a, b) => {
        expectWellFormed(diffAnswer(a, b), a, b);
      }),
      { numRuns: 500 },
    );
  });

  it('for generated answers with random word edits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 50, max: 3000 }),
        fc.double({ min: 0, max: 0.9, noNaN: true }),
        (seed, size, fraction) => {
          const rnd = seededRandom(seed);
          const a = generateAnswer(rnd, size);
          const b = editWords(rnd, a, fraction);
          expectWellFormed(diffAnswer(a, b), a, b);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('when the time budget is spent at once (timeBudgetMs: 0) on a large rewritten pair', () => {
    const rnd = seededRandom(42);
    const a = generateAnswer(rnd, 20_000);
    const b = editWords(rnd, a, 0.5);
    const parts = diffAnswer(a, b, { timeBudgetMs: 0 });
    expectWellFormed(parts, a, b);
    // The fallback is coarse: a few whole-block changes (between sentences left unchanged),
    // not the hundreds of word hunks that a full diff of the same pair shows.
    expect(countChanges(parts)).toBeLessThanOrEqual(10);
    expect(countChanges(diffAnswer(a, b, { timeBudgetMs: 10_000 }))).toBeGreaterThan(200);
  });

  it('with the default budget on a large rewritten pair, as word hunks', () => {
    const rnd = seededRandom(7);
    const a = generateAnswer(rnd, 20_000);
    const b = editWords(rnd, a, 0.3);
    const parts = diffAnswer(a, b, { timeBudgetMs: 10_000 });
    expectWellFormed(parts, a, b);
    expect(countChanges(parts)).toBeGreaterThan(50);
    // No change swallows a whole paragraph's worth of text.
    expect(Math.max(...parts.filter((p) => p.kind !== 'same').map((p) => p.text.length))).toBeLessThan(1000);
  });
});

describe('diffAnswer reads as a word diff', () => {
  it('shows "bad." -> "good." as bad -> good, keeping the period', () => {
    expect(diffAnswer('This is bad.', 'This is good.')).toEqual([
      { kind: 'same', text: 'This is ' },
      { kind: 'removed', text: 'bad' },
      { kind: 'added', text: 'good' },
      { kind: 'same', text: '.' },
    ]);
  });

  it('changes whole words, never parts of them', () => {
    const parts = diffAnswer('The cat sat on the mat.', 'The cart sat on the hat.');
    expect(parts.filter((p) => p.kind === 'removed').map((p) => p.text)).toEqual(['cat', 'mat']);
    expect(parts.filter((p) => p.kind === 'added').map((p) => p.text)).toEqual(['cart', 'hat']);
  });

  it('folds a lone space between two changed words into one change', () => {
    expect(diffAnswer('I like red apples a lot', 'I like green pears a lot')).toEqual([
      { kind: 'same', text: 'I like ' },
      { kind: 'removed', text: 'red apples' },
      { kind: 'added', text: 'green pears' },
      { kind: 'same', text: ' a lot' },
    ]);
  });

  it('keeps whitespace changes, including line breaks, exactly', () => {
    const parts = diffAnswer('one two\nthree', 'one  two\n\nthree');
    expectWellFormed(parts, 'one two\nthree', 'one  two\n\nthree');
    expect(parts.filter((p) => p.kind === 'same').map((p) => p.text).join('|')).toBe('one|two|three');
  });

  it('diffs only the changed sentence of a long answer', () => {
    const a = 'First sentence stays. Second one is wrong here. Third stays too.\n\nA new paragraph.';
    const b = 'First sentence stays. Second one is right here. Third stays too.\n\nA new paragraph.';
    expect(diffAnswer(a, b).filter((p) => p.kind !== 'same')).toEqual([
      { kind: 'removed', text: 'wrong' },
      { kind: 'added', text: 'right' },
    ]);
  });

  it('keeps a sentence that was split in two inside one word diff', () => {
    const a = 'Alpha. Water boils at one hundred degrees and freezes at zero degrees in most places. Omega.';
    const b = 'Alpha. Water boils at one hundred degrees. It freezes at zero degrees in most places. Omega.';
    const parts = diffAnswer(a, b);
    expectWellFormed(parts, a, b);
    expect(parts.filter((p) => p.kind !== 'same')).toEqual([
      { kind: 'removed', text: ' and' },
      { kind: 'added', text: '. It' },
    ]);
  });
});

describe('diffAnswer edge cases', () => {
  it('returns one same part for identical texts and nothing for two empty texts', () => {
    expect(diffAnswer('Same text.\n', 'Same text.\n')).toEqual([{ kind: 'same', text: 'Same text.\n' }]);
    expect(diffAnswer('', '')).toEqual([]);
  });

  it('returns all added for an empty original and all removed for an empty correction', () => {
    expect(diffAnswer('', 'New answer.')).toEqual([{ kind: 'added', text: 'New answer.' }]);
    expect(diffAnswer('Old answer.', '')).toEqual([{ kind: 'removed', text: 'Old answer.' }]);
  });
});

describe('diffAnswer and Unicode', () => {
  afterEach(() => _setSegmenterForTests(true));

  it('never splits an emoji (surrogate pairs, ZWJ families, flags, skin tones)', () => {
    const a = 'I love 😀 and 👨‍👩‍👧 and 🇫🇷 and 👍🏽 ok';
    const b = 'I love 😃 and 👨‍👩‍👦 and 🇩🇪 and 👍🏿 ok';
    const parts = diffAnswer(a, b);
    expectWellFormed(parts, a, b);
    for (const p of parts) expect(hasLoneSurrogate(p.text)).toBe(false);
    expect(parts.filter((p) => p.kind === 'removed').map((p) => p.text)).toEqual(['😀', '👨‍👩‍👧', '🇫🇷', '👍🏽']);
    expect(parts.filter((p) => p.kind === 'added').map((p) => p.text)).toEqual(['😃', '👨‍👩‍👦', '🇩🇪', '👍🏿']);
  });

  it('diffs Chinese without spaces by word (Intl.Segmenter)', () => {
    const parts = diffAnswer('我喜欢吃苹果。', '我喜欢吃香蕉。');
    expect(parts).toEqual([
      { kind: 'same', text: '我喜欢吃' },
      { kind: 'removed', text: '苹果' },
      { kind: 'added', text: '香蕉' },
      { kind: 'same', text: '。' },
    ]);
  });

  it('diffs Chinese per character when Intl.Segmenter is missing', () => {
    _setSegmenterForTests(false);
    expect(tokenize('我喜欢')).toEqual(['我', '喜', '欢']);
    const parts = diffAnswer('我喜欢吃苹果。', '我喜欢吃香蕉。');
    expectWellFormed(parts, '我喜欢吃苹果。', '我喜欢吃香蕉。');
    expect(parts.filter((p) => p.kind === 'removed').map((p) => p.text)).toEqual(['苹果']);
  });

  it('diffs Japanese mixed with Latin words', () => {
    const a = 'これはReactのコードです。';
    const b = 'これはPreactのコードです。';
    const parts = diffAnswer(a, b);
    expectWellFormed(parts, a, b);
    expect(parts.filter((p) => p.kind === 'removed').map((p) => p.text)).toEqual(['React']);
    expect(parts.filter((p) => p.kind === 'added').map((p) => p.text)).toEqual(['Preact']);
  });

  it('diffs right-to-left text (Arabic, Hebrew) by whole words', () => {
    const a = 'مرحبا بالعالم الجميل. שלום עולם';
    const b = 'مرحبا بالعالم الكبير. שלום חבר';
    const parts = diffAnswer(a, b);
    expectWellFormed(parts, a, b);
    expect(parts.filter((p) => p.kind === 'removed').map((p) => p.text)).toEqual(['الجميل', 'עולם']);
    expect(parts.filter((p) => p.kind === 'added').map((p) => p.text)).toEqual(['الكبير', 'חבר']);
  });

  it('keeps combining accents with their letter', () => {
    const a = 'cafe\u0301 noir';
    const b = 'cafe\u0301 blanc';
    expect(diffAnswer(a, b)).toEqual([
      { kind: 'same', text: 'cafe\u0301 ' },
      { kind: 'removed', text: 'noir' },
      { kind: 'added', text: 'blanc' },
    ]);
  });
});

describe('tokenize and splitBlocks', () => {
  it('tokenize keeps contractions, hyphenated words and decimals whole, punctuation apart', () => {
    expect(tokenize("don't well-known 3.14 1,000 end.")).toEqual([
      "don't", ' ', 'well-known', ' ', '3.14', ' ', '1,000', ' ', 'end', '.',
    ]);
  });

  it('splitBlocks cuts after sentence ends and line breaks and joins back exactly', () => {
    const text = 'One. Two? Pi is 3.14 here!\n\nList:\n- a\n你好。世界';
    const blocks = splitBlocks(text);
    expect(blocks).toEqual(['One. ', 'Two? ', 'Pi is 3.14 here!\n\n', 'List:\n', '- a\n', '你好。', '世界']);
    expect(blocks.join('')).toBe(text);
  });
});

describe('countChanges', () => {
  it('counts a removal next to an addition as one change', () => {
    expect(
      countChanges([
        { kind: 'same', text: 'a ' },
        { kind: 'removed', text: 'b' },
        { kind: 'added', text: 'c' },
        { kind: 'same', text: ' d ' },
        { kind: 'added', text: 'e' },
        { kind: 'same', text: ' f ' },
        { kind: 'removed', text: 'g' },
      ]),
    ).toBe(3);
  });

  it('counts nothing for identical texts and one for a rewritten short answer', () => {
    expect(countChanges(diffAnswer('same', 'same'))).toBe(0);
    expect(countChanges([])).toBe(0);
    expect(countChanges(diffAnswer('This is bad.', 'This is good.'))).toBe(1);
  });
});

describe('diffAnswer is bounded on hostile inputs (issue 12)', () => {
  afterEach(() => _setSegmenterForTests(true));

  it('decides what folds in one scan: each character read a bounded number of times', () => {
    // The regex it replaces backtracked quadratically on a long run of spaces (30,000: 1.4 s).
    for (const text of [' '.repeat(30_000) + '\nx', ' '.repeat(30_000) + 'word' + ' '.repeat(30_000) + '.', 'a'.repeat(30_000) + ' b']) {
      let reads = 0;
      const counted = new Proxy(Object(text) as object, {
        get(target, key) {
          if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
          const value = Reflect.get(target, key);
          return typeof value === 'function' ? value.bind(text) : value;
        },
      }) as unknown as string;
      isFoldable(counted);
      expect(reads).toBeLessThanOrEqual(2 * text.length);
    }
  });

  it('folds exactly what the old regex folded: spaces, or one word with its spaces, no line or sentence break (property)', () => {
    const reference = /^[^\S\n]*[^\s.!?:;\u3002\uff01\uff1f]*[^\S\n]*$/u;
    const text = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\u00a0', '\u3000', 'a', 'é', '我', '😀', '.', '!', ':', '\u3002', '-'), maxLength: 12 });
    fc.assert(
      fc.property(text, (t) => {
        expect(isFoldable(t), JSON.stringify(t)).toBe(reference.test(t));
      }),
      { numRuns: 2000 },
    );
  });

  it('diffs around a 300,000-space run exactly (the old folding needed ~10^11 steps here)', () => {
    const spaces = ' '.repeat(300_000);
    for (const [a, b] of [
      [`a${spaces}\nb`, `c${spaces}\nd`],
      [`a ${spaces}\n b`, `c ${spaces}\n d`],
    ]) {
      // A budget that never runs out: the word diff and its folding run in full.
      const parts = diffAnswer(a!, b!, { timeBudgetMs: 600_000 });
      expectWellFormed(parts, a!, b!);
      expect(parts.find((p) => p.kind === 'same' && p.text.length >= 300_000)).toBeDefined();
    }
  });

  it('never hands Intl.Segmenter a run of more than 256 characters, and hands it each character once', () => {
    const asked: string[] = [];
    const real = new Intl.Segmenter(undefined, { granularity: 'word' });
    _setSegmenterForTests({ segment: (s: string) => (asked.push(s), real.segment(s)) });
    const base = '这是一个测试句子包含中文字符我们需要检查性能问题以及分词的速度和差异算法的表现';
    const run = Array.from({ length: 60_000 }, (_, i) => base[(i * 7) % base.length]).join('');
    const tokens = tokenize(run);
    expect(tokens.join('')).toBe(run);
    expect(Math.max(...asked.map((s) => s.length))).toBeLessThanOrEqual(256);
    expect(asked.join('')).toBe(run);
  });

  it('cuts long space-less runs where the content says, so an edit at the start does not shift every later cut', () => {
    const base = '这是一个测试句子包含中文字符我们需要检查性能问题以及分词的速度和差异算法的表现';
    const run = Array.from({ length: 20_000 }, (_, i) => base[(i * 7) % base.length]).join('');
    const parts = diffAnswer(run, `好${run}`, { timeBudgetMs: 60_000 });
    expectWellFormed(parts, run, `好${run}`);
    // One insertion, and at most the first window re-segmented around it: never a change per window.
    expect(countChanges(parts)).toBeLessThanOrEqual(2);
    expect(parts.filter((p) => p.kind !== 'same').map((p) => p.text).join('').length).toBeLessThan(300);
  });

  it('stops segmenting once the time budget is spent, and shows the change whole (exact)', () => {
    // Each call of this segmenter costs 2 ms of clock, so a 20 ms budget is spent after ~10 windows.
    const asked: string[] = [];
    const real = new Intl.Segmenter(undefined, { granularity: 'word' });
    const slow = (s: string) => {
      asked.push(s);
      const until = performance.now() + 2;
      while (performance.now() < until) {
        /* spend the clock */
      }
      return real.segment(s);
    };
    _setSegmenterForTests({ segment: slow });
    const base = '这是一个测试句子包含中文字符我们需要检查性能问题以及分词的速度和差异算法的表现';
    const a = Array.from({ length: 60_000 }, (_, i) => base[(i * 7) % base.length]).join('');
    const b = a.replace(/检查/g, '核对');
    const parts = diffAnswer(a, b, { timeBudgetMs: 20 });
    expectWellFormed(parts, a, b);
    // Not the whole of either text: segmentation ended with the budget.
    expect(asked.join('').length).toBeLessThan(a.length / 2);
  });
});
