import type { TemplateId } from './templates';

export type Dtype = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16';
export type LocalDevice = 'webgpu' | 'wasm';
/** Node adds onnxruntime-node's CPU provider (the `align` CLI). */
export type AnyLocalDevice = LocalDevice | 'cpu';

export interface ModelPreset {
  id: string;
  /** The model's name in plain words, e.g. "Qwen2.5 0.5B Instruct". */
  name: string;
  /** A trained Aligner (a corrector), or an instruct model asked to correct (zero-shot). */
  kind: 'trained' | 'zero-shot' | 'custom';
  /** Hugging Face hub repo in transformers.js layout (onnx/ folder). */
  repo: string;
  template: TemplateId;
  /** Weights to fetch per device when the user leaves dtype on "auto". */
  dtypes: Record<LocalDevice, Dtype>;
  /** Used instead of dtypes.webgpu where the GPU has no shader-f16. */
  webgpuNoF16Dtype: Dtype;
  /** Tokens the model reads at once: prompt + answer + correction must fit. */
  contextLength: number;
  /** Approximate download for the default dtype, in bytes (shown before downloading). */
  downloadBytes: number;
  licence: string;
  /** One sentence said wherever the model is chosen: what the model is, honestly. */
  summary: string;
}

export const PRESETS: ModelPreset[] = [
  {
    id: 'qwen2.5-0.5b-instruct',
    name: 'Qwen2.5 0.5B Instruct',
    kind: 'zero-shot',
    repo: 'onnx-community/Qwen2.5-0.5B-Instruct',
    template: 'chat',
    dtypes: { webgpu: 'q4f16', wasm: 'q8' },
    webgpuNoF16Dtype: 'q4',
    contextLength: 4096,
    downloadBytes: 483e6,
    licence: 'Apache-2.0',
    summary: 'A small general-purpose model asked to correct each answer: not a trained Aligner, so expect light edits and occasional misses.',
  },
  {
    id: 'qwen2.5-1.5b-instruct',
    name: 'Qwen2.5 1.5B Instruct',
    kind: 'zero-shot',
    repo: 'onnx-community/Qwen2.5-1.5B-Instruct',
    template: 'chat',
    dtypes: { webgpu: 'q4f16', wasm: 'q4' },
    webgpuNoF16Dtype: 'q4',
    contextLength: 4096,
    downloadBytes: 1.22e9,
    licence: 'Apache-2.0',
    summary: 'A larger general-purpose model asked to correct each answer: better than the 0.5B one, slower, and best with a GPU. Not a trained Aligner.',
  },
];

export const DEFAULT_PRESET_ID = PRESETS[0]!.id;
export const CUSTOM_PRESET_ID = 'custom';

export function findPreset(id: string): ModelPreset | undefined {
  return PRESETS.find((preset) => preset.id === id);
}

/** A converted Aligner (or any causal LM) in transformers.js layout, chosen by hub repo id. */
export function customPreset(repo: string, template: TemplateId, contextLength = 2048): ModelPreset {
  return {
    id: CUSTOM_PRESET_ID,
    name: repo || 'a model of your choice',
    kind: 'custom',
    repo,
    template,
    // Custom repos often ship only one file; the repo's config.json may pick its own default.
    dtypes: { webgpu: 'fp32', wasm: 'fp32' },
    webgpuNoF16Dtype: 'fp32',
    contextLength,
    downloadBytes: 0,
    licence: 'see its model card',
    summary: 'A model you chose on the Hugging Face hub.',
  };
}

export const HUB_HOST = 'https://huggingface.co/';

/** Repo ids look like `owner/name`; anything else (URLs, paths) is refused before a request. */
export function isValidRepoId(repo: string): boolean {
  return /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9][\w.-]{0,95}$/.test(repo) && !repo.includes('..');
}
