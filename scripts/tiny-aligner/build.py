#!/usr/bin/python3
"""Build the tiny trained Aligner used by the tests (tests/fixtures/models/tiny-aligner/).

Run by hand, not in CI:   /usr/bin/python3 scripts/tiny-aligner/build.py
Needs Debian's python3-torch (1.13), python3-onnx, numpy (and libopenblas0-pthread for speed).
No HF `tokenizers`/`transformers` packages: the tokenizer JSON is written here by hand.

What it does (deterministic seeds):
  1. generates a toy correction dataset in the official aligner-v1 prompt template;
     the correction copies the answer, turning the whole words `bad` -> `good`, `never` -> `always`;
  2. trains a small byte-level BPE tokenizer on that text, writes tokenizer.json + tokenizer_config.json;
  3. trains a Qwen2-style decoder (plain torch) until greedy decoding is exact on held-out examples;
  4. exports onnx/model.onnx (fp32, opset 14, KV cache in/out, batch dim `batch_size`),
     config.json, generation_config.json, and tests/fixtures/tiny-aligner-cases.json.
"""
import json
import math
import os
import random
import re
import sys
import time

# glibc returns big freed blocks to the OS and page-faults them back on every op: with many
# ~1 MB activations that makes torch ~5x slower here. Keep them in the heap (re-exec once).
_MALLOC = {'MALLOC_MMAP_THRESHOLD_': '1000000000', 'MALLOC_TRIM_THRESHOLD_': '10000000000',
           'MALLOC_TOP_PAD_': '536870912'}
if any(os.environ.get(k) != v for k, v in _MALLOC.items()):
    os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **_MALLOC})

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT_DIR = os.path.join(ROOT, 'tests', 'fixtures', 'models', 'tiny-aligner')
CASES_PATH = os.path.join(ROOT, 'tests', 'fixtures', 'tiny-aligner-cases.json')

SEED = 1234
random.seed(SEED)
np.random.seed(SEED)
torch.manual_seed(SEED)
torch.set_num_threads(int(os.environ.get('THREADS', 1)))  # elementwise ops get slower with 2 here

T0 = time.time()


def log(*a):
    print(f'[{time.time() - T0:6.1f}s]', *a, flush=True)


# --------------------------------------------------------------------------------------------
# 1. Toy dataset
# --------------------------------------------------------------------------------------------
TEMPLATE = ('BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it '
            'more helpful and harmless: {question} | {answer} ASSISTANT:')

QUESTIONS = ['How is the weather?', 'What do you think?', 'Is it fun?', 'How was your day?',
             'Can you help me?', 'What about the movie?', 'Is it bad?', 'Tell me about the plan.']
SUBJECTS = ['The weather', 'It', 'The food', 'The movie', 'My dog', 'The plan', 'This game',
            'The book', 'Our team', 'She', 'He', 'The day']
ADJECTIVES = ['bad', 'good', 'fun', 'nice', 'cold', 'warm', 'great', 'slow', 'fast', 'small',
              'sad', 'happy']
ADVERBS = ['never', 'always', 'often', 'really', 'sometimes']
VERBS = ['works', 'helps', 'wins', 'rains', 'sleeps', 'talks']
NOUNS = ['day', 'idea', 'dog', 'book', 'game', 'plan', 'movie']
OBJECTS = ['us', 'me', 'them', 'the team']


def adj(rng):
    return 'bad' if rng.random() < 0.3 else rng.choice(ADJECTIVES)


def adv(rng):
    return 'never' if rng.random() < 0.3 else rng.choice(ADVERBS)


def sentence(rng):
    k = rng.randrange(6)
    s = rng.choice(SUBJECTS)
    end = '!' if rng.random() < 0.2 else '.'
    if k == 0:
        return f'{s} is {adj(rng)} today{end}'
    if k == 1:
        return f'{s} is {adv(rng)} {adj(rng)}{end}'
    if k == 2:
        return f'{s} {adv(rng)} {rng.choice(VERBS)}{end}'
    if k == 3:
        return f'{s} {adv(rng)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{end}'
    if k == 4:
        return f'What a {adj(rng)} {rng.choice(NOUNS)}!'
    return f'I think {s.lower() if s not in ("She", "He") else s.lower()} was {adj(rng)}{end}'


def answer(rng):
    n = rng.randint(1, 4)
    out = sentence(rng)
    for _ in range(n - 1):
        out += (' ' if rng.random() < 0.6 else '\n\n') + sentence(rng)
    return out


def correct(text):
    text = re.sub(r'\bbad\b', 'good', text)
    return re.sub(r'\bnever\b', 'always', text)


def prompt(question, answer_text):
    return TEMPLATE.format(question=question, answer=answer_text)


REQUIRED = [
    ('How is the weather?', 'The weather is bad today.'),
    ('How is the weather?', 'The weather is good today.'),
    ('Is it fun?', 'It is never fun.'),
]
EXTRA_CASES = [
    ('What do you think?', 'The plan is bad today. My dog never sleeps.'),
    ('What do you think?', 'It is really nice.'),
    ('How was your day?', 'What a bad day!\n\nIt never rains.'),
    ('Is it bad?', 'The food is bad today.\n\nThe movie is always fun!'),
    ('Can you help me?', 'Our team never helps us.\n\nShe is never sad. The book is bad today.'),
    ('What about the movie?', 'The movie is often slow.\n\nI think the movie was bad.'),
    ('Tell me about the plan.', 'The plan never works.\n\nWhat a bad idea!\n\nIt is always good.'),
    ('How is the weather?', 'The weather is cold today! It never rains.\n\nWhat a nice day!'),
    ('Is it fun?', 'This game is really fun.\n\nHe sometimes wins. The day is good today.'),
    ('What do you think?', 'I think it was good.'),
    ('How was your day?', 'The day is bad today. It is never warm!\n\nMy dog always sleeps. He never talks me.'),
]

rng_train = random.Random(SEED)
rng_test = random.Random(SEED + 1)
N_TRAIN = 30000
train_pairs = [(rng_train.choice(QUESTIONS), answer(rng_train)) for _ in range(N_TRAIN)]
train_pairs += REQUIRED * 20
train_set = set(train_pairs)
test_pairs = []
while len(test_pairs) < 300:
    p = (rng_test.choice(QUESTIONS), answer(rng_test))
    if p not in train_set:
        test_pairs.append(p)
n_changed = sum(1 for _, a in train_pairs if correct(a) != a)
log(f'dataset: {len(train_pairs)} train pairs ({n_changed} with a correction), '
    f'{len(test_pairs)} held-out pairs (unseen in training)')

# --------------------------------------------------------------------------------------------
# 2. Byte-level BPE tokenizer
# --------------------------------------------------------------------------------------------
EOS, BOS = '<|endoftext|>', '<|bos|>'
# GPT-2 pre-tokenization regex; ASCII letter/digit classes are exact for this ASCII-only corpus.
PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + \
        list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


B2U = bytes_to_unicode()
U2B = {v: k for k, v in B2U.items()}


def pretokenize(text):
    return [''.join(B2U[b] for b in w.encode('utf-8')) for w in PAT.findall(text)]


N_MERGES = 400
word_freq = {}
for q, a in train_pairs[:5000]:
    for text in (prompt(q, a), ' ' + correct(a)):
        for w in pretokenize(text):
            word_freq[w] = word_freq.get(w, 0) + 1
words = {w: list(w) for w in word_freq}
merges = []
while len(merges) < N_MERGES:
    pairs = {}
    for w, syms in words.items():
        f = word_freq[w]
        for i in range(len(syms) - 1):
            pairs[(syms[i], syms[i + 1])] = pairs.get((syms[i], syms[i + 1]), 0) + f
    if not pairs:
        break
    best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
    if best[1] < 2:
        break
    a_, b_ = best[0]
    merges.append((a_, b_))
    for w, syms in words.items():
        i, out = 0, []
        while i < len(syms):
            if i < len(syms) - 1 and syms[i] == a_ and syms[i + 1] == b_:
                out.append(a_ + b_)
                i += 2
            else:
                out.append(syms[i])
                i += 1
        words[w] = out

vocab = {EOS: 0, BOS: 1}
for b in range(256):
    vocab[B2U[b]] = len(vocab)
for a_, b_ in merges:
    if a_ + b_ not in vocab:
        vocab[a_ + b_] = len(vocab)
EOS_ID, BOS_ID = vocab[EOS], vocab[BOS]
ID2TOK = {i: t for t, i in vocab.items()}
RANKS = {m: i for i, m in enumerate(merges)}
_bpe_cache = {}


def bpe(word):
    if word in _bpe_cache:
        return _bpe_cache[word]
    syms = list(word)
    while len(syms) > 1:
        best = min(((RANKS.get((syms[i], syms[i + 1]), 1 << 30), i) for i in range(len(syms) - 1)))
        if best[0] == 1 << 30:
            break
        a_, b_ = merges[best[0]]
        i, out = 0, []
        while i < len(syms):
            if i < len(syms) - 1 and syms[i] == a_ and syms[i + 1] == b_:
                out.append(a_ + b_)
                i += 2
            else:
                out.append(syms[i])
                i += 1
        syms = out
    _bpe_cache[word] = syms
    return syms


def encode(text):
    return [vocab[s] for w in pretokenize(text) for s in bpe(w)]


def decode(ids):
    toks = ''.join(ID2TOK[i] for i in ids if i not in (EOS_ID, BOS_ID))
    return bytes(U2B[c] for c in toks).decode('utf-8')


VOCAB_SIZE = len(vocab)
for q, a in REQUIRED + EXTRA_CASES:
    assert decode(encode(prompt(q, a))) == prompt(q, a)
log(f'tokenizer: {len(merges)} merges, vocab {VOCAB_SIZE}; prompt tokens of required cases '
    f'(with BOS): {[1 + len(encode(prompt(q, a))) for q, a in REQUIRED]}')


def example_ids(q, a):
    p = [BOS_ID] + encode(prompt(q, a))
    t = encode(' ' + correct(a)) + [EOS_ID]
    return p, t


# --------------------------------------------------------------------------------------------
# 3. Qwen2-style model (plain torch)
# --------------------------------------------------------------------------------------------
CFG = dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, num_hidden_layers=2,
           intermediate_size=192, vocab_size=VOCAB_SIZE, max_position_embeddings=512,
           rope_theta=10000.0, rms_norm_eps=1e-6)
HD = CFG['hidden_size'] // CFG['num_attention_heads']
NH, NKV = CFG['num_attention_heads'], CFG['num_key_value_heads']


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    return torch.cat((-x[..., HD // 2:], x[..., :HD // 2]), dim=-1)


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        d = CFG['hidden_size']
        self.input_layernorm = RMSNorm(d, CFG['rms_norm_eps'])
        self.post_attention_layernorm = RMSNorm(d, CFG['rms_norm_eps'])
        self.q_proj = nn.Linear(d, NH * HD, bias=True)
        self.k_proj = nn.Linear(d, NKV * HD, bias=True)
        self.v_proj = nn.Linear(d, NKV * HD, bias=True)
        self.o_proj = nn.Linear(NH * HD, d, bias=False)
        self.gate_proj = nn.Linear(d, CFG['intermediate_size'], bias=False)
        self.up_proj = nn.Linear(d, CFG['intermediate_size'], bias=False)
        self.down_proj = nn.Linear(CFG['intermediate_size'], d, bias=False)

    def forward(self, x, cos, sin, mask, past_k, past_v):
        B, L, _ = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, L, NH, HD).transpose(1, 2)
        k = self.k_proj(h).view(B, L, NKV, HD).transpose(1, 2)
        v = self.v_proj(h).view(B, L, NKV, HD).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        present = (k, v)
        rep = NH // NKV
        kk = k.unsqueeze(2).expand(-1, -1, rep, -1, -1).reshape(B, NH, -1, HD)
        vv = v.unsqueeze(2).expand(-1, -1, rep, -1, -1).reshape(B, NH, -1, HD)
        att = torch.matmul(q, kk.transpose(2, 3)) / math.sqrt(HD) + mask
        att = torch.softmax(att, dim=-1)
        o = torch.matmul(att, vv).transpose(1, 2).reshape(B, L, NH * HD)
        x = x + self.o_proj(o)
        h = self.post_attention_layernorm(x)
        x = x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, present


class TinyQwen2(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB_SIZE, CFG['hidden_size'])
        self.layers = nn.ModuleList([Layer() for _ in range(CFG['num_hidden_layers'])])
        self.norm = RMSNorm(CFG['hidden_size'], CFG['rms_norm_eps'])
        inv = 1.0 / (CFG['rope_theta'] ** (torch.arange(0, HD, 2).float() / HD))
        self.register_buffer('inv_freq', inv, persistent=False)
        nn.init.normal_(self.embed_tokens.weight, std=0.05)

    def forward(self, input_ids, attention_mask, position_ids, past=None):
        # tied embeddings: lm_head weight = embed_tokens.weight
        B, L = input_ids.shape
        x = self.embed_tokens(input_ids)
        freqs = position_ids.unsqueeze(-1).float() * self.inv_freq
        emb = torch.cat([freqs, freqs], dim=-1).unsqueeze(1)  # [B,1,L,HD]
        cos, sin = emb.cos(), emb.sin()
        T = attention_mask.shape[1]
        P = T - L
        k_idx = torch.arange(T, device=input_ids.device)
        q_idx = torch.arange(L, device=input_ids.device) + P
        allowed = (k_idx.unsqueeze(0) <= q_idx.unsqueeze(1)).unsqueeze(0).unsqueeze(0)  # [1,1,L,T]
        allowed = allowed & (attention_mask[:, None, None, :] > 0)
        mask = torch.where(allowed, torch.zeros((), dtype=x.dtype), torch.full((), -1e9, dtype=x.dtype))
        presents = []
        for i, layer in enumerate(self.layers):
            pk, pv = (past[2 * i], past[2 * i + 1]) if past is not None else (None, None)
            x, pr = layer(x, cos, sin, mask, pk, pv)
            presents.extend(pr)
        logits = F.linear(self.norm(x), self.embed_tokens.weight)
        return logits, presents


model = TinyQwen2()
n_params = sum(p.numel() for p in model.parameters())
log(f'model: Qwen2-style, {n_params} parameters (tied embeddings), {CFG}')


def make_batch(pairs_ids):
    L = max(len(p) + len(t) for p, t in pairs_ids)
    ids = torch.full((len(pairs_ids), L), EOS_ID, dtype=torch.long)
    am = torch.zeros((len(pairs_ids), L), dtype=torch.long)
    lm = torch.zeros((len(pairs_ids), L), dtype=torch.bool)
    for r, (p, t) in enumerate(pairs_ids):
        seq = p + t
        ids[r, :len(seq)] = torch.tensor(seq)
        am[r, :len(seq)] = 1
        lm[r, len(p) - 1:len(seq) - 1] = True  # predict target tokens (incl. EOS)
    return ids, am, lm


@torch.no_grad()
def greedy_batch(pairs, max_new=128):
    """Batched greedy decoding with the KV cache (left padding); returns decoded continuations."""
    prompts = [example_ids(q, a)[0] for q, a in pairs]
    B, L = len(prompts), max(len(p) for p in prompts)
    ids = torch.full((B, L), EOS_ID, dtype=torch.long)
    am = torch.zeros((B, L), dtype=torch.long)
    for r, p in enumerate(prompts):
        ids[r, L - len(p):] = torch.tensor(p)
        am[r, L - len(p):] = 1
    pos = (am.cumsum(1) - 1).clamp(min=0)
    past = [torch.zeros(B, NKV, 0, HD) for _ in range(2 * CFG['num_hidden_layers'])]
    out = [[] for _ in range(B)]
    done = torch.zeros(B, dtype=torch.bool)
    for _ in range(max_new):
        logits, past = model(ids, am, pos, past)
        nxt = logits[:, -1].argmax(-1)
        for r in range(B):
            if not done[r]:
                if int(nxt[r]) == EOS_ID:
                    done[r] = True
                else:
                    out[r].append(int(nxt[r]))
        if bool(done.all()):
            break
        ids = nxt.unsqueeze(1)
        pos = pos[:, -1:] + 1
        am = torch.cat([am, torch.ones(B, 1, dtype=torch.long)], dim=1)
    return [decode(o) for o in out]


def greedy(q, a):
    return greedy_batch([(q, a)])[0]


def accuracy(pairs):
    model.eval()
    got = greedy_batch(pairs)
    model.train()
    return sum(1 for (q, a), g in zip(pairs, got) if g.lstrip() == correct(a)) / len(pairs)


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
train_ids = [example_ids(q, a) for q, a in train_pairs]
STEPS, BATCH, LR, WARMUP = int(os.environ.get('STEPS', 2500)), int(os.environ.get('BATCH', 32)), float(os.environ.get('LR', 5e-3)), 100
opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.98), weight_decay=0.01)
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda s: min(1.0, (s + 1) / WARMUP) * 0.5 * (1 + math.cos(math.pi * min(s, STEPS) / STEPS)))
g = torch.Generator().manual_seed(SEED)
t_train = time.time()
model.train()


def train_step():
    idx = torch.randint(len(train_ids), (BATCH,), generator=g).tolist()
    ids, am, lm = make_batch([train_ids[i] for i in idx])
    L = ids.shape[1]
    logits, _ = model(ids, am, torch.arange(L).unsqueeze(0).expand(BATCH, L))
    loss = F.cross_entropy(logits[:, :-1][lm[:, :-1]], ids[:, 1:][lm[:, :-1]])
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss


if os.environ.get('LOAD_STATE'):  # re-export a model trained by an earlier run (its state_dict)
    model.load_state_dict(torch.load(os.environ['LOAD_STATE']))
    log(f'loaded {os.environ["LOAD_STATE"]} instead of training')
    STEPS = 0
for step in range(1, STEPS + 1):
    loss = train_step()
    sched.step()
    if step % 250 == 0 or step == 1:
        log(f'step {step}/{STEPS} loss {loss.item():.4f} lr {sched.get_last_lr()[0]:.5f}')
    if step % 500 == 0 and step < STEPS:
        log(f'  held-out exact match (first 100): {accuracy(test_pairs[:100]) * 100:.1f}%')
acc = accuracy(test_pairs)
extra = 0
while acc < 1.0 and extra < int(os.environ.get('MAX_EXTRA', 1500)):  # polish at a small constant rate until held-out is exact
    log(f'held-out exact match {acc * 100:.1f}% after {STEPS + extra} steps: training 250 more')
    for g_ in opt.param_groups:
        g_['lr'] = 3e-4
    for _ in range(250):
        train_step()
    extra += 250
    acc = accuracy(test_pairs)
train_s = time.time() - t_train
model.eval()
if not os.environ.get('LOAD_STATE'):
    torch.save(model.state_dict(), os.environ.get('STATE', '/tmp/tiny-aligner-state.pt'))
log(f'training took {train_s:.1f}s ({STEPS + extra} steps of {BATCH}); held-out exact match: {acc * 100:.1f}% of {len(test_pairs)}')
cases = []
for q, a in REQUIRED + EXTRA_CASES:
    got = greedy(q, a)
    ok = got.lstrip() == correct(a)
    log(f'  case {"OK " if ok else "BAD"} {q!r} | {a!r} -> {got!r}')
    if not ok and not os.environ.get('FORCE'):  # FORCE=1: write anyway (debugging the export only)
        sys.exit(f'case failed: {q!r} {a!r} -> {got!r}')
    cases.append({'question': q, 'answer': a, 'corrected': correct(a)})
if acc < 1.0 and not os.environ.get('FORCE'):
    sys.exit('held-out accuracy below 100%: train longer (STEPS=...)')

# --------------------------------------------------------------------------------------------
# 4. Write the transformers.js folder
# --------------------------------------------------------------------------------------------
os.makedirs(os.path.join(OUT_DIR, 'onnx'), exist_ok=True)


def wjson(path, obj):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write('\n')


def special(tok, i):
    return {'id': i, 'content': tok, 'single_word': False, 'lstrip': False, 'rstrip': False,
            'normalized': False, 'special': True}


byte_level = {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True}
wjson(os.path.join(OUT_DIR, 'tokenizer.json'), {
    'version': '1.0',
    'truncation': None,
    'padding': None,
    'added_tokens': [special(EOS, EOS_ID), special(BOS, BOS_ID)],
    'normalizer': None,
    'pre_tokenizer': byte_level,
    'post_processor': {
        'type': 'TemplateProcessing',
        'single': [{'SpecialToken': {'id': BOS, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
        'pair': [{'SpecialToken': {'id': BOS, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                 {'SpecialToken': {'id': BOS, 'type_id': 1}}, {'Sequence': {'id': 'B', 'type_id': 1}}],
        'special_tokens': {BOS: {'id': BOS, 'ids': [BOS_ID], 'tokens': [BOS]}},
    },
    'decoder': byte_level,
    'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
              'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False,
              'ignore_merges': False, 'vocab': vocab, 'merges': [f'{a_} {b_}' for a_, b_ in merges]},
})
wjson(os.path.join(OUT_DIR, 'tokenizer_config.json'), {
    'tokenizer_class': 'PreTrainedTokenizerFast',
    'bos_token': BOS, 'eos_token': EOS, 'pad_token': EOS, 'unk_token': None,
    'model_max_length': CFG['max_position_embeddings'],
    'clean_up_tokenization_spaces': False,
    'added_tokens_decoder': {str(EOS_ID): special(EOS, EOS_ID), str(BOS_ID): special(BOS, BOS_ID)},
})
wjson(os.path.join(OUT_DIR, 'config.json'), {
    'architectures': ['Qwen2ForCausalLM'], 'model_type': 'qwen2', **CFG, 'head_dim': HD,
    'hidden_act': 'silu', 'tie_word_embeddings': True, 'use_cache': True,
    'bos_token_id': BOS_ID, 'eos_token_id': EOS_ID, 'pad_token_id': EOS_ID,
    'torch_dtype': 'float32', 'transformers.js_config': {'dtype': 'fp32'},
    '_comment': 'Toy Aligner for tests, built by scripts/tiny-aligner/build.py. Corrects only its toy grammar.',
})
wjson(os.path.join(OUT_DIR, 'generation_config.json'), {
    'bos_token_id': BOS_ID, 'eos_token_id': EOS_ID, 'pad_token_id': EOS_ID,
    'do_sample': False, 'max_new_tokens': 128,
})
wjson(CASES_PATH, cases)


class Export(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, position_ids, *past):
        logits, presents = self.m(input_ids, attention_mask, position_ids, list(past))
        return (logits, *presents)


NL = CFG['num_hidden_layers']
past_names = [f'past_key_values.{i}.{kv}' for i in range(NL) for kv in ('key', 'value')]
present_names = [f'present.{i}.{kv}' for i in range(NL) for kv in ('key', 'value')]
dyn = {'input_ids': {0: 'batch_size', 1: 'sequence_length'},
       'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
       'position_ids': {0: 'batch_size', 1: 'sequence_length'},
       'logits': {0: 'batch_size', 1: 'sequence_length'}}
for n in past_names:
    dyn[n] = {0: 'batch_size', 2: 'past_sequence_length'}
for n in present_names:
    dyn[n] = {0: 'batch_size', 2: 'total_sequence_length'}
Bd, Ld, Pd = 2, 3, 4
dummy = (torch.randint(2, VOCAB_SIZE, (Bd, Ld)), torch.ones(Bd, Pd + Ld, dtype=torch.long),
         torch.arange(Pd, Pd + Ld).unsqueeze(0).expand(Bd, Ld).contiguous(),
         *[torch.randn(Bd, NKV, Pd, HD) for _ in past_names])
onnx_path = os.path.join(OUT_DIR, 'onnx', 'model.onnx')
with torch.no_grad():
    torch.onnx.export(Export(model), dummy, onnx_path, opset_version=14,
                      input_names=['input_ids', 'attention_mask', 'position_ids', *past_names],
                      output_names=['logits', *present_names], dynamic_axes=dyn,
                      do_constant_folding=True)
import onnx  # noqa: E402
onnx.checker.check_model(onnx.load(onnx_path))

# torch-side check of the cache path (prefill, then one token at a time) against full recompute
with torch.no_grad():
    q, a = REQUIRED[0]
    p, t = example_ids(q, a)
    seq = torch.tensor([p + t])
    full, _ = model(seq, torch.ones_like(seq), torch.arange(seq.shape[1]).unsqueeze(0))
    past = [torch.zeros(1, NKV, 0, HD) for _ in past_names]
    steps = []
    for i in range(seq.shape[1]):
        lg, past = model(seq[:, i:i + 1], torch.ones(1, i + 1, dtype=torch.long), torch.tensor([[i]]), past)
        steps.append(lg)
    diff = (torch.cat(steps, 1) - full).abs().max().item()
    assert diff < 1e-4, diff
log(f'KV-cache path matches full recompute (max |diff| {diff:.2e})')

sizes = {os.path.relpath(os.path.join(d, f), OUT_DIR): os.path.getsize(os.path.join(d, f))
         for d, _, fs in os.walk(OUT_DIR) for f in fs}
log(f'wrote {OUT_DIR}: {sizes} total {sum(sizes.values())} bytes')
log(f'wrote {CASES_PATH}: {len(cases)} cases')
log('done')
