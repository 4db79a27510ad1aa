// The tiny trained Aligner fixture (tests/fixtures/models/tiny-aligner/, rebuilt by
// scripts/tiny-aligner/build.py) loads in transformers.js and greedily corrects every case of
// tests/fixtures/tiny-aligner-cases.json exactly, on onnxruntime-node and on onnxruntime-web's
// WASM backend (the browser code path), with the KV cache in use after the first step.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Transformers from '@huggingface/transformers';

type TJS = typeof Transformers;
interface Case { question: string; answer: string; corrected: string }

const cases: Case[] = JSON.parse(readFileSync('tests/fixtures/tiny-aligner-cases.json', 'utf8'));
const alignerPrompt = (question: string, answer: string) =>
  `BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: ${question} | ${answer} ASSISTANT:`;

const require_ = createRequire(import.meta.url);
const ORT_SYMBOL = Symbol.for('onnxruntime');

/**
 * transformers.js in Node uses onnxruntime-node. To run the browser's WASM backend instead:
 * hand it onnxruntime-web through globalThis[Symbol.for('onnxruntime')] *before* its module is
 * evaluated, with local wasm files (never the CDN), and load a second module instance (the
 * `?ort=wasm` query) so the onnxruntime-node instance of the other tests is untouched.
 */
async function loadTransformers(backend: 'node' | 'wasm'): Promise<{ tjs: TJS; InferenceSession: unknown }> {
  let tjs: TJS;
  let InferenceSession: unknown;
  if (backend === 'node') {
    tjs = await import('@huggingface/transformers');
    InferenceSession = (await import('onnxruntime-node')).InferenceSession;
  } else {
    const ort = await import('onnxruntime-web');
    InferenceSession = ort.InferenceSession;
    const dist = path.dirname(require_.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
    ort.env.wasm.wasmPaths = pathToFileURL(dist).href + '/';
    ort.env.wasm.numThreads = 1;
    (globalThis as Record<symbol, unknown>)[ORT_SYMBOL] = ort;
    try {
      const entry = pathToFileURL(require_.resolve('@huggingface/transformers')).href;
      tjs = (await import(/* @vite-ignore */ `${entry}?ort=wasm`)) as TJS;
    } finally {
      delete (globalThis as Record<symbol, unknown>)[ORT_SYMBOL];
    }
    expect(tjs.env.backends.onnx.versions?.web).toBeTruthy();
    tjs.env.useBrowserCache = false;
    tjs.env.useFSCache = false;
    tjs.env.useWasmCache = false;
  }
  tjs.env.allowLocalModels = true;
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = 'tests/fixtures/models/';
  return { tjs, InferenceSession };
}

interface RunRecord { inputLength: number; pastLength: number }

for (const backend of ['node', 'wasm'] as const) {
  describe(`tiny Aligner fixture on ${backend === 'node' ? 'onnxruntime-node' : 'onnxruntime-web WASM'}`, () => {
    let tjs: TJS;
    let tokenizer: Transformers.PreTrainedTokenizer;
    let model: Transformers.PreTrainedModel;
    const runs: RunRecord[] = [];

    beforeAll(async () => {
      const loaded = await loadTransformers(backend);
      tjs = loaded.tjs;
      tokenizer = await tjs.AutoTokenizer.from_pretrained('tiny-aligner');
      model = await tjs.AutoModelForCausalLM.from_pretrained(
        'tiny-aligner',
        // With an injected runtime transformers.js knows no device names ('cpu', 'wasm' throw
        // "Unsupported device"): 'auto' passes, and the execution provider is named directly.
        backend === 'wasm' ? { device: 'auto', session_options: { executionProviders: ['wasm'] } } : {},
      );
      // Record what each decoder step is fed, to see the KV cache at work.
      const session = (model as unknown as { sessions: Record<string, { run: (feeds: Record<string, { dims: number[] }>, ...rest: unknown[]) => unknown }> }).sessions.model;
      // The session comes from the intended runtime (no silent fall back to onnxruntime-node).
      expect(session).toBeInstanceOf(loaded.InferenceSession as new () => unknown);
      const run = session.run.bind(session);
      session.run = (feeds, ...rest) => {
        runs.push({ inputLength: feeds.input_ids.dims[1], pastLength: feeds['past_key_values.0.key'].dims[2] });
        return run(feeds, ...rest);
      };
    });

    it('adds the BOS token the aligner-v1 prompt expects', () => {
      const ids = tokenizer(alignerPrompt('Is it fun?', 'It is never fun.')).input_ids.tolist()[0] as bigint[];
      expect(tokenizer.bos_token).toBe('<|bos|>');
      expect(Number(ids[0])).toBe(tokenizer.bos_token_id);
      expect(ids.filter((id) => Number(id) === Number(ids[0]))).toHaveLength(1);
      expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe(alignerPrompt('Is it fun?', 'It is never fun.'));
    });

    it.each(cases)('corrects $answer', async ({ question, answer, corrected }) => {
      const inputs = tokenizer(alignerPrompt(question, answer));
      const promptLength = inputs.input_ids.dims[1];
      runs.length = 0;
      const output = (await model.generate({ ...inputs, do_sample: false, max_new_tokens: 128 })) as Transformers.Tensor;
      const newTokens = (output.tolist()[0] as bigint[]).slice(promptLength);
      const text = tokenizer.decode(newTokens, { skip_special_tokens: true });
      expect(text).toBe(` ${corrected}`);
      expect(text.trimStart()).toBe(corrected);

      // KV cache: the first step sees the whole prompt and an empty cache; every later step one
      // new token and the cache of everything before it.
      expect(runs[0]).toEqual({ inputLength: promptLength, pastLength: 0 });
      expect(runs.length).toBe(newTokens.length);
      runs.slice(1).forEach((r, i) => expect(r).toEqual({ inputLength: 1, pastLength: promptLength + i }));
    });
  });
}
