// The checkpoint readers: safetensors (single, sharded, damaged), PyTorch .bin zips (ZIP64,
// including a file whose entries sit past 4 GB), the safe unpickler (state-dict pickles read;
// code-running pickles refused), float conversions and the block quantizer.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint } from '../../../../model/convert/checkpoint';
import { convertCheckpoint, ConversionError } from '../../../../model/convert/index';
import { FileByteSource, FolderSink, localFolderFiles } from '../../../../model/convert/node';
import { readStateDictPickle } from '../../../../model/convert/pickle';
import { dequantizeRows, quantizeRows } from '../../../../model/convert/quantize';
import { readSafetensorsIndex } from '../../../../model/convert/safetensors';
import { decodeFloats, floatToHalf, toFloat32, type TensorEntry } from '../../../../model/convert/tensors';
import { readTorchCheckpointIndex } from '../../../../model/convert/torch-checkpoint';
import { readZipDirectory } from '../../../../model/convert/zip';
import { FIXTURES } from './fixtures';
import { writeZip, type ZipInput } from './zip-writer';

const temp = mkdtempSync(join(tmpdir(), 'realign-readers-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

async function values(entry: TensorEntry): Promise<Float32Array> {
  return Float32Array.from(toFloat32(await entry.read(), entry.dtype));
}

async function caught(promise: Promise<unknown>): Promise<ConversionError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConversionError);
    return error as ConversionError;
  }
  throw new Error('expected a ConversionError');
}

describe('safetensors', () => {
  it('reads the index of a single file and of shards, with the same values as the .bin', async () => {
    const single = await openCheckpoint(localFolderFiles(join(FIXTURES, 'llama', 'safetensors')));
    const sharded = await openCheckpoint(localFolderFiles(join(FIXTURES, 'llama', 'sharded')));
    const bin = await openCheckpoint(localFolderFiles(join(FIXTURES, 'llama', 'bin')));
    expect(single.format).toBe('safetensors');
    expect(sharded.format).toBe('safetensors-sharded');
    expect(sharded.weightFiles.map((f) => f.name)).toEqual(['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors']);
    expect([...sharded.tensors.keys()].sort()).toEqual([...single.tensors.keys()].sort());
    for (const name of ['model.embed_tokens.weight', 'model.layers.1.mlp.down_proj.weight', 'lm_head.weight']) {
      expect(single.tensors.get(name)!.dtype).toBe('F16');
      expect(bin.tensors.get(name)!.dtype).toBe('F32');
      expect(await values(sharded.tensors.get(name)!)).toEqual(await values(bin.tensors.get(name)!));
      expect(await values(single.tensors.get(name)!)).toEqual(await values(bin.tensors.get(name)!));
    }
    await Promise.all([single.close(), sharded.close(), bin.close()]);
  });

  it('refuses a truncated file and a header whose offsets do not fit the shape', async () => {
    const original = readFileSync(join(FIXTURES, 'qwen2', 'safetensors', 'model.safetensors'));
    const truncated = join(temp, 'truncated.safetensors');
    writeFileSync(truncated, original.subarray(0, original.length - 100));
    const error = await caught(readSafetensorsIndex(new FileByteSource(truncated, 'truncated.safetensors')));
    expect(error.code).toBe('bad-input');
    expect(error.message).toMatch(/truncated\.safetensors: tensor .* claims bytes .* do not fit/);

    const headerLength = Number(original.readBigUInt64LE(0));
    const header = JSON.parse(original.subarray(8, 8 + headerLength).toString());
    header['model.norm.weight'].shape = [57];
    const text = Buffer.from(JSON.stringify(header).padEnd(headerLength, ' '));
    const lying = join(temp, 'lying.safetensors');
    writeFileSync(lying, Buffer.concat([original.subarray(0, 8), text.subarray(0, headerLength), original.subarray(8 + headerLength)]));
    expect((await caught(readSafetensorsIndex(new FileByteSource(lying, 'lying.safetensors')))).message).toMatch(/model\.norm\.weight \(BF16 \[57\]\)/);

    const notSafetensors = join(temp, 'text.safetensors');
    writeFileSync(notSafetensors, 'this is not a checkpoint at all, just text');
    expect((await caught(readSafetensorsIndex(new FileByteSource(notSafetensors, 'text.safetensors')))).message).toMatch(/not a safetensors file/);
  });
});

describe('PyTorch .bin', () => {
  it('reads a state dict with shared storage, a strided tensor, _rebuild_from_type_v2 and bf16/fp16 storages', async () => {
    const reference = await openCheckpoint(localFolderFiles(join(FIXTURES, 'mistral', 'safetensors')));
    const mistral = await openCheckpoint(localFolderFiles(join(FIXTURES, 'mistral', 'bin')));
    // Saved transposed-then-transposed: column-major strides over its storage.
    const strided = 'model.layers.0.self_attn.o_proj.weight';
    expect(mistral.tensors.get(strided)!.dtype).toBe('F16');
    expect(await values(mistral.tensors.get(strided)!)).toEqual(await values(reference.tensors.get(strided)!));

    const qwen = await openCheckpoint(localFolderFiles(join(FIXTURES, 'qwen2', 'bin')));
    // A tied head pickles as a second tensor on the embedding's storage.
    expect(qwen.tensors.get('lm_head.weight')!.dtype).toBe('BF16');
    expect(await values(qwen.tensors.get('lm_head.weight')!)).toEqual(await values(qwen.tensors.get('model.embed_tokens.weight')!));

    const tiny = await openCheckpoint(localFolderFiles(join(FIXTURES, 'tinyllama', 'bin')));
    const tinyRef = await openCheckpoint(localFolderFiles(join(FIXTURES, 'tinyllama', 'safetensors')));
    // model.norm.weight was pickled through torch._tensor._rebuild_from_type_v2 (it has an attribute).
    expect(await values(tiny.tensors.get('model.norm.weight')!)).toEqual(await values(tinyRef.tensors.get('model.norm.weight')!));
    expect(tiny.tensors.has('model.layers.0.self_attn.rotary_emb.inv_freq')).toBe(true);
    await Promise.all([reference.close(), mistral.close(), qwen.close(), tiny.close(), tinyRef.close()]);
  });

  const binEntries = async (path: string): Promise<ZipInput[]> => {
    const source = new FileByteSource(path, 'pytorch_model.bin');
    const entries = await readZipDirectory(source);
    const inputs: ZipInput[] = [];
    for (const entry of [...entries.values()].sort((a, b) => a.headerOffset - b.headerOffset)) inputs.push({ name: entry.name, data: await entry.read(0, entry.size) });
    await source.close();
    return inputs;
  };

  it('reads ZIP64 records (forced on a small archive)', async () => {
    const original = join(FIXTURES, 'tinyllama', 'bin', 'pytorch_model.bin');
    const path = join(temp, 'zip64-small.bin');
    writeZip(path, await binEntries(original), { forceZip64: true });
    const fromZip64 = await readTorchCheckpointIndex(new FileByteSource(path, 'zip64-small.bin'));
    const fromOriginal = new Map((await readTorchCheckpointIndex(new FileByteSource(original, 'pytorch_model.bin'))).map((t) => [t.name, t]));
    expect(fromZip64.length).toBe(fromOriginal.size);
    for (const tensor of fromZip64) expect(await tensor.read()).toEqual(await fromOriginal.get(tensor.name)!.read());
  });

  it('converts a .bin whose tensors lie past 4 GB (ZIP64 offsets) to the same bytes', async () => {
    const folder = join(temp, 'big-bin');
    const inputs = await binEntries(join(FIXTURES, 'tinyllama', 'bin', 'pytorch_model.bin'));
    // 4.3 GB of hole between the pickle and the storages, as in a 4.4 GB fp32 checkpoint.
    inputs.splice(1, 0, { name: 'pytorch_model/padding', sparseSize: 4.3e9 });
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(folder);
    writeZip(join(folder, 'pytorch_model.bin'), inputs);
    for (const file of ['config.json', 'tokenizer_config.json']) copyFileSync(join(FIXTURES, 'tinyllama', 'bin', file), join(folder, file));
    expect(statSync(join(folder, 'pytorch_model.bin')).size).toBeGreaterThan(2 ** 32);
    const entries = await readZipDirectory(new FileByteSource(join(folder, 'pytorch_model.bin'), 'pytorch_model.bin'));
    expect(entries.get('pytorch_model/data/0')!.headerOffset).toBeGreaterThan(2 ** 32);

    const tokenizerFrom = localFolderFiles(join(FIXTURES, 'tinyllama', 'tokenizer-base'));
    await convertCheckpoint({ files: localFolderFiles(folder), sink: new FolderSink(join(temp, 'big-out')), dtype: 'fp32', tokenizerFrom, sourceLabel: 'x' });
    await convertCheckpoint({ files: localFolderFiles(join(FIXTURES, 'tinyllama', 'bin')), sink: new FolderSink(join(temp, 'small-out')), dtype: 'fp32', tokenizerFrom, sourceLabel: 'x' });
    const data = (out: string) => readFileSync(join(temp, out, 'onnx', 'model.onnx_data'));
    expect(Buffer.compare(data('big-out'), data('small-out'))).toBe(0);
  });

  it('refuses a legacy (non-zip) checkpoint with advice', async () => {
    const path = join(temp, 'legacy.bin');
    writeFileSync(path, Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8]));
    const error = await caught(readTorchCheckpointIndex(new FileByteSource(path, 'legacy.bin')));
    expect(error.message).toMatch(/not a zip archive.*torch < 1\.6/);
  });
});

describe('the safe unpickler', () => {
  it.each([
    ['os-system', /imports os\.system/],
    ['builtins-eval', /imports builtins\.eval/],
    ['inst-opcode', /uses the opcode INST/],
    ['torch-load', /imports torch\.load/],
  ])('refuses the %s checkpoint before running anything', async (name, message) => {
    const error = await caught(convertCheckpoint({ files: localFolderFiles(join(FIXTURES, 'malicious', name)), sink: new FolderSink(join(temp, `out-${name}`)), dtype: 'fp32' }));
    expect(error.code).toBe('unsafe-pickle');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/pytorch_model\.bin was refused/);
  });

  const pickle = (...parts: Array<string | number[]>) =>
    Uint8Array.from(parts.flatMap((part) => (typeof part === 'string' ? [...Buffer.from(part, 'latin1')] : part)));

  it('refuses other ways of reaching code: STACK_GLOBAL, OrderedDict with arguments, BUILD on an object, unknown opcodes', () => {
    // STACK_GLOBAL('posix', 'system')
    expect(() => readStateDictPickle(pickle([0x80, 4, 0x8c, 5], 'posix', [0x8c, 6], 'system', [0x93, 0x2e]), 'a.bin')).toThrow(/imports posix\.system/);
    // collections.OrderedDict(*(['x'],)) — an allowed import called with arguments
    expect(() => readStateDictPickle(pickle([0x80, 2], 'ccollections\nOrderedDict\n', [0x5d, 0x85, 0x52, 0x2e]), 'a.bin')).toThrow(/builds an OrderedDict from arguments/);
    // BUILD on something that is not a dict
    expect(() => readStateDictPickle(pickle([0x80, 2, 0x5d, 0x7d, 0x62, 0x2e]), 'a.bin')).toThrow(/sets the state of an object/);
    expect(() => readStateDictPickle(pickle([0x80, 2, 0xfe]), 'a.bin')).toThrow(/uses the opcode 0xfe/);
    expect(() => readStateDictPickle(pickle([0x80, 2, 0x81]), 'a.bin')).toThrow(/uses the opcode NEWOBJ/);
  });

  it('reads a plain dict of tensors and reports damage as bad input', () => {
    const ok = readStateDictPickle(
      pickle(
        [0x80, 2, 0x7d, 0x58, 1, 0, 0, 0], 'w',
        'ctorch._utils\n_rebuild_tensor_v2\n',
        [0x28, 0x28, 0x58, 7, 0, 0, 0], 'storage', 'ctorch\nHalfStorage\n', [0x58, 1, 0, 0, 0], '0', [0x58, 3, 0, 0, 0], 'cpu', [0x4b, 6, 0x74, 0x51],
        [0x4b, 0, 0x4b, 2, 0x4b, 3, 0x86, 0x4b, 3, 0x4b, 1, 0x86, 0x89, 0x7d, 0x74, 0x52, 0x73, 0x2e],
      ),
      'a.bin',
    );
    expect(ok.get('w')).toMatchObject({ shape: [2, 3], strides: [3, 1], storageOffset: 0, storage: { key: '0', dtype: 'F16', numel: 6 } });
    expect(() => readStateDictPickle(pickle([0x80, 2, 0x7d, 0x58, 9, 0, 0, 0], 'w'), 'a.bin')).toThrow(/damaged/);
  });
});

describe('float conversions', () => {
  it('round-trips every float16 value exactly and rounds ties to even', () => {
    const halves = new Uint16Array(65536).map((_, i) => i);
    const floats = new Float32Array(65536);
    decodeFloats(new Uint8Array(halves.buffer), 'F16', 0, 65536, floats);
    for (let h = 0; h < 65536; h++) {
      if (Number.isNaN(floats[h])) continue;
      if (floatToHalf(floats[h]!) !== h) throw new Error(`half ${h.toString(16)} → ${floats[h]} → ${floatToHalf(floats[h]!).toString(16)}`);
    }
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and the next half: to even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalf(70000)).toBe(0x7c00); // overflow → inf
    expect(floatToHalf(2 ** -25)).toBe(0); // below half the smallest subnormal, tie to even 0
    expect(floatToHalf(3 * 2 ** -26)).toBe(1);
  });

  it('decodes bfloat16 as the high half of float32', () => {
    const raw = new Uint8Array(new Uint16Array([0x3f80, 0xc040, 0x3e80]).buffer);
    expect(Array.from(toFloat32(raw, 'BF16'))).toEqual([1, -3, 0.25]);
  });
});

describe('block quantization', () => {
  const weights = (n: number, k: number) => Float32Array.from({ length: n * k }, (_, i) => Math.sin(i * 12.9898) * 0.3 + (i % 7 === 0 ? 0.5 : 0));

  it.each([
    [4, 64],
    [4, 80],
    [8, 80],
  ] as const)('%i-bit codes of K=%i dequantize within half a step, padding included', (bits, k) => {
    const n = 5;
    const w = weights(n, k);
    const spec = { bits, block: 32 } as const;
    const q = quantizeRows(new Uint8Array(w.buffer), 'F32', n, k, spec, 'fp32');
    expect(q.codes.length).toBe(n * Math.ceil(k / 32) * ((32 * bits) / 8));
    const back = dequantizeRows(q, n, k, spec, 'fp32');
    const scales = new Float32Array(q.scales.buffer);
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < k; i++) {
        const scale = scales[r * q.blocksPerRow + Math.floor(i / 32)]!;
        expect(Math.abs(back[r * k + i]! - w[r * k + i]!)).toBeLessThanOrEqual(scale / 2 + 1e-7);
      }
    }
  });

  it('packs 4-bit codes low nibble first, as MatMulNBits reads them', () => {
    // One block of 32: 0 and then 15 steps: min 0, max 1.5 → scale 0.1, zero point 0.
    const row = Float32Array.from({ length: 32 }, (_, i) => (i === 1 ? 1.5 : i === 2 ? 0.1 : 0));
    const q = quantizeRows(new Uint8Array(row.buffer), 'F32', 1, 32, { bits: 4, block: 32 }, 'fp32');
    expect(q.codes[0]).toBe(0xf0); // element 0 → low nibble 0, element 1 → high nibble 15
    expect(q.codes[1]).toBe(0x01); // element 2 → low nibble 1
    expect(q.zeroPoints[0]).toBe(0);
    expect(new Float32Array(q.scales.buffer)[0]).toBeCloseTo(0.1, 7);
  });
});
