/**
 * Correction cases for the decode benches (Node and Chromium): copy-heavy answers in the tiny
 * Aligner's grammar, and the same prompts with drafts taken from an unrelated text (nothing the
 * drafter proposes can be copied), plus the timing loop that compares modes as ratios in one run.
 */
import fc from 'fast-check';
import { grammarAnswer, QUESTIONS } from '../support/tiny-grammar';

export interface DecodeCase {
  question: string;
  answer: string;
  /** A text the output does not copy: drafts from it are (almost) always wrong. */
  unrelated: string;
}

const UNRELATED = [
  'Quantum tunnelling lets particles cross barriers; classical physics forbids it entirely, yet diodes rely on it daily.',
  'Sourdough needs flour, water, salt and patience: ferment overnight, fold twice, bake hot and covered.',
  'Ports 80/443 carry HTTP(S); SSH listens on 22, SMTP on 25 — firewalls usually block the rest by default.',
];

/**
 * Eight answers of three or four sentences in the tiny Aligner's grammar (its longest; longer
 * ones are outside what it learnt), drawn with a fixed seed.
 */
export function decodeCases(): DecodeCase[] {
  const answers = fc.sample(grammarAnswer, { seed: 42, numRuns: 400 }).filter((answer) => (answer.match(/[.!]/g) ?? []).length >= 3);
  return answers.slice(0, 8).map((answer, i) => ({ question: QUESTIONS[i % QUESTIONS.length]!, answer, unrelated: UNRELATED[i % UNRELATED.length]! }));
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export interface RoundResult {
  tokens: number;
  /** Decoding passes (the prefill not counted). */
  passes: number;
  /** Time after the first token, summed over the round (prefills are the same in every mode). */
  decodeMs: number;
}

/**
 * Times every mode on every case, `rounds` times after a warm-up round, in a rotating order, case
 * by case: noise from the rest of the machine then falls on all modes alike. Each mode's time is
 * the sum over cases of the median over rounds (whole correction, and decoding alone).
 */
export async function alternate<Mode extends string>(
  modes: readonly Mode[],
  rounds: number,
  caseCount: number,
  runCase: (mode: Mode, caseIndex: number) => Promise<RoundResult>,
): Promise<Record<Mode, RoundResult & { ms: number }>> {
  const times = new Map<string, number[]>();
  const decodeTimes = new Map<string, number[]>();
  const counts = new Map<Mode, RoundResult>(modes.map((mode) => [mode, { tokens: 0, passes: 0, decodeMs: 0 }]));
  for (let round = -1; round < rounds; round++) {
    for (let index = 0; index < caseCount; index++) {
      const shift = (round + 1 + index) % modes.length;
      for (const mode of [...modes.slice(shift), ...modes.slice(0, shift)]) {
        const started = performance.now();
        const result = await runCase(mode, index);
        const ms = performance.now() - started;
        if (round < 0) continue;
        const key = `${mode}/${index}`;
        (times.get(key) ?? times.set(key, []).get(key)!).push(ms);
        (decodeTimes.get(key) ?? decodeTimes.set(key, []).get(key)!).push(result.decodeMs);
        if (round === rounds - 1) {
          const count = counts.get(mode)!;
          count.tokens += result.tokens;
          count.passes += result.passes;
        }
      }
    }
  }
  const total = (source: Map<string, number[]>, mode: Mode) => {
    let sum = 0;
    for (let index = 0; index < caseCount; index++) sum += median(source.get(`${mode}/${index}`)!);
    return sum;
  };
  return Object.fromEntries(
    modes.map((mode) => [mode, { ...counts.get(mode)!, ms: total(times, mode), decodeMs: total(decodeTimes, mode) }]),
  ) as Record<Mode, RoundResult & { ms: number }>;
}
