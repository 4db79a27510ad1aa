/**
 * Answers in the tiny Aligner's own grammar (the generator of scripts/tiny-aligner/build.py, in
 * TypeScript), as fast-check arbitraries: the inputs on which its corrections are meaningful.
 */
import fc from 'fast-check';

export const QUESTIONS = ['How is the weather?', 'What do you think?', 'Is it fun?', 'How was your day?', 'Can you help me?', 'What about the movie?', 'Is it bad?', 'Tell me about the plan.'];
const SUBJECTS = ['The weather', 'It', 'The food', 'The movie', 'My dog', 'The plan', 'This game', 'The book', 'Our team', 'She', 'He', 'The day'];
const ADJECTIVES = ['bad', 'good', 'fun', 'nice', 'cold', 'warm', 'great', 'slow', 'fast', 'small', 'sad', 'happy'];
const ADVERBS = ['never', 'always', 'often', 'really', 'sometimes'];
const VERBS = ['works', 'helps', 'wins', 'rains', 'sleeps', 'talks'];
const NOUNS = ['day', 'idea', 'dog', 'book', 'game', 'plan', 'movie'];
const OBJECTS = ['us', 'me', 'them', 'the team'];

const adjective = fc.oneof({ arbitrary: fc.constant('bad'), weight: 3 }, { arbitrary: fc.constantFrom(...ADJECTIVES), weight: 7 });
const adverb = fc.oneof({ arbitrary: fc.constant('never'), weight: 3 }, { arbitrary: fc.constantFrom(...ADVERBS), weight: 7 });
const subject = fc.constantFrom(...SUBJECTS);
const end = fc.constantFrom('.', '.', '.', '.', '!');

const sentence: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(subject, adjective, end).map(([s, a, e]) => `${s} is ${a} today${e}`),
  fc.tuple(subject, adverb, adjective, end).map(([s, v, a, e]) => `${s} is ${v} ${a}${e}`),
  fc.tuple(subject, adverb, fc.constantFrom(...VERBS), end).map(([s, v, verb, e]) => `${s} ${v} ${verb}${e}`),
  fc.tuple(subject, adverb, fc.constantFrom(...VERBS), fc.constantFrom(...OBJECTS), end).map(([s, v, verb, o, e]) => `${s} ${v} ${verb} ${o}${e}`),
  fc.tuple(adjective, fc.constantFrom(...NOUNS)).map(([a, n]) => `What a ${a} ${n}!`),
  fc.tuple(subject, adjective, end).map(([s, a, e]) => `I think ${s.toLowerCase()} was ${a}${e}`),
);

/** One to four sentences, joined by a space or a blank line. */
export const grammarAnswer: fc.Arbitrary<string> = fc
  .tuple(sentence, fc.array(fc.tuple(fc.constantFrom(' ', ' ', '\n\n'), sentence), { maxLength: 3 }))
  .map(([first, rest]) => first + rest.map(([sep, s]) => sep + s).join(''));

/** The tiny Aligner's correction: whole words bad → good, never → always. */
export function correctInGrammar(answer: string): string {
  return answer.replace(/\bbad\b/g, 'good').replace(/\bnever\b/g, 'always');
}
