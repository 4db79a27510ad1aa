// The tiny Aligner run bare with transformers.js in a plain page (no extension): the baseline
// the engine bench compares the extension's path with. Same engine class, no messaging.
import { env } from '@huggingface/transformers';
import { buildPrompt } from '../../model/engine';
import { TransformersEngine } from '../../model/transformers-engine';

let engine: TransformersEngine | null = null;

Object.assign(globalThis, {
  async loadBare(options: { host: string; ortBase: string; device: 'webgpu' | 'wasm' }) {
    const onnx = env.backends.onnx as { wasm: { wasmPaths: unknown; numThreads: number } };
    onnx.wasm.wasmPaths = { mjs: `${options.ortBase}ort-wasm-simd-threaded.asyncify.mjs`, wasm: `${options.ortBase}ort-wasm-simd-threaded.asyncify.wasm` };
    onnx.wasm.numThreads = 1;
    env.allowLocalModels = false;
    env.remoteHost = options.host;
    const started = performance.now();
    engine = await TransformersEngine.load({ repo: 'realign/tiny-aligner', device: options.device });
    return performance.now() - started;
  },
  async runBare(question: string, answer: string) {
    const start = performance.now();
    let firstTokenMs = -1;
    const result = await engine!.generate(buildPrompt('aligner-v1', question, answer), {
      maxNewTokens: 128,
      onText: (text) => {
        if (firstTokenMs < 0 && text.trim()) firstTokenMs = performance.now() - start;
      },
    });
    const totalMs = performance.now() - start;
    return { firstTokenMs, totalMs, decodeMs: totalMs - firstTokenMs, tokens: result.tokens };
  },
});
