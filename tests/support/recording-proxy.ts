import { createServer, request, type Server } from 'node:http';
import { listenOnLoopback } from './loopback';

/**
 * An HTTP proxy that records every request the browser makes — pages, the service worker, the
 * offscreen document alike — and forwards only to 127.0.0.1. Launch Chromium with
 * `--proxy-server=<url> --proxy-bypass-list=<-loopback>` to route loopback through it too.
 */
export interface RecordingProxy {
  url: string;
  /** Absolute URLs (http) or `CONNECT host:port` (https) seen, in order. */
  seen: string[];
  close(): Promise<void>;
}

export async function startRecordingProxy(): Promise<RecordingProxy> {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    const target = req.url ?? '';
    seen.push(target);
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      res.writeHead(400);
      return res.end();
    }
    if (url.hostname !== '127.0.0.1') {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      return res.end('blocked by the test proxy');
    }
    const upstream = request(
      { host: '127.0.0.1', port: url.port, path: url.pathname + url.search, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.on('connect', (req, socket) => {
    seen.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
  });
  const listening = await listenOnLoopback(server, 0);
  return {
    url: listening.url,
    seen,
    close: listening.close,
  };
}
