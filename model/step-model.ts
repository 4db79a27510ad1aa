/**
 * A decoder driven step by step: a prefill, then passes of 1..k tokens over the KV cache, and
 * cutting the cache back after a rejected draft. It runs the very ONNX session transformers.js
 * loaded (`model.sessions.model`), in the transformers.js layout (`input_ids`, `attention_mask`,
 * optional `position_ids`, `past_key_values.N.key|value` → `logits`, `present.N.key|value`).
 *
 * Rollback always cuts the cache, never masks stale entries: GroupQueryAttention (onnx-community
 * exports) derives each sequence's length from `attention_mask`, so a masked entry would still be
 * attended, and a standard graph then never grows past what was accepted either.
 * - CPU-resident caches (onnxruntime-node, WASM): each tensor is copied, head by head, into one
 *   of the accepted length (a memcpy per head; the tensors are JS arrays already).
 * - GPU-resident caches (WebGPU, `preferredOutputLocation: 'gpu-buffer'`): a tiny Slice graph
 *   (onnx-slice.ts) runs as its own session on the same device with GPU-buffer inputs and
 *   outputs, so the cut happens on the GPU and nothing is read back.
 */
import { buildCacheSliceModel, type SliceTensorSpec } from './onnx-slice';

/** The parts of an onnxruntime tensor this module uses (node, web and common share them). */
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly location: string;
  readonly data: unknown;
  dispose(): void;
}

export type OrtTensorConstructor = new (type: string, data: unknown, dims: readonly number[]) => OrtTensor;

export interface OrtValueMetadata {
  name: string;
  isTensor?: boolean;
  type?: string;
  shape?: ReadonlyArray<number | string>;
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly OrtValueMetadata[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release?(): Promise<void>;
}

interface OrtSessionFactory {
  create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession>;
}

/** Logits of the last rows of a pass, as float32, row-major. */
export interface Logits {
  rows: number;
  vocab: number;
  data: Float32Array;
}

interface CacheEntry {
  /** Input name (`past_key_values.0.key`) and the output that refreshes it (`present.0.key`). */
  input: string;
  output: string;
  type: string;
  /** The axis that grows by one per token. */
  axis: number;
  empty: readonly number[];
}

export interface StepModelOptions {
  /** For caches shaped `batch_size x num_heads` (older exports): the model's head count. */
  numHeads?: number;
  /**
   * Cut CPU-resident caches with the Slice graph too, on this execution provider ('cpu', 'wasm'),
   * instead of copying in JS: tests run the graph cut without a GPU this way.
   */
  graphCutProvider?: string;
}

const KNOWN_INPUTS = new Set(['input_ids', 'attention_mask', 'position_ids', 'use_cache_branch', 'num_logits_to_keep']);

export class StepModel {
  private readonly cacheEntries: CacheEntry[];
  private readonly inputTypes: Map<string, string>;
  private cache = new Map<string, OrtTensor>();
  private cached = 0;
  private busy = false;
  private sliceSession: Promise<OrtSession> | undefined;
  private multiTokenChecked: Promise<boolean> | undefined;

  constructor(
    private readonly session: OrtSession,
    private readonly Tensor: OrtTensorConstructor,
    private readonly options: StepModelOptions = {},
  ) {
    const unknown = session.inputNames.filter((name) => !KNOWN_INPUTS.has(name) && !name.startsWith('past_key_values.'));
    if (unknown.length > 0) throw new Error(`This model's graph takes inputs the decode loop does not know: ${unknown.join(', ')}.`);
    if (!session.inputNames.includes('input_ids')) throw new Error('This model has no input_ids input.');
    const metadata = new Map((session.inputMetadata ?? []).map((entry) => [entry.name, entry]));
    this.cacheEntries = session.inputNames
      .filter((name) => name.startsWith('past_key_values.'))
      .map((input) => {
        const output = input.replace('past_key_values', 'present');
        if (!session.outputNames.includes(output)) throw new Error(`The graph has ${input} but no ${output} output.`);
        const shape = metadata.get(input)?.shape;
        if (!shape) throw new Error(`The graph does not describe the shape of ${input}.`);
        const named = shape.findIndex((dim) => typeof dim === 'string' && /past|seq/i.test(dim));
        const axis = named >= 0 ? named : shape.length - 2;
        const empty = shape.map((dim, d) => {
          if (typeof dim === 'number') return dim;
          if (d === axis) return 0;
          if (dim === 'batch_size') return 1;
          if (dim === 'batch_size x num_heads' && options.numHeads) return options.numHeads;
          throw new Error(`Cannot size the empty cache of ${input}: dimension "${dim}" is unknown.`);
        });
        return { input, output, type: metadata.get(input)?.type ?? 'float32', axis, empty };
      });
    this.inputTypes = new Map((session.inputMetadata ?? []).map((entry) => [entry.name, entry.type ?? 'int64']));
  }

  /**
   * The ONNX session transformers.js created for a decoder-only model, and the onnxruntime tensor
   * class of the same runtime (from transformers.js's own Tensor wrapper).
   */
  static fromTransformers(
    model: { sessions?: Record<string, unknown>; config?: unknown },
    TransformersTensor: new (type: string, data: unknown, dims: number[]) => unknown,
    options: Omit<StepModelOptions, 'numHeads'> = {},
  ): StepModel {
    const session = model.sessions?.model as OrtSession | undefined;
    if (!session) throw new Error('This model has no decoder session ("model") to step through.');
    const probe = new TransformersTensor('float32', new Float32Array(1), [1]) as { ort_tensor?: { constructor: unknown } };
    const Tensor = probe.ort_tensor?.constructor as OrtTensorConstructor | undefined;
    if (!Tensor) throw new Error('Cannot reach onnxruntime\'s Tensor class through transformers.js.');
    const config = (model.config ?? {}) as { num_attention_heads?: number; n_head?: number };
    return new StepModel(session, Tensor, { ...options, numHeads: config.num_attention_heads ?? config.n_head });
  }

  /** Tokens held in the KV cache. */
  get length(): number {
    return this.cached;
  }

  /** Whether the cache lives on the GPU (WebGPU's GPU buffers) after the last pass. */
  get gpuResident(): boolean {
    for (const tensor of this.cache.values()) if (tensor.location === 'gpu-buffer') return true;
    return false;
  }

  /** Forgets the cache (the next pass is a prefill). */
  reset(): void {
    this.disposeCache();
    this.cached = 0;
  }

  /**
   * Runs `tokens` after the cached ones (positions length..length+n-1) and keeps their keys and
   * values. Returns the logits of the last `keepRows` of them (row i predicts the token after
   * tokens[n - keepRows + i]).
   */
  async forward(tokens: readonly number[], keepRows = tokens.length): Promise<Logits> {
    if (tokens.length === 0) throw new Error('A pass needs at least one token.');
    const rows = Math.max(1, Math.min(keepRows, tokens.length));
    return this.exclusive(async () => {
      const n = tokens.length;
      const past = this.cached;
      const feeds: Record<string, OrtTensor> = {};
      const names = this.session.inputNames;
      feeds.input_ids = this.integers('input_ids', tokens, [1, n]);
      if (names.includes('attention_mask')) feeds.attention_mask = this.integers('attention_mask', new Array<number>(past + n).fill(1), [1, past + n]);
      if (names.includes('position_ids')) feeds.position_ids = this.integers('position_ids', tokens.map((_, i) => past + i), [1, n]);
      if (names.includes('use_cache_branch')) feeds.use_cache_branch = new this.Tensor('bool', new Uint8Array([past > 0 ? 1 : 0]), [1]);
      if (names.includes('num_logits_to_keep')) feeds.num_logits_to_keep = new this.Tensor('int64', BigInt64Array.from([BigInt(rows)]), []);
      for (const entry of this.cacheEntries) {
        feeds[entry.input] = this.cache.get(entry.input) ?? new this.Tensor(entry.type, emptyArray(entry.type), entry.empty);
      }
      const outputs = await this.session.run(feeds);
      const logits = outputs.logits;
      if (!logits) throw new Error('The model returned no logits.');
      const previous = this.cache;
      this.cache = new Map();
      for (const entry of this.cacheEntries) {
        const present = outputs[entry.output];
        if (!present) throw new Error(`The model returned no ${entry.output}.`);
        if (present.dims[entry.axis] !== past + n) {
          throw new Error(`${entry.output} holds ${present.dims[entry.axis]} positions after a pass over ${past}+${n}: the graph's cache layout is not supported.`);
        }
        this.cache.set(entry.input, present);
      }
      for (const [name, tensor] of previous) if (this.cache.get(name) !== tensor) disposeGpu(tensor);
      this.cached = past + n;
      const result = lastRows(logits, rows);
      for (const [name, tensor] of Object.entries(outputs)) {
        if (name !== 'logits' && !this.cacheEntries.some((entry) => entry.output === name)) disposeGpu(tensor);
      }
      disposeGpu(logits);
      return result;
    });
  }

  /** Cuts the cache to its first `length` positions (after a rejected draft). */
  async truncate(length: number): Promise<void> {
    if (length === this.cached) return;
    if (length < 0 || length > this.cached) throw new Error(`Cannot cut a cache of ${this.cached} positions to ${length}.`);
    await this.exclusive(async () => {
      if (length === 0) {
        this.disposeCache();
      } else if (this.gpuResident) {
        await this.cutWithGraph(length, 'webgpu', 'gpu-buffer');
      } else if (this.options.graphCutProvider) {
        await this.cutWithGraph(length, this.options.graphCutProvider, 'cpu');
      } else {
        for (const entry of this.cacheEntries) {
          const tensor = this.cache.get(entry.input)!;
          this.cache.set(entry.input, cutOnCpu(this.Tensor, tensor, entry.axis, length));
        }
      }
      this.cached = length;
    });
  }

  /**
   * Whether passes of several tokens over a cache (and cutting it) give the logits a one-pass run
   * gives. Checked once, on a short probe, since some graphs or kernels only handle a prefill and
   * single-token steps. A model that fails is decoded one token per pass.
   */
  supportsMultiTokenSteps(probe: readonly number[]): Promise<boolean> {
    this.multiTokenChecked ??= this.checkMultiTokenSteps(probe).catch(() => false);
    return this.multiTokenChecked;
  }

  async dispose(): Promise<void> {
    this.disposeCache();
    const slice = this.sliceSession;
    this.sliceSession = undefined;
    if (slice) await (await slice.catch(() => undefined))?.release?.();
  }

  private async checkMultiTokenSteps(probe: readonly number[]): Promise<boolean> {
    if (probe.length < 7) throw new Error('The probe needs 7 tokens.');
    const tokens = probe.slice(0, 7);
    this.reset();
    const whole = await this.forward(tokens);
    this.reset();
    await this.forward(tokens.slice(0, 2));
    // Two of these tokens are a "draft" that gets rejected and cut away.
    const stepped = await this.forward([tokens[2]!, tokens[3]!, tokens[4]!, tokens[1]!, tokens[0]!]);
    await this.truncate(5);
    const after = await this.forward(tokens.slice(5, 7));
    this.reset();
    const vocab = whole.vocab;
    const row = (logits: Logits, i: number) => logits.data.subarray(i * vocab, (i + 1) * vocab);
    const pairs: Array<[Float32Array, Float32Array]> = [
      [row(whole, 2), row(stepped, 0)],
      [row(whole, 4), row(stepped, 2)],
      [row(whole, 5), row(after, 0)],
      [row(whole, 6), row(after, 1)],
    ];
    return pairs.every(([a, b]) => closeLogits(a, b));
  }

  private async cutWithGraph(length: number, provider: string, location: 'gpu-buffer' | 'cpu'): Promise<void> {
    const specs: SliceTensorSpec[] = this.cacheEntries.map((entry) => ({ type: entry.type, rank: entry.empty.length, axis: entry.axis }));
    // Created once, on the provider holding the cache: the same device, so its GPU buffers pass as they are.
    this.sliceSession ??= (this.session.constructor as unknown as OrtSessionFactory).create(buildCacheSliceModel(specs), {
      executionProviders: [provider],
      preferredOutputLocation: location,
      graphOptimizationLevel: 'disabled',
    });
    const slicer = await this.sliceSession;
    const feeds: Record<string, OrtTensor> = { keep: new this.Tensor('int64', BigInt64Array.from([BigInt(length)]), [1]) };
    this.cacheEntries.forEach((entry, i) => {
      feeds[`cache.${i}`] = this.cache.get(entry.input)!;
    });
    const outputs = await slicer.run(feeds);
    const previous = this.cache;
    this.cache = new Map();
    this.cacheEntries.forEach((entry, i) => this.cache.set(entry.input, outputs[`cut.${i}`]!));
    for (const tensor of previous.values()) disposeGpu(tensor);
  }

  private integers(name: string, values: readonly number[], dims: number[]): OrtTensor {
    const type = this.inputTypes.get(name) ?? 'int64';
    if (type === 'int32') return new this.Tensor('int32', Int32Array.from(values), dims);
    return new this.Tensor('int64', BigInt64Array.from(values, (value) => BigInt(value)), dims);
  }

  private disposeCache(): void {
    for (const tensor of this.cache.values()) disposeGpu(tensor);
    this.cache = new Map();
    this.cached = 0;
  }

  /** ORT sessions must not run twice at once; the loop never does, and this says so if it did. */
  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.busy) throw new Error('The step model is already running a pass.');
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }
}

function emptyArray(type: string): unknown {
  switch (type) {
    case 'float32':
      return new Float32Array(0);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(0);
    default:
      throw new Error(`KV cache of type ${type} is not supported.`);
  }
}

function disposeGpu(tensor: OrtTensor): void {
  if (tensor.location === 'gpu-buffer') tensor.dispose();
}

/** The first `length` positions along `axis`, copied block by block (one block per head). */
function cutOnCpu(Tensor: OrtTensorConstructor, tensor: OrtTensor, axis: number, length: number): OrtTensor {
  const dims = tensor.dims;
  const data = tensor.data as Float32Array | Uint16Array;
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= dims[d]!;
  let inner = 1;
  for (let d = axis + 1; d < dims.length; d++) inner *= dims[d]!;
  const from = dims[axis]! * inner;
  const to = length * inner;
  const cut = new (data.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(outer * to);
  for (let o = 0; o < outer; o++) cut.set(data.subarray(o * from, o * from + to), o * to);
  const shape = [...dims];
  shape[axis] = length;
  return new Tensor(tensor.type, cut, shape);
}

/** The last `rows` rows of a [1, n, vocab] logits tensor, as float32. */
function lastRows(logits: OrtTensor, rows: number): Logits {
  const dims = logits.dims;
  const vocab = dims[dims.length - 1]!;
  const n = dims.length >= 2 ? dims[dims.length - 2]! : 1;
  const keep = Math.min(rows, n);
  const start = (n - keep) * vocab;
  const data = logits.data;
  if (data instanceof Float32Array) return { rows: keep, vocab, data: data.slice(start, start + keep * vocab) };
  if (logits.type === 'float16') return { rows: keep, vocab, data: halfToFloat(data as Uint16Array, start, keep * vocab) };
  throw new Error(`Logits of type ${logits.type} are not supported.`);
}

function halfToFloat(data: Uint16Array | ArrayLike<number>, start: number, count: number): Float32Array {
  const out = new Float32Array(count);
  if (!(data instanceof Uint16Array)) {
    // A runtime that hands out Float16Array already decoded the values.
    for (let i = 0; i < count; i++) out[i] = data[start + i]!;
    return out;
  }
  for (let i = 0; i < count; i++) {
    const h = data[start + i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * fraction * 2 ** -24;
    else if (exponent === 31) out[i] = fraction ? NaN : sign * Infinity;
    else out[i] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

/** Same prediction and nearly the same values (another summation order moves only the last bits). */
function closeLogits(a: Float32Array, b: Float32Array): boolean {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]!));
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  }
  return Number.isFinite(worst) && worst <= 0.02 * Math.max(scale, 1e-3);
}
