import { ConversionError } from './errors';
import type { TensorEntry } from './tensors';

type Config = Record<string, unknown>;

/**
 * One row per supported `model_type`. The graph (graph.ts) is the same pre-norm decoder for all
 * of them — RMSNorm, rotary embeddings, grouped-query attention, a SwiGLU MLP — and a row says
 * how a family differs: biases, the default for tied heads, tensor names, config checks.
 * Adding a family that fits this decoder is a new row; one that needs more (Gemma's scaled
 * embedding and (1 + w) norms, GeGLU) adds a flag here and the few graph lines it switches.
 */
export interface ArchitectureEntry {
  label: string;
  qkvBias: (config: Config) => boolean;
  outputBias: (config: Config) => boolean;
  mlpBias: (config: Config) => boolean;
  /** transformers' default for `tie_word_embeddings` when config.json leaves it out. */
  tieByDefault: boolean;
  names: WeightNames;
  /** Config values the graph cannot honour throw; ones that only limit it add a note. */
  check?: (config: Config, notes: string[]) => void;
}

export interface WeightNames {
  embed: string;
  layer: (i: number) => string;
  inputNorm: string;
  postAttentionNorm: string;
  q: string;
  k: string;
  v: string;
  o: string;
  gate: string;
  up: string;
  down: string;
  finalNorm: string;
  head: string;
}

/** transformers' names for Llama, Mistral, Qwen2 (and most decoders since). */
const HF_DECODER_NAMES: WeightNames = {
  embed: 'model.embed_tokens.weight',
  layer: (i) => `model.layers.${i}.`,
  inputNorm: 'input_layernorm.weight',
  postAttentionNorm: 'post_attention_layernorm.weight',
  q: 'self_attn.q_proj',
  k: 'self_attn.k_proj',
  v: 'self_attn.v_proj',
  o: 'self_attn.o_proj',
  gate: 'mlp.gate_proj.weight',
  up: 'mlp.up_proj.weight',
  down: 'mlp.down_proj.weight',
  finalNorm: 'model.norm.weight',
  head: 'lm_head.weight',
};

const slidingWindowNote = (config: Config, notes: string[]) => {
  const window = config.sliding_window;
  const used = config.use_sliding_window !== false && typeof window === 'number';
  const positions = Number(config.max_position_embeddings ?? 0);
  if (used && window < positions) {
    notes.push(`The model was trained with a ${window}-token sliding window; the converted graph attends to every token, so it is exact up to ${window} tokens.`);
  }
};

export const ARCHITECTURES: Record<string, ArchitectureEntry> = {
  llama: {
    label: 'Llama',
    qkvBias: (c) => c.attention_bias === true,
    outputBias: (c) => c.attention_bias === true,
    mlpBias: (c) => c.mlp_bias === true,
    tieByDefault: false,
    names: HF_DECODER_NAMES,
  },
  mistral: {
    label: 'Mistral',
    qkvBias: () => false,
    outputBias: () => false,
    mlpBias: () => false,
    tieByDefault: false,
    names: HF_DECODER_NAMES,
    check: (c, notes) => slidingWindowNote({ ...c, use_sliding_window: true }, notes),
  },
  qwen2: {
    label: 'Qwen2',
    qkvBias: () => true,
    outputBias: () => false,
    mlpBias: () => false,
    tieByDefault: false,
    names: HF_DECODER_NAMES,
    check: slidingWindowNote,
  },
};

/** The decoder's hyperparameters, checked against the checkpoint's tensors. */
export interface DecoderSpec {
  modelType: string;
  label: string;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  /** Embedding rows (may exceed config.vocab_size's tokenizer: padding, added tokens). */
  vocabRows: number;
  ropeTheta: number;
  rmsEps: number;
  maxPositions: number;
  tieEmbeddings: boolean;
  qkvBias: boolean;
  outputBias: boolean;
  mlpBias: boolean;
  names: WeightNames;
  /** Limits worth telling the person (not errors). */
  notes: string[];
}

function positiveInt(config: Config, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConversionError('bad-input', `config.json: ${key} must be a positive integer (it is ${JSON.stringify(config[key])}).`);
  }
  return value;
}

export function supportedModelTypes(): string[] {
  return Object.keys(ARCHITECTURES);
}

/** Reads the decoder's shape from config.json and checks every tensor the graph needs. */
export function resolveDecoder(config: Config, tensors: Map<string, TensorEntry>): DecoderSpec {
  const modelType = String(config.model_type ?? '');
  const entry = ARCHITECTURES[modelType];
  if (!entry) {
    const architectures = Array.isArray(config.architectures) ? ` (${config.architectures.join(', ')})` : '';
    throw new ConversionError(
      'unknown-architecture',
      `The converter does not know the architecture "${modelType || 'unnamed'}"${architectures}. It converts: ${supportedModelTypes().join(', ')}.`,
    );
  }
  const notes: string[] = [];
  const activation = config.hidden_act ?? config.hidden_activation ?? 'silu';
  if (activation !== 'silu' && activation !== 'swish') {
    throw new ConversionError('unsupported', `${entry.label} with hidden_act "${String(activation)}" is not supported (only silu).`);
  }
  const scaling = config.rope_scaling as { type?: string; rope_type?: string } | null | undefined;
  if (scaling && (scaling.rope_type ?? scaling.type) !== 'default') {
    throw new ConversionError('unsupported', `rope_scaling "${scaling.rope_type ?? scaling.type}" is not supported yet (only the default rotary embedding).`);
  }
  entry.check?.(config, notes);

  const hidden = positiveInt(config, 'hidden_size');
  const heads = positiveInt(config, 'num_attention_heads');
  const kvHeads = positiveInt(config, 'num_key_value_heads', heads);
  const headDim = positiveInt(config, 'head_dim', Math.floor(hidden / heads));
  const layers = positiveInt(config, 'num_hidden_layers');
  const intermediate = positiveInt(config, 'intermediate_size');
  const maxPositions = positiveInt(config, 'max_position_embeddings', 2048);
  if (heads % kvHeads !== 0) throw new ConversionError('bad-input', `config.json: ${heads} attention heads do not divide into ${kvHeads} key/value heads.`);
  if (headDim % 2 !== 0) throw new ConversionError('bad-input', `config.json: head_dim ${headDim} is odd; rotary embeddings need an even size.`);

  const names = entry.names;
  const embed = tensors.get(names.embed);
  if (!embed) throw missingTensor(names.embed);
  if (embed.shape.length !== 2 || embed.shape[1] !== hidden) {
    throw new ConversionError('bad-input', `${names.embed} has shape ${JSON.stringify(embed.shape)}, expected [vocab, ${hidden}].`);
  }
  const vocabRows = embed.shape[0]!;
  const configVocab = config.vocab_size;
  if (typeof configVocab === 'number' && configVocab !== vocabRows) {
    notes.push(`config.json says vocab_size ${configVocab}, but the embedding has ${vocabRows} rows; the converted config uses ${vocabRows}.`);
  }
  const tieEmbeddings = typeof config.tie_word_embeddings === 'boolean' ? config.tie_word_embeddings : entry.tieByDefault;

  const spec: DecoderSpec = {
    modelType,
    label: entry.label,
    layers,
    hidden,
    heads,
    kvHeads,
    headDim,
    intermediate,
    vocabRows,
    ropeTheta: typeof config.rope_theta === 'number' ? config.rope_theta : 10000,
    rmsEps: typeof config.rms_norm_eps === 'number' ? config.rms_norm_eps : 1e-6,
    maxPositions,
    tieEmbeddings,
    qkvBias: entry.qkvBias(config),
    outputBias: entry.outputBias(config),
    mlpBias: entry.mlpBias(config),
    names,
    notes,
  };
  for (const [name, shape] of expectedTensors(spec)) {
    const tensor = tensors.get(name);
    if (!tensor) throw missingTensor(name);
    if (JSON.stringify(tensor.shape) !== JSON.stringify(shape)) {
      throw new ConversionError('bad-input', `${name} has shape ${JSON.stringify(tensor.shape)}; config.json implies ${JSON.stringify(shape)}.`);
    }
  }
  if (spec.mlpBias) throw new ConversionError('unsupported', 'MLP biases (mlp_bias: true) are not supported yet.');
  return spec;
}

function missingTensor(name: string) {
  return new ConversionError('bad-input', `The checkpoint has no tensor ${name}, which this architecture needs.`);
}

/** Every tensor the graph reads, with the shape config.json implies. */
export function expectedTensors(spec: DecoderSpec): Array<[string, number[]]> {
  const { names, hidden, heads, kvHeads, headDim, intermediate, vocabRows } = spec;
  const out: Array<[string, number[]]> = [[names.embed, [vocabRows, hidden]]];
  for (let i = 0; i < spec.layers; i++) {
    const p = names.layer(i);
    out.push([p + names.inputNorm, [hidden]], [p + names.postAttentionNorm, [hidden]]);
    out.push([`${p}${names.q}.weight`, [heads * headDim, hidden]], [`${p}${names.k}.weight`, [kvHeads * headDim, hidden]]);
    out.push([`${p}${names.v}.weight`, [kvHeads * headDim, hidden]], [`${p}${names.o}.weight`, [hidden, heads * headDim]]);
    if (spec.qkvBias) {
      out.push([`${p}${names.q}.bias`, [heads * headDim]], [`${p}${names.k}.bias`, [kvHeads * headDim]], [`${p}${names.v}.bias`, [kvHeads * headDim]]);
    }
    if (spec.outputBias) out.push([`${p}${names.o}.bias`, [hidden]]);
    out.push([p + names.gate, [intermediate, hidden]], [p + names.up, [intermediate, hidden]], [p + names.down, [hidden, intermediate]]);
  }
  out.push([names.finalNorm, [hidden]]);
  if (!spec.tieEmbeddings) out.push([names.head, [vocabRows, hidden]]);
  return out;
}
