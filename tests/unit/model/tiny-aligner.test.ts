// The tiny trained Aligner fixture (tests/fixtures/models/tiny-aligner/, rebuilt by
// scripts/tiny-aligner/build.py) loads in transformers.js and greedily corrects every case of
// tests/fixtures/tiny-aligner-cases.json exactly, on onnxruntime-node and on onnxruntime-web's
// WASM backend (the browser code path), with the KV cache in use after the first step.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import type * as Transformers from '@huggingface/transformers';
import { loadTransformers, type Backend, type TJS } from '../../support/transformers-backends';

interface Case { question: string; answer: string; corrected: string }

const cases: Case[] = JSON.parse(readFileSync('tests/fixtures/tiny-aligner-cases.json', 'utf8'));
const alignerPrompt = (question: string, answer: string) =>
  `BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: ${question} | ${answer} ASSISTANT:`;

/** The InferenceSession class of the runtime a backend uses, to check no silent fallback happens. */
async function inferenceSessionOf(backend: Backend): Promise<unknown> {
  return backend === 'node' ? (await import('onnxruntime-node')).InferenceSession : (await import('onnxruntime-web')).InferenceSession;
}

interface RunRecord { inputLength: number; pastLength: number }

for (const backend of ['node', 'wasm'] as const) {
  describe(`tiny Aligner fixture on ${backend === 'node' ? 'onnxruntime-node' : 'onnxruntime-web WASM'}`, () => {
    let tjs: TJS;
    let tokenizer: Transformers.PreTrainedTokenizer;
    let model: Transformers.PreTrainedModel;
    const runs: RunRecord[] = [];

    beforeAll(async () => {
      tjs = await loadTransformers(backend);
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
      expect(session).toBeInstanceOf((await inferenceSessionOf(backend)) as new () => unknown);
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
