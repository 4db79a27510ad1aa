#!/usr/bin/python3
"""Write the tiny Aligner's trained weights as a Hugging Face-layout checkpoint.

Run by hand:   /usr/bin/python3 scripts/tiny-aligner/hf-checkpoint.py
Needs python3-onnx and numpy only.

The committed tests/fixtures/models/tiny-aligner/onnx/model.onnx is the source of truth (the
trained model is not retrained here): its initializers are read back, the MatMul weights that
torch.onnx.export stored transposed ([in, out]) are turned back into PyTorch's [out, in], and
everything is written under transformers' Qwen2 tensor names to
tests/fixtures/models/tiny-aligner/model.safetensors (float32, tied head left out as
save_pretrained does). The folder's config.json and tokenizer files already describe the model,
so the folder is then both a transformers.js model and a checkpoint the converter reads.
"""
import json
import os
import struct

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FOLDER = os.path.join(ROOT, 'tests', 'fixtures', 'models', 'tiny-aligner')

model = onnx.load(os.path.join(FOLDER, 'onnx', 'model.onnx'))
init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
config = json.load(open(os.path.join(FOLDER, 'config.json')))

tensors = {}
for name, value in init.items():
    if name.startswith('m.') and not name.startswith('onnx::'):
        hf = 'model.' + name[2:]
        # Attention projections live under self_attn in transformers' Qwen2.
        for proj in ('q_proj', 'k_proj', 'v_proj', 'o_proj'):
            hf = hf.replace(f'.{proj}.', f'.self_attn.{proj}.')
        tensors[hf] = value

# The exported graph names each projection's MatMul after its module: map the weights by node.
for node in model.graph.node:
    if node.op_type != 'MatMul':
        continue
    weight = next((i for i in node.input if i in init and i.startswith('onnx::')), None)
    if weight is None:
        continue
    parts = node.name.strip('/').split('/')  # ['m', 'layers.0', 'q_proj', 'MatMul'] or ['m', 'MatMul']
    value = init[weight].T  # [in, out] -> [out, in]
    if parts[1].startswith('layers.'):
        proj = parts[2]
        group = 'self_attn' if proj in ('q_proj', 'k_proj', 'v_proj', 'o_proj') else 'mlp'
        tensors[f'model.{parts[1]}.{group}.{proj}.weight'] = value
    else:
        # The head: tied to the embedding (the config says so); check rather than trust.
        assert config['tie_word_embeddings'] and np.array_equal(value, init['m.embed_tokens.weight']), 'head is not tied'

expected = 1 + config['num_hidden_layers'] * 12 + 1  # embed, per layer (2 norms, 7 weights, 3 biases), norm
assert len(tensors) == expected, (len(tensors), expected, sorted(tensors))

header, blobs, offset = {}, [], 0
for name in sorted(tensors):
    data = np.ascontiguousarray(tensors[name], dtype='<f4').tobytes()
    header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
header['__metadata__'] = {'format': 'pt', 'source': 'onnx/model.onnx (scripts/tiny-aligner/hf-checkpoint.py)'}
text = json.dumps(header, separators=(',', ':')).encode()
text += b' ' * (-len(text) % 8)
path = os.path.join(FOLDER, 'model.safetensors')
with open(path, 'wb') as f:
    f.write(struct.pack('<Q', len(text)))
    f.write(text)
    for blob in blobs:
        f.write(blob)
print(f'wrote {path}: {len(tensors)} tensors, {os.path.getsize(path)} bytes')
