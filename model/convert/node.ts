// Node-only parts of the converter: local files in, a folder out. Not imported by the browser.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ConversionError, throwIfAborted } from './errors';
import { storageError, type OutputSink, type SinkFile } from './sinks';
import type { ByteSource, CheckpointFiles, ReadOptions } from './sources';

/** A local file, read with positioned reads (no whole-file buffering). */
export class FileByteSource implements ByteSource {
  private handle: Promise<FileHandle> | null = null;
  private cachedSize: number | null = null;

  constructor(
    readonly path: string,
    readonly name: string,
  ) {}

  async size(): Promise<number> {
    this.cachedSize ??= (await stat(this.path)).size;
    return this.cachedSize;
  }

  async read(offset: number, length: number, options: ReadOptions = {}): Promise<Uint8Array> {
    throwIfAborted(options.signal);
    if (offset + length > (await this.size())) {
      throw new ConversionError('bad-input', `${this.name}: reading ${length} bytes at ${offset} runs past its end (${await this.size()} bytes).`);
    }
    this.handle ??= open(this.path, 'r');
    const handle = await this.handle;
    const out = new Uint8Array(length);
    const STEP = 64 * 1024 * 1024;
    for (let at = 0; at < length; ) {
      throwIfAborted(options.signal);
      const { bytesRead } = await handle.read(out, at, Math.min(STEP, length - at), offset + at);
      if (bytesRead === 0) throw new ConversionError('bad-input', `${this.name} ended early.`);
      at += bytesRead;
      options.onBytes?.(bytesRead);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.handle) await (await this.handle).close();
    this.handle = null;
  }
}

/** A model folder on disk (the files of a repository, e.g. a `git clone` of a hub repo). */
export function localFolderFiles(folder: string): CheckpointFiles {
  const root = resolve(folder);
  const pathOf = (path: string) => {
    const full = resolve(root, path);
    if (!full.startsWith(root + sep)) throw new ConversionError('bad-input', `${path} lies outside ${root}.`);
    return full;
  };
  return {
    description: `the folder ${root}`,
    async open(path) {
      const full = pathOf(path);
      if (!existsSync(full) || !statSync(full).isFile()) return null;
      return new FileByteSource(full, path);
    },
    async readText(path) {
      const full = pathOf(path);
      if (!existsSync(full) || !statSync(full).isFile()) return null;
      return readFile(full, 'utf8');
    },
  };
}

/**
 * Writes the converted model into `folder`. Files go to a hidden sibling folder first and are
 * moved into place by `commit`, so an interrupted conversion never leaves a half-written model
 * where `npm run align` would load it.
 */
export class FolderSink implements OutputSink {
  private readonly staging: string;
  private prepared = false;
  /** Files still open: closed on abort before the staging folder goes. */
  private readonly handles = new Set<FileHandle>();

  constructor(
    readonly folder: string,
    private readonly options: { overwrite?: boolean } = {},
  ) {
    const target = resolve(folder);
    this.staging = join(dirname(target), `.${basename(target)}.converting-${process.pid}-${Date.now()}`);
    if (existsSync(target) && !options.overwrite) {
      const entries = statSync(target).isDirectory() ? readdirSync(target) : ['(a file)'];
      if (entries.length > 0) {
        throw new ConversionError('bad-input', `The output ${target} already exists and is not empty; choose another folder or overwrite it.`);
      }
    }
  }

  async openFile(path: string): Promise<SinkFile> {
    if (!this.prepared) {
      await mkdir(this.staging, { recursive: true });
      this.prepared = true;
    }
    const full = resolve(this.staging, path);
    if (!full.startsWith(this.staging + sep)) throw new ConversionError('bad-input', `${path} lies outside the output folder.`);
    await mkdir(dirname(full), { recursive: true });
    const handle = await open(full, 'w');
    this.handles.add(handle);
    const handles = this.handles;
    return {
      async write(bytes) {
        let at = 0;
        while (at < bytes.length) {
          const { bytesWritten } = await handle.write(bytes, at, bytes.length - at);
          at += bytesWritten;
        }
      },
      close: async () => {
        handles.delete(handle);
        await handle.close();
      },
    };
  }

  async commit(): Promise<void> {
    const target = resolve(this.folder);
    try {
      if (existsSync(target)) await rm(target, { recursive: true, force: true });
      await mkdir(dirname(target), { recursive: true });
      await rename(this.staging, target);
    } catch (error) {
      throw storageError(error, target);
    }
  }

  async abort(): Promise<void> {
    await Promise.allSettled([...this.handles].map((handle) => handle.close()));
    this.handles.clear();
    await rm(this.staging, { recursive: true, force: true });
  }
}

/** Lists a folder's files recursively (relative paths, sorted), for reports and tests. */
export async function listFiles(folder: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(folder, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(folder, relative)));
    else out.push(relative);
  }
  return out.sort();
}
