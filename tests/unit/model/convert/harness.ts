/**
 * Drives a converted decoder graph the way transformers.js and the decode loop do, on any
 * onnxruntime flavour (onnxruntime-node, onnxruntime-web WASM in Node, onnxruntime-web WebGPU in
 * a page), and compares it with the PyTorch references of tests/fixtures/converter/. No Node
 * imports: the WebGPU e2e bundles this file into its test page.
 */

export interface Reference {
  architecture: string;
  config: { vocab_size: number; num_hidden_layers: number; num_key_value_heads: number };
  head_dim: number;
  prompt: number[];
  greedy: number[];
  batch: { input_ids: number[][]; attention_mask: number[][]; position_ids: number[][]; logits: number[] };
}

/** The parts of onnxruntime's API used here (the same in -node and -web). */
export interface OrtTensor {
  dims: readonly number[];
  type: string;
  data: unknown;
}
export interface OrtSession {
  inputMetadata: ReadonlyArray<{ name: string; type?: string; shape?: ReadonlyArray<number | string> }>;
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
}
export interface OrtModule {
  Tensor: new (type: string, data: unknown, dims: number[]) => OrtTensor;
}

export interface Checks {
  /** Max |logit − reference| over the whole sequence in one step (empty past). */
  full: number;
  /** The same, fed as a prompt and then one token per step through the KV cache. */
  stepwise: number;
  /** The greedy prediction of each decode step through the cache (fp32: must equal the reference's). */
  greedy: number[];
  /** k new tokens per step on a non-empty past (4, then 3, then the rest). */
  multiToken: number;
  /** The cache cut back to 6 positions (a rejected draft), then the rest fed in one step. */
  rollback: number;
  /** A left-padded batch of two, compared at the positions that are not padding. */
  batch: number;
  /** The full-sequence logits, for drift figures. */
  logits: Float32Array;
}

type Past = Record<string, OrtTensor>;

export async function runChecks(ort: OrtModule, session: OrtSession, reference: Reference, expected: Float32Array, batchExpected: Float32Array): Promise<Checks> {
  const V = reference.config.vocab_size;
  const sequence = [...reference.prompt, ...reference.greedy];
  const T = sequence.length;
  const pastInputs = session.inputMetadata.filter((m) => m.name.startsWith('past_key_values.'));
  const cacheType = pastInputs[0]!.type ?? 'float32';

  const ids = (values: number[][]) => new ort.Tensor('int64', BigInt64Array.from(values.flat().map(BigInt)), [values.length, values[0]!.length]);
  const emptyPast = (batch: number): Past => {
    const past: Past = {};
    for (const m of pastInputs) {
      const dims = [batch, Number(m.shape![1]), 0, Number(m.shape![3])];
      past[m.name] = new ort.Tensor(cacheType, cacheType === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims);
    }
    return past;
  };
  /** One step: `tokens` new tokens at positions past..past+k, batch of one. */
  const step = async (tokens: number[], past: Past, pastLength: number) => {
    const feeds: Record<string, OrtTensor> = {
      input_ids: ids([tokens]),
      attention_mask: ids([new Array(pastLength + tokens.length).fill(1)]),
      position_ids: ids([tokens.map((_, i) => pastLength + i)]),
      ...past,
    };
    const out = await session.run(feeds);
    const next: Past = {};
    for (const m of pastInputs) next[m.name] = out[m.name.replace('past_key_values.', 'present.')]!;
    return { logits: out.logits!.data as Float32Array, past: next };
  };
  const diff = (logits: Float32Array, fromPosition: number) => {
    let max = 0;
    for (let i = 0; i < logits.length; i++) max = Math.max(max, Math.abs(logits[i]! - expected[fromPosition * V + i]!));
    return max;
  };

  const full = await step(sequence, emptyPast(1), 0);

  // The prompt, then one token per step through the cache. Each step's prediction is the greedy
  // choice; the reference's token is fed back (so a quantized graph is compared on the same inputs).
  let state = await step(reference.prompt, emptyPast(1), 0);
  let stepwise = diff(state.logits, 0);
  const greedy = [argmax(state.logits.subarray((reference.prompt.length - 1) * V))];
  let length = reference.prompt.length;
  for (const token of reference.greedy.slice(0, -1)) {
    state = await step([token], state.past, length);
    stepwise = Math.max(stepwise, diff(state.logits, length));
    greedy.push(argmax(state.logits));
    length += 1;
  }

  // k tokens per step on a non-empty past.
  let multiToken = 0;
  let past = emptyPast(1);
  let at = 0;
  for (const k of [4, 3, T - 7]) {
    const result = await step(sequence.slice(at, at + k), past, at);
    multiToken = Math.max(multiToken, diff(result.logits, at));
    past = result.past;
    at += k;
  }

  // Roll the cache back: compute 10 positions, keep 6, feed the rest in one step.
  const ten = await step(sequence.slice(0, 10), emptyPast(1), 0);
  const cut: Past = {};
  for (const [name, tensor] of Object.entries(ten.past)) cut[name] = truncatePast(ort, tensor, 6);
  const rolled = await step(sequence.slice(6), cut, 6);
  const rollback = diff(rolled.logits, 6);

  // A left-padded batch.
  const batchOut = await session.run({
    input_ids: ids(reference.batch.input_ids),
    attention_mask: ids(reference.batch.attention_mask),
    position_ids: ids(reference.batch.position_ids),
    ...emptyPast(2),
  });
  const batchLogits = batchOut.logits!.data as Float32Array;
  const L = reference.batch.input_ids[0]!.length;
  let batch = 0;
  for (let row = 0; row < 2; row++) {
    for (let position = 0; position < L; position++) {
      if (reference.batch.attention_mask[row]![position] === 0) continue;
      const base = (row * L + position) * V;
      for (let v = 0; v < V; v++) batch = Math.max(batch, Math.abs(batchLogits[base + v]! - batchExpected[base + v]!));
    }
  }

  return { full: diff(full.logits, 0), stepwise, greedy, multiToken, rollback, batch, logits: Float32Array.from(full.logits) };
}

/** The first `keep` positions of a [batch, heads, past, headDim] cache tensor. */
function truncatePast(ort: OrtModule, tensor: OrtTensor, keep: number): OrtTensor {
  const [b, h, , d] = tensor.dims as number[];
  const data = tensor.data as Float32Array | Uint16Array;
  const total = tensor.dims[2]!;
  const out = new (data.constructor as { new (n: number): Float32Array | Uint16Array })(b! * h! * keep * d!);
  for (let i = 0; i < b! * h!; i++) out.set(data.subarray(i * total * d!, i * total * d! + keep * d!), i * keep * d!);
  return new ort.Tensor(tensor.type, out, [b!, h!, keep, d!]);
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Drift of one set of logits from another: mean cosine per position and argmax agreement. */
export function drift(logits: Float32Array, reference: Float32Array, vocab: number): { cosine: number; argmaxAgreement: number } {
  const positions = reference.length / vocab;
  let cosine = 0;
  let agree = 0;
  for (let p = 0; p < positions; p++) {
    const a = logits.subarray(p * vocab, (p + 1) * vocab);
    const b = reference.subarray(p * vocab, (p + 1) * vocab);
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < vocab; i++) {
      dot += a[i]! * b[i]!;
      na += a[i]! * a[i]!;
      nb += b[i]! * b[i]!;
    }
    cosine += dot / Math.sqrt(na * nb);
    if (argmax(a) === argmax(b)) agree += 1;
  }
  return { cosine: cosine / positions, argmaxAgreement: agree / positions };
}
