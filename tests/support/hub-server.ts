import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { listenOnLoopback } from './loopback';

/**
 * A local stand-in for the Hugging Face hub: `/{owner}/{name}/resolve/{revision}/{file}` served
 * from folders on disk, with the hub's CORS headers. Tests and the demo point Realign's
 * "model host" setting at it, so the real download, progress and cache paths run offline.
 * Also serves static pages (the demo chat, site fixtures) from `pages`.
 */
export interface HubServerOptions {
  /** repo id → folder, e.g. { 'realign/tiny-aligner': 'tests/fixtures/models/tiny-aligner' } */
  repos: Record<string, string>;
  /** Folder of static pages served at `/pages/…`. */
  pages?: string;
  port?: number;
  /**
   * Like the real hub's Xet storage: `resolve` URLs of files at least this large answer with a
   * 302 to a second loopback origin (the "CDN"), whose signed-looking links can be expired with
   * `expireCdnLinks()`. Off (undefined) keeps every file served directly.
   */
  redirectFilesFrom?: number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  at: number;
}

export interface HubServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Fault injection for the next model file requests. */
  faults: { notFound: boolean; dieAfterBytes: number | null; stallMs: number; bytesPerSecond: number | null };
  /** Extra headers for page responses (e.g. a strict CSP). */
  pageHeaders: Record<string, string>;
  /** The CDN origin's URL and the requests it answered (with their Range headers). */
  cdn: { url: string; requests: Array<RecordedRequest & { range: string | null; status: number }> } | null;
  /** Makes every CDN link handed out so far answer 403, as an expired signed URL does. */
  expireCdnLinks(): void;
  close(): Promise<void>;
}

/** Parses a single `Range: bytes=…` header; null when absent, 'invalid' when unsatisfiable. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'invalid' | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.txt': 'text/plain; charset=utf-8',
};

export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const requests: RecordedRequest[] = [];
  const faults: HubServer['faults'] = { notFound: false, dieAfterBytes: null, stallMs: 0, bytesPerSecond: null };
  const pageHeaders: Record<string, string> = {};

  const serveFile = (req: IncomingMessage, res: ServerResponse, file: string, headers: Record<string, string>): number => {
    const size = statSync(file).size;
    const range = parseRange(req.headers.range, size);
    if (range === 'invalid') {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` });
      res.end();
      return 416;
    }
    if (range) {
      res.writeHead(206, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Content-Length': String(range.end - range.start + 1),
        'Content-Range': `bytes ${range.start}-${range.end}/${size}`,
        'Accept-Ranges': 'bytes',
        'Cache-Control': 'no-cache',
        ...headers,
      });
      if (req.method === 'HEAD') return void res.end(), 206;
      createReadStream(file, { start: range.start, end: range.end }).pipe(res);
      return 206;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': String(size),
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'no-cache',
      ...headers,
    });
    if (req.method === 'HEAD') return void res.end(), 200;
    if (faults.dieAfterBytes !== null && extname(file) === '.onnx') {
      // A connection that breaks mid-download: send part of the file, then cut the socket.
      const limit = faults.dieAfterBytes;
      const stream = createReadStream(file, { start: 0, end: Math.max(0, Math.min(size, limit) - 1) });
      stream.on('end', () => res.socket?.destroy());
      stream.pipe(res, { end: false });
      return 200;
    }
    if (faults.bytesPerSecond !== null && extname(file) === '.onnx') {
      // A slow connection: the file in 16 KB pieces, paced, so progress can be watched.
      const rate = faults.bytesPerSecond;
      const stream = createReadStream(file, { highWaterMark: 16 * 1024 });
      stream.on('data', (chunk) => {
        stream.pause();
        res.write(chunk);
        setTimeout(() => stream.resume(), (chunk.length / rate) * 1000);
      });
      stream.on('end', () => res.end());
      return 200;
    }
    createReadStream(file).pipe(res);
    return 200;
  };

  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Accept-Ranges, ETag, X-Repo-Commit, X-Linked-Size, X-Linked-Etag',
  };
  const preflight = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'OPTIONS') return false;
    res.writeHead(204, { ...cors, 'Access-Control-Allow-Headers': '*', 'Access-Control-Allow-Methods': 'GET, HEAD' });
    res.end();
    return true;
  };
  const repoFile = (repo: string, file: string): string | null => {
    const folder = options.repos[repo];
    if (!folder) return null;
    const target = resolve(folder, normalize(decodeURIComponent(file)));
    return target.startsWith(resolve(folder)) && existsSync(target) && statSync(target).isFile() ? target : null;
  };

  // The CDN: /{generation}/{repo}/{file}; links from an older generation have expired.
  let generation = 1;
  let cdn: { url: string; close(): Promise<void> } | null = null;
  const cdnRequests: NonNullable<HubServer['cdn']>['requests'] = [];
  if (options.redirectFilesFrom !== undefined) {
    const cdnServer = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const record = { method: req.method ?? 'GET', url: url.pathname, at: Date.now(), range: req.headers.range ?? null, status: 0 };
      cdnRequests.push(record);
      if (preflight(req, res)) return void (record.status = 204);
      const match = /^\/(\d+)\/([^/]+\/[^/]+)\/(.+)$/.exec(url.pathname);
      const target = match ? repoFile(match[2]!, match[3]!) : null;
      if (!match || !target) {
        res.writeHead((record.status = 404), cors);
        return res.end();
      }
      if (Number(match[1]) !== generation) {
        res.writeHead((record.status = 403), { ...cors, 'Content-Type': 'text/plain' });
        return res.end('Request has expired');
      }
      record.status = serveFile(req, res, target, cors);
    });
    cdn = await listenOnLoopback(cdnServer, 0);
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push({ method: req.method ?? 'GET', url: url.pathname, at: Date.now() });
    if (preflight(req, res)) return;
    const resolveMatch = /^\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(url.pathname);
    if (resolveMatch) {
      const [, repo, file] = resolveMatch as unknown as [string, string, string];
      const folder = options.repos[repo];
      const target = folder ? resolve(folder, normalize(decodeURIComponent(file))) : '';
      const respond = () => {
        if (faults.notFound || !folder || !target.startsWith(resolve(folder)) || !existsSync(target)) {
          res.writeHead(404, { ...cors, 'Content-Type': 'application/json' });
          return res.end(JSON.stringify({ error: 'Entry not found' }));
        }
        const size = statSync(target).size;
        if (cdn && options.redirectFilesFrom !== undefined && size >= options.redirectFilesFrom) {
          res.writeHead(302, { ...cors, Location: `${cdn.url}/${generation}/${repo}/${file}`, 'X-Linked-Size': String(size) });
          return res.end();
        }
        serveFile(req, res, target, cors);
      };
      if (faults.stallMs > 0) setTimeout(respond, faults.stallMs);
      else respond();
      return;
    }
    if (options.pages && url.pathname.startsWith('/pages/')) {
      const root = resolve(options.pages);
      const target = resolve(join(root, normalize(decodeURIComponent(url.pathname.slice('/pages/'.length)))));
      if (target.startsWith(root) && existsSync(target) && statSync(target).isFile()) {
        return serveFile(req, res, target, pageHeaders);
      }
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  });
  const listening = await listenOnLoopback(server, options.port ?? 0);
  return {
    url: listening.url,
    port: listening.port,
    requests,
    faults,
    pageHeaders,
    cdn: cdn ? { url: cdn.url, requests: cdnRequests } : null,
    expireCdnLinks: () => void (generation += 1),
    close: async () => {
      await listening.close();
      await cdn?.close();
    },
  };
}
