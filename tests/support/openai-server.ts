import { createServer, type Server } from 'node:http';
import type { AlignerEngine } from '../../model/engine';
import { listenOnLoopback } from './loopback';

/**
 * A small OpenAI-compatible server for tests and benchmarks: /v1/models and streaming
 * /v1/completions, backed by a real engine (the tiny Aligner through the Node engine), so the
 * remote path runs for real on 127.0.0.1. Greedy only; honours max_tokens and stop.
 */
export interface OpenAiServer {
  url: string;
  /** Bodies of the completion requests received. */
  requests: Array<Record<string, unknown>>;
  /** When each completion request arrived and when its first token was written (ms, performance.now). */
  timings: Array<{ received: number; firstToken?: number }>;
  faults: { dieAfterEvents: number | null };
  close(): Promise<void>;
}

export async function startOpenAiServer(options: { engine: AlignerEngine; model: string; apiKey?: string; port?: number }): Promise<OpenAiServer> {
  const requests: OpenAiServer['requests'] = [];
  const timings: OpenAiServer['timings'] = [];
  const faults: OpenAiServer['faults'] = { dieAfterEvents: null };
  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type',
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  };
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { ...cors, 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  // One generation at a time, like a single-GPU server's batch of one.
  let chain: Promise<unknown> = Promise.resolve();

  const server: Server = createServer((req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return res.end();
    }
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return json(res, 401, { error: { message: 'Invalid API key', type: 'invalid_request_error' } });
    }
    if (req.method === 'GET' && req.url === '/v1/models') {
      return json(res, 200, { object: 'list', data: [{ id: options.model, object: 'model' }] });
    }
    if (req.method !== 'POST' || req.url !== '/v1/completions') return json(res, 404, { error: { message: 'Not found' } });
    const received = performance.now();
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      let body: { model?: string; prompt?: string; max_tokens?: number; stop?: string[]; stream?: boolean };
      try {
        body = JSON.parse(raw);
      } catch {
        return json(res, 400, { error: { message: 'malformed JSON' } });
      }
      requests.push(body as Record<string, unknown>);
      if (body.model !== options.model) return json(res, 404, { error: { message: `The model \`${body.model}\` does not exist.` } });
      if (typeof body.prompt !== 'string') return json(res, 400, { error: { message: 'prompt must be a string' } });
      const timing: OpenAiServer['timings'][number] = { received };
      timings.push(timing);
      res.writeHead(200, { ...cors, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      const controller = new AbortController();
      res.on('close', () => controller.abort());
      let sent = '';
      let events = 0;
      const send = (text: string) => {
        if (faults.dieAfterEvents !== null && events >= faults.dieAfterEvents) {
          res.socket?.destroy();
          controller.abort();
          return;
        }
        events += 1;
        timing.firstToken ??= performance.now();
        res.write(`data: ${JSON.stringify({ object: 'text_completion', model: options.model, choices: [{ index: 0, text, finish_reason: null }] })}\n\n`);
      };
      const prompt = body.prompt;
      const run = chain.then(() =>
        options.engine.generate(
          { kind: 'text', text: prompt },
          {
            maxNewTokens: body.max_tokens ?? 256,
            stop: body.stop,
            signal: controller.signal,
            onText: (soFar) => {
              const cut = cutAtStop(soFar, body.stop ?? []);
              if (cut.length > sent.length) {
                send(cut.slice(sent.length));
                sent = cut;
              }
            },
          },
        ),
      );
      chain = run
        .then((result) => {
          const final = cutAtStop(result.text, body.stop ?? []);
          if (final.length > sent.length) send(final.slice(sent.length));
          res.write('data: [DONE]\n\n');
          res.end();
        })
        .catch(() => res.end());
    });
  });
  const listening = await listenOnLoopback(server, options.port ?? 0);
  return {
    url: listening.url,
    requests,
    timings,
    faults,
    close: listening.close,
  };
}

function cutAtStop(text: string, stop: string[]): string {
  let end = text.length;
  for (const marker of stop) {
    const at = text.indexOf(marker);
    if (at !== -1 && at < end) end = at;
  }
  return text.slice(0, end);
}
