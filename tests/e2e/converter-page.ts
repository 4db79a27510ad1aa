// The converter in a plain web page (bundled by converter-webgpu.test.ts and the convert bench):
// it converts from the test hub with range requests (following the 302 to the CDN origin) into
// Cache Storage, runs the result on onnxruntime-web (WebGPU or WASM) against the PyTorch
// references, and loads it with transformers.js from the cache.
import * as ort from 'onnxruntime-web/webgpu';
import { env } from '@huggingface/transformers';
import { CacheStorageSink, convertCheckpoint, hubRepoFiles, type TargetDtype } from '../../model/convert/index';
import { buildPrompt } from '../../model/engine';
import { TransformersEngine } from '../../model/transformers-engine';
import { runChecks, type OrtModule, type OrtSession, type Reference } from '../unit/model/convert/harness';

interface Setup {
  host: string;
  ortBase: string;
}

function configure(setup: Setup) {
  const paths = { mjs: `${setup.ortBase}ort-wasm-simd-threaded.asyncify.mjs`, wasm: `${setup.ortBase}ort-wasm-simd-threaded.asyncify.wasm` };
  ort.env.wasm.wasmPaths = paths;
  ort.env.wasm.numThreads = 1;
  const onnx = env.backends.onnx as { wasm: { wasmPaths: unknown; numThreads: number } };
  onnx.wasm.wasmPaths = paths;
  onnx.wasm.numThreads = 1;
  env.allowLocalModels = false;
  env.useBrowserCache = true;
  env.remoteHost = setup.host;
}

async function cachedBytes(url: string): Promise<Uint8Array> {
  const cache = await caches.open('transformers-cache');
  const response = await cache.match(url);
  if (!response) throw new Error(`not in the cache: ${url}`);
  return new Uint8Array(await response.arrayBuffer());
}

Object.assign(globalThis, {
  /** Converts `repo` from the hub into Cache Storage as `target`; returns the result and progress. */
  async convertInPage(options: Setup & { repo: string; target: string; dtype: TargetDtype; tokenizerRepo?: string }) {
    configure(options);
    const memory = () => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;
    let peakHeap = memory();
    let updates = 0;
    let lastBytes = 0;
    let monotonic = true;
    const started = performance.now();
    const result = await convertCheckpoint({
      files: hubRepoFiles({ host: options.host, repo: options.repo }),
      tokenizerFrom: options.tokenizerRepo ? hubRepoFiles({ host: options.host, repo: options.tokenizerRepo }) : undefined,
      sink: new CacheStorageSink({ host: options.host, repo: options.target }),
      dtype: options.dtype,
      sourceLabel: options.repo,
      onProgress: (p) => {
        updates += 1;
        if (p.bytesRead < lastBytes) monotonic = false;
        lastBytes = p.bytesRead;
        peakHeap = Math.max(peakHeap, memory());
      },
    });
    return { files: result.files, bytesRead: result.bytesRead, ms: performance.now() - started, updates, monotonic, peakHeap };
  },

  /** Runs the converted graph from the cache on `device` and compares with the references. */
  async checkGraph(options: Setup & { target: string; dtype: TargetDtype; device: 'webgpu' | 'wasm'; reference: Reference; expected: number[]; batchExpected: number[] }) {
    configure(options);
    const suffix = { fp32: '', fp16: '_fp16', q8: '_quantized', q4: '_q4', q4f16: '_q4f16' }[options.dtype];
    const base = `${options.host}${options.target}/resolve/main/onnx/model${suffix}.onnx`;
    const session = await ort.InferenceSession.create(await cachedBytes(base), {
      executionProviders: [options.device],
      externalData: [{ path: `model${suffix}.onnx_data`, data: await cachedBytes(`${base}_data`) }],
      logSeverityLevel: 0,
      logVerbosityLevel: 0,
    });
    try {
      const checks = await runChecks(ort as unknown as OrtModule, session as unknown as OrtSession, options.reference, Float32Array.from(options.expected), Float32Array.from(options.batchExpected));
      return { ...checks, logits: Array.from(checks.logits) };
    } finally {
      await session.release();
    }
  },

  /**
   * Measurement: creates a session for a converted graph fetched from `url` (its data files beside
   * it) on `device`, then runs `steps` one-token steps. Reports times, or the error.
   */
  async loadAndStep(options: Setup & { url: string; dataFiles: string[]; device: 'webgpu' | 'wasm'; steps: number }) {
    configure(options);
    const started = performance.now();
    try {
      const base = options.url.slice(0, options.url.lastIndexOf('/') + 1);
      const session = await ort.InferenceSession.create(options.url, {
        executionProviders: [options.device],
        externalData: options.dataFiles.map((path) => ({ path, data: `${base}${path}` })),
      });
      const loadMs = performance.now() - started;
      const stepMs: number[] = [];
      const pasts = session.inputMetadata.filter((m) => m.name.startsWith('past_key_values.')) as unknown as Array<{ name: string; type: string; shape: Array<number | string> }>;
      let past: Record<string, ort.Tensor> = {};
      for (const m of pasts) past[m.name] = new ort.Tensor(m.type as 'float32', new Float32Array(0), [1, Number(m.shape[1]), 0, Number(m.shape[3])]);
      for (let i = 0; i < options.steps; i++) {
        const t = performance.now();
        const ids = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);
        const out = await session.run({ input_ids: ids([5 + i]), attention_mask: ids(new Array(i + 1).fill(1)), position_ids: ids([i]), ...past });
        past = {};
        for (const m of pasts) past[m.name] = out[m.name.replace('past_key_values.', 'present.')]!;
        stepMs.push(performance.now() - t);
      }
      await session.release();
      return { ok: true, loadMs, stepMs };
    } catch (error) {
      return { ok: false, loadMs: performance.now() - started, error: String((error as Error).message ?? error).slice(0, 500) };
    }
  },

  /** transformers.js loads the converted model (no request expected) and corrects an answer. */
  async correctWithTransformers(options: Setup & { target: string; device: 'webgpu' | 'wasm'; question: string; answer: string }) {
    configure(options);
    const engine = await TransformersEngine.load({ repo: options.target, device: options.device });
    try {
      const result = await engine.generate(buildPrompt('aligner-v1', options.question, options.answer), { maxNewTokens: 64 });
      return result.text;
    } finally {
      await engine.dispose();
    }
  },
});
