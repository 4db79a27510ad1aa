#!/usr/bin/python3
"""Export a wide Qwen2-shaped model that corrects exactly like the tiny Aligner (for benches).

    /usr/bin/python3 scripts/tiny-aligner/build_wide.py OUT_DIR [--hidden 512] [--layers 8] [--intermediate 1536]

The tiny Aligner is too cheap per pass (~0.5 ms) to show what speculative decoding does where a
pass costs real compute. This embeds its trained weights in a much wider and deeper model whose
extra parts are real work that contributes nothing: extra heads, MLP units and layers get random
weights, and only the weights that would carry their result into the residual stream (their rows
of o_proj and down_proj, the embedding's extra columns) are zero. RMSNorm weights and eps are
rescaled for the wider mean. So the output is the tiny Aligner's (it copies the answer, and drafts
get accepted) at the cost of a ~25M-parameter model. Standard attention, transformers.js layout,
exported with torch (python3-torch 1.13). Not committed: the bench builds it into a temp folder.
"""
import argparse
import json
import math
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

parser = argparse.ArgumentParser()
parser.add_argument('out')
parser.add_argument('--hidden', type=int, default=512)
parser.add_argument('--layers', type=int, default=8)
parser.add_argument('--intermediate', type=int, default=1536)
args = parser.parse_args()

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SRC = os.path.join(ROOT, 'tests', 'fixtures', 'models', 'tiny-aligner')
config = json.load(open(os.path.join(SRC, 'config.json')))
H0, NH0, NKV0, HD = config['hidden_size'], config['num_attention_heads'], config['num_key_value_heads'], config['head_dim']
L0, I0, VOCAB = config['num_hidden_layers'], config['intermediate_size'], config['vocab_size']
H, L, I = args.hidden, args.layers, args.intermediate
assert H % HD == 0 and H >= H0 and L >= L0 and I >= I0
NH = H // HD
NKV = NH * NKV0 // NH0  # same grouping: query head i reads kv head i // (NH0 / NKV0)
RATIO = H0 / H
EPS = config['rms_norm_eps'] * RATIO

source = onnx.load(os.path.join(SRC, 'onnx', 'model.onnx'))
w = {init.name: numpy_helper.to_array(init) for init in source.graph.initializer}
matmuls = sorted((n for n in w if n.startswith('onnx::MatMul_')), key=lambda n: int(n.split('_')[-1]))
rng = np.random.default_rng(7)


def rand(*shape):
    return rng.normal(0, 0.02, shape).astype(np.float32)


def embed_block(big, small):
    big[:small.shape[0], :small.shape[1]] = small
    return big


layers = []
for layer in range(L):
    trained = layer < L0
    names = matmuls[layer * 7:(layer + 1) * 7] if trained else None
    get = (lambda j: w[names[j]]) if trained else None
    q = rand(H, NH * HD); k = rand(H, NKV * HD); v = rand(H, NKV * HD)
    qb = rand(NH * HD); kb = rand(NKV * HD); vb = rand(NKV * HD)
    o = rand(NH * HD, H); gate = rand(H, I); up = rand(H, I); down = rand(I, H)
    # Nothing but the trained block may reach the residual stream.
    o[:, H0:] = 0
    down[:, H0:] = 0
    if trained:
        embed_block(q, get(0)); embed_block(k, get(1)); embed_block(v, get(2))
        qb[:NH0 * HD] = w[f'm.layers.{layer}.q_proj.bias']
        kb[:NKV0 * HD] = w[f'm.layers.{layer}.k_proj.bias']
        vb[:NKV0 * HD] = w[f'm.layers.{layer}.v_proj.bias']
        o[NH0 * HD:, :] = 0
        embed_block(o, get(3))
        embed_block(gate, get(4)); embed_block(up, get(5))
        down[I0:, :] = 0
        embed_block(down, get(6))
        ln1 = np.zeros(H, np.float32); ln1[:H0] = w[f'm.layers.{layer}.input_layernorm.weight'] * math.sqrt(RATIO)
        ln2 = np.zeros(H, np.float32); ln2[:H0] = w[f'm.layers.{layer}.post_attention_layernorm.weight'] * math.sqrt(RATIO)
    else:
        o[:, :] = 0
        down[:, :] = 0
        ln1 = np.ones(H, np.float32)
        ln2 = np.ones(H, np.float32)
    layers.append(dict(q=q, k=k, v=v, qb=qb, kb=kb, vb=vb, o=o, gate=gate, up=up, down=down, ln1=ln1, ln2=ln2))
embed = np.zeros((VOCAB, H), np.float32)
embed[:, :H0] = w['m.embed_tokens.weight']
final_norm = np.zeros(H, np.float32)
final_norm[:H0] = w['m.norm.weight'] * math.sqrt(RATIO)
T = lambda a: torch.from_numpy(np.ascontiguousarray(a))
inv_freq = 1.0 / (config['rope_theta'] ** (torch.arange(0, HD, 2).float() / HD))


def rms(x, weight):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS))


def rotate_half(x):
    return torch.cat((-x[..., HD // 2:], x[..., :HD // 2]), dim=-1)


class Wide(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.params = torch.nn.ParameterDict()
        for i, entry in enumerate(layers):
            for key, value in entry.items():
                self.params[f'l{i}_{key}'] = torch.nn.Parameter(T(value), requires_grad=False)
        self.embed = torch.nn.Parameter(T(embed), requires_grad=False)
        self.norm = torch.nn.Parameter(T(final_norm), requires_grad=False)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        B, S = input_ids.shape
        x = F.embedding(input_ids, self.embed)
        freqs = position_ids.unsqueeze(-1).float() * inv_freq
        emb = torch.cat([freqs, freqs], dim=-1).unsqueeze(1)
        cos, sin = emb.cos(), emb.sin()
        total = attention_mask.shape[1]
        k_idx = torch.arange(total)
        q_idx = torch.arange(S) + (total - S)
        allowed = (k_idx.unsqueeze(0) <= q_idx.unsqueeze(1)).unsqueeze(0).unsqueeze(0) & (attention_mask[:, None, None, :] > 0)
        mask = torch.where(allowed, torch.zeros((), dtype=x.dtype), torch.full((), -1e9, dtype=x.dtype))
        presents = []
        for i in range(L):
            p = lambda key: self.params[f'l{i}_{key}']
            h = rms(x, p('ln1'))
            q = (h @ p('q') + p('qb')).view(B, S, NH, HD).transpose(1, 2)
            k = (h @ p('k') + p('kb')).view(B, S, NKV, HD).transpose(1, 2)
            v = (h @ p('v') + p('vb')).view(B, S, NKV, HD).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = torch.cat([past[2 * i], k], dim=2)
            v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            rep = NH // NKV
            kk = k.unsqueeze(2).expand(-1, -1, rep, -1, -1).reshape(B, NH, -1, HD)
            vv = v.unsqueeze(2).expand(-1, -1, rep, -1, -1).reshape(B, NH, -1, HD)
            att = torch.softmax(q @ kk.transpose(2, 3) / math.sqrt(HD) + mask, dim=-1)
            x = x + (att @ vv).transpose(1, 2).reshape(B, S, NH * HD) @ p('o')
            h = rms(x, p('ln2'))
            x = x + (F.silu(h @ p('gate')) * (h @ p('up'))) @ p('down')
        logits = rms(x, self.norm) @ self.embed.t()
        return (logits, *presents)


os.makedirs(os.path.join(args.out, 'onnx'), exist_ok=True)
past_names = [f'past_key_values.{i}.{kind}' for i in range(L) for kind in ('key', 'value')]
present_names = [name.replace('past_key_values', 'present') for name in past_names]
dynamic = {'input_ids': {0: 'batch_size', 1: 'sequence_length'}, 'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
           'position_ids': {0: 'batch_size', 1: 'sequence_length'}, 'logits': {0: 'batch_size', 1: 'sequence_length'}}
dynamic.update({n: {0: 'batch_size', 2: 'past_sequence_length'} for n in past_names})
dynamic.update({n: {0: 'batch_size', 2: 'total_sequence_length'} for n in present_names})
dummy = (torch.randint(2, VOCAB, (1, 3)), torch.ones(1, 7, dtype=torch.long), torch.arange(4, 7).unsqueeze(0),
         *[torch.randn(1, NKV, 4, HD) for _ in past_names])
with torch.no_grad():
    torch.onnx.export(Wide(), dummy, os.path.join(args.out, 'onnx', 'model.onnx'), opset_version=14,
                      input_names=['input_ids', 'attention_mask', 'position_ids', *past_names],
                      output_names=['logits', *present_names], dynamic_axes=dynamic, do_constant_folding=True)
for name in ('tokenizer.json', 'tokenizer_config.json', 'generation_config.json'):
    shutil.copy(os.path.join(SRC, name), os.path.join(args.out, name))
config.update(hidden_size=H, num_attention_heads=NH, num_key_value_heads=NKV, num_hidden_layers=L, intermediate_size=I, rms_norm_eps=EPS,
              _comment='The tiny Aligner embedded in a wide model for benches (scripts/tiny-aligner/build_wide.py).')
json.dump(config, open(os.path.join(args.out, 'config.json'), 'w'), indent=2)
params = sum(a.size for entry in layers for a in entry.values()) + embed.size
print(json.dumps({'out': args.out, 'parameters': int(params)}))
