// The engine's decode loop in a plain page (no extension), for the Chromium decode tests and
// bench: transformers.js loads a model from the local hub on WebGPU or WASM, and the page drives
// the same StepModel and decodeGreedy the engine uses over its session.
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor, type PreTrainedTokenizer } from '@huggingface/transformers';
import { DraftSizer, decodeGreedy } from '../../model/speculative';
import { StepModel } from '../../model/step-model';

interface Loaded {
  tokenizer: PreTrainedTokenizer;
  steps: StepModel;
  sizers: Map<string, DraftSizer>;
}

const models = new Map<string, Loaded>();
const ALIGNER_PROMPT = (question: string, answer: string) =>
  `BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: ${question} | ${answer} ASSISTANT:`;

function model(key: string): Loaded {
  const loaded = models.get(key);
  if (!loaded) throw new Error(`No model ${key} loaded`);
  return loaded;
}

Object.assign(globalThis, {
  async loadDecodeModel(options: { host: string; ortBase: string; device: 'webgpu' | 'wasm'; repo: string }) {
    const onnx = env.backends.onnx as { wasm: { wasmPaths: unknown; numThreads: number } };
    onnx.wasm.wasmPaths = { mjs: `${options.ortBase}ort-wasm-simd-threaded.asyncify.mjs`, wasm: `${options.ortBase}ort-wasm-simd-threaded.asyncify.wasm` };
    onnx.wasm.numThreads = 1;
    env.allowLocalModels = false;
    env.useBrowserCache = false;
    env.remoteHost = options.host;
    const tokenizer = await AutoTokenizer.from_pretrained(options.repo);
    const loadedModel = await AutoModelForCausalLM.from_pretrained(options.repo, { device: options.device });
    const steps = StepModel.fromTransformers(loadedModel as never, Tensor as never);
    const probe = tokenizer.encode('The quick brown fox jumps over the lazy dog.', { add_special_tokens: false }).slice(0, 7);
    const multiToken = await steps.supportsMultiTokenSteps(probe);
    await steps.forward([1, 5, 6]);
    const gpuResident = steps.gpuResident;
    steps.reset();
    models.set(`${options.repo}@${options.device}`, { tokenizer, steps, sizers: new Map() });
    return { multiToken, gpuResident };
  },

  encodeCase(key: string, question: string, answer: string, unrelated = '') {
    const { tokenizer } = model(key);
    const prompt = Array.from(tokenizer(ALIGNER_PROMPT(question, answer)).input_ids.data as BigInt64Array, Number);
    return {
      prompt,
      source: tokenizer.encode(` ${answer}`, { add_special_tokens: false }),
      unrelated: tokenizer.encode(` ${unrelated}`, { add_special_tokens: false }),
    };
  },

  decodeText(key: string, tokens: number[]) {
    return model(key).tokenizer.decode(tokens, { skip_special_tokens: true });
  },

  async decodeRun(
    key: string,
    options: { prompt: number[]; source: number[]; speculative: boolean; fixedDraft?: number; maxNewTokens: number; recordMargins?: boolean; sizer?: string },
  ) {
    const loaded = model(key);
    let sizer: DraftSizer | undefined;
    if (options.sizer) {
      sizer = loaded.sizers.get(options.sizer) ?? new DraftSizer();
      loaded.sizers.set(options.sizer, sizer);
    }
    const started = performance.now();
    const result = await decodeGreedy(loaded.steps, { ...options, eosTokenIds: [0], sizer });
    return { tokens: result.tokens, margins: result.margins ?? [], stats: result.stats, ms: performance.now() - started };
  },

  /** Rounds of (draft, kept) then a probe token: the max |difference| from a fresh run's logits. */
  async rollbackCheck(key: string, prompt: number[], rounds: Array<[number[], number]>, probe: number) {
    const { steps } = model(key);
    const accepted = [...prompt];
    steps.reset();
    await steps.forward(prompt, 1);
    let gpuResident = steps.gpuResident;
    for (const [draft, keep] of rounds) {
      await steps.forward(draft);
      gpuResident &&= steps.gpuResident;
      await steps.truncate(accepted.length + keep);
      gpuResident &&= steps.gpuResident;
      accepted.push(...draft.slice(0, keep));
    }
    const next = await steps.forward([probe]);
    steps.reset();
    const fresh = await steps.forward([...accepted, probe], 1);
    steps.reset();
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < next.vocab; i++) {
      worst = Math.max(worst, Math.abs(next.data[i]! - fresh.data[i]!));
      scale = Math.max(scale, Math.abs(fresh.data[i]!));
    }
    // A few logits of each, to compare across devices.
    const sample = (data: Float32Array) => Array.from(data.subarray(0, 4), (value) => +value.toFixed(4));
    return { worst, scale, gpuResident, length: accepted.length, stepped: sample(next.data), fresh: sample(fresh.data) };
  },
});
