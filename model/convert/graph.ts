import type { DecoderSpec } from './architectures';
import { OnnxDataType, BYTES_PER_ELEMENT, type AttributeValue, type Dim, type NodeSpec, type TensorSpec, type ValueInfoSpec } from './onnx-proto';
import { quantizeRows, quantizedSizes, type QuantSpec } from './quantize';
import { convertToBytes, transposeToBytes, type SourceDtype } from './tensors';

export type TargetDtype = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16';

export interface DtypeSpec {
  /** Activations, norms, biases, KV cache and unquantized weights. */
  float: 'fp32' | 'fp16';
  quant: QuantSpec | null;
  /** transformers.js's file name suffix for the dtype (onnx/model{suffix}.onnx). */
  suffix: string;
}

/**
 * q8 is MatMulNBits with 8-bit codes (weight-only, like q4): both onnxruntime-web providers run
 * it (WebGPU and WASM, checked in the pinned 1.31 build), where the dynamic-quantization
 * MatMulInteger graphs other tools write for "q8" fall back to the CPU under WebGPU.
 */
export const DTYPES: Record<TargetDtype, DtypeSpec> = {
  fp32: { float: 'fp32', quant: null, suffix: '' },
  fp16: { float: 'fp16', quant: null, suffix: '_fp16' },
  q8: { float: 'fp32', quant: { bits: 8, block: 32 }, suffix: '_quantized' },
  q4: { float: 'fp32', quant: { bits: 4, block: 32 }, suffix: '_q4' },
  q4f16: { float: 'fp16', quant: { bits: 4, block: 32 }, suffix: '_q4f16' },
};

export function isTargetDtype(value: string): value is TargetDtype {
  return value in DTYPES;
}

export interface WeightOutput {
  name: string;
  dataType: OnnxDataType;
  dims: number[];
  byteLength: number;
}

/**
 * Initializers made from one checkpoint tensor (or computed, `source: null`): the tensor is read
 * once and `produce` returns the bytes of every output, in order.
 */
export interface WeightTask {
  source: string | null;
  outputs: WeightOutput[];
  produce(raw: Uint8Array | null, dtype: SourceDtype | null): Uint8Array[];
}

/** An initializer that shares another's bytes under other dims (a tied head's quantized codes). */
export interface WeightAlias {
  name: string;
  dataType: OnnxDataType;
  dims: number[];
  of: string;
}

export interface DecoderGraph {
  nodes: NodeSpec[];
  inputs: ValueInfoSpec[];
  outputs: ValueInfoSpec[];
  /** Small constants (shapes, axes, scalars), stored inside the .onnx file. */
  constants: TensorSpec[];
  tasks: WeightTask[];
  aliases: WeightAlias[];
  opsets: Array<{ domain: string; version: number }>;
}

export const OPSETS = [
  { domain: '', version: 17 },
  { domain: 'com.microsoft', version: 1 },
];

/** The prefix of the mask nodes: integer bookkeeping that ONNX Runtime may place on the CPU. */
export const MASK_SCOPE = '/model/mask/';

class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly constants: TensorSpec[] = [];
  readonly tasks: WeightTask[] = [];
  readonly aliases: WeightAlias[] = [];
  private readonly constantNames = new Map<string, string>();
  private readonly nodeNames = new Set<string>();

  op(opType: string, inputs: string[], name: string, attributes?: Record<string, AttributeValue>, options: { domain?: string; outputs?: number } = {}): string[] {
    if (this.nodeNames.has(name)) throw new Error(`duplicate node ${name}`);
    this.nodeNames.add(name);
    const outputs = Array.from({ length: options.outputs ?? 1 }, (_, i) => `${name}/output_${i}`);
    this.nodes.push({ opType, inputs, outputs, name, attributes, domain: options.domain });
    return outputs;
  }

  /** One output. */
  op1(opType: string, inputs: string[], name: string, attributes?: Record<string, AttributeValue>, domain?: string): string {
    return this.op(opType, inputs, name, attributes, { domain })[0]!;
  }

  int64(values: number[], scalar = false): string {
    const key = `i64:${scalar ? 's' : 'v'}:${values.join(',')}`;
    let name = this.constantNames.get(key);
    if (!name) {
      name = `/constants/int64_${scalar ? 'scalar_' : ''}${values.join('_').replace(/-/g, 'm')}`;
      this.constantNames.set(key, name);
      const raw = new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer);
      this.constants.push({ name, dataType: OnnxDataType.INT64, dims: scalar ? [] : [values.length], raw });
    }
    return name;
  }

  float(value: number, dtype: 'fp32' | 'fp16'): string {
    const key = `${dtype}:${value}`;
    let name = this.constantNames.get(key);
    if (!name) {
      name = `/constants/${dtype}_${this.constants.length}`;
      this.constantNames.set(key, name);
      const raw = convertToBytes(new Uint8Array(new Float32Array([value]).buffer), 'F32', dtype);
      this.constants.push({ name, dataType: dtype === 'fp32' ? OnnxDataType.FLOAT : OnnxDataType.FLOAT16, dims: [], raw });
    }
    return name;
  }
}

function output(name: string, dataType: OnnxDataType, dims: number[]): WeightOutput {
  return { name, dataType, dims, byteLength: dims.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[dataType] };
}

/**
 * The decoder as transformers.js runs it: inputs `input_ids`, `attention_mask`, `position_ids`,
 * `past_key_values.{i}.key|value` [batch_size, kv_heads, past, head_dim]; outputs `logits`
 * (float32) and `present.{i}.key|value`.
 *
 * Attention is built from plain ops — the past concatenated with the new keys, a causal and
 * padding mask from `attention_mask` (queries are the last `sequence_length` positions of
 * `past + sequence_length`), rotary embeddings looked up by `position_ids` — rather than
 * GroupQueryAttention, so a cache cut back to any length (speculative decoding's rollback) with
 * a matching mask is simply valid, and k new tokens attend to the past and to each other
 * causally in one step.
 */
export interface GraphOptions {
  /**
   * MatMulNBits `accuracy_level`. 0 (default): float compute, what the exactness tests hold the
   * graphs to. 4: int8 activations on the CPU provider — much faster in onnxruntime-node (8-bit:
   * 111 → 1.4 ms for a 2048×5632 product here), slightly different numbers; onnxruntime-web's
   * WASM ignores it.
   */
  accuracyLevel?: 0 | 1 | 2 | 3 | 4;
}

export function buildDecoderGraph(spec: DecoderSpec, dtype: TargetDtype, options: GraphOptions = {}): DecoderGraph {
  const { float, quant } = DTYPES[dtype];
  const nbitsAttributes = (k: number, n: number, q: QuantSpec): Record<string, AttributeValue> => ({
    K: k,
    N: n,
    bits: q.bits,
    block_size: q.block,
    ...(options.accuracyLevel ? { accuracy_level: options.accuracyLevel } : {}),
  });
  const F = float === 'fp32' ? OnnxDataType.FLOAT : OnnxDataType.FLOAT16;
  const g = new GraphBuilder();
  const { hidden: H, heads: NH, kvHeads: KV, headDim: HD, intermediate: I, vocabRows: V, names } = spec;
  const rep = NH / KV;

  const inputs: ValueInfoSpec[] = [
    { name: 'input_ids', dataType: OnnxDataType.INT64, shape: ['batch_size', 'sequence_length'] },
    { name: 'attention_mask', dataType: OnnxDataType.INT64, shape: ['batch_size', 'total_sequence_length'] },
    { name: 'position_ids', dataType: OnnxDataType.INT64, shape: ['batch_size', 'sequence_length'] },
  ];
  const outputs: ValueInfoSpec[] = [{ name: 'logits', dataType: OnnxDataType.FLOAT, shape: ['batch_size', 'sequence_length', V] }];
  for (let i = 0; i < spec.layers; i++) {
    for (const kind of ['key', 'value']) {
      inputs.push({ name: `past_key_values.${i}.${kind}`, dataType: F, shape: ['batch_size', KV, 'past_sequence_length', HD] as Dim[] });
      outputs.push({ name: `present.${i}.${kind}`, dataType: F, shape: ['batch_size', KV, 'total_sequence_length', HD] as Dim[] });
    }
  }

  // ---- weights --------------------------------------------------------------------------------
  const floatWeight = (source: string, dims: number[]): string => {
    g.tasks.push({ source, outputs: [output(source, F, dims)], produce: (raw, d) => [convertToBytes(raw!, d!, float)] });
    return source;
  };

  /** The outputs and bytes of a [N, K] weight as MatMulNBits wants it. */
  const quantizedOutputs = (base: string, n: number, k: number, q: QuantSpec) => {
    const blocks = Math.ceil(k / q.block);
    const sizes = quantizedSizes(n, k, q, float === 'fp32' ? 4 : 2);
    return {
      outputs: [
        output(`${base}.codes`, OnnxDataType.UINT8, [n, blocks, (q.block * q.bits) / 8]),
        output(`${base}.scales`, F, [n * blocks]),
        output(`${base}.zero_points`, OnnxDataType.UINT8, [sizes.zeroPoints]),
      ],
      produce: (raw: Uint8Array, d: SourceDtype) => {
        const w = quantizeRows(raw, d, n, k, q, float);
        return [w.codes, w.scales, w.zeroPoints];
      },
    };
  };

  /** y = x W^T (+ b) for a PyTorch [N, K] weight. */
  const linear = (x: string, scope: string, weight: string, n: number, k: number, bias: string | null): string => {
    let y: string;
    if (quant) {
      const q = quantizedOutputs(weight, n, k, quant);
      g.tasks.push({ source: weight, outputs: q.outputs, produce: (raw, d) => q.produce(raw!, d!) });
      y = g.op1('MatMulNBits', [x, ...q.outputs.map((o) => o.name)], `${scope}/MatMulNBits`, nbitsAttributes(k, n, quant), 'com.microsoft');
    } else {
      const name = `${weight}.T`;
      g.tasks.push({ source: weight, outputs: [output(name, F, [k, n])], produce: (raw, d) => [transposeToBytes(raw!, d!, n, k, float)] });
      y = g.op1('MatMul', [x, name], `${scope}/MatMul`);
    }
    return bias ? g.op1('Add', [y, floatWeight(bias, [n])], `${scope}/Add`) : y;
  };

  const norm = (x: string, scope: string, weight: string): string =>
    g.op1('SimplifiedLayerNormalization', [x, floatWeight(weight, [H])], `${scope}/SimplifiedLayerNormalization`, { axis: -1, epsilon: { float: spec.rmsEps }, stash_type: 1 });

  // ---- rotary tables, looked up by position_ids ----------------------------------------------
  const ropeCos = '/model/rotary/cos_table';
  const ropeSin = '/model/rotary/sin_table_signed';
  g.tasks.push({
    source: null,
    outputs: [output(ropeCos, F, [spec.maxPositions, HD]), output(ropeSin, F, [spec.maxPositions, HD])],
    produce: () => {
      const [cos, sin] = rotaryTables(spec.maxPositions, HD, spec.ropeTheta);
      const bytes = (values: Float32Array) => convertToBytes(new Uint8Array(values.buffer), 'F32', float);
      return [bytes(cos), bytes(sin)];
    },
  });
  const unsqueeze = (x: string, axes: number[], name: string) => g.op1('Unsqueeze', [x, g.int64(axes)], name);
  const cos = unsqueeze(g.op1('Gather', [ropeCos, 'position_ids'], '/model/rotary/cos/Gather', { axis: 0 }), [1], '/model/rotary/cos/Unsqueeze');
  const sin = unsqueeze(g.op1('Gather', [ropeSin, 'position_ids'], '/model/rotary/sin/Gather', { axis: 0 }), [1], '/model/rotary/sin/Unsqueeze');
  // x·cos + rotate_half(x)·sin, with rotate_half(x)·sin = concat(x2, x1)·concat(-sin, sin).
  const rotate = (x: string, scope: string) => {
    const half = HD / 2;
    const first = g.op1('Slice', [x, g.int64([0]), g.int64([half]), g.int64([-1])], `${scope}/Slice_1`);
    const second = g.op1('Slice', [x, g.int64([half]), g.int64([HD]), g.int64([-1])], `${scope}/Slice_2`);
    const swapped = g.op1('Concat', [second, first], `${scope}/Concat`, { axis: -1 });
    return g.op1('Add', [g.op1('Mul', [x, cos], `${scope}/Mul_cos`), g.op1('Mul', [swapped, sin], `${scope}/Mul_sin`)], `${scope}/Add`);
  };

  // ---- attention mask: causal over past + new tokens, and padding ----------------------------
  const m = MASK_SCOPE;
  const pastLength = g.op1('Shape', ['past_key_values.0.key'], `${m}past_length`, { start: 2, end: 3 });
  const newLength = g.op1('Shape', ['input_ids'], `${m}new_length`, { start: 1, end: 2 });
  const total = g.op1('Add', [pastLength, newLength], `${m}total_length`);
  const pastScalar = g.op1('Squeeze', [pastLength, g.int64([0])], `${m}past_scalar`);
  const totalScalar = g.op1('Squeeze', [total, g.int64([0])], `${m}total_scalar`);
  const queryIndex = g.op1('Range', [pastScalar, totalScalar, g.int64([1], true)], `${m}query_index`);
  const keyIndex = g.op1('Range', [g.int64([0], true), totalScalar, g.int64([1], true)], `${m}key_index`);
  const causal = g.op1(
    'LessOrEqual',
    [unsqueeze(keyIndex, [0], `${m}key_row`), unsqueeze(queryIndex, [1], `${m}query_column`)],
    `${m}causal`,
  );
  const notPadding = g.op1('Greater', [unsqueeze('attention_mask', [1, 2], `${m}padding_rows`), g.int64([0], true)], `${m}not_padding`);
  const allowed = g.op1('And', [causal, notPadding], `${m}allowed`); // [batch, 1, new, total]
  const lowest = g.float(-3.4028234663852886e38, 'fp32');
  const scale = g.float(1 / Math.sqrt(HD), float);

  // ---- embedding ------------------------------------------------------------------------------
  // Quantized dtypes keep the table as 8-bit block codes (uint8 [V, H]) with float scales and
  // zero points per block, looked up with Gather and dequantized with plain ops. (ONNX Runtime's
  // GatherBlockQuantized would be one node, but the asyncify build that browsers load has no WASM
  // kernel for it, and its WebGPU and CPU kernels disagree on packed 4-bit zero points.)
  const embedQuantized = quant !== null && H % quant.block === 0;
  let x: string;
  let headFromEmbedding: { outputs: WeightOutput[]; produce: (raw: Uint8Array, d: SourceDtype) => Uint8Array[] } | null = null;
  let tiedHeadInputs: string[] | null = null;
  if (embedQuantized) {
    const q8: QuantSpec = { bits: 8, block: quant!.block };
    const blocks = H / q8.block;
    const base = names.embed;
    const outputs = [
      output(`${base}.codes8`, OnnxDataType.UINT8, [V, H]),
      output(`${base}.scales8`, F, [V, blocks]),
      output(`${base}.zero_points8`, F, [V, blocks]),
    ];
    let head: ReturnType<typeof quantizedOutputs> | null = null;
    if (spec.tieEmbeddings && quant!.bits === 8) {
      // An 8-bit tied head reads the table's own codes and scales (same bytes as MatMulNBits's
      // [V, blocks, block] and [V·blocks]); only its zero points are stored again, as uint8.
      outputs.push(output(`${base}.zero_points8.uint8`, OnnxDataType.UINT8, [V * blocks]));
      g.aliases.push(
        { name: `${base}.codes8.blocks`, dataType: OnnxDataType.UINT8, dims: [V, blocks, q8.block], of: outputs[0]!.name },
        { name: `${base}.scales8.flat`, dataType: F, dims: [V * blocks], of: outputs[1]!.name },
      );
      tiedHeadInputs = [`${base}.codes8.blocks`, `${base}.scales8.flat`, `${base}.zero_points8.uint8`];
    } else if (spec.tieEmbeddings) {
      head = quantizedOutputs(`${base}.head`, V, H, quant!);
      outputs.push(...head.outputs);
      tiedHeadInputs = head.outputs.map((o) => o.name);
    }
    g.tasks.push({
      source: base,
      outputs,
      produce: (raw, d) => {
        const table = quantizeRows(raw!, d!, V, H, q8, float);
        const zeros = convertToBytes(new Uint8Array(Float32Array.from(table.zeroPoints).buffer), 'F32', float);
        const bytes = [table.codes, table.scales, zeros];
        if (spec.tieEmbeddings && quant!.bits === 8) bytes.push(table.zeroPoints);
        if (head) bytes.push(...head.produce(raw!, d!));
        return bytes;
      },
    });
    const e = '/model/embed_tokens';
    const codes = g.op1('Cast', [g.op1('Gather', [outputs[0]!.name, 'input_ids'], `${e}/codes/Gather`, { axis: 0 })], `${e}/codes/Cast`, { to: F });
    const perBlock = (tensor: string, what: string) =>
      unsqueeze(g.op1('Gather', [tensor, 'input_ids'], `${e}/${what}/Gather`, { axis: 0 }), [-1], `${e}/${what}/Unsqueeze`);
    const blocked = g.op1('Reshape', [codes, g.int64([0, 0, blocks, q8.block])], `${e}/codes/Reshape`);
    const centred = g.op1('Sub', [blocked, perBlock(outputs[2]!.name, 'zero_points')], `${e}/Sub`);
    const scaled = g.op1('Mul', [centred, perBlock(outputs[1]!.name, 'scales')], `${e}/Mul`);
    x = g.op1('Reshape', [scaled, g.int64([0, 0, H])], `${e}/Reshape`);
  } else {
    const embedTask: WeightTask = {
      source: names.embed,
      outputs: [output(names.embed, F, [V, H])],
      produce: (raw, d) => [convertToBytes(raw!, d!, float)],
    };
    if (spec.tieEmbeddings) {
      // The tied head comes from the same read of the embedding.
      headFromEmbedding = quant
        ? quantizedOutputs(`${names.embed}.head`, V, H, quant)
        : { outputs: [output(`${names.embed}.head.T`, F, [H, V])], produce: (raw, d) => [transposeToBytes(raw, d, V, H, float)] };
      const extra = headFromEmbedding;
      embedTask.outputs.push(...extra.outputs);
      embedTask.produce = (raw, d) => [convertToBytes(raw!, d!, float), ...extra.produce(raw!, d!)];
    }
    g.tasks.push(embedTask);
    x = g.op1('Gather', [names.embed, 'input_ids'], '/model/embed_tokens/Gather', { axis: 0 });
  }

  // ---- layers ---------------------------------------------------------------------------------
  for (let i = 0; i < spec.layers; i++) {
    const p = names.layer(i);
    const s = `/model/layers.${i}`;
    const h = norm(x, `${s}/input_layernorm`, p + names.inputNorm);
    const project = (which: 'q' | 'k' | 'v', heads: number) => {
      const proj = names[which];
      const y = linear(h, `${s}/attn/${which}_proj`, `${p}${proj}.weight`, heads * HD, H, spec.qkvBias ? `${p}${proj}.bias` : null);
      const split = g.op1('Reshape', [y, g.int64([0, 0, heads, HD])], `${s}/attn/${which}_proj/Reshape`);
      return g.op1('Transpose', [split], `${s}/attn/${which}_proj/Transpose`, { perm: [0, 2, 1, 3] }); // [B, heads, L, HD]
    };
    const q = g.op1('Mul', [rotate(project('q', NH), `${s}/attn/q_rotary`), scale], `${s}/attn/q_scale`);
    const k = rotate(project('k', KV), `${s}/attn/k_rotary`);
    const v = project('v', KV);
    const presentKey = g.op('Concat', [`past_key_values.${i}.key`, k], `${s}/attn/present_key`, { axis: 2 })[0]!;
    const presentValue = g.op('Concat', [`past_key_values.${i}.value`, v], `${s}/attn/present_value`, { axis: 2 })[0]!;
    g.nodes.push({ opType: 'Identity', inputs: [presentKey], outputs: [`present.${i}.key`], name: `${s}/attn/present_key/Identity` });
    g.nodes.push({ opType: 'Identity', inputs: [presentValue], outputs: [`present.${i}.value`], name: `${s}/attn/present_value/Identity` });

    // Grouped queries: [B, NH, L, HD] viewed as [B, KV, rep·L, HD] (head h uses kv head h / rep).
    const grouped = g.op1('Reshape', [q, g.int64([0, KV, -1, HD])], `${s}/attn/q_grouped`);
    const keysT = g.op1('Transpose', [presentKey], `${s}/attn/keys_transposed`, { perm: [0, 1, 3, 2] });
    let scores = g.op1('MatMul', [grouped, keysT], `${s}/attn/scores`); // [B, KV, rep·L, T]
    scores = g.op1('Reshape', [scores, g.int64([0, NH, -1, 0])], `${s}/attn/scores_per_head`); // [B, NH, L, T]
    if (float === 'fp16') scores = g.op1('Cast', [scores], `${s}/attn/scores_fp32`, { to: OnnxDataType.FLOAT });
    const masked = g.op1('Where', [allowed, scores, lowest], `${s}/attn/masked`);
    let probabilities = g.op1('Softmax', [masked], `${s}/attn/softmax`, { axis: -1 });
    if (float === 'fp16') probabilities = g.op1('Cast', [probabilities], `${s}/attn/probabilities_fp16`, { to: OnnxDataType.FLOAT16 });
    const probabilitiesGrouped = g.op1('Reshape', [probabilities, g.int64([0, KV, -1, 0])], `${s}/attn/probabilities_grouped`);
    const context = g.op1('MatMul', [probabilitiesGrouped, presentValue], `${s}/attn/context`); // [B, KV, rep·L, HD]
    const perHead = g.op1('Reshape', [context, g.int64([0, NH, -1, HD])], `${s}/attn/context_per_head`);
    const merged = g.op1(
      'Reshape',
      [g.op1('Transpose', [perHead], `${s}/attn/context_transposed`, { perm: [0, 2, 1, 3] }), g.int64([0, 0, NH * HD])],
      `${s}/attn/context_merged`,
    );
    const attention = linear(merged, `${s}/attn/o_proj`, `${p}${names.o}.weight`, H, NH * HD, spec.outputBias ? `${p}${names.o}.bias` : null);
    x = g.op1('Add', [x, attention], `${s}/attn/residual`);

    const h2 = norm(x, `${s}/post_attention_layernorm`, p + names.postAttentionNorm);
    const gate = linear(h2, `${s}/mlp/gate_proj`, p + names.gate, I, H, null);
    const up = linear(h2, `${s}/mlp/up_proj`, p + names.up, I, H, null);
    const silu = g.op1('Mul', [gate, g.op1('Sigmoid', [gate], `${s}/mlp/act/Sigmoid`)], `${s}/mlp/act/Mul`);
    const down = linear(g.op1('Mul', [silu, up], `${s}/mlp/gate_up`), `${s}/mlp/down_proj`, p + names.down, H, I, null);
    x = g.op1('Add', [x, down], `${s}/mlp/residual`);
  }

  // ---- head -----------------------------------------------------------------------------------
  const final = norm(x, '/model/norm', names.finalNorm);
  let logits: string;
  if (tiedHeadInputs) {
    const bits = quant!.bits;
    logits = g.op1('MatMulNBits', [final, ...tiedHeadInputs], '/lm_head/MatMulNBits', nbitsAttributes(H, V, { bits, block: quant!.block }), 'com.microsoft');
  } else if (headFromEmbedding) {
    const headInputs = headFromEmbedding.outputs.map((o) => o.name);
    logits = quant
      ? g.op1('MatMulNBits', [final, ...headInputs], '/lm_head/MatMulNBits', nbitsAttributes(H, V, quant), 'com.microsoft')
      : g.op1('MatMul', [final, headInputs[0]!], '/lm_head/MatMul');
  } else {
    logits = linear(final, '/lm_head', names.head, V, H, null);
  }
  if (float === 'fp16') logits = g.op1('Cast', [logits], '/lm_head/Cast', { to: OnnxDataType.FLOAT });
  g.nodes.push({ opType: 'Identity', inputs: [logits], outputs: ['logits'], name: '/lm_head/Identity' });

  return { nodes: g.nodes, inputs, outputs, constants: g.constants, tasks: g.tasks, aliases: g.aliases, opsets: OPSETS };
}

/**
 * cos and signed-sin tables [positions, headDim], computed as transformers does in float32:
 * inv_freq = 1 / theta^(2j/d), angle = position · inv_freq; sin's first half is negated (see
 * `rotate` above). Computed here, not on the GPU: WGSL's sin/cos are only accurate near zero.
 */
export function rotaryTables(positions: number, headDim: number, theta: number): [Float32Array, Float32Array] {
  const half = headDim / 2;
  const inverse = new Float64Array(half);
  for (let j = 0; j < half; j++) inverse[j] = Math.fround(1 / Math.fround(Math.pow(theta, Math.fround((2 * j) / headDim))));
  const cos = new Float32Array(positions * headDim);
  const sin = new Float32Array(positions * headDim);
  for (let p = 0; p < positions; p++) {
    for (let j = 0; j < half; j++) {
      const angle = Math.fround(p * inverse[j]!);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[p * headDim + j] = c;
      cos[p * headDim + half + j] = c;
      sin[p * headDim + j] = -s;
      sin[p * headDim + half + j] = s;
    }
  }
  return [cos, sin];
}
