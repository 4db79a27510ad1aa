#!/usr/bin/python3
"""Build the converter's test checkpoints (tests/fixtures/converter/).

Run by hand, not in CI:   /usr/bin/python3 scripts/converter-fixtures/build.py
Needs Debian's python3-torch (1.13) and numpy only: no `transformers`, no `safetensors` package.
The forward pass, the safetensors writer and the quantizer are written out here.

For each architecture the converter supports it writes one set of small random weights with the
real models' structural flags (GQA ratios, q/k/v biases, tied or untied heads, rope theta, RMS
eps, an odd vocabulary), in every checkpoint format (safetensors single and sharded, PyTorch .bin
zip single and sharded), plus reference outputs of a plain PyTorch forward:
  reference.json      prompt, greedy tokens (with their logit margins), shapes, the padded batch
  logits-fp32.bin     float32 logits of prompt + greedy tokens, [1, T, V]
  logits-batch.bin    float32 logits of a left-padded batch of two, [2, Tb, V]
  logits-q4.bin       logits with every quantized weight replaced by its q4 dequantization
  logits-q8.bin       the same for q8
The weights are rounded to values exact in bf16 *and* fp16, so every format stores the same
numbers and one reference serves them all.

The q4/q8 quantizer below mirrors model/convert/quantize.ts operation for operation (float64
arithmetic on float32 inputs, round half up), so the references use exactly the dequantized
weights the ONNX graphs carry. Change both together.

Also writes malicious .bin files (a pickle that calls os.system, one that calls builtins.eval,
one with a non-tensor opcode) built by hand: nothing here ever unpickles them.
"""
import io
import json
import math
import os
import shutil
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'converter')

torch.set_num_threads(1)

# ---------------------------------------------------------------------------------------------
# Architectures (small shapes, real flags)
# ---------------------------------------------------------------------------------------------
ARCHS = {
    # Llama-2 / the official Aligner-7B: multi-head attention (kv heads = heads), untied head,
    # an added pad token (32,001 rows there: the tokenizer's base vocabulary + 1 here too).
    # intermediate 80 is not a multiple of the 32-wide quantization block.
    'llama': dict(model_type='llama', architectures=['LlamaForCausalLM'], hidden_size=48,
                  num_attention_heads=3, num_key_value_heads=3, num_hidden_layers=2,
                  intermediate_size=80, vocab_size=275, rope_theta=10000.0, rms_norm_eps=1e-5,
                  tie_word_embeddings=False, attention_bias=False, max_position_embeddings=128,
                  added_pad=True, seed=11),
    # TinyLlama-1.1B / MetaAligner-1.1B: GQA 32:4 (ratio 8 here too), fp32 .bin, and older HF
    # checkpoints' rotary inv_freq buffers in the state dict.
    'tinyllama': dict(model_type='llama', architectures=['LlamaForCausalLM'], hidden_size=64,
                      num_attention_heads=8, num_key_value_heads=1, num_hidden_layers=2,
                      intermediate_size=64, vocab_size=263, rope_theta=10000.0, rms_norm_eps=1e-5,
                      tie_word_embeddings=False, attention_bias=False, max_position_embeddings=128,
                      inv_freq_buffers=True, tensor_attribute=True, seed=12),
    # Mistral-7B: GQA 32:8 (ratio 4 here too), rope theta 1e6 (v0.2), an explicit head_dim that is not
    # hidden/heads (as Mistral-Nemo), fp16 .bin with one non-contiguous (transposed) tensor.
    'mistral': dict(model_type='mistral', architectures=['MistralForCausalLM'], hidden_size=32,
                    num_attention_heads=4, num_key_value_heads=1, head_dim=16, num_hidden_layers=2,
                    intermediate_size=64, vocab_size=269, rope_theta=1e6, rms_norm_eps=1e-5,
                    tie_word_embeddings=False, max_position_embeddings=256, sliding_window=None,
                    strided_tensor=True, seed=13),
    # Qwen2-0.5B: GQA 14:2 (ratio 7), q/k/v biases, tied embeddings, theta 1e6, eps 1e-6, bf16,
    # an embedding padded past the tokenizer (151,936 rows for 151,665 tokens there).
    'qwen2': dict(model_type='qwen2', architectures=['Qwen2ForCausalLM'], hidden_size=56,
                  num_attention_heads=7, num_key_value_heads=1, num_hidden_layers=2,
                  intermediate_size=96, vocab_size=277, rope_theta=1e6, rms_norm_eps=1e-6,
                  tie_word_embeddings=True, max_position_embeddings=256, qkv_bias=True,
                  padded_vocab=4, seed=14),
    # Qwen2 again with a hidden size of two quantization blocks: the tied head then shares the
    # embedding's 8-bit codes (a Gather of the codes for the lookup, MatMulNBits for the head).
    'qwen2-tied-blocks': dict(model_type='qwen2', architectures=['Qwen2ForCausalLM'], hidden_size=64,
                              num_attention_heads=4, num_key_value_heads=2, num_hidden_layers=2,
                              intermediate_size=96, vocab_size=259, rope_theta=1e6, rms_norm_eps=1e-6,
                              tie_word_embeddings=True, max_position_embeddings=128, qkv_bias=True, seed=15),
}
# Storage dtype of each format, per architecture (the real checkpoints' choices).
FORMATS = {
    'llama': {'safetensors': 'fp16', 'sharded': 'fp16', 'bin': 'fp32', 'bin-sharded': 'fp32'},
    'tinyllama': {'safetensors': 'bf16', 'sharded': 'bf16', 'bin': 'fp32'},
    'mistral': {'safetensors': 'bf16', 'sharded': 'bf16', 'bin': 'fp16'},
    'qwen2': {'safetensors': 'bf16', 'sharded': 'bf16', 'bin': 'bf16'},
    'qwen2-tied-blocks': {'safetensors': 'bf16'},
}
TORCH_DTYPES = {'fp32': torch.float32, 'fp16': torch.float16, 'bf16': torch.bfloat16}
ST_DTYPES = {'fp32': 'F32', 'fp16': 'F16', 'bf16': 'BF16'}
CONFIG_DTYPES = {'fp32': 'float32', 'fp16': 'float16', 'bf16': 'bfloat16'}


def head_dim(cfg):
    return cfg.get('head_dim') or cfg['hidden_size'] // cfg['num_attention_heads']


def exact_in_bf16_and_fp16(t):
    """Round to bf16, then flush magnitudes that fp16 would store as subnormals (lossy) to 0."""
    t = t.to(torch.bfloat16).to(torch.float32)
    t[t.abs() < 2.0 ** -14] = 0.0
    assert torch.equal(t.to(torch.float16).to(torch.float32), t)
    return t


def make_weights(cfg):
    g = torch.Generator().manual_seed(cfg['seed'])
    H, I, V = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size']
    NH, NKV, HD = cfg['num_attention_heads'], cfg['num_key_value_heads'], head_dim(cfg)

    def rnd(*shape, std=0.2):
        return exact_in_bf16_and_fp16(torch.randn(*shape, generator=g) * std)

    w = {'model.embed_tokens.weight': rnd(V, H, std=0.5)}
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        w[p + 'input_layernorm.weight'] = exact_in_bf16_and_fp16(1 + torch.randn(H, generator=g) * 0.1)
        w[p + 'post_attention_layernorm.weight'] = exact_in_bf16_and_fp16(1 + torch.randn(H, generator=g) * 0.1)
        w[p + 'self_attn.q_proj.weight'] = rnd(NH * HD, H)
        w[p + 'self_attn.k_proj.weight'] = rnd(NKV * HD, H)
        w[p + 'self_attn.v_proj.weight'] = rnd(NKV * HD, H)
        w[p + 'self_attn.o_proj.weight'] = rnd(H, NH * HD)
        if cfg.get('qkv_bias'):
            w[p + 'self_attn.q_proj.bias'] = rnd(NH * HD, std=0.1)
            w[p + 'self_attn.k_proj.bias'] = rnd(NKV * HD, std=0.1)
            w[p + 'self_attn.v_proj.bias'] = rnd(NKV * HD, std=0.1)
        w[p + 'mlp.gate_proj.weight'] = rnd(I, H)
        w[p + 'mlp.up_proj.weight'] = rnd(I, H)
        w[p + 'mlp.down_proj.weight'] = rnd(H, I)
    w['model.norm.weight'] = exact_in_bf16_and_fp16(1 + torch.randn(H, generator=g) * 0.1)
    if not cfg['tie_word_embeddings']:
        w['lm_head.weight'] = rnd(V, H, std=0.3)
    return w


# ---------------------------------------------------------------------------------------------
# Plain PyTorch forward (float32, as transformers' eager Llama/Mistral/Qwen2 attention)
# ---------------------------------------------------------------------------------------------
def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(cfg, w, input_ids, attention_mask, position_ids):
    """Full-sequence forward: logits [B, T, V]. Masking as transformers: causal and padding."""
    B, T = input_ids.shape
    H, NH, NKV, HD = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads'], head_dim(cfg)
    eps = cfg['rms_norm_eps']
    x = w['model.embed_tokens.weight'][input_ids]
    inv_freq = 1.0 / (cfg['rope_theta'] ** (torch.arange(0, HD, 2, dtype=torch.int64).float() / HD))
    freqs = position_ids[:, :, None].float() * inv_freq[None, None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    allowed = torch.tril(torch.ones(T, T, dtype=torch.bool))[None, None] & (attention_mask[:, None, None, :] > 0)
    minimum = torch.finfo(torch.float32).min
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        h = rms_norm(x, w[p + 'input_layernorm.weight'], eps)

        def proj(name, heads):
            y = h @ w[p + f'self_attn.{name}.weight'].T
            if (p + f'self_attn.{name}.bias') in w:
                y = y + w[p + f'self_attn.{name}.bias']
            return y.view(B, T, heads, HD).transpose(1, 2)

        q, k, v = proj('q_proj', NH), proj('k_proj', NKV), proj('v_proj', NKV)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = NH // NKV
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        scores = (q @ k.transpose(2, 3)) / math.sqrt(HD)
        scores = torch.where(allowed, scores, torch.tensor(minimum))
        attn = torch.softmax(scores, dim=-1) @ v
        x = x + attn.transpose(1, 2).reshape(B, T, NH * HD) @ w[p + 'self_attn.o_proj.weight'].T
        h = rms_norm(x, w[p + 'post_attention_layernorm.weight'], eps)
        gate = h @ w[p + 'mlp.gate_proj.weight'].T
        up = h @ w[p + 'mlp.up_proj.weight'].T
        x = x + (torch.nn.functional.silu(gate) * up) @ w[p + 'mlp.down_proj.weight'].T
    head = w.get('lm_head.weight', w['model.embed_tokens.weight'])
    return rms_norm(x, w['model.norm.weight'], eps) @ head.T


def greedy(cfg, w, prompt, steps):
    """Greedy tokens by full recompute (no cache), with each step's top-1/top-2 logit margin."""
    ids = list(prompt)
    margins = []
    for _ in range(steps):
        t = torch.tensor([ids])
        logits = forward(cfg, w, t, torch.ones_like(t), torch.arange(len(ids))[None])[0, -1]
        top = torch.topk(logits, 2).values
        margins.append(float(top[0] - top[1]))
        ids.append(int(logits.argmax()))
    return ids[len(prompt):], margins


# ---------------------------------------------------------------------------------------------
# Block-wise asymmetric quantization (mirror of model/convert/quantize.ts)
# ---------------------------------------------------------------------------------------------
QUANT = {'q4': dict(bits=4, block=32), 'q8': dict(bits=8, block=32)}


def fround(x):
    return np.float32(x)


def dequantize_rows(weight, bits, block):
    """weight [N, K] float32 → the float32 values MatMulNBits (and the 8-bit embedding lookup) compute."""
    levels = (1 << bits) - 1
    W = weight.numpy().astype(np.float32)
    N, K = W.shape
    out = np.zeros_like(W)
    for n in range(N):
        for b0 in range(0, K, block):
            x = W[n, b0:b0 + block].astype(np.float64)
            lo = min(0.0, float(x.min()))
            hi = max(0.0, float(x.max()))
            scale = float(fround((hi - lo) / levels)) if hi > lo else 1.0
            zp = min(levels, max(0, math.floor(-lo / scale + 0.5)))
            q = np.clip(np.floor(x / scale + zp + 0.5), 0, levels)
            out[n, b0:b0 + block] = (q - zp).astype(np.float32) * np.float32(scale)
    return torch.from_numpy(out)


def dequantized_weights(cfg, w, mode):
    """Every linear weight and the LM head (a tied head quantizes its own copy of the embedding)
    are quantized with the mode's bits; the embedding table, when the hidden size is a whole
    number of blocks, with 8 bits (uint8 codes looked up with Gather), as model/convert/graph.ts does."""
    spec = QUANT[mode]
    out = dict(w)
    for name in w:
        if name.endswith('_proj.weight'):
            out[name] = dequantize_rows(w[name], spec['bits'], spec['block'])
    out['lm_head.weight'] = dequantize_rows(w.get('lm_head.weight', w['model.embed_tokens.weight']), spec['bits'], spec['block'])
    if cfg['hidden_size'] % spec['block'] == 0:
        out['model.embed_tokens.weight'] = dequantize_rows(w['model.embed_tokens.weight'], 8, spec['block'])
    return out


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------
def tensor_bytes(t, dtype):
    t = t.to(TORCH_DTYPES[dtype]).contiguous()
    if dtype == 'bf16':
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = tensor_bytes(t, dtype)
        header[name] = {'dtype': ST_DTYPES[dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header['__metadata__'] = {'format': 'pt'}
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def shard(names, count):
    per = math.ceil(len(names) / count)
    return [names[i:i + per] for i in range(0, len(names), per)]


def write_json(path, obj):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write('\n')


def hf_state_dict(cfg, w, dtype):
    """The state dict as transformers saves it: an OrderedDict with `_metadata` (pickled with
    REDUCE, SETITEMS and BUILD); tied heads share the embedding's storage."""
    sd = OrderedDict((name, t.to(TORCH_DTYPES[dtype]).clone()) for name, t in w.items())
    sd._metadata = OrderedDict([('', {'version': 1}), ('model', {'version': 1}), ('lm_head', {'version': 1})])
    if cfg['tie_word_embeddings']:
        sd['lm_head.weight'] = sd['model.embed_tokens.weight']
    if cfg.get('inv_freq_buffers'):
        HD = head_dim(cfg)
        inv = 1.0 / (cfg['rope_theta'] ** (torch.arange(0, HD, 2).float() / HD))
        for i in range(cfg['num_hidden_layers']):
            sd[f'model.layers.{i}.self_attn.rotary_emb.inv_freq'] = inv.clone()
    if cfg.get('tensor_attribute'):
        # A tensor with a Python attribute pickles through torch._tensor._rebuild_from_type_v2
        # (as MetaAligner's checkpoint does, per the hub's pickle scan).
        sd['model.norm.weight'].realign_note = 'attribute'
    if cfg.get('strided_tensor'):
        name = 'model.layers.0.self_attn.o_proj.weight'
        sd[name] = sd[name].t().contiguous().t()  # same values, column-major strides
        assert not sd[name].is_contiguous()
    return sd


class torch2_tensor_pickling:
    """torch >= 2 pickles a tensor that has Python attributes as
    torch._tensor._rebuild_from_type_v2(_rebuild_tensor_v2, torch.Tensor, args, state); 1.13 only
    does so for subclasses. Reproduce the newer form while saving."""

    def __enter__(self):
        self.original = torch.Tensor.__reduce_ex__

        def reduce_ex(tensor, proto):
            state = tensor.__dict__
            if type(tensor) is not torch.Tensor or not state:
                return self.original(tensor, proto)
            func, args = tensor._reduce_ex_internal(proto)
            return (torch._tensor._rebuild_from_type_v2, (func, torch.Tensor, args, state))

        torch.Tensor.__reduce_ex__ = reduce_ex

    def __exit__(self, *exc):
        torch.Tensor.__reduce_ex__ = self.original


def write_checkpoint(folder, cfg, w, fmt, dtype):
    os.makedirs(folder, exist_ok=True)
    st_tensors = {n: t for n, t in w.items()}  # safetensors: tied head dropped, as save_pretrained does
    names = list(st_tensors)
    if fmt == 'safetensors':
        write_safetensors(os.path.join(folder, 'model.safetensors'), st_tensors, dtype)
    elif fmt == 'sharded':
        parts = shard(names, 3)
        weight_map, total = {}, 0
        for i, part in enumerate(parts):
            file = f'model-{i + 1:05d}-of-{len(parts):05d}.safetensors'
            write_safetensors(os.path.join(folder, file), {n: st_tensors[n] for n in part}, dtype)
            for n in part:
                weight_map[n] = file
                total += st_tensors[n].numel() * (4 if dtype == 'fp32' else 2)
        write_json(os.path.join(folder, 'model.safetensors.index.json'), {'metadata': {'total_size': total}, 'weight_map': weight_map})
    elif fmt == 'bin':
        with torch2_tensor_pickling():
            torch.save(hf_state_dict(cfg, w, dtype), os.path.join(folder, 'pytorch_model.bin'))
    elif fmt == 'bin-sharded':
        sd = hf_state_dict(cfg, w, dtype)
        parts = shard(list(sd), 2)
        weight_map = {}
        for i, part in enumerate(parts):
            file = f'pytorch_model-{i + 1:05d}-of-{len(parts):05d}.bin'
            torch.save(OrderedDict((n, sd[n]) for n in part), os.path.join(folder, file))
            weight_map.update({n: file for n in part})
        write_json(os.path.join(folder, 'pytorch_model.bin.index.json'), {'metadata': {'total_size': 0}, 'weight_map': weight_map})


# A small byte-level BPE tokenizer.json per architecture: specials + 256 bytes + merges, so its
# size is exactly the vocabulary the converter must check against the embedding rows.
def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


def tokenizer_files(cfg):
    specials = ['<unk>', '<s>', '</s>']
    byte_symbols = bytes_to_unicode()
    base = cfg['vocab_size'] - (1 if cfg.get('added_pad') else 0) - cfg.get('padded_vocab', 0)
    vocab = {tok: i for i, tok in enumerate(specials)}
    for s in byte_symbols:
        vocab[s] = len(vocab)
    letters = 'etaoinshrdlu'
    merges = []
    for a in letters:
        for b in letters:
            if len(vocab) >= base:
                break
            vocab[a + b] = len(vocab)
            merges.append(f'{a} {b}')
    assert len(vocab) == base, (len(vocab), base)

    def special(tok, i):
        return {'id': i, 'content': tok, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}

    added = [special(t, vocab[t]) for t in specials]
    if cfg.get('added_pad'):
        added.append(special('<pad>', base))
    byte_level = {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True}
    tokenizer = {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added, 'normalizer': None,
        'pre_tokenizer': byte_level, 'post_processor': None, 'decoder': byte_level,
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
                  'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': merges},
    }
    tokenizer_config = {
        'tokenizer_class': 'PreTrainedTokenizerFast', 'bos_token': '<s>', 'eos_token': '</s>', 'unk_token': '<unk>',
        'pad_token': '<pad>' if cfg.get('added_pad') else '</s>', 'model_max_length': cfg['max_position_embeddings'],
        'clean_up_tokenization_spaces': False, 'added_tokens_decoder': {str(a['id']): a for a in added},
    }
    return tokenizer, tokenizer_config


def config_json(cfg, dtype):
    out = {k: cfg[k] for k in ('architectures', 'model_type', 'hidden_size', 'num_attention_heads', 'num_key_value_heads',
                               'num_hidden_layers', 'intermediate_size', 'vocab_size', 'rope_theta', 'rms_norm_eps',
                               'tie_word_embeddings', 'max_position_embeddings')}
    out.update(hidden_act='silu', bos_token_id=1, eos_token_id=2, rope_scaling=None, use_cache=True,
               torch_dtype=CONFIG_DTYPES[dtype], transformers_version='4.40.0')
    if 'head_dim' in cfg:
        out['head_dim'] = cfg['head_dim']
    if cfg['model_type'] == 'llama':
        out.update(attention_bias=False, mlp_bias=False, pretraining_tp=1)
    if cfg['model_type'] == 'mistral':
        out['sliding_window'] = cfg['sliding_window']
    if cfg['model_type'] == 'qwen2':
        out.update(use_sliding_window=False, sliding_window=4096, max_window_layers=21)
    if cfg.get('added_pad'):
        out['pad_token_id'] = cfg['vocab_size'] - 1
    return out


def f32_file(path, tensor):
    tensor.detach().to(torch.float32).contiguous().numpy().astype('<f4').tofile(path)


def build_arch(name, cfg):
    root = os.path.join(OUT, name)
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    w = make_weights(cfg)
    tokenizer, tokenizer_config = tokenizer_files(cfg)
    for fmt, dtype in FORMATS[name].items():
        folder = os.path.join(root, fmt)
        write_checkpoint(folder, cfg, w, fmt, dtype)
        write_json(os.path.join(folder, 'config.json'), config_json(cfg, dtype))
        write_json(os.path.join(folder, 'generation_config.json'), {'bos_token_id': 1, 'eos_token_id': 2, 'do_sample': False})
        # MetaAligner-1.1B's repo has no tokenizer.json (LlamaTokenizer from tokenizer.model):
        # the TinyLlama .bin mirrors that; tokenizer-base/ is the fallback with the same vocabulary.
        if not (name == 'tinyllama' and fmt == 'bin'):
            write_json(os.path.join(folder, 'tokenizer.json'), tokenizer)
        write_json(os.path.join(folder, 'tokenizer_config.json'), tokenizer_config)
    if name == 'tinyllama':
        base = os.path.join(root, 'tokenizer-base')
        os.makedirs(base)
        write_json(os.path.join(base, 'tokenizer.json'), tokenizer)
        write_json(os.path.join(base, 'tokenizer_config.json'), tokenizer_config)

    # References. The prompt avoids the padding rows; greedy margins are kept ≥ 0.01 so that
    # exact token agreement tests the graph, not float ties.
    V = cfg['vocab_size']
    g = torch.Generator().manual_seed(cfg['seed'] + 100)
    for attempt in range(50):
        prompt = torch.randint(3, V - 8, (7,), generator=g).tolist()
        tokens, margins = greedy(cfg, w, prompt, 8)
        if min(margins) > 0.01:
            break
    else:
        raise SystemExit(f'{name}: no prompt with clear greedy margins')
    seq = torch.tensor([prompt + tokens])
    T = seq.shape[1]
    full = forward(cfg, w, seq, torch.ones_like(seq), torch.arange(T)[None])
    f32_file(os.path.join(root, 'logits-fp32.bin'), full)
    for mode in QUANT:
        dq = dequantized_weights(cfg, w, mode)
        f32_file(os.path.join(root, f'logits-{mode}.bin'), forward(cfg, dq, seq, torch.ones_like(seq), torch.arange(T)[None]))

    # A left-padded batch of two: the first row is the prompt, the second a shorter one.
    short = prompt[2:]
    pad = len(prompt) - len(short)
    batch_ids = torch.tensor([prompt, [0] * pad + short])
    batch_mask = torch.tensor([[1] * len(prompt), [0] * pad + [1] * len(short)])
    batch_pos = (batch_mask.cumsum(-1) - 1).clamp(min=0)
    f32_file(os.path.join(root, 'logits-batch.bin'), forward(cfg, w, batch_ids, batch_mask, batch_pos))

    cfg_public = {k: v for k, v in cfg.items() if k != 'seed'}
    write_json(os.path.join(root, 'reference.json'), {
        'architecture': name, 'config': cfg_public, 'formats': FORMATS[name], 'head_dim': head_dim(cfg),
        'prompt': prompt, 'greedy': tokens, 'greedyMargins': [round(m, 5) for m in margins],
        'logits': {'fp32': [1, T, V], 'q4': [1, T, V], 'q8': [1, T, V]},
        'batch': {'input_ids': batch_ids.tolist(), 'attention_mask': batch_mask.tolist(),
                  'position_ids': batch_pos.tolist(), 'logits': [2, len(prompt), V]},
        'quantization': QUANT,
    })
    print(f'{name}: {sum(t.numel() for t in w.values())} parameters; prompt {prompt} -> greedy {tokens} '
          f'(min margin {min(margins):.3f}, attempt {attempt + 1})')


# ---------------------------------------------------------------------------------------------
# Malicious checkpoints: pickles that would run code if a careless loader unpickled them
# ---------------------------------------------------------------------------------------------
def zip_with_pickle(path, pickle_bytes):
    with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_STORED) as z:
        for name, data in (('archive/data.pkl', pickle_bytes), ('archive/version', b'3\n'), ('archive/data/0', b'\0' * 16)):
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)  # fixed time: same bytes each build


def build_malicious():
    root = os.path.join(OUT, 'malicious')
    if os.path.exists(root):
        shutil.rmtree(root)
    cfg = ARCHS['tinyllama']
    # PROTO 2, GLOBAL module\nname\n, arguments, TUPLE1, REDUCE, STOP: what `pickle` writes for a
    # class whose __reduce__ returns (os.system, ('…',)).
    payloads = {
        'os-system': b'\x80\x02cos\nsystem\nX\x11\x00\x00\x00touch /tmp/pwned1\x85R.',
        'builtins-eval': b'\x80\x02cbuiltins\neval\nX\x16\x00\x00\x00__import__("os").getpid()\x85R.',
        # INST (opcode 'i'): the protocol-0 way to instantiate a class; never in a state dict.
        'inst-opcode': b'\x80\x02(X\x01\x00\x00\x00aisubprocess\nPopen\n.',
        # A state dict whose tensor rebuild function is swapped for another torch function.
        'torch-load': b'\x80\x02ctorch\nload\nX\x03\x00\x00\x00/x\x85R.',
    }
    for name, payload in payloads.items():
        folder = os.path.join(root, name)
        os.makedirs(folder)
        zip_with_pickle(os.path.join(folder, 'pytorch_model.bin'), payload)
        write_json(os.path.join(folder, 'config.json'), config_json(cfg, 'fp32'))
    print(f'malicious: {sorted(payloads)}')


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    for arch_name, arch_cfg in ARCHS.items():
        build_arch(arch_name, arch_cfg)
    build_malicious()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f'wrote {OUT}: {total / 1e3:.0f} KB')
