import { ConversionError } from './errors';

/**
 * Where a converted model goes. Files are written front to back (the weights stream through
 * one tensor at a time); `commit` makes the whole folder visible at once, `abort` removes what
 * was written. Implementations: a Node folder (node.ts) and Cache Storage entries (below).
 */
export interface OutputSink {
  /** Starts a file (`onnx/model_q4.onnx_data`); its bytes arrive in order. */
  openFile(path: string): Promise<SinkFile>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface SinkFile {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export async function writeWholeFile(sink: OutputSink, path: string, data: Uint8Array | string): Promise<void> {
  const file = await sink.openFile(path);
  await file.write(typeof data === 'string' ? new TextEncoder().encode(data) : data);
  await file.close();
}

/** The storage-full errors browsers and Node raise, as one message. */
export function storageError(error: unknown, where: string): ConversionError {
  if (error instanceof ConversionError) return error;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  const full = name === 'QuotaExceededError' || /ENOSPC|quota/i.test(message);
  return new ConversionError(
    'storage',
    full ? `There is no room left in ${where} for the converted model. Free some space and convert again.` : `Could not write the converted model to ${where}: ${message}`,
  );
}

const SLICE = 4 * 1024 * 1024;
const CONTENT_TYPES: Record<string, string> = { '.json': 'application/json', '.onnx': 'application/octet-stream' };

/**
 * Stores the converted folder in the browser's Cache Storage under hub-style URLs
 * (`{host}{repo}/resolve/main/{file}`) in transformers.js's cache (`transformers-cache`), so
 * that `from_pretrained(repo)` with `env.remoteHost = host` then loads it with no request at
 * all. Each file is one streamed Response body (`cache.put` reads it as the converter writes,
 * with backpressure), so a multi-GB model never sits in memory. `config.json` is written last by
 * the converter: a model without it in the cache is incomplete. `abort` deletes every entry.
 */
export class CacheStorageSink implements OutputSink {
  private readonly written: string[] = [];
  private readonly pending = new Set<Promise<void>>();
  /** Files still being written: abort() must end their streams, or their puts never settle. */
  private readonly unfinished = new Set<WritableStreamDefaultWriter<Uint8Array>>();
  private cache: Cache | null = null;

  constructor(
    private readonly options: {
      /** The hub (or mirror) URL the model will be loaded from, e.g. https://huggingface.co/ */
      host: string;
      /** The repo id it will be loaded as, e.g. realign-converted/MetaAligner-UltraFeedback-1.1B */
      repo: string;
      revision?: string;
      cacheName?: string;
      caches?: CacheStorage;
    },
  ) {}

  /** The URL a file of the converted model is stored under. */
  urlOf(path: string): string {
    const host = this.options.host.endsWith('/') ? this.options.host : `${this.options.host}/`;
    return `${host}${this.options.repo}/resolve/${encodeURIComponent(this.options.revision ?? 'main')}/${path}`;
  }

  private async openCache(): Promise<Cache> {
    if (!this.cache) {
      const storage = this.options.caches ?? globalThis.caches;
      if (!storage) throw new ConversionError('storage', 'This context has no Cache Storage to keep the converted model in.');
      this.cache = await storage.open(this.options.cacheName ?? 'transformers-cache');
    }
    return this.cache;
  }

  async openFile(path: string): Promise<SinkFile> {
    const cache = await this.openCache();
    const url = this.urlOf(path);
    this.written.push(url);
    // Bounded by bytes, not chunks: at most ~32 MB waits between the converter and the cache.
    const queue = new ByteLengthQueuingStrategy({ highWaterMark: 16 * 1024 * 1024 });
    const stream = new TransformStream<Uint8Array, Uint8Array>(undefined, queue, queue);
    const writer = stream.writable.getWriter();
    this.unfinished.add(writer);
    const extension = path.slice(path.lastIndexOf('.'));
    let failure: unknown = null;
    const put = cache
      .put(url, new Response(stream.readable, { headers: { 'Content-Type': CONTENT_TYPES[extension] ?? 'application/octet-stream' } }))
      .catch((error: unknown) => {
        failure = error;
        void writer.abort(error).catch(() => {});
      });
    this.pending.add(put);
    const where = 'the browser storage';
    return {
      async write(bytes) {
        if (failure) throw storageError(failure, where);
        try {
          for (let at = 0; at < bytes.length; at += SLICE) {
            await writer.ready;
            await writer.write(bytes.subarray(at, at + SLICE));
          }
        } catch (error) {
          throw storageError(failure ?? error, where);
        }
      },
      close: async () => {
        this.unfinished.delete(writer);
        try {
          if (!failure) await writer.close();
        } catch (error) {
          throw storageError(failure ?? error, where);
        }
        await put;
        this.pending.delete(put);
        if (failure) throw storageError(failure, where);
      },
    };
  }

  async commit(): Promise<void> {
    await Promise.all(this.pending);
  }

  async abort(): Promise<void> {
    for (const writer of this.unfinished) void writer.abort(new Error('The conversion was stopped.')).catch(() => {});
    this.unfinished.clear();
    await Promise.allSettled(this.pending);
    const cache = await this.openCache();
    await Promise.all(this.written.map((url) => cache.delete(url).catch(() => false)));
  }
}
