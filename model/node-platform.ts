import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { env } from '@huggingface/transformers';
import { HUB_HOST, isValidRepoId } from './presets';
import { TransformersEngine, type DownloadProgress } from './transformers-engine';

/** What a model folder must hold for transformers.js (PLATFORM.md: both tokenizer files). */
export const REQUIRED_MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** Says exactly what is missing from a local model folder; [] when it looks complete. */
export function missingFromModelFolder(folder: string): string[] {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) return [`the folder ${folder} itself`];
  const missing = REQUIRED_MODEL_FILES.filter((file) => !existsSync(resolve(folder, file)));
  const onnx = resolve(folder, 'onnx');
  if (!existsSync(onnx) || !readdirSync(onnx).some((file) => file.endsWith('.onnx'))) missing.push('onnx/*.onnx');
  return missing;
}

export interface NodeEngineOptions {
  /** A hub repo id (owner/name) or a local folder in transformers.js layout. */
  model: string;
  /** The hub or a mirror with its URL layout (hub ids only). */
  host?: string;
  dtype?: string;
  onProgress?: (progress: DownloadProgress) => void;
}

/**
 * The engine in Node (the `align` CLI, the test server, Node tests): the same TransformersEngine
 * the extension runs, on onnxruntime-node's CPU provider.
 */
export async function loadNodeEngine(options: NodeEngineOptions): Promise<TransformersEngine> {
  const looksLikeFolder = existsSync(options.model) || options.model.startsWith('.') || options.model.startsWith('/');
  if (looksLikeFolder) {
    const folder = resolve(options.model);
    const missing = missingFromModelFolder(folder);
    if (missing.length > 0) throw new Error(`The model folder ${folder} is missing: ${missing.join(', ')}.`);
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
    env.localModelPath = `${dirname(folder)}/`;
    return TransformersEngine.load({ repo: basename(folder), device: 'cpu', dtype: options.dtype, onProgress: options.onProgress });
  }
  if (!isValidRepoId(options.model)) throw new Error(`"${options.model}" is neither a folder nor a hub repo id (owner/name).`);
  env.allowLocalModels = false;
  env.allowRemoteModels = true;
  env.remoteHost = (options.host ?? HUB_HOST).replace(/\/?$/, '/');
  return TransformersEngine.load({ repo: options.model, device: 'cpu', dtype: options.dtype, onProgress: options.onProgress });
}
