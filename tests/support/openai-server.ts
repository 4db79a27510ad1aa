import { createServer, type Server } from 'node:http';
import type { AlignerEngine } from '../../model/engine';
import { listenOnLoopback } from './loopback';

/**
 * A small OpenAI-compatible server for tests and benchmarks: /v1/models and streaming
 * /v1/completions, backed by a real engine (the tiny Aligner through the Node engine), so the
 * remote path runs for real on 127.0.0.1. Greedy only; honours max_tokens and stop.
 *
 * By default it generates one request at a time, like a single-GPU server with a batch of one.
 * With `concurrent: true` it serves every request at once after a per-request delay, as vLLM
 * and llama.cpp do when they batch concurrent requests: a request's time barely depends on how
 * many others are in flight, so a client that sends one request at a time leaves it idle.
 */
export interface OpenAiServer {
  url: string;
  /** Bodies of the completion requests received. */
  requests: Array<Record<string, unknown>>;
  /** When each completion request arrived and when its first token was written (ms, performance.now). */
  timings: Array<{ received: number; firstToken?: number }>;
  faults: ServerFaults;
  /** Completion requests accepted and not finished (queued ones too, one at a time by default), and the most at once. */
  load: { inFlight: number; maxInFlight: number };
  /** Prompts of the completions finished, in the order they finished. */
  finished: string[];
  close(): Promise<void>;
}

export interface ServerFaults {
  /** Cut the connection after this many text events of every response. */
  dieAfterEvents: number | null;
  /** Answers for the next completion requests, in turn, instead of generating (e.g. a 429 with Retry-After). */
  failNext: Array<{ status: number; retryAfter?: string; message?: string }>;
  /** Refuse (400, as vLLM does for a prompt too long) every prompt that contains this text. */
  rejectPromptsContaining: string | null;
  /** Close the connection of the next N completion requests without an answer. */
  dropNext: number;
  /** Stream this text as every completion instead of generating ('' for an empty answer). */
  replaceAnswer: string | null;
}

export interface OpenAiServerOptions {
  engine: AlignerEngine;
  model: string;
  apiKey?: string;
  port?: number;
  /** Serve requests at once instead of one after another (see above). */
  concurrent?: boolean;
  /** Time each request waits before its first token (queueing and prefill on a real server), in ms. */
  delayMs?: number | ((prompt: string) => number);
  /**
   * Answer a prompt seen before (same max_tokens and stop) by replaying the pieces streamed the
   * first time, without running the model again: greedy decoding gives the same text. The
   * server's time per request is then the delay alone, as on a GPU server where a batch of 16
   * costs about what one request does, instead of the tiny model's CPU time on this machine.
   */
  replayAnswers?: boolean;
}

export async function startOpenAiServer(options: OpenAiServerOptions): Promise<OpenAiServer> {
  const requests: OpenAiServer['requests'] = [];
  const timings: OpenAiServer['timings'] = [];
  const faults: ServerFaults = { dieAfterEvents: null, failNext: [], rejectPromptsContaining: null, dropNext: 0, replaceAnswer: null };
  const load = { inFlight: 0, maxInFlight: 0 };
  const finished: string[] = [];
  const replays = new Map<string, string[]>();
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
      if (faults.dropNext > 0) {
        faults.dropNext -= 1;
        return void res.socket?.destroy();
      }
      const failure = faults.failNext.shift();
      if (failure) {
        res.writeHead(failure.status, { ...cors, 'Content-Type': 'application/json', ...(failure.retryAfter !== undefined ? { 'Retry-After': failure.retryAfter } : {}) });
        return void res.end(JSON.stringify({ error: { message: failure.message ?? `status ${failure.status}` } }));
      }
      if (faults.rejectPromptsContaining !== null && body.prompt.includes(faults.rejectPromptsContaining)) {
        return json(res, 400, { error: { message: "This model's maximum context length is 2048 tokens. However, you requested more tokens.", type: 'BadRequestError' } });
      }
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
      const delayMs = typeof options.delayMs === 'function' ? options.delayMs(prompt) : (options.delayMs ?? 0);
      load.inFlight += 1;
      load.maxInFlight = Math.max(load.maxInFlight, load.inFlight);
      const replacement = faults.replaceAnswer;
      const replayKey = JSON.stringify([prompt, body.max_tokens, body.stop]);
      const replay = options.replayAnswers ? replays.get(replayKey) : undefined;
      const pieces: string[] = [];
      const generate = async () => {
        if (replacement !== null) return { text: replacement, tokens: 0 };
        if (replay) {
          for (const piece of replay) {
            send(piece);
            sent += piece;
          }
          return { text: replay.join(''), tokens: replay.length };
        }
        const result = await options.engine.generate(
          { kind: 'text', text: prompt },
          {
            maxNewTokens: body.max_tokens ?? 256,
            stop: body.stop,
            signal: controller.signal,
            onText: (soFar) => {
              const cut = cutAtStop(soFar, body.stop ?? []);
              if (cut.length > sent.length) {
                pieces.push(cut.slice(sent.length));
                send(cut.slice(sent.length));
                sent = cut;
              }
            },
          },
        );
        if (options.replayAnswers) {
          const final = cutAtStop(result.text, body.stop ?? []);
          replays.set(replayKey, final.length > sent.length ? [...pieces, final.slice(sent.length)] : pieces);
        }
        return result;
      };
      const wait = () => (delayMs > 0 ? delay(delayMs, controller.signal) : Promise.resolve());
      const run = options.concurrent ? wait().then(generate) : chain.then(wait).then(generate);
      const done = run
        .then((result) => {
          const final = cutAtStop(result.text, body.stop ?? []);
          if (final.length > sent.length) send(final.slice(sent.length));
          res.write('data: [DONE]\n\n');
          res.end();
          finished.push(prompt);
        })
        .catch(() => res.end())
        .finally(() => (load.inFlight -= 1));
      if (!options.concurrent) chain = done;
    });
  });
  const listening = await listenOnLoopback(server, options.port ?? 0);
  return {
    url: listening.url,
    requests,
    timings,
    faults,
    load,
    finished,
    close: listening.close,
  };
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new Error('client went away'));
    });
  });
}

function cutAtStop(text: string, stop: string[]): string {
  let end = text.length;
  for (const marker of stop) {
    const at = text.indexOf(marker);
    if (at !== -1 && at < end) end = at;
  }
  return text.slice(0, end);
}
