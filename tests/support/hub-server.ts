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
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.txt': 'text/plain; charset=utf-8',
};

export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const requests: RecordedRequest[] = [];
  const faults: HubServer['faults'] = { notFound: false, dieAfterBytes: null, stallMs: 0, bytesPerSecond: null };
  const pageHeaders: Record<string, string> = {};

  const serveFile = (req: IncomingMessage, res: ServerResponse, file: string, headers: Record<string, string>) => {
    const size = statSync(file).size;
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': String(size),
      'Cache-Control': 'no-cache',
      ...headers,
    });
    if (req.method === 'HEAD') return res.end();
    if (faults.dieAfterBytes !== null && extname(file) === '.onnx') {
      // A connection that breaks mid-download: send part of the file, then cut the socket.
      const limit = faults.dieAfterBytes;
      const stream = createReadStream(file, { start: 0, end: Math.max(0, Math.min(size, limit) - 1) });
      stream.on('end', () => res.socket?.destroy());
      stream.pipe(res, { end: false });
      return;
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
      return;
    }
    createReadStream(file).pipe(res);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push({ method: req.method ?? 'GET', url: url.pathname, at: Date.now() });
    const cors = {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': 'Content-Length, ETag, X-Repo-Commit, X-Linked-Size, X-Linked-Etag',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'Access-Control-Allow-Headers': '*', 'Access-Control-Allow-Methods': 'GET, HEAD' });
      return res.end();
    }
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
    close: listening.close,
  };
}
