// The committed converter fixtures (tests/fixtures/converter/, built by
// scripts/converter-fixtures/build.py) and conversions of them into a temporary folder.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCheckpoint, DTYPES, type TargetDtype } from '../../../../model/convert/index';
import { FolderSink, localFolderFiles } from '../../../../model/convert/node';
import type { Reference } from './harness';

export const FIXTURES = 'tests/fixtures/converter';
export const ARCHITECTURES = ['llama', 'tinyllama', 'mistral', 'qwen2', 'qwen2-tied-blocks'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export function reference(arch: Architecture): Reference & { formats: Record<string, string> } {
  return JSON.parse(readFileSync(join(FIXTURES, arch, 'reference.json'), 'utf8'));
}

export function float32File(path: string): Float32Array {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export function referenceLogits(arch: Architecture, which: 'fp32' | 'q4' | 'q8' | 'batch'): Float32Array {
  return float32File(join(FIXTURES, arch, `logits-${which}.bin`));
}

export function formatsOf(arch: Architecture): string[] {
  return Object.keys(reference(arch).formats);
}

/** The reference a dtype is held to: q4/q8 against the same dequantized weights, else fp32. */
export function referenceFor(dtype: TargetDtype): 'fp32' | 'q4' | 'q8' {
  return dtype === 'q4' || dtype === 'q4f16' ? 'q4' : dtype === 'q8' ? 'q8' : 'fp32';
}

export function tokenizerFallback(arch: Architecture, format: string) {
  return arch === 'tinyllama' && format === 'bin' ? localFolderFiles(join(FIXTURES, arch, 'tokenizer-base')) : undefined;
}

/** Converts fixtures into one temporary folder per test file; remove it with cleanup(). */
export function conversionCache() {
  const root = mkdtempSync(join(tmpdir(), 'realign-convert-'));
  const done = new Map<string, string>();
  return {
    root,
    async convert(arch: Architecture, format: string, dtype: TargetDtype): Promise<{ folder: string; modelPath: string }> {
      const key = `${arch}-${format}-${dtype}`;
      let folder = done.get(key);
      if (!folder) {
        folder = join(root, key);
        await convertCheckpoint({
          files: localFolderFiles(join(FIXTURES, arch, format)),
          sink: new FolderSink(folder),
          dtype,
          tokenizerFrom: tokenizerFallback(arch, format),
          sourceLabel: `fixture/${arch}`,
        });
        done.set(key, folder);
      }
      return { folder, modelPath: join(folder, 'onnx', `model${DTYPES[dtype].suffix}.onnx`) };
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
