/**
 * transformers.js on either runtime a Node test can reach: onnxruntime-node, or onnxruntime-web's
 * WASM backend (the browser's code path). For WASM, onnxruntime-web is handed to transformers.js
 * through globalThis[Symbol.for('onnxruntime')] before a second module instance (the `?ort=wasm`
 * query) is evaluated, with local wasm files, so the onnxruntime-node instance stays untouched.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Transformers from '@huggingface/transformers';
import { StepModel } from '../../model/step-model';

export type TJS = typeof Transformers;
export type Backend = 'node' | 'wasm';

const require_ = createRequire(import.meta.url);
const ORT_SYMBOL = Symbol.for('onnxruntime');
const loaded = new Map<Backend, Promise<TJS>>();

export function loadTransformers(backend: Backend): Promise<TJS> {
  let promise = loaded.get(backend);
  if (!promise) {
    promise = importTransformers(backend);
    loaded.set(backend, promise);
  }
  return promise;
}

async function importTransformers(backend: Backend): Promise<TJS> {
  let tjs: TJS;
  if (backend === 'node') {
    tjs = await import('@huggingface/transformers');
  } else {
    const ort = await import('onnxruntime-web');
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
    if (!tjs.env.backends.onnx.versions?.web) throw new Error('transformers.js did not take onnxruntime-web');
    tjs.env.useBrowserCache = false;
    tjs.env.useFSCache = false;
    tjs.env.useWasmCache = false;
  }
  tjs.env.allowLocalModels = true;
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = 'tests/fixtures/models/';
  return tjs;
}

export interface LoadedModel {
  tjs: TJS;
  tokenizer: Transformers.PreTrainedTokenizer;
  model: Transformers.PreTrainedModel;
  steps: StepModel;
}

/** A fixture model (a folder under tests/fixtures/models/) and a step model over its session. */
export async function loadStepModel(backend: Backend, folder: string): Promise<LoadedModel> {
  const tjs = await loadTransformers(backend);
  const tokenizer = await tjs.AutoTokenizer.from_pretrained(folder);
  const model = await tjs.AutoModelForCausalLM.from_pretrained(
    folder,
    // With an injected runtime transformers.js knows no device names: 'auto', and the provider named.
    backend === 'wasm' ? { device: 'auto', session_options: { executionProviders: ['wasm'] } } : {},
  );
  const steps = StepModel.fromTransformers(model as never, tjs.Tensor as never);
  return { tjs, tokenizer, model, steps };
}

export const ALIGNER_PROMPT = (question: string, answer: string) =>
  `BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: ${question} | ${answer} ASSISTANT:`;

/** The prompt's ids (BOS included) and the answer's ids as the model copies them (after a space). */
export function encodeCase(tokenizer: Transformers.PreTrainedTokenizer, question: string, answer: string): { prompt: number[]; source: number[] } {
  const prompt = Array.from(tokenizer(ALIGNER_PROMPT(question, answer)).input_ids.data as BigInt64Array, Number);
  const source = tokenizer.encode(` ${answer}`, { add_special_tokens: false });
  return { prompt, source };
}
