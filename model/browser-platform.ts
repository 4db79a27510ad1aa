import { env } from '@huggingface/transformers';
import { modelWeightsCached, removeCachedModel } from '../utils/model-cache';
import { CacheStorageSink, convertCheckpoint, hubRepoFiles } from './convert/index';
import type { HostPlatform, WebGpuSupport } from './engine-service';
import { TransformersEngine } from './transformers-engine';
import { RemoteEngine } from './remote-engine';

/** The asyncify build serves both the WebGPU and the WASM providers in transformers.js v4. */
const ORT_BASENAME = 'ort-wasm-simd-threaded.asyncify';

/**
 * The engine host's platform inside an extension page (Chrome's offscreen document, Firefox's
 * background page): ONNX Runtime from the package's own files, weights cached by the Cache API.
 */
export function createBrowserPlatform(options: {
  /** URL of the packaged ort/ folder, e.g. chrome-extension://ID/ort/ */
  ortBaseUrl: string;
  onIdle: () => void;
}): HostPlatform {
  const onnx = env.backends.onnx as { wasm?: { wasmPaths?: unknown; numThreads?: number; proxy?: boolean } };
  if (onnx.wasm) {
    onnx.wasm.wasmPaths = {
      mjs: `${options.ortBaseUrl}${ORT_BASENAME}.mjs`,
      wasm: `${options.ortBaseUrl}${ORT_BASENAME}.wasm`,
    };
    // Threads need cross-origin isolation, which an offscreen document does not have.
    onnx.wasm.numThreads = 1;
  }
  env.allowLocalModels = false;
  env.useBrowserCache = true;

  return {
    detectWebGpu,
    async loadLocal({ repo, host, device, dtype, onProgress }) {
      env.remoteHost = host.endsWith('/') ? host : `${host}/`;
      try {
        const engine = await TransformersEngine.load({ repo, device, dtype, onProgress });
        // transformers.js only warns when the Cache API refuses the weights (storage full).
        if (!(await modelWeightsCached(env.remoteHost, repo))) {
          engine.notice = 'The browser had no room to keep the model, so it will be downloaded again next time. Free some disk space, or clear old models in Realign\'s options.';
        }
        return engine;
      } catch (error) {
        // transformers.js's errors for missing files mislead ("tokenizer_class"): say what is missing.
        const missing = await missingModelFiles(env.remoteHost, repo);
        if (missing.length > 0) throw new Error(`The model ${repo} on ${host} is missing ${missing.join(', ')}.`);
        throw error;
      }
    },
    createRemote: (model) => new RemoteEngine(model),
    async ensureConverted({ host, repo, convert, signal, onProgress }) {
      const root = host.endsWith('/') ? host : `${host}/`;
      if (await modelWeightsCached(root, repo)) return;
      // An earlier conversion cut short (tab closed, network lost): start over from nothing.
      await removeCachedModel(root, repo);
      await convertCheckpoint({
        files: hubRepoFiles({ host: root, repo: convert.from }),
        ...(convert.tokenizerFrom ? { tokenizerFrom: hubRepoFiles({ host: root, repo: convert.tokenizerFrom }) } : {}),
        sink: new CacheStorageSink({ host: root, repo }),
        dtype: convert.dtype,
        signal,
        sourceLabel: convert.from,
        onProgress: (progress) =>
          onProgress({
            bytesRead: progress.bytesRead,
            bytesTotal: progress.bytesTotal,
            tensorsDone: progress.tensorsDone,
            tensorsTotal: progress.tensorsTotal,
            etaMs: progress.etaMs ?? -1,
          }),
      });
    },
    onIdle: options.onIdle,
  };
}

const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];

async function missingModelFiles(host: string, repo: string): Promise<string[]> {
  const missing: string[] = [];
  for (const file of REQUIRED_FILES) {
    try {
      const response = await fetch(`${host}${repo}/resolve/main/${file}`, { method: 'HEAD' });
      if (response.status === 404) missing.push(file);
    } catch {
      return []; // unreachable: the original error says more
    }
  }
  return missing;
}

export async function detectWebGpu(): Promise<WebGpuSupport> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } })
    .gpu;
  if (!gpu) return { available: false, f16: false, reason: 'This browser has no WebGPU.' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { available: false, f16: false, reason: 'No WebGPU adapter is available (no GPU, or it is blocked).' };
    return { available: true, f16: adapter.features.has('shader-f16') };
  } catch (error) {
    return { available: false, f16: false, reason: `WebGPU failed to start: ${String(error)}` };
  }
}

interface GpuAdapterLike {
  features: { has(name: string): boolean };
}
