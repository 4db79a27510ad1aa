import { ConversionError } from './errors';
import type { ByteSource } from './sources';
import { u32 } from './sources';
import { elementCount, SOURCE_BYTES, type SourceDtype, type TensorEntry } from './tensors';

/** A safetensors header is JSON; anything this large is not a checkpoint header. */
const MAX_HEADER = 100 * 1024 * 1024;

/**
 * The tensors of one `.safetensors` file: an 8-byte little-endian header length, a JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] } }`, then the data. Reads only the
 * header; each tensor is read when asked for.
 */
export async function readSafetensorsIndex(source: ByteSource, signal?: AbortSignal): Promise<TensorEntry[]> {
  const fileSize = await source.size();
  if (fileSize < 8) throw new ConversionError('bad-input', `${source.name} is too short to be a safetensors file.`);
  const prefix = await source.read(0, 8, { signal });
  const headerLength = u32(prefix, 4) === 0 ? u32(prefix, 0) : Infinity;
  if (headerLength > MAX_HEADER || 8 + headerLength > fileSize) {
    throw new ConversionError('bad-input', `${source.name} is not a safetensors file (header length ${headerLength}).`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(await source.read(8, headerLength, { signal })));
  } catch {
    throw new ConversionError('bad-input', `${source.name}: the safetensors header is not valid JSON.`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) {
    throw new ConversionError('bad-input', `${source.name}: the safetensors header is not an object.`);
  }
  const dataStart = 8 + headerLength;
  const entries: TensorEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info?.dtype as SourceDtype;
    const shape = info?.shape;
    const offsets = info?.data_offsets;
    if (
      !(typeof dtype === 'string' && dtype in SOURCE_BYTES) ||
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((d) => Number.isSafeInteger(d) && d >= 0)
    ) {
      throw new ConversionError('bad-input', `${source.name}: tensor ${name} has an invalid header entry (${JSON.stringify(value)}).`);
    }
    const [begin, end] = offsets as [number, number];
    const byteLength = elementCount(shape as number[]) * SOURCE_BYTES[dtype];
    if (end - begin !== byteLength || dataStart + end > fileSize) {
      throw new ConversionError(
        'bad-input',
        `${source.name}: tensor ${name} (${dtype} ${JSON.stringify(shape)}) claims bytes ${begin}–${end}, which do not fit its shape or the file (${fileSize} bytes).`,
      );
    }
    entries.push({
      name,
      dtype,
      shape: shape as number[],
      byteLength,
      read: (options) => source.read(dataStart + begin, byteLength, options),
    });
  }
  return entries;
}
