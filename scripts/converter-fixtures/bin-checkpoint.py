#!/usr/bin/python3
"""Write a random-weight PyTorch .bin (torch.save of a state dict) for the config.json in a folder.

    npx tsx scripts/converter-fixtures/random-checkpoint.ts tinyllama-1.1b /tmp/ta fp32 --no-weights
    /usr/bin/python3 scripts/converter-fixtures/bin-checkpoint.py /tmp/ta fp32

For measuring the converter on real shapes (e.g. MetaAligner-1.1B's single 4.4 GB fp32
pytorch_model.bin, a ZIP64 archive): torch itself writes the zip and the pickle. Not committed.
"""
import json
import os
import sys
import time
from collections import OrderedDict

import torch

folder, dtype = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else 'fp32')
config = json.load(open(os.path.join(folder, 'config.json')))
torch_dtype = {'fp32': torch.float32, 'fp16': torch.float16, 'bf16': torch.bfloat16}[dtype]
H, heads, kv = config['hidden_size'], config['num_attention_heads'], config['num_key_value_heads']
I, V, hd = config['intermediate_size'], config['vocab_size'], H // heads
shapes = [('model.embed_tokens.weight', (V, H))]
for i in range(config['num_hidden_layers']):
    p = f'model.layers.{i}.'
    shapes += [(p + 'input_layernorm.weight', (H,)), (p + 'post_attention_layernorm.weight', (H,)),
               (p + 'self_attn.q_proj.weight', (heads * hd, H)), (p + 'self_attn.k_proj.weight', (kv * hd, H)),
               (p + 'self_attn.v_proj.weight', (kv * hd, H)), (p + 'self_attn.o_proj.weight', (H, heads * hd)),
               (p + 'mlp.gate_proj.weight', (I, H)), (p + 'mlp.up_proj.weight', (I, H)), (p + 'mlp.down_proj.weight', (H, I))]
    if config['model_type'] == 'qwen2':
        shapes += [(p + 'self_attn.q_proj.bias', (heads * hd,)), (p + 'self_attn.k_proj.bias', (kv * hd,)), (p + 'self_attn.v_proj.bias', (kv * hd,))]
shapes.append(('model.norm.weight', (H,)))
if not config.get('tie_word_embeddings'):
    shapes.append(('lm_head.weight', (V, H)))

started = time.time()
g = torch.Generator().manual_seed(0)
state = OrderedDict()
for name, shape in shapes:
    t = torch.empty(shape, dtype=torch.float32).uniform_(-0.04, 0.04, generator=g) if not name.endswith('norm.weight') else torch.ones(shape)
    state[name] = t.to(torch_dtype)
path = os.path.join(folder, 'pytorch_model.bin')
torch.save(state, path)
print(f'wrote {path}: {os.path.getsize(path) / 1e9:.2f} GB in {time.time() - started:.0f} s')
