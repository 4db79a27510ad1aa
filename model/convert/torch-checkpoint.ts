import { ConversionError } from './errors';
import { readStateDictPickle, type TensorRef } from './pickle';
import type { ByteSource, ReadOptions } from './sources';
import { elementCount, SOURCE_BYTES, type TensorEntry } from './tensors';
import { readZipDirectory, type ZipEntry } from './zip';

/**
 * The tensors of a PyTorch zip checkpoint (`pytorch_model.bin`): the state dict's pickle
 * (`<archive>/data.pkl`, read by the safe unpickler) says where each tensor's elements are in
 * its storage entry (`<archive>/data/<key>`); each tensor is read from there when asked for.
 */
export async function readTorchCheckpointIndex(source: ByteSource, signal?: AbortSignal): Promise<TensorEntry[]> {
  const head = await source.read(0, Math.min(4, await source.size()), { signal });
  if (!(head[0] === 0x50 && head[1] === 0x4b)) {
    throw new ConversionError(
      'bad-input',
      `${source.name} is not a zip archive: checkpoints saved by torch < 1.6 (legacy tar/pickle format) are not supported. Re-save it with a newer torch, or use a safetensors version.`,
    );
  }
  const entries = await readZipDirectory(source, signal);
  const pickleName = [...entries.keys()].find((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (!pickleName) throw new ConversionError('bad-input', `${source.name} is a zip but not a PyTorch checkpoint (no data.pkl).`);
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  const pickleEntry = entries.get(pickleName)!;
  const tensors = readStateDictPickle(await pickleEntry.read(0, pickleEntry.size, { signal }), source.name);

  const result: TensorEntry[] = [];
  for (const [name, ref] of tensors) {
    const entry = entries.get(`${prefix}data/${ref.storage.key}`);
    if (!entry) throw new ConversionError('bad-input', `${source.name}: the storage of ${name} (data/${ref.storage.key}) is missing.`);
    const itemSize = SOURCE_BYTES[ref.storage.dtype];
    if (entry.size < ref.storage.numel * itemSize) {
      throw new ConversionError('bad-input', `${source.name}: the storage of ${name} is shorter than its ${ref.storage.numel} elements.`);
    }
    const count = elementCount(ref.shape);
    const span = storageSpan(ref);
    if (count > 0 && ref.storageOffset + span > ref.storage.numel) {
      throw new ConversionError('bad-input', `${source.name}: tensor ${name} reaches past the end of its storage.`);
    }
    result.push({
      name,
      dtype: ref.storage.dtype,
      shape: ref.shape,
      byteLength: count * itemSize,
      read: (options) => readTensor(entry, ref, itemSize, options),
    });
  }
  return result;
}

/** Elements from the first to the last one the tensor uses (its strides may skip some). */
function storageSpan(ref: TensorRef): number {
  return 1 + ref.shape.reduce((sum, size, i) => sum + (size - 1) * ref.strides[i]!, 0);
}

function isContiguous(ref: TensorRef): boolean {
  let expected = 1;
  for (let i = ref.shape.length - 1; i >= 0; i--) {
    if (ref.shape[i] !== 1 && ref.strides[i] !== expected) return false;
    expected *= ref.shape[i]!;
  }
  return true;
}

async function readTensor(entry: ZipEntry, ref: TensorRef, itemSize: number, options?: ReadOptions): Promise<Uint8Array> {
  const count = elementCount(ref.shape);
  if (count === 0) return new Uint8Array(0);
  if (isContiguous(ref)) return entry.read(ref.storageOffset * itemSize, count * itemSize, options);
  // A strided view (a transposed weight saved as is): read the span it covers, gather in order.
  const span = await entry.read(ref.storageOffset * itemSize, storageSpan(ref) * itemSize, options);
  const out = new Uint8Array(count * itemSize);
  const index = new Array<number>(ref.shape.length).fill(0);
  // The source element steps along with the index (no per-element dot product or view).
  let element = 0;
  for (let i = 0, to = 0; i < count; i++) {
    for (let byte = element * itemSize, end = byte + itemSize; byte < end; byte++) out[to++] = span[byte]!;
    for (let d = index.length - 1; d >= 0; d--) {
      element += ref.strides[d]!;
      if (++index[d]! < ref.shape[d]!) break;
      element -= ref.strides[d]! * ref.shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}
