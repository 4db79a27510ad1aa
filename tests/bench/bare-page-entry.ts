// The tiny Aligner run bare with transformers.js in a plain page (no extension): the baseline
// the engine bench compares the extension's path with. Same engine class, no messaging.
import { env } from '@huggingface/transformers';
import { buildPrompt } from '../../model/engine';
import { TransformersEngine } from '../../model/transformers-engine';

interface BareRun {
  firstTokenMs: number;
  totalMs: number;
  tokens: number;
  text: string;
}

(globalThis as unknown as { runBare: unknown }).runBare = async (options: {
  host: string;
  ortBase: string;
  device: 'webgpu' | 'wasm';
  question: string;
  answer: string;
  runs: number;
}) => {
  const onnx = env.backends.onnx as { wasm: { wasmPaths: unknown; numThreads: number } };
  onnx.wasm.wasmPaths = { mjs: `${options.ortBase}ort-wasm-simd-threaded.asyncify.mjs`, wasm: `${options.ortBase}ort-wasm-simd-threaded.asyncify.wasm` };
  onnx.wasm.numThreads = 1;
  env.allowLocalModels = false;
  env.remoteHost = options.host;
  const loadStart = performance.now();
  const engine = await TransformersEngine.load({ repo: 'realign/tiny-aligner', device: options.device });
  const loadMs = performance.now() - loadStart;
  const prompt = buildPrompt('aligner-v1', options.question, options.answer);
  const runs: BareRun[] = [];
  for (let i = 0; i < options.runs; i++) {
    const start = performance.now();
    let firstTokenMs = -1;
    const result = await engine.generate(prompt, {
      maxNewTokens: 128,
      onText: () => {
        if (firstTokenMs < 0) firstTokenMs = performance.now() - start;
      },
    });
    runs.push({ firstTokenMs, totalMs: performance.now() - start, tokens: result.tokens, text: result.text });
  }
  await engine.dispose();
  return { loadMs, runs };
};
