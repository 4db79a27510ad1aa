import { ConversionError } from './errors';
import { u16, u32, u64, type ByteSource, type ReadOptions } from './sources';

/**
 * A minimal ZIP reader for PyTorch checkpoints (`torch.save` writes an uncompressed zip), with
 * ZIP64: a 4.4 GB `pytorch_model.bin` keeps its sizes and offsets in ZIP64 records. Reads the
 * central directory from the end of the file, then each entry's bytes on demand.
 */
export interface ZipEntry {
  name: string;
  /** Offset of the entry's local header. */
  headerOffset: number;
  size: number;
  /** Bytes [start, start + length) of the entry's (stored, uncompressed) data. */
  read(start: number, length: number, options?: ReadOptions): Promise<Uint8Array>;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;

export async function readZipDirectory(source: ByteSource, signal?: AbortSignal): Promise<Map<string, ZipEntry>> {
  const size = await source.size();
  const notZip = (why: string) => new ConversionError('bad-input', `${source.name} is not a readable zip archive (${why}).`);
  if (size < 22) throw notZip('too short');

  // The end-of-central-directory record: 22 bytes plus a comment of up to 64 KB, at the very end.
  const tailLength = Math.min(size, 22 + MAX_COMMENT + 20);
  const tailStart = size - tailLength;
  const tail = await source.read(tailStart, tailLength, { signal });
  let eocd = -1;
  for (let at = tail.length - 22; at >= 0; at--) {
    if (u32(tail, at) === EOCD && at + 22 + u16(tail, at + 20) === tail.length) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw notZip('no end-of-central-directory record');

  let entryCount = u16(tail, eocd + 10);
  let directorySize = u32(tail, eocd + 12);
  let directoryOffset = u32(tail, eocd + 16);

  const locatorAt = eocd - 20;
  if (locatorAt >= 0 && u32(tail, locatorAt) === ZIP64_LOCATOR) {
    const recordOffset = u64(tail, locatorAt + 8);
    const record = await source.read(recordOffset, 56, { signal });
    if (u32(record, 0) !== ZIP64_EOCD) throw notZip('the ZIP64 locator points at no ZIP64 record');
    entryCount = u64(record, 32);
    directorySize = u64(record, 40);
    directoryOffset = u64(record, 48);
  } else if (entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    throw notZip('ZIP64 fields without a ZIP64 record');
  }
  if (directoryOffset + directorySize > size) throw notZip('the central directory lies past the end of the file');

  const directory = await source.read(directoryOffset, directorySize, { signal });
  const entries = new Map<string, ZipEntry>();
  let at = 0;
  for (let i = 0; i < entryCount; i++) {
    if (at + 46 > directory.length || u32(directory, at) !== CENTRAL) throw notZip(`central directory entry ${i} is damaged`);
    const method = u16(directory, at + 10);
    let compressedSize = u32(directory, at + 20);
    let uncompressedSize = u32(directory, at + 24);
    const nameLength = u16(directory, at + 28);
    const extraLength = u16(directory, at + 30);
    const commentLength = u16(directory, at + 32);
    let headerOffset = u32(directory, at + 42);
    const name = new TextDecoder().decode(directory.subarray(at + 46, at + 46 + nameLength));

    // ZIP64 extended information (header id 1): only the fields saturated above are present.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = u16(directory, extra);
      const length = u16(directory, extra + 2);
      if (id === 0x0001) {
        let field = extra + 4;
        if (uncompressedSize === 0xffffffff) (uncompressedSize = u64(directory, field)), (field += 8);
        if (compressedSize === 0xffffffff) (compressedSize = u64(directory, field)), (field += 8);
        if (headerOffset === 0xffffffff) headerOffset = u64(directory, field);
      }
      extra += 4 + length;
    }
    if (method !== 0) {
      throw new ConversionError('bad-input', `${source.name}: entry ${name} is compressed (method ${method}); PyTorch checkpoints store entries uncompressed.`);
    }
    if (compressedSize !== uncompressedSize) throw notZip(`entry ${name} has inconsistent sizes`);
    entries.set(name, makeEntry(source, name, headerOffset, uncompressedSize, size));
    at = extraEnd + commentLength;
  }
  return entries;
}

function makeEntry(source: ByteSource, name: string, headerOffset: number, size: number, fileSize: number): ZipEntry {
  let dataOffset: number | null = null;
  const locate = async (options?: ReadOptions) => {
    if (dataOffset !== null) return dataOffset;
    // The local header repeats the name and has its own extra field (torch pads it to align data).
    const header = await source.read(headerOffset, 30, { signal: options?.signal });
    if (u32(header, 0) !== LOCAL) throw new ConversionError('bad-input', `${source.name}: the local header of ${name} is damaged.`);
    dataOffset = headerOffset + 30 + u16(header, 26) + u16(header, 28);
    if (dataOffset + size > fileSize) throw new ConversionError('bad-input', `${source.name}: entry ${name} runs past the end of the file.`);
    return dataOffset;
  };
  return {
    name,
    headerOffset,
    size,
    async read(start, length, options) {
      if (start < 0 || start + length > size) {
        throw new ConversionError('bad-input', `${source.name}: reading ${length} bytes at ${start} of entry ${name} (${size} bytes) runs past its end.`);
      }
      const base = await locate(options);
      return source.read(base + start, length, options);
    },
  };
}
