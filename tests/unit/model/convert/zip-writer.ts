// A small ZIP writer for the tests: stored entries, ZIP64 records either forced or when offsets
// pass 4 GB, and "sparse" entries whose bytes are a hole in the file (a 4.3 GB entry costs no
// disk), so the reader's ZIP64 paths run on real >4 GB offsets.
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';

export type ZipInput = { name: string; data: Uint8Array } | { name: string; sparseSize: number };

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

class Bytes {
  private parts: number[] = [];
  u16(v: number) {
    this.parts.push(v & 0xff, (v >>> 8) & 0xff);
    return this;
  }
  u32(v: number) {
    this.parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    return this;
  }
  u64(v: number) {
    this.u32(v % 0x100000000);
    return this.u32(Math.floor(v / 0x100000000));
  }
  raw(bytes: Uint8Array) {
    for (const b of bytes) this.parts.push(b);
    return this;
  }
  get(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export function writeZip(path: string, inputs: ZipInput[], options: { forceZip64?: boolean } = {}): void {
  const fd = openSync(path, 'w');
  let offset = 0;
  const write = (bytes: Uint8Array) => {
    writeSync(fd, bytes, 0, bytes.length, offset);
    offset += bytes.length;
  };
  const central: Bytes[] = [];
  const MAX32 = 0xffffffff;
  for (const input of inputs) {
    const name = new TextEncoder().encode(input.name);
    const size = 'data' in input ? input.data.length : input.sparseSize;
    const crc = 'data' in input ? crc32(input.data) : 0;
    const headerOffset = offset;
    const big = options.forceZip64 || size >= MAX32 || headerOffset >= MAX32;
    const localExtra = big ? new Bytes().u16(1).u16(16).u64(size).u64(size).get() : new Uint8Array(0);
    write(
      new Bytes()
        .u32(0x04034b50).u16(45).u16(0).u16(0).u16(0).u16(0).u32(crc)
        .u32(big ? MAX32 : size).u32(big ? MAX32 : size).u16(name.length).u16(localExtra.length)
        .raw(name).raw(localExtra).get(),
    );
    if ('data' in input) write(input.data);
    else offset += input.sparseSize; // a hole
    const extra = big ? new Bytes().u16(1).u16(24).u64(size).u64(size).u64(headerOffset).get() : new Uint8Array(0);
    central.push(
      new Bytes()
        .u32(0x02014b50).u16(45).u16(45).u16(0).u16(0).u16(0).u16(0).u32(crc)
        .u32(big ? MAX32 : size).u32(big ? MAX32 : size).u16(name.length).u16(extra.length).u16(0).u16(0).u16(0).u32(0)
        .u32(big ? MAX32 : headerOffset).raw(name).raw(extra),
    );
  }
  const directoryOffset = offset;
  for (const entry of central) write(entry.get());
  const directorySize = offset - directoryOffset;
  const zip64 = options.forceZip64 || directoryOffset >= MAX32;
  if (zip64) {
    const recordOffset = offset;
    write(
      new Bytes()
        .u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0)
        .u64(inputs.length).u64(inputs.length).u64(directorySize).u64(directoryOffset).get(),
    );
    write(new Bytes().u32(0x07064b50).u32(0).u64(recordOffset).u32(1).get());
  }
  write(
    new Bytes()
      .u32(0x06054b50).u16(0).u16(0)
      .u16(zip64 ? 0xffff : inputs.length).u16(zip64 ? 0xffff : inputs.length)
      .u32(zip64 ? MAX32 : directorySize).u32(zip64 ? MAX32 : directoryOffset).u16(0).get(),
  );
  ftruncateSync(fd, offset);
  closeSync(fd);
}
