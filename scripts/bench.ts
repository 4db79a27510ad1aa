// `npm run bench`: every benchmark under tests/bench/, one after another; prints a table and
// writes bench-results.json. Compare figures as ratios within one run: these machines are noisy.
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };

const only = process.argv.slice(2);
if (!process.env.REALIGN_BENCH_NO_BUILD) {
  console.log('Building the packages the benchmarks load…');
  execFileSync('node', ['scripts/build-test.mjs'], { stdio: 'inherit' });
}
const files = readdirSync('tests/bench')
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => only.length === 0 || only.some((name) => file.includes(name)))
  .sort();
const all: Array<Result & { bench: string }> = [];
for (const file of files) {
  const started = Date.now();
  process.stdout.write(`\n▶ ${file}… `);
  try {
    const module = (await import(pathToFileURL(resolve('tests/bench', file)).href)) as { default: () => Promise<Result[]> };
    const results = await module.default();
    for (const result of results) all.push({ bench: file, ...result });
    console.log(`${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    console.log('failed');
    console.error(error);
    process.exitCode = 1;
  }
}
console.log();
console.table(all.map(({ bench, name, value, unit, budget, note }) => ({ bench: bench.replace('.bench.ts', ''), name, value, unit, budget: budget ?? '', note: note ?? '' })));
const output = { date: new Date().toISOString(), node: process.version, results: all };
writeFileSync('bench-results.json', `${JSON.stringify(output, null, 2)}\n`);
console.log('Wrote bench-results.json');
