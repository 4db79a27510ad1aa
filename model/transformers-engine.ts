import {
  AutoModelForCausalLM,
  AutoTokenizer,
  Tensor as TransformersTensor,
  TextStreamer,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type ProgressInfo,
  type Tensor,
} from '@huggingface/transformers';
import type { Device } from '../utils/messages';
import { AbortError, type AlignerEngine, type GenerateOptions, type GenerateResult, type Prompt } from './engine';
import type { AnyLocalDevice } from './presets';
import { decodeGreedy, DraftSizer, type GreedyStats } from './speculative';
import { StepModel } from './step-model';

export interface DownloadProgress {
  loaded: number;
  total: number;
  files: number;
  filesDone: number;
}

export interface LoadOptions {
  repo: string;
  device: AnyLocalDevice;
  /** undefined: the repo's config.json (or transformers.js) picks. */
  dtype?: string;
  onProgress?: (progress: DownloadProgress) => void;
}

/**
 * The local engine: transformers.js on ONNX Runtime (WebGPU or WASM in a browser,
 * onnxruntime-node or WASM in Node). The same class runs in the extension and in `npm run align`.
 * The caller sets transformers.js's `env` (hub host, wasm paths, caches) for its context.
 *
 * transformers.js loads the tokenizer and the ONNX session; decoding is the engine's own loop
 * (model/speculative.ts) over that session, drafting from the answer being corrected.
 */
export class TransformersEngine implements AlignerEngine {
  notice?: string;
  /** Speculative decoding (on unless the model's graph cannot run multi-token passes). */
  speculative = true;
  /** Statistics of the last generate() call. */
  lastDecode?: GreedyStats;
  /** Pass costs and draft acceptance learned across this model's corrections. */
  private readonly sizer = new DraftSizer();
  /** One generation at a time: the step model holds one KV cache. */
  private running: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly device: Device,
    readonly repo: string,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly model: PreTrainedModel,
    private readonly steps: StepModel,
  ) {}

  static async load(options: LoadOptions): Promise<TransformersEngine> {
    const files = new Map<string, { loaded: number; total: number; done: boolean }>();
    const progress_callback = (info: ProgressInfo) => {
      if (!('file' in info) || !options.onProgress) return;
      const entry = files.get(info.file) ?? { loaded: 0, total: 0, done: false };
      if (info.status === 'progress') {
        entry.loaded = info.loaded;
        entry.total = info.total;
      } else if (info.status === 'done') {
        entry.done = true;
        entry.loaded = Math.max(entry.loaded, entry.total);
      }
      files.set(info.file, entry);
      let loaded = 0;
      let total = 0;
      let filesDone = 0;
      for (const file of files.values()) {
        loaded += file.loaded;
        total += file.total;
        if (file.done) filesDone += 1;
      }
      options.onProgress({ loaded, total, files: files.size, filesDone });
    };
    const tokenizer = await AutoTokenizer.from_pretrained(options.repo, { progress_callback });
    if (!tokenizer) throw new Error(`The model ${options.repo} has no usable tokenizer (tokenizer.json and tokenizer_config.json are both needed).`);
    const model = await AutoModelForCausalLM.from_pretrained(options.repo, {
      device: options.device,
      // The union of dtype names is wider in transformers.js than in our presets.
      dtype: options.dtype as never,
      progress_callback,
    });
    const steps = StepModel.fromTransformers(model as never, TransformersTensor as never);
    const engine = new TransformersEngine(options.device, options.repo, tokenizer, model, steps);
    // Some graphs or kernels only handle a prefill and one-token steps: check once, on a probe.
    engine.speculative = await steps.supportsMultiTokenSteps(engine.probeTokens());
    return engine;
  }

  private encode(prompt: Prompt): { input_ids: Tensor; attention_mask: Tensor } {
    if (prompt.kind === 'text') {
      return this.tokenizer(prompt.text) as { input_ids: Tensor; attention_mask: Tensor };
    }
    return this.tokenizer.apply_chat_template(prompt.messages, {
      add_generation_prompt: true,
      return_dict: true,
    }) as unknown as { input_ids: Tensor; attention_mask: Tensor };
  }

  private encodeIds(prompt: Prompt): number[] {
    const { input_ids } = this.encode(prompt);
    return Array.from(input_ids.data as ArrayLike<bigint | number>, Number);
  }

  /**
   * The answer's tokens as the model will copy them: templates put a space before the answer, and
   * a byte-level BPE folds it into the first word's token.
   */
  private sourceIds(prompt: Prompt, source: string): number[] {
    const promptText = prompt.kind === 'text' ? prompt.text : prompt.messages.map((message) => message.content).join('\n');
    const text = promptText.includes(` ${source}`) ? ` ${source}` : source;
    return this.tokenizer.encode(text, { add_special_tokens: false });
  }

  /** Seven ordinary tokens for the multi-token check (any text the tokenizer splits finely). */
  private probeTokens(): number[] {
    const ids = this.tokenizer.encode('The quick brown fox jumps over the lazy dog, then it naps.', { add_special_tokens: false });
    while (ids.length < 7) ids.push(...ids);
    return ids.slice(0, 7);
  }

  async countPromptTokens(prompt: Prompt): Promise<number> {
    const { input_ids } = this.encode(prompt);
    return input_ids.dims.at(-1) ?? 0;
  }

  generate(prompt: Prompt, options: GenerateOptions): Promise<GenerateResult> {
    const turn = this.running.then(() => this.generateNow(prompt, options));
    this.running = turn.catch(() => undefined);
    return turn;
  }

  private async generateNow(prompt: Prompt, options: GenerateOptions): Promise<GenerateResult> {
    const { signal, onText, stop = [] } = options;
    if (signal?.aborted) throw new AbortError();
    const promptIds = this.encodeIds(prompt);
    let streamed = '';
    let stopped = false;
    // Text is released a word at a time, as transformers.js's own streaming does.
    const streamer = new TextStreamer(this.tokenizer, {
      skip_prompt: true,
      skip_special_tokens: true,
      callback_function: (piece: string) => {
        streamed += piece;
        // A model that runs on into the next turn stops as soon as it writes a stop string.
        if (stop.some((marker) => streamed.includes(marker))) stopped = true;
        onText?.(streamed);
      },
    });
    streamer.put([promptIds.map(BigInt)]);
    const generation = this.model.generation_config as { eos_token_id?: number | number[]; repetition_penalty?: number } | null;
    const config = this.model.config as { eos_token_id?: number | number[] };
    const eos = generation?.eos_token_id ?? config.eos_token_id ?? this.tokenizer.eos_token_id;
    const result = await decodeGreedy(this.steps, {
      prompt: promptIds,
      source: options.source !== undefined ? this.sourceIds(prompt, options.source) : undefined,
      maxNewTokens: options.maxNewTokens,
      eosTokenIds: eos === undefined || eos === null ? [] : Array.isArray(eos) ? eos : [eos],
      repetitionPenalty: generation?.repetition_penalty ?? 1,
      signal,
      speculative: this.speculative,
      sizer: this.sizer,
      onToken: (token) => {
        streamer.put([[BigInt(token)]]);
        return stopped;
      },
    });
    streamer.end();
    this.lastDecode = result.stats;
    // One prompt per call; the prompt is never echoed back.
    const text = this.tokenizer.decode(result.tokens, { skip_special_tokens: true });
    const { passes, drafted, accepted } = result.stats;
    return { text, tokens: result.tokens.length, decode: { passes, drafted, accepted } };
  }

  async dispose(): Promise<void> {
    await this.steps.dispose();
    await this.model.dispose();
  }
}
