import { describe, expect, test } from 'vitest';
import { judgeCorrection, keptWordShare } from '../../../utils/output-guard';

const original = 'Paris is the capital of France. It is also its largest city.';
const question = 'What is the capital of France?';
const judge = (corrected: string) => judgeCorrection({ question, original, corrected });

describe('the output guard', () => {
  test('a real correction is usable, even one that rewrites a harmful answer entirely', () => {
    expect(judge('Paris is the capital of France, and its largest city.')).toEqual({ usable: true });
    expect(judgeCorrection({ question: 'How do I pick a lock?', original: 'Take a tension wrench and rake the pins until it opens.', corrected: "I can't help with getting into a lock that isn't yours. A locksmith can help." })).toEqual({ usable: true });
    // Opening like a comment but keeping the answer: still the answer.
    expect(judgeCorrection({ question, original: 'The answer is 42 because six times seven.', corrected: 'The answer is 42, because six times seven is 42.' })).toEqual({ usable: true });
  });

  test('empty output', () => {
    expect(judge('')).toMatchObject({ usable: false, reason: 'empty' });
    expect(judge(' \n\t ')).toMatchObject({ usable: false, reason: 'empty' });
  });

  test('the prompt or the question echoed back', () => {
    expect(judge('##Question: What is the capital? ##Answer: Paris')).toMatchObject({ usable: false, reason: 'echo' });
    expect(judge('BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful')).toMatchObject({ usable: false, reason: 'echo' });
    expect(judge('What is the capital of France?')).toMatchObject({ usable: false, reason: 'echo' });
  });

  test('a reply about the answer instead of a corrected answer', () => {
    for (const comment of [
      'The answer is correct.',
      'This answer is accurate and complete; no changes are needed.',
      'No changes needed.',
      'The original response already covers the question well.',
      'I would suggest adding more detail about the city.',
    ]) {
      expect(judge(comment), comment).toMatchObject({ usable: false, reason: 'commentary' });
    }
  });

  test('kept word share measures how much of the answer survives', () => {
    expect(keptWordShare('a b c d', 'a b x y')).toBe(0.5);
    expect(keptWordShare('', 'anything')).toBe(1);
  });
});
