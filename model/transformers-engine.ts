import {
  AutoModelForCausalLM,
  AutoTokenizer,
  InterruptableStoppingCriteria,
  TextStreamer,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type ProgressInfo,
  type Tensor,
} from '@huggingface/transformers';
import type { Device } from '../utils/messages';
import { AbortError, type AlignerEngine, type GenerateOptions, type GenerateResult, type Prompt } from './engine';
import type { AnyLocalDevice } from './presets';

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
 */
export class TransformersEngine implements AlignerEngine {
  notice?: string;

  private constructor(
    readonly device: Device,
    readonly repo: string,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly model: PreTrainedModel,
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
    yieldBetweenRuns(model);
    return new TransformersEngine(options.device, options.repo, tokenizer, model);
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

  async countPromptTokens(prompt: Prompt): Promise<number> {
    const { input_ids } = this.encode(prompt);
    return input_ids.dims.at(-1) ?? 0;
  }

  async generate(prompt: Prompt, options: GenerateOptions): Promise<GenerateResult> {
    const { signal, onText, stop = [] } = options;
    if (signal?.aborted) throw new AbortError();
    const inputs = this.encode(prompt);
    const inputLength = inputs.input_ids.dims.at(-1) ?? 0;
    // Stops within one token step: generate() checks the criteria after every token.
    const stopping = new InterruptableStoppingCriteria();
    const interrupt = () => stopping.interrupt();
    signal?.addEventListener('abort', interrupt);
    let streamed = '';
    const streamer = new TextStreamer(this.tokenizer, {
      skip_prompt: true,
      skip_special_tokens: true,
      callback_function: (piece: string) => {
        streamed += piece;
        // A model that runs on into the next turn stops as soon as it writes a stop string.
        if (stop.some((marker) => streamed.includes(marker))) stopping.interrupt();
        onText?.(streamed);
      },
    });
    try {
      const output = (await this.model.generate({
        ...inputs,
        max_new_tokens: options.maxNewTokens,
        do_sample: false,
        streamer,
        stopping_criteria: stopping,
      })) as Tensor;
      if (signal?.aborted) throw new AbortError();
      // One prompt per call, so row 0 is ours; the prompt is never echoed back.
      const outputLength = output.dims.at(-1) ?? inputLength;
      const newTokens = output.slice(0, [inputLength, outputLength]);
      const text = this.tokenizer.decode(newTokens.tolist() as unknown as number[], { skip_special_tokens: true });
      return { text, tokens: outputLength - inputLength };
    } finally {
      signal?.removeEventListener('abort', interrupt);
    }
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/**
 * WASM inference resolves without ever leaving the current task, so a whole generation would run
 * as one task: the page hosting the engine could not send a single streamed update (or receive a
 * cancel) until the end. Yielding to the event loop before each session run (one per token)
 * lets updates out as they are made (at most one yield a frame, so fast models pay almost nothing).
 */
function yieldBetweenRuns(model: PreTrainedModel): void {
  const sessions = (model as unknown as { sessions?: Record<string, { run: (...args: unknown[]) => Promise<unknown> }> }).sessions ?? {};
  let lastYield = 0;
  for (const session of Object.values(sessions)) {
    const run = session.run.bind(session);
    session.run = async (...args: unknown[]) => {
      // At most one yield per frame (16 ms): fast models skip most of them, nobody sees the difference.
      if (performance.now() - lastYield > 16) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      return run(...args);
    };
  }
}

function yieldToEventLoop(): Promise<void> {
  // A message to ourselves is a new task without setTimeout's 4 ms clamping. (scheduler.yield()
  // would resume ahead of the pending message sends, which is exactly what must not happen.)
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
