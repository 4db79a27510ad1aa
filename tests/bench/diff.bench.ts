// Benchmark of utils/diff.ts diffAnswer on realistic answer/correction pairs, and of plain
// jsdiff diffWordsWithSpace on the largest, most rewritten pair for comparison.
import { diffWordsWithSpace } from 'diff';
import { diffAnswer } from '../../utils/diff.ts';
import { editWords, generateAnswer, seededRandom } from '../support/prose.ts';

type Figure = { name: string; value: number; unit: string; budget?: string; note?: string };

const SIZES_KB = [2, 5, 10, 20];
const FRACTIONS = [0.1, 0.3, 0.5];
const PAIRS_PER_CELL = 5;
const ITERATIONS = 20;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

export default async function run(): Promise<Figure[]> {
  const rnd = seededRandom(20240613);
  const pairs: Array<{ kb: number; fraction: number; a: string; b: string }> = [];
  for (const kb of SIZES_KB) {
    for (const fraction of FRACTIONS) {
      for (let k = 0; k < PAIRS_PER_CELL; k++) {
        const a = generateAnswer(rnd, kb * 1024);
        pairs.push({ kb, fraction, a, b: editWords(rnd, a, fraction) });
      }
    }
  }
  // Warm up the JIT.
  for (const p of pairs) diffAnswer(p.a, p.b);

  const all: number[] = [];
  const by20kb50: number[] = [];
  let fellBack = 0;
  for (let it = 0; it < ITERATIONS; it++) {
    for (const p of pairs) {
      const t0 = performance.now();
      const parts = diffAnswer(p.a, p.b);
      const dt = performance.now() - t0;
      all.push(dt);
      if (p.kb === 20 && p.fraction === 0.5) by20kb50.push(dt);
      // A coarse fallback shows up as a very long removed part.
      if (it === 0 && parts.some((x) => x.kind === 'removed' && x.text.length > 2000)) fellBack++;
    }
  }
  all.sort((x, y) => x - y);
  by20kb50.sort((x, y) => x - y);

  // Plain jsdiff, once, on the 20 KB / 50 % pair (capped at 10 s so the bench never hangs).
  const big = pairs.find((p) => p.kb === 20 && p.fraction === 0.5)!;
  const t0 = performance.now();
  const plain = diffWordsWithSpace(big.a, big.b, { timeout: 10_000 });
  const plainMs = performance.now() - t0;

  const n = `${pairs.length} pairs (2/5/10/20 KB × 10/30/50 % words changed) × ${ITERATIONS} runs`;
  return [
    { name: 'diffAnswer p50', value: round(percentile(all, 50)), unit: 'ms', note: n },
    { name: 'diffAnswer p99', value: round(percentile(all, 99)), unit: 'ms', budget: '< 30 ms', note: n },
    { name: 'diffAnswer max', value: round(all[all.length - 1]), unit: 'ms', budget: '< 100 ms', note: n },
    { name: 'diffAnswer 20 KB / 50 % p50', value: round(percentile(by20kb50, 50)), unit: 'ms' },
    { name: 'diffAnswer 20 KB / 50 % max', value: round(by20kb50[by20kb50.length - 1]), unit: 'ms' },
    {
      name: 'pairs that fell back to whole blocks',
      value: fellBack,
      unit: 'pairs',
      note: `of ${pairs.length}; a removed part over 2000 chars`,
    },
    {
      name: 'jsdiff diffWordsWithSpace 20 KB / 50 % (once)',
      value: round(plainMs),
      unit: 'ms',
      note: plain ? 'completed' : 'gave up at the 10 s cap',
    },
  ];
}
