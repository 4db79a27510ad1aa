/**
 * The engine's decode loop in Node: tokens per forward pass and wall-clock speedup of speculative
 * decoding over plain greedy (the same loop, one token per pass), on copy-heavy corrections and
 * where nothing can be copied (drafts from an unrelated text), on onnxruntime-node and on
 * onnxruntime-web's WASM backend. Models: the tiny Aligner (standard attention and its
 * GroupQueryAttention form), and a wide model that corrects exactly like it at the cost of a
 * ~20M-parameter one (built here by scripts/tiny-aligner/build_wide.py with python3-torch; skipped,
 * with a note, where torch is missing). Plus our plain loop against transformers.js's generate().
 * Ratios within one run, modes interleaved correction by correction.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DraftSizer, decodeGreedy } from '../../model/speculative';
import { encodeCase, loadStepModel, loadTransformers, type Backend, type LoadedModel } from '../support/transformers-backends';
import { alternate, decodeCases } from './decode-cases';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };

const EOS = 0;

function buildWideModel(): string | null {
  const folder = join(tmpdir(), 'realign-bench-models', 'tiny-aligner-wide');
  if (existsSync(join(folder, 'onnx', 'model.onnx'))) return folder;
  mkdirSync(folder, { recursive: true });
  try {
    execFileSync('/usr/bin/python3', ['scripts/tiny-aligner/build_wide.py', folder], { stdio: 'pipe' });
    return folder;
  } catch (error) {
    console.warn('No wide model (python3-torch missing?):', String(error).slice(0, 200));
    return null;
  }
}

async function benchModel(backend: Backend, loaded: LoadedModel, label: string, rounds: number): Promise<Result[]> {
  const cases = decodeCases().map((entry) => ({
    ...encodeCase(loaded.tokenizer, entry.question, entry.answer),
    unrelated: loaded.tokenizer.encode(` ${entry.unrelated}`, { add_special_tokens: false }),
  }));
  // One sizer per mode, kept across corrections as the engine keeps one per model.
  const sizers = { copy: new DraftSizer(), nothing: new DraftSizer() };
  const modes = ['plain', 'copy', 'nothing'] as const;
  const timed = await alternate(modes, rounds, cases.length, async (mode, index) => {
    const entry = cases[index]!;
    const result = await decodeGreedy(loaded.steps, {
      prompt: entry.prompt,
      source: mode === 'nothing' ? entry.unrelated : entry.source,
      maxNewTokens: 200,
      eosTokenIds: [EOS],
      speculative: mode !== 'plain',
      sizer: mode === 'plain' ? undefined : sizers[mode],
    });
    // The prefill is not a decoding pass.
    return { tokens: result.tokens.length, passes: result.stats.passes - 1, decodeMs: result.stats.decodeMs };
  });
  const where = `${label} on ${backend === 'node' ? 'onnxruntime-node' : 'WASM (onnxruntime-web in Node)'}`;
  const note = `${cases.length} corrections, ${timed.plain.tokens} tokens, sum of per-correction medians of ${rounds} rounds`;
  return [
    { name: `decode ${where}: tokens per pass, copy-heavy`, value: +(timed.copy.tokens / timed.copy.passes).toFixed(2), unit: 'tok/pass', note },
    { name: `decode ${where}: wall-clock speedup vs plain greedy, copy-heavy (whole corrections)`, value: +(timed.plain.ms / timed.copy.ms).toFixed(3), unit: 'ratio', budget: '>= 1.8', note: `plain ${timed.plain.ms.toFixed(0)} ms, speculative ${timed.copy.ms.toFixed(0)} ms` },
    { name: `decode ${where}: decoding speedup vs plain greedy, copy-heavy (after the first token)`, value: +(timed.plain.decodeMs / timed.copy.decodeMs).toFixed(3), unit: 'ratio', note: `plain ${timed.plain.decodeMs.toFixed(0)} ms, speculative ${timed.copy.decodeMs.toFixed(0)} ms` },
    { name: `decode ${where}: tokens per pass, nothing to copy`, value: +(timed.nothing.tokens / timed.nothing.passes).toFixed(2), unit: 'tok/pass' },
    { name: `decode ${where}: speed vs plain greedy, nothing to copy`, value: +(timed.plain.ms / timed.nothing.ms).toFixed(3), unit: 'ratio', budget: '>= 0.95', note: `speculative ${timed.nothing.ms.toFixed(0)} ms` },
  ];
}

/** Our one-token loop against transformers.js's generate() on the same session. */
async function versusTransformers(backend: Backend, loaded: LoadedModel, rounds: number): Promise<Result> {
  const cases = decodeCases().map((entry) => encodeCase(loaded.tokenizer, entry.question, entry.answer));
  const { Tensor } = loaded.tjs;
  const timed = await alternate(['ours', 'transformers'] as const, rounds, cases.length, async (mode, index) => {
    const { prompt, source } = cases[index]!;
    let tokens: number;
    if (mode === 'ours') {
      tokens = (await decodeGreedy(loaded.steps, { prompt, source, maxNewTokens: 200, eosTokenIds: [EOS], speculative: false })).tokens.length;
    } else {
      const input_ids = new Tensor('int64', BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]);
      const attention_mask = new Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]);
      const output = (await loaded.model.generate({ input_ids, attention_mask, max_new_tokens: 200, do_sample: false } as never)) as { dims: number[] };
      tokens = output.dims[1]! - prompt.length;
    }
    return { tokens, passes: tokens, decodeMs: 0 };
  });
  return {
    name: `decode tiny Aligner on ${backend === 'node' ? 'onnxruntime-node' : 'WASM (onnxruntime-web in Node)'}: our plain loop vs transformers.js generate()`,
    value: +(timed.transformers.ms / timed.ours.ms).toFixed(3),
    unit: 'ratio',
    note: `generate() ${timed.transformers.ms.toFixed(0)} ms, ours ${timed.ours.ms.toFixed(0)} ms`,
  };
}

export default async function run(): Promise<Result[]> {
  const results: Result[] = [];
  const wide = buildWideModel();
  for (const backend of ['node', 'wasm'] as Backend[]) {
    const tjs = await loadTransformers(backend);
    const tiny = await loadStepModel(backend, 'tiny-aligner');
    results.push(...(await benchModel(backend, tiny, 'tiny Aligner', 9)));
    results.push(await versusTransformers(backend, tiny, 5));
    const gqa = await loadStepModel(backend, 'tiny-aligner-gqa');
    results.push(...(await benchModel(backend, gqa, 'tiny Aligner (GroupQueryAttention graph)', 5)));
    if (wide) {
      tjs.env.localModelPath = `${join(wide, '..')}/`;
      const loaded = await loadStepModel(backend, 'tiny-aligner-wide');
      tjs.env.localModelPath = 'tests/fixtures/models/';
      results.push(...(await benchModel(backend, loaded, 'wide tiny Aligner (20M parameters)', 5)));
      await loaded.steps.dispose();
    }
  }
  return results;
}
