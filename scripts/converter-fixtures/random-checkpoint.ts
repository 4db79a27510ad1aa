// Random-weight checkpoints of real shapes, for measuring the converter (never committed):
//   npx tsx scripts/converter-fixtures/random-checkpoint.ts <shape> <folder> [fp16|bf16|fp32] [--no-weights]
// writes config.json, generation_config.json, tokenizer.json (a byte-level BPE of the right
// vocabulary size), tokenizer_config.json and model.safetensors (sharded past 5 GB, with the
// index) in the layout transformers' save_pretrained uses. --no-weights writes only the config
// and tokenizer (for bin-checkpoint.py, which writes a PyTorch .bin for it).
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { floatToHalf } from '../../model/convert/tensors';

export interface CheckpointShape {
  modelType: 'llama' | 'qwen2' | 'mistral';
  hidden: number;
  heads: number;
  kvHeads: number;
  layers: number;
  intermediate: number;
  vocab: number;
  maxPositions: number;
  tie: boolean;
  qkvBias: boolean;
  ropeTheta: number;
  rmsEps: number;
}

export const SHAPES: Record<string, CheckpointShape> = {
  /** ~160 M parameters: 316 MB in fp16, the bench's checkpoint. */
  'bench-200mb': { modelType: 'llama', hidden: 1024, heads: 16, kvHeads: 8, layers: 8, intermediate: 2816, vocab: 32000, maxPositions: 2048, tie: false, qkvBias: false, ropeTheta: 10000, rmsEps: 1e-5 },
  /** TinyLlama-1.1B = MetaAligner-1.1B's base. */
  'tinyllama-1.1b': { modelType: 'llama', hidden: 2048, heads: 32, kvHeads: 4, layers: 22, intermediate: 5632, vocab: 32000, maxPositions: 2048, tie: false, qkvBias: false, ropeTheta: 10000, rmsEps: 1e-5 },
  /** Llama-2-7B with the Aligner's added pad token. */
  'llama2-7b-aligner': { modelType: 'llama', hidden: 4096, heads: 32, kvHeads: 32, layers: 32, intermediate: 11008, vocab: 32001, maxPositions: 4096, tie: false, qkvBias: false, ropeTheta: 10000, rmsEps: 1e-5 },
  /** Qwen2.5-0.5B (community Aligners). */
  'qwen2.5-0.5b': { modelType: 'qwen2', hidden: 896, heads: 14, kvHeads: 2, layers: 24, intermediate: 4864, vocab: 151936, maxPositions: 32768, tie: true, qkvBias: true, ropeTheta: 1e6, rmsEps: 1e-6 },
};

type StoreDtype = 'fp16' | 'bf16' | 'fp32';

export function tensorList(shape: CheckpointShape): Array<[string, number[]]> {
  const { hidden: H, heads, kvHeads, intermediate: I, vocab: V } = shape;
  const hd = H / heads;
  const out: Array<[string, number[]]> = [['model.embed_tokens.weight', [V, H]]];
  for (let i = 0; i < shape.layers; i++) {
    const p = `model.layers.${i}.`;
    out.push([`${p}input_layernorm.weight`, [H]], [`${p}post_attention_layernorm.weight`, [H]]);
    out.push([`${p}self_attn.q_proj.weight`, [heads * hd, H]], [`${p}self_attn.k_proj.weight`, [kvHeads * hd, H]], [`${p}self_attn.v_proj.weight`, [kvHeads * hd, H]]);
    if (shape.qkvBias) out.push([`${p}self_attn.q_proj.bias`, [heads * hd]], [`${p}self_attn.k_proj.bias`, [kvHeads * hd]], [`${p}self_attn.v_proj.bias`, [kvHeads * hd]]);
    out.push([`${p}self_attn.o_proj.weight`, [H, heads * hd]]);
    out.push([`${p}mlp.gate_proj.weight`, [I, H]], [`${p}mlp.up_proj.weight`, [I, H]], [`${p}mlp.down_proj.weight`, [H, I]]);
  }
  out.push(['model.norm.weight', [H]]);
  if (!shape.tie) out.push(['lm_head.weight', [V, H]]);
  return out;
}

export function configJson(shape: CheckpointShape, dtype: StoreDtype): Record<string, unknown> {
  return {
    architectures: [shape.modelType === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    model_type: shape.modelType,
    hidden_size: shape.hidden,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    num_hidden_layers: shape.layers,
    intermediate_size: shape.intermediate,
    vocab_size: shape.vocab,
    max_position_embeddings: shape.maxPositions,
    tie_word_embeddings: shape.tie,
    rope_theta: shape.ropeTheta,
    rms_norm_eps: shape.rmsEps,
    hidden_act: 'silu',
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: { fp16: 'float16', bf16: 'bfloat16', fp32: 'float32' }[dtype],
  };
}

/** A byte-level BPE tokenizer.json with exactly `vocab` tokens (specials, bytes, filler merges). */
export function tokenizerJson(vocab: number): string {
  const specials = ['<unk>', '<s>', '</s>'];
  const table: Record<string, number> = {};
  specials.forEach((token, i) => (table[token] = i));
  const byteSymbols: string[] = [];
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    byteSymbols.push(printable ? String.fromCharCode(b) : '');
  }
  let extra = 0;
  for (let b = 0; b < 256; b++) if (!byteSymbols[b]) byteSymbols[b] = String.fromCharCode(256 + extra++);
  for (const symbol of byteSymbols) table[symbol] = Object.keys(table).length;
  const merges: string[] = [];
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let size = Object.keys(table).length;
  outer: for (const a of letters) {
    for (const b of letters) {
      for (const c of ['', ...letters]) {
        if (size >= vocab) break outer;
        const left = c ? a + b : a;
        const right = c || b;
        if (c && !(a + b in table)) continue;
        if (left + right in table) continue;
        table[left + right] = size++;
        merges.push(`${left} ${right}`);
      }
    }
  }
  const added = specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab: table, merges },
  });
}

/** A fast deterministic fill: xorshift32 values in [-scale, scale] (norm weights around 1). */
function fill(out: Float32Array, seed: number, scale: number, offset: number) {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = offset + ((x >>> 0) / 0x100000000 - 0.5) * 2 * scale;
  }
}

function encode(values: Float32Array, dtype: StoreDtype): Uint8Array {
  if (dtype === 'fp32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint16Array(values.length);
  if (dtype === 'fp16') for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i]!);
  else {
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < values.length; i++) out[i] = bits[i]! >>> 16;
  }
  return new Uint8Array(out.buffer);
}

const SHARD_BYTES = 5e9;

export function writeRandomCheckpoint(folder: string, shape: CheckpointShape, dtype: StoreDtype, options: { weights?: boolean } = {}): { bytes: number; files: string[] } {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'config.json'), `${JSON.stringify(configJson(shape, dtype), null, 2)}\n`);
  writeFileSync(join(folder, 'generation_config.json'), '{ "bos_token_id": 1, "eos_token_id": 2, "do_sample": false }\n');
  writeFileSync(join(folder, 'tokenizer.json'), tokenizerJson(shape.vocab));
  writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'PreTrainedTokenizerFast', bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', model_max_length: shape.maxPositions }));
  if (options.weights === false) return { bytes: 0, files: [] };

  const itemBytes = dtype === 'fp32' ? 4 : 2;
  const tensors = tensorList(shape);
  const shards: Array<Array<[string, number[]]>> = [[]];
  let shardBytes = 0;
  for (const tensor of tensors) {
    const bytes = tensor[1].reduce((a, b) => a * b, 1) * itemBytes;
    if (shardBytes + bytes > SHARD_BYTES && shards.at(-1)!.length > 0) {
      shards.push([]);
      shardBytes = 0;
    }
    shards.at(-1)!.push(tensor);
    shardBytes += bytes;
  }
  const names = shards.length === 1 ? ['model.safetensors'] : shards.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`);
  const weightMap: Record<string, string> = {};
  let total = 0;
  let seed = 1;
  shards.forEach((shard, s) => {
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let offset = 0;
    for (const [name, dims] of shard) {
      const bytes = dims.reduce((a, b) => a * b, 1) * itemBytes;
      header[name] = { dtype: { fp16: 'F16', bf16: 'BF16', fp32: 'F32' }[dtype], shape: dims, data_offsets: [offset, offset + bytes] };
      offset += bytes;
      weightMap[name] = names[s]!;
    }
    let text = JSON.stringify(header);
    text += ' '.repeat((8 - (text.length % 8)) % 8);
    const fd = openSync(join(folder, names[s]!), 'w');
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(text.length), true);
    writeSync(fd, prefix);
    writeSync(fd, new TextEncoder().encode(text));
    const CHUNK = 1 << 22;
    const values = new Float32Array(CHUNK);
    for (const [name, dims] of shard) {
      const count = dims.reduce((a, b) => a * b, 1);
      const isNorm = name.endsWith('norm.weight');
      for (let at = 0; at < count; at += CHUNK) {
        const part = values.subarray(0, Math.min(CHUNK, count - at));
        fill(part, seed++, isNorm ? 0.1 : 0.04, isNorm ? 1 : 0);
        writeSync(fd, encode(part, dtype));
      }
      total += count * itemBytes;
    }
    closeSync(fd);
  });
  if (names.length > 1) writeFileSync(join(folder, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
  return { bytes: total, files: names };
}

const invokedDirectly = process.argv[1]?.endsWith('random-checkpoint.ts');
if (invokedDirectly) {
  const [shapeName, folder, dtype = 'fp16', flag] = process.argv.slice(2);
  const shape = SHAPES[shapeName ?? ''];
  if (!shape || !folder || !['fp16', 'bf16', 'fp32'].includes(dtype)) {
    console.error(`usage: npx tsx scripts/converter-fixtures/random-checkpoint.ts <${Object.keys(SHAPES).join('|')}> <folder> [fp16|bf16|fp32] [--no-weights]`);
    process.exit(2);
  }
  const started = Date.now();
  const result = writeRandomCheckpoint(folder, shape, dtype as StoreDtype, { weights: flag !== '--no-weights' });
  console.log(`wrote ${folder}: ${(result.bytes / 1e9).toFixed(2)} GB in ${result.files.length} file(s), ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
