// Copy-aware drafting: draftTokens proposes the source tokens that follow where the output is in
// the source, recovers after substitutions, insertions, deletions and moved sentences, proposes
// nothing when nothing aligns, respects maxDraft, and is pure (its memo never changes a result).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { draftTokens, proposeDraft } from '../../../model/draft';

// Words as token ids: each test writes sentences, and ids stand for words (as BPE tokens would).
const vocabulary = new Map<string, number>();
const ids = (text: string) =>
  text.split(' ').filter(Boolean).map((word) => {
    if (!vocabulary.has(word)) vocabulary.set(word, vocabulary.size + 10);
    return vocabulary.get(word)!;
  });

const SOURCE = ids('the weather is bad today . my dog never sleeps at night . the food is bad too , and the movie was long .');

describe('draftTokens', () => {
  it('proposes the source from the start before anything is generated', () => {
    expect(draftTokens(SOURCE, [], 4)).toEqual(ids('the weather is bad'));
  });

  it('continues the copy where the output is', () => {
    expect(draftTokens(SOURCE, ids('the weather is bad today . my'), 3)).toEqual(ids('dog never sleeps'));
  });

  it('after a substituted word, proposes what followed the replaced one', () => {
    expect(draftTokens(SOURCE, ids('the weather is good'), 3)).toEqual(ids('today . my'));
    expect(draftTokens(SOURCE, ids('the weather is good today . my dog always'), 2)).toEqual(ids('sleeps at'));
  });

  it('after an inserted word, picks the copy up again as soon as the output returns to the source', () => {
    expect(draftTokens(SOURCE, ids('the weather is really bad'), 3)).toEqual(ids('today . my'));
  });

  it('after deleted words, follows the output past them', () => {
    expect(draftTokens(SOURCE, ids('the weather is today'), 3)).toEqual(ids('. my dog'));
    expect(draftTokens(SOURCE, ids('the weather is bad today . my dog sleeps'), 3)).toEqual(ids('at night .'));
  });

  it('after a rewritten stretch, resumes once three tokens match anywhere (a moved sentence)', () => {
    const generated = ids('the food is bad too , and the movie was long . the weather is');
    expect(draftTokens(SOURCE, generated, 3)).toEqual(ids('bad today .'));
  });

  it('prefers the occurrence nearest where the copy was for repeated words', () => {
    // "is bad" occurs twice; after "the food is", the second one is the copy.
    expect(draftTokens(SOURCE, ids('the weather is bad today . my dog never sleeps at night . the food is'), 3)).toEqual(ids('bad too ,'));
  });

  it('proposes nothing when nothing aligns, or the source is used up', () => {
    // A few unmatched tokens still guess a substitution; past eight, nothing aligns any more.
    const unrelated = ids('completely different words here with nothing shared in all those');
    expect(draftTokens(SOURCE, unrelated.slice(0, 2), 2)).toEqual(ids('is bad'));
    expect(draftTokens(SOURCE, unrelated, 5)).toEqual([]);
    expect(draftTokens([], ids('the weather'), 5)).toEqual([]);
    expect(draftTokens(SOURCE, SOURCE, 5)).toEqual([]);
  });

  it('respects maxDraft', () => {
    expect(draftTokens(SOURCE, [], 0)).toEqual([]);
    expect(draftTokens(SOURCE, ids('the weather'), 1)).toEqual(ids('is'));
    expect(draftTokens(SOURCE, ids('the weather'), 1000)).toEqual(SOURCE.slice(2));
  });

  it('says how long the output has been copying', () => {
    expect(proposeDraft(SOURCE, ids('the weather is bad'), 2).copyRun).toBe(4);
    expect(proposeDraft(SOURCE, ids('the weather is good'), 2).copyRun).toBe(0);
  });

  it('is pure: the same inputs give the same output whatever was asked before, mutated arrays included', () => {
    const token = fc.integer({ min: 0, max: 12 });
    const query = fc.record({ generated: fc.array(token, { maxLength: 40 }), maxDraft: fc.integer({ min: 0, max: 10 }) });
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), fc.array(query, { minLength: 2, maxLength: 12 }), (source, queries) => {
        // Reference: each query answered by a fresh copy of the source (no memo shared with it).
        const expected = queries.map(({ generated, maxDraft }) => draftTokens([...source], generated, maxDraft));
        // The same queries on one source array, in another order, interleaved with unrelated calls.
        const shared = [...source];
        const order = queries.map((_, i) => i).reverse();
        for (const i of order) {
          draftTokens(shared, [...queries[i]!.generated, 3, 1, 4], 5);
          expect(draftTokens(shared, queries[i]!.generated, queries[i]!.maxDraft)).toEqual(expected[i]);
        }
        // A source array changed in place gets a fresh index.
        if (shared.length > 0) {
          shared[0] = (shared[0]! + 1) % 13;
          const copy = [...shared];
          for (const { generated, maxDraft } of queries) expect(draftTokens(shared, generated, maxDraft)).toEqual(draftTokens(copy, generated, maxDraft));
        }
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('only ever proposes a contiguous stretch of the source', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 80 }), fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), (source, generated, maxDraft) => {
        const draft = draftTokens(source, generated, maxDraft);
        expect(draft.length).toBeLessThanOrEqual(maxDraft);
        if (draft.length === 0) return;
        const found = source.some((_, start) => draft.every((t, i) => source[start + i] === t));
        expect(found).toBe(true);
      }),
      { numRuns: 300, seed: 6 },
    );
  });

  it('accepts typed arrays as well as plain ones', () => {
    expect(draftTokens(Int32Array.from(SOURCE), Int32Array.from(ids('the weather')), 2)).toEqual(ids('is bad'));
  });
});
