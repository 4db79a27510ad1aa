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
  /**
   * A PyTorch checkpoint on the hub that Realign converts in the browser (model/convert) into
   * `repo`, once; `downloadBytes` is then the checkpoint's size and `diskBytes` what is kept.
   */
  convert?: ConvertSource;
  /** Bytes kept in the browser after a conversion. */
  diskBytes?: number;
  /** Said next to the model where it is chosen: what is and is not verified. */
  caveat?: string;
  /** How long the conversion took on a checkpoint of its shape (measured; see the closing notes). */
  conversionTime?: string;
}

export interface ConvertSource {
  /** The hub repo holding the checkpoint (safetensors or pytorch_model.bin). */
  from: string;
  /** A repo with the identical vocabulary, for checkpoints without tokenizer.json. */
  tokenizerFrom?: string;
  /** One graph for every device: q4 runs on WebGPU (with or without shader-f16) and on WASM. */
  dtype: 'q4';
}

/** Where a converted checkpoint is kept: a repo id no real hub repo can have. */
export function convertedRepoId(from: string, dtype: string): string {
  return `realign-converted/${from.replace('/', '--')}-${dtype}`;
}

const CONVERTED_DTYPES = { webgpu: 'q4', wasm: 'q4' } as const;

export const PRESETS: ModelPreset[] = [
  {
    id: 'metaaligner-1.1b',
    name: 'MetaAligner 1.1B',
    kind: 'trained',
    repo: convertedRepoId('MetaAligner/MetaAligner-UltraFeedback-1.1B', 'q4'),
    // Trained on UltraFeedback with the "query" prompt; its objectives are chosen in the options.
    template: 'metaaligner-query',
    dtypes: CONVERTED_DTYPES,
    webgpuNoF16Dtype: 'q4',
    contextLength: 2048,
    downloadBytes: 4.4e9,
    diskBytes: 0.75e9,
    licence: 'MIT',
    summary: 'A model trained to correct answers for the objectives you choose (helpful, honest, truthful, following the instructions, and more).',
    convert: { from: 'MetaAligner/MetaAligner-UltraFeedback-1.1B', tokenizerFrom: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0', dtype: 'q4' },
    conversionTime: 'then about a minute of converting (47 s measured in Chromium on 16 CPU cores)',
    caveat: 'Converted in your browser from its PyTorch weights, once (the 4.4 GB download is read as it streams). Its conversion is tested on checkpoints of the same shape, not on the real weights.',
  },
  {
    id: 'aligner-7b',
    name: 'Aligner-7B v1.0',
    kind: 'trained',
    repo: convertedRepoId('aligner/aligner-7b-v1.0', 'q4'),
    template: 'aligner-v1',
    dtypes: CONVERTED_DTYPES,
    webgpuNoF16Dtype: 'q4',
    contextLength: 2048,
    downloadBytes: 13.5e9,
    diskBytes: 4.4e9,
    licence: 'non-commercial (see its model card)',
    summary: 'The official Aligner (Ji et al., NeurIPS 2024), trained to make answers more helpful and harmless. Experimental here: it needs a GPU with 6 GB or more.',
    convert: { from: 'aligner/aligner-7b-v1.0', dtype: 'q4' },
    conversionTime: 'then a few minutes of converting (3 min measured in Node on 16 CPU cores; not yet in a browser)',
    caveat: 'Experimental: ONNX Runtime Web runs with a 4 GB WebAssembly memory, so a 4.4 GB model may not load without a GPU, and it has not been run on the real weights here. Your own server runs it comfortably (see the options).',
  },
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

/** The default stays the zero-shot model until a trained checkpoint has been converted and run for real. */
export const DEFAULT_PRESET_ID = 'qwen2.5-0.5b-instruct';
export const CUSTOM_PRESET_ID = 'custom';

export function findPreset(id: string): ModelPreset | undefined {
  return PRESETS.find((preset) => preset.id === id);
}

/** A converted Aligner (or any causal LM) in transformers.js layout, chosen by hub repo id. */
export function customPreset(repo: string, template: TemplateId, contextLength = 2048, convert?: { tokenizerFrom?: string }): ModelPreset {
  if (convert) {
    return {
      id: CUSTOM_PRESET_ID,
      name: repo || 'a model of your choice',
      kind: 'custom',
      repo: convertedRepoId(repo, 'q4'),
      template,
      dtypes: CONVERTED_DTYPES,
      webgpuNoF16Dtype: 'q4',
      contextLength,
      downloadBytes: 0,
      licence: 'see its model card',
      summary: 'A model you chose on the Hugging Face hub, converted in your browser from its PyTorch weights.',
      convert: { from: repo, ...(convert.tokenizerFrom ? { tokenizerFrom: convert.tokenizerFrom } : {}), dtype: 'q4' },
    };
  }
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
