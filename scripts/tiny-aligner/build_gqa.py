#!/usr/bin/python3
"""Rebuild the tiny Aligner as an onnx-community-style graph with GroupQueryAttention.

Run by hand:   /usr/bin/python3 scripts/tiny-aligner/build_gqa.py
Needs python3-onnx and numpy only (no torch): it reads the trained weights from
tests/fixtures/models/tiny-aligner/onnx/model.onnx and writes tests/fixtures/models/tiny-aligner-gqa/.

The graph is the one onnxruntime-genai's builder (and the onnx-community exports made with it)
emits for Qwen2/Llama: com.microsoft GroupQueryAttention with rotary embedding inside, sequence
lengths derived from attention_mask (seqlens_k = sum(mask) - 1, total_sequence_length =
mask width), no position_ids input. Such a graph ignores holes in attention_mask, so the decode
loop's rollback must cut stale cache entries, never mask them: the tests of the step model run on
this fixture for that reason. Same weights as the standard-attention fixture, so it corrects the
same cases (the lm_head is the transposed embedding, tied as in the original).
"""
import json
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SRC = os.path.join(ROOT, 'tests', 'fixtures', 'models', 'tiny-aligner')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'models', 'tiny-aligner-gqa')

config = json.load(open(os.path.join(SRC, 'config.json')))
HIDDEN = config['hidden_size']
NH = config['num_attention_heads']
NKV = config['num_key_value_heads']
HD = config['head_dim']
LAYERS = config['num_hidden_layers']
INTER = config['intermediate_size']
VOCAB = config['vocab_size']
MAX_POS = config['max_position_embeddings']
EPS = config['rms_norm_eps']
THETA = config['rope_theta']

source = onnx.load(os.path.join(SRC, 'onnx', 'model.onnx'))
weights = {init.name: numpy_helper.to_array(init) for init in source.graph.initializer}
# torch.onnx.export folded each Linear's transposed weight into an anonymous MatMul initializer,
# in module order: per layer q, k, v, o, gate, up, down; then the lm_head.
matmuls = [init.name for init in source.graph.initializer if init.name.startswith('onnx::MatMul_')]
matmuls.sort(key=lambda name: int(name.split('_')[-1]))
expected = LAYERS * 7 + 1
assert len(matmuls) == expected, (len(matmuls), expected)
PROJ = ['q', 'k', 'v', 'o', 'gate', 'up', 'down']
shapes = {'q': (HIDDEN, NH * HD), 'k': (HIDDEN, NKV * HD), 'v': (HIDDEN, NKV * HD), 'o': (NH * HD, HIDDEN),
          'gate': (HIDDEN, INTER), 'up': (HIDDEN, INTER), 'down': (INTER, HIDDEN)}
layer_w = []
for layer in range(LAYERS):
    entry = {}
    for j, proj in enumerate(PROJ):
        w = weights[matmuls[layer * 7 + j]]
        assert w.shape == shapes[proj], (layer, proj, w.shape)
        entry[proj] = w
    layer_w.append(entry)
embed = weights['m.embed_tokens.weight']
assert np.allclose(weights[matmuls[-1]], embed.T), 'the lm_head is expected to be the tied embedding'

inits = []
nodes = []


def const(name, array):
    inits.append(numpy_helper.from_array(np.asarray(array), name))
    return name


def node(op, inputs, outputs, domain='', **attrs):
    nodes.append(helper.make_node(op, inputs, outputs, name=f'n{len(nodes)}', domain=domain, **attrs))
    return outputs[0]


def rms_norm(x, weight, prefix):
    sq = node('Mul', [x, x], [f'{prefix}.sq'])
    mean = node('ReduceMean', [sq], [f'{prefix}.mean'], axes=[-1], keepdims=1)
    var = node('Add', [mean, const(f'{prefix}.eps', np.array(EPS, dtype=np.float32))], [f'{prefix}.var'])
    inv = node('Reciprocal', [node('Sqrt', [var], [f'{prefix}.std'])], [f'{prefix}.inv'])
    return node('Mul', [node('Mul', [x, inv], [f'{prefix}.normed']), const(f'{prefix}.weight', weight)], [f'{prefix}.out'])


const('embed', embed.astype(np.float32))
inv_freq = 1.0 / (THETA ** (np.arange(0, HD, 2, dtype=np.float64) / HD))
angles = np.arange(MAX_POS, dtype=np.float64)[:, None] * inv_freq[None, :]
const('cos_cache', np.cos(angles).astype(np.float32))
const('sin_cache', np.sin(angles).astype(np.float32))

# Sequence lengths from the mask, as the genai builder writes them.
mask_sum = node('ReduceSum', ['attention_mask', const('axis1', np.array([1], dtype=np.int64))], ['mask_sum'], keepdims=0)
seqlens = node('Cast', [node('Sub', [mask_sum, const('one64', np.array(1, dtype=np.int64))], ['seqlens64'])], ['seqlens_k'], to=TensorProto.INT32)
mask_shape = node('Shape', ['attention_mask'], ['mask_shape'])
total = node('Cast', [node('Gather', [mask_shape, const('index1', np.array(1, dtype=np.int64))], ['total64'], axis=0)], ['total_len'], to=TensorProto.INT32)

x = node('Gather', ['embed', 'input_ids'], ['x0'], axis=0)
for layer, w in enumerate(layer_w):
    p = f'l{layer}'
    h = rms_norm(x, weights[f'm.layers.{layer}.input_layernorm.weight'], f'{p}.ln1')
    proj = {}
    for name in ('q', 'k', 'v'):
        out = node('MatMul', [h, const(f'{p}.{name}.w', w[name])], [f'{p}.{name}.mm'])
        proj[name] = node('Add', [out, const(f'{p}.{name}.b', weights[f'm.layers.{layer}.{name}_proj.bias'])], [f'{p}.{name}'])
    attn = node(
        'GroupQueryAttention',
        [proj['q'], proj['k'], proj['v'], f'past_key_values.{layer}.key', f'past_key_values.{layer}.value',
         seqlens, total, 'cos_cache', 'sin_cache'],
        [f'{p}.attn', f'present.{layer}.key', f'present.{layer}.value'],
        domain='com.microsoft', num_heads=NH, kv_num_heads=NKV, do_rotary=1, rotary_interleaved=0,
        scale=float(1.0 / np.sqrt(HD)))
    x = node('Add', [x, node('MatMul', [attn, const(f'{p}.o.w', w['o'])], [f'{p}.o'])], [f'{p}.x1'])
    h = rms_norm(x, weights[f'm.layers.{layer}.post_attention_layernorm.weight'], f'{p}.ln2')
    gate = node('MatMul', [h, const(f'{p}.gate.w', w['gate'])], [f'{p}.gate'])
    up = node('MatMul', [h, const(f'{p}.up.w', w['up'])], [f'{p}.up'])
    act = node('Mul', [gate, node('Sigmoid', [gate], [f'{p}.sig'])], [f'{p}.silu'])
    down = node('MatMul', [node('Mul', [act, up], [f'{p}.prod'])], [f'{p}.down'])
    nodes[-1].input.append(const(f'{p}.down.w', w['down']))
    x = node('Add', [x, down], [f'{p}.x2'])
h = rms_norm(x, weights['m.norm.weight'], 'final')
lm_head = node('Transpose', ['embed'], ['lm_head'], perm=[1, 0])
node('MatMul', [h, lm_head], ['logits'])

cache_in = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, ['batch_size', NKV, 'past_sequence_length', HD])
cache_out = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, ['batch_size', NKV, 'total_sequence_length', HD])
inputs = [helper.make_tensor_value_info('input_ids', TensorProto.INT64, ['batch_size', 'sequence_length']),
          helper.make_tensor_value_info('attention_mask', TensorProto.INT64, ['batch_size', 'total_sequence_length'])]
outputs = [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch_size', 'sequence_length', VOCAB])]
for layer in range(LAYERS):
    for kind in ('key', 'value'):
        inputs.append(cache_in(f'past_key_values.{layer}.{kind}'))
        outputs.append(cache_out(f'present.{layer}.{kind}'))

graph = helper.make_graph(nodes, 'tiny_aligner_gqa', inputs, outputs, inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 14), helper.make_opsetid('com.microsoft', 1)],
                          producer_name='realign-tiny-aligner-gqa')
model.ir_version = 8
onnx.checker.check_model(model)

os.makedirs(os.path.join(OUT, 'onnx'), exist_ok=True)
onnx.save(model, os.path.join(OUT, 'onnx', 'model.onnx'))
for name in ('tokenizer.json', 'tokenizer_config.json', 'generation_config.json'):
    shutil.copy(os.path.join(SRC, name), os.path.join(OUT, name))
config['_comment'] = ('Toy Aligner for tests: the tiny-aligner weights in a GroupQueryAttention graph '
                      '(onnx-community / genai builder form), built by scripts/tiny-aligner/build_gqa.py.')
json.dump(config, open(os.path.join(OUT, 'config.json'), 'w'), indent=2)
print('wrote', OUT, os.path.getsize(os.path.join(OUT, 'onnx', 'model.onnx')), 'bytes')
