/**
 * The engine's decode loop in Chromium: tokens per forward pass and speedup of speculative
 * decoding over plain greedy (the same loop, one token per pass) on copy-heavy corrections and
 * where nothing can be copied, on WebGPU (SwiftShader: a CPU rasteriser, so this measures the
 * loop's overheads and the cost shape of passes there, not GPU speed) and WASM, with the tiny
 * Aligner, plus the wide model (built by decode.bench.ts's builder) on WASM. Interleaved per
 * correction; ratios within one run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDecodePage, type DecodePage } from '../support/decode-page';
import { alternate, decodeCases } from './decode-cases';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };

interface Run {
  tokens: number[];
  ms: number;
  stats: { passes: number; decodeMs: number };
}

function wideModel(): string | null {
  const folder = join(tmpdir(), 'realign-bench-models', 'tiny-aligner-wide');
  if (existsSync(join(folder, 'onnx', 'model.onnx'))) return folder;
  mkdirSync(folder, { recursive: true });
  try {
    execFileSync('/usr/bin/python3', ['scripts/tiny-aligner/build_wide.py', folder], { stdio: 'pipe' });
    return folder;
  } catch {
    return null;
  }
}

async function benchIn(decode: DecodePage, repo: string, device: 'webgpu' | 'wasm', label: string, rounds: number): Promise<Result[]> {
  const { key } = await decode.load(repo, device);
  const cases: Array<{ prompt: number[]; source: number[]; unrelated: number[] }> = [];
  for (const entry of decodeCases()) cases.push(await decode.call<{ prompt: number[]; source: number[]; unrelated: number[] }>('encodeCase', key, entry.question, entry.answer, entry.unrelated));
  const modes = ['plain', 'copy', 'nothing'] as const;
  const timed = await alternate(modes, rounds, cases.length, async (mode, index) => {
    const entry = cases[index]!;
    const run = await decode.call<Run>('decodeRun', key, {
      prompt: entry.prompt,
      source: mode === 'nothing' ? entry.unrelated : entry.source,
      speculative: mode !== 'plain',
      maxNewTokens: 200,
      sizer: mode,
    });
    return { tokens: run.tokens.length, passes: run.stats.passes - 1, decodeMs: run.stats.decodeMs };
  });
  const where = `${label} in Chromium on ${device === 'webgpu' ? 'WebGPU (SwiftShader)' : 'WASM'}`;
  return [
    { name: `decode ${where}: tokens per pass, copy-heavy`, value: +(timed.copy.tokens / timed.copy.passes).toFixed(2), unit: 'tok/pass', note: `${cases.length} corrections, ${timed.plain.tokens} tokens` },
    { name: `decode ${where}: wall-clock speedup vs plain greedy, copy-heavy (whole corrections)`, value: +(timed.plain.ms / timed.copy.ms).toFixed(3), unit: 'ratio', budget: '>= 1.8', note: `plain ${timed.plain.ms.toFixed(0)} ms, speculative ${timed.copy.ms.toFixed(0)} ms` },
    { name: `decode ${where}: decoding speedup vs plain greedy, copy-heavy (after the first token)`, value: +(timed.plain.decodeMs / timed.copy.decodeMs).toFixed(3), unit: 'ratio', note: `plain ${timed.plain.decodeMs.toFixed(0)} ms, speculative ${timed.copy.decodeMs.toFixed(0)} ms` },
    { name: `decode ${where}: speed vs plain greedy, nothing to copy`, value: +(timed.plain.ms / timed.nothing.ms).toFixed(3), unit: 'ratio', budget: '>= 0.95', note: `${(timed.nothing.tokens / timed.nothing.passes).toFixed(2)} tok/pass, speculative ${timed.nothing.ms.toFixed(0)} ms` },
  ];
}

export default async function run(): Promise<Result[]> {
  const repos: Record<string, string> = { 'realign/tiny-aligner': 'tests/fixtures/models/tiny-aligner' };
  const wide = wideModel();
  if (wide) repos['realign/tiny-aligner-wide'] = wide;
  const decode = await openDecodePage(repos);
  const results: Result[] = [];
  try {
    results.push(...(await benchIn(decode, 'realign/tiny-aligner', 'webgpu', 'tiny Aligner', 5)));
    results.push(...(await benchIn(decode, 'realign/tiny-aligner', 'wasm', 'tiny Aligner', 9)));
    if (wide) results.push(...(await benchIn(decode, 'realign/tiny-aligner-wide', 'wasm', 'wide tiny Aligner (20M parameters)', 3)));
  } finally {
    await decode.close();
  }
  return results;
}
