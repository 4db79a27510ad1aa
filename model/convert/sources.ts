import { ConversionError, isAbortError, throwIfAborted } from './errors';

/**
 * Random access to the bytes of one file. Every reader in the converter goes through this, so a
 * checkpoint converts the same way from a local folder (Node) as from the hub over HTTP range
 * requests (Node or a browser page), one tensor at a time.
 */
export interface ByteSource {
  /** The file's name, for messages. */
  readonly name: string;
  size(): Promise<number>;
  /** Exactly `length` bytes from `offset`, in a fresh buffer (byteOffset 0, so typed views align). */
  read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array>;
  /** Releases what the source holds open (a file handle); reading again reopens it. */
  close?(): Promise<void>;
}

export interface ReadOptions {
  signal?: AbortSignal;
  /** Called as bytes arrive (a large tensor reports progress while it downloads). */
  onBytes?: (bytes: number) => void;
}

/** The files of one model repository (a local folder, a hub repo). */
export interface CheckpointFiles {
  /** "the folder /x" or "aligner/aligner-7b-v1.0 on https://huggingface.co/", for messages. */
  readonly description: string;
  /** The file, or null when the repository has no such file. */
  open(path: string, signal?: AbortSignal): Promise<ByteSource | null>;
  /** The whole file as text, or null when the repository has no such file. */
  readText(path: string, signal?: AbortSignal): Promise<string | null>;
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

const RETRIES = 3;
/** A server that ignores Range is tolerated for files this small (config files, tiny checkpoints). */
const NO_RANGE_LIMIT = 64 * 1024 * 1024;

/**
 * A file over HTTP, read with `Range` requests. The hub answers `resolve` URLs of large files
 * with a 302 to its CDN (Xet); fetch follows it, and later reads go straight to the CDN URL it
 * landed on, back to the `resolve` URL when that signed URL expires. Transient failures (network,
 * 5xx) are retried a few times; an AbortSignal stops everything.
 */
export class HttpByteSource implements ByteSource {
  private resolvedUrl: string | null = null;
  private knownSize: number | null = null;

  constructor(
    readonly url: string,
    readonly name: string,
    private readonly fetchImpl: FetchLike = (input, init) => fetch(input, init),
  ) {}

  /** Records what a probe already learnt (size, redirect target), saving a request. */
  remember(size: number | null, resolvedUrl: string | null): void {
    if (size !== null) this.knownSize = size;
    if (resolvedUrl && resolvedUrl !== this.url) this.resolvedUrl = resolvedUrl;
  }

  async size(): Promise<number> {
    if (this.knownSize === null) await this.read(0, 1);
    if (this.knownSize === null) {
      // No readable Content-Range (a CDN that does not expose it to this page): ask with HEAD.
      const response = await this.fetchImpl(this.resolvedUrl ?? this.url, { method: 'HEAD' });
      const length = Number(response.headers.get('Content-Length') ?? response.headers.get('X-Linked-Size') ?? NaN);
      if (!Number.isSafeInteger(length)) throw new ConversionError('network', `The server does not say how large ${this.name} is (no Content-Range or Content-Length).`);
      this.knownSize = length;
    }
    return this.knownSize;
  }

  async read(offset: number, length: number, options: ReadOptions = {}): Promise<Uint8Array> {
    if (length === 0) return new Uint8Array(0);
    let lastError: unknown;
    // Bytes already reported by failed attempts: a retry reports only what goes past them, so
    // progress never moves backwards and never counts a byte twice.
    let reported = 0;
    for (let attempt = 0; attempt <= RETRIES; attempt++) {
      throwIfAborted(options.signal);
      let delivered = 0;
      try {
        return await this.readOnce(offset, length, {
          ...options,
          onBytes: (bytes) => {
            delivered += bytes;
            if (delivered > reported) {
              options.onBytes?.(delivered - reported);
              reported = delivered;
            }
          },
        });
      } catch (error) {
        if (isAbortError(error)) throw new ConversionError('aborted', 'The conversion was cancelled.');
        if (error instanceof ConversionError && error.code !== 'network') throw error;
        lastError = error;
        if (attempt < RETRIES) await sleep(250 * 2 ** attempt, options.signal);
      }
    }
    throw lastError instanceof ConversionError
      ? lastError
      : new ConversionError('network', `Could not download ${this.name}: ${describe(lastError)}.`);
  }

  private async readOnce(offset: number, length: number, options: ReadOptions): Promise<Uint8Array> {
    const range = `bytes=${offset}-${offset + length - 1}`;
    let response = await this.fetchImpl(this.resolvedUrl ?? this.url, { headers: { Range: range }, signal: options.signal });
    if (this.resolvedUrl && [401, 403, 404, 410].includes(response.status)) {
      // The CDN's signed URL expired: resolve again through the hub.
      await response.body?.cancel();
      this.resolvedUrl = null;
      response = await this.fetchImpl(this.url, { headers: { Range: range }, signal: options.signal });
    }
    if (response.status === 404) {
      await response.body?.cancel();
      throw new ConversionError('missing-file', `${this.name} is not there (HTTP 404 from ${this.url}).`);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw accessDenied(this.url, response.status);
    }
    if (response.status >= 500 || response.status === 429) {
      await response.body?.cancel();
      throw new ConversionError('network', `${this.name}: the server answered HTTP ${response.status}.`);
    }
    if (response.status !== 206 && response.status !== 200) {
      await response.body?.cancel();
      throw new ConversionError('network', `${this.name}: the server answered HTTP ${response.status} to a range request.`);
    }
    if (response.redirected && response.url) this.resolvedUrl = response.url;

    if (response.status === 206) {
      const contentRange = response.headers.get('Content-Range');
      const match = contentRange ? /bytes (\d+)-(\d+)\/(\d+|\*)/.exec(contentRange) : null;
      if (match) {
        if (Number(match[1]) !== offset) {
          await response.body?.cancel();
          throw new ConversionError('network', `${this.name}: the server sent bytes from ${match[1]} when asked for ${offset}.`);
        }
        if (match[3] !== '*') this.knownSize = Number(match[3]);
      }
      return readBody(response, length, this.name, options);
    }
    // 200: the whole file, Range ignored. Fine for small files; a multi-GB body is refused.
    const total = Number(response.headers.get('Content-Length') ?? NaN);
    if (!(total <= NO_RANGE_LIMIT)) {
      await response.body?.cancel();
      throw new ConversionError('network', `${this.name}: the server does not support range requests, which streaming conversion needs.`);
    }
    const whole = await readBody(response, total, this.name, {});
    this.knownSize = whole.length;
    if (offset + length > whole.length) {
      throw new ConversionError('bad-input', `${this.name} is ${whole.length} bytes; reading ${length} bytes at ${offset} runs past its end.`);
    }
    options.onBytes?.(length);
    return whole.slice(offset, offset + length);
  }
}

/** Reads a response body into one preallocated buffer, reporting progress as it goes. */
async function readBody(response: Response, length: number, name: string, options: ReadOptions): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  if (!response.body) throw new ConversionError('network', `${name}: the response has no body.`);
  const reader = response.body.getReader();
  let at = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (at + value.length > length) {
        throw new ConversionError('network', `${name}: the server sent more bytes than asked for (${at + value.length} > ${length}).`);
      }
      out.set(value, at);
      at += value.length;
      if (value.length > 0) options.onBytes?.(value.length);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  }
  if (at !== length) throw new ConversionError('network', `${name}: the download ended after ${at} of ${length} bytes.`);
  return out;
}

export interface HubRepoOptions {
  /** The hub or a mirror with its URL layout, e.g. https://huggingface.co/ */
  host: string;
  /** owner/name */
  repo: string;
  revision?: string;
  fetch?: FetchLike;
}

/** A repository on the hub (or a mirror): `{host}{repo}/resolve/{revision}/{path}`. */
export function hubRepoFiles(options: HubRepoOptions): CheckpointFiles {
  const host = options.host.endsWith('/') ? options.host : `${options.host}/`;
  const revision = options.revision ?? 'main';
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const urlOf = (path: string) =>
    `${host}${options.repo}/resolve/${encodeURIComponent(revision)}/${path.split('/').map(encodeURIComponent).join('/')}`;
  const description = `${options.repo} on ${host}`;
  return {
    description,
    async open(path, signal) {
      const source = new HttpByteSource(urlOf(path), path, fetchImpl);
      try {
        // One small read tells whether the file exists, its size and where the redirect lands.
        await source.read(0, 1, { signal });
      } catch (error) {
        if (error instanceof ConversionError && error.code === 'missing-file') return null;
        if (error instanceof ConversionError && error.code === 'bad-input') {
          // An empty file: the one-byte read ran past its end.
          source.remember(0, null);
          return source;
        }
        throw error;
      }
      return source;
    },
    async readText(path, signal) {
      let response: Response;
      try {
        response = await fetchImpl(urlOf(path), { signal });
      } catch (error) {
        if (isAbortError(error)) throw new ConversionError('aborted', 'The conversion was cancelled.');
        throw new ConversionError('network', `Could not reach ${description} for ${path}: ${describe(error)}.`);
      }
      if (response.status === 404) {
        await response.body?.cancel();
        return null;
      }
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        throw accessDenied(urlOf(path), response.status);
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new ConversionError('network', `${description}: HTTP ${response.status} for ${path}.`);
      }
      return response.text();
    },
  };
}

/**
 * The hub refused: a private or nonexistent repo, or a gated one whose terms were not accepted
 * (it answers 401 for all of these). Asking again changes nothing, so this is never retried.
 */
function accessDenied(url: string, status: number): ConversionError {
  return new ConversionError('access-denied', `${url} refused access (HTTP ${status}): the repo is private, gated (accept its terms on the hub first) or does not exist.`);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ConversionError('aborted', 'The conversion was cancelled.'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

/** Little-endian readers over a byte array (offsets above 2^32 stay exact up to 2^53). */
export function u16(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8);
}
export function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) + bytes[at + 3]! * 0x1000000;
}
export function u64(bytes: Uint8Array, at: number): number {
  const value = u32(bytes, at) + u32(bytes, at + 4) * 0x100000000;
  if (!Number.isSafeInteger(value)) throw new ConversionError('bad-input', 'A 64-bit size or offset is beyond 2^53.');
  return value;
}
