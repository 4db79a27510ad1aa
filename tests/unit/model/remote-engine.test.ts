import { createServer } from 'node:http';
import { describe, expect, test, vi } from 'vitest';
import fc from 'fast-check';
import { buildPrompt, correctAnswer } from '../../../model/engine';
import { insecureKeyWarning, MAX_CHARS_PER_PIECE, normaliseEndpoint, RemoteEngine, requestDeadlineMs, withoutCredentials } from '../../../model/remote-engine';
import { MAX_SSE_EVENT_CHARS, SseEventTooLargeError, SseParser } from '../../../model/sse';
import { TEMPLATES } from '../../../model/templates';
import { applyTextDelta, type CorrectionUpdate } from '../../../utils/messages';
import { listenOnLoopback } from '../../support/loopback';

const encoder = new TextEncoder();

/** A fetch that answers with the given status and a body streamed in the given chunks. */
function fakeFetch(chunks: string[], init: { status?: number; stallAfter?: number } = {}) {
  const calls: Array<{ url: string; body: unknown; headers: Record<string, string> }> = [];
  const impl = (async (url: string, options: RequestInit = {}) => {
    calls.push({ url, body: options.body ? JSON.parse(String(options.body)) : null, headers: options.headers as Record<string, string> });
    let index = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (init.stallAfter !== undefined && index >= init.stallAfter) {
          return new Promise<void>((_, reject) => options.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
        }
        if (index < chunks.length) controller.enqueue(encoder.encode(chunks[index++]!));
        else controller.close();
      },
    });
    return new Response(stream, { status: init.status ?? 200, headers: { 'Content-Type': 'text/event-stream' } });
  }) as unknown as typeof fetch;
  return { impl, calls };
}

const event = (text: string) => `data: ${JSON.stringify({ choices: [{ text }] })}\n\n`;
const config = { endpoint: 'http://127.0.0.1:9/v1/', model: 'aligner/aligner-7b-v1.0', apiKey: '', timeoutMs: 2000 };
const prompt = buildPrompt('aligner-v1', 'How is the weather?', 'The weather is bad today.');

describe('SseParser', () => {
  test('events split across arbitrary chunk boundaries parse the same (property)', () => {
    const stream = event('The') + event(' weather') + 'data: [DONE]\n\n';
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 10 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const parser = new SseParser();
        const out: string[] = [];
        let last = 0;
        for (const point of [...points, stream.length]) {
          out.push(...parser.push(encoder.encode(stream.slice(last, point))));
          last = point;
        }
        out.push(...parser.flush());
        expect(out).toEqual([JSON.stringify({ choices: [{ text: 'The' }] }), JSON.stringify({ choices: [{ text: ' weather' }] }), '[DONE]']);
      }),
    );
  });

  test('a multi-byte character split between chunks is decoded whole', () => {
    const bytes = encoder.encode('data: héllo\n\n');
    const parser = new SseParser();
    expect([...parser.push(bytes.slice(0, 8)), ...parser.push(bytes.slice(8))]).toEqual(['héllo']);
  });
});

describe('RemoteEngine', () => {
  test('normalises the server address with or without /v1', () => {
    expect(normaliseEndpoint('http://gpu:8000')).toBe('http://gpu:8000');
    expect(normaliseEndpoint('http://gpu:8000/v1/')).toBe('http://gpu:8000');
    expect(() => normaliseEndpoint('ftp://gpu')).toThrow(/http/);
  });

  test('sends the exact raw prompt, greedy, streamed, with the template stop strings and the bearer key', async () => {
    const { impl, calls } = fakeFetch([event(' The'), event(' weather is good today.'), 'data: [DONE]\n\n']);
    const engine = new RemoteEngine({ ...config, apiKey: 'sk-test' }, impl);
    const seen: string[] = [];
    const result = await engine.generate(prompt, { maxNewTokens: 64, stop: TEMPLATES['aligner-v1'].stop, onText: (text) => seen.push(text) });
    expect(calls[0]!.url).toBe('http://127.0.0.1:9/v1/completions');
    expect(calls[0]!.body).toEqual({
      model: 'aligner/aligner-7b-v1.0',
      prompt: 'BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: How is the weather? | The weather is bad today. ASSISTANT:',
      stream: true,
      temperature: 0,
      top_p: 1,
      max_tokens: 64,
      stop: ['USER:', 'BEGINNING OF CONVERSATION:'],
    });
    expect(calls[0]!.headers.Authorization).toBe('Bearer sk-test');
    expect(seen).toEqual([' The', ' The weather is good today.']);
    expect(result.text).toBe(' The weather is good today.');
  });

  test('no API key: no Authorization header', async () => {
    const { impl, calls } = fakeFetch(['data: [DONE]\n\n']);
    await new RemoteEngine(config, impl).generate(prompt, { maxNewTokens: 8 });
    expect(calls[0]!.headers.Authorization).toBeUndefined();
  });

  test('an error event mid-stream becomes an error with the server message', async () => {
    const { impl } = fakeFetch([event('The'), `data: ${JSON.stringify({ error: { message: 'CUDA out of memory' } })}\n\n`]);
    await expect(new RemoteEngine(config, impl).generate(prompt, { maxNewTokens: 8 })).rejects.toThrow(/CUDA out of memory/);
  });

  test('malformed JSON in an event is reported, not swallowed', async () => {
    const { impl } = fakeFetch(['data: {not json\n\n']);
    await expect(new RemoteEngine(config, impl).generate(prompt, { maxNewTokens: 8 })).rejects.toThrow(/malformed event/);
  });

  test('a server that stalls mid-stream times out with a message', async () => {
    const { impl } = fakeFetch([event('The')], { stallAfter: 1 });
    await expect(new RemoteEngine({ ...config, timeoutMs: 150 }, impl).generate(prompt, { maxNewTokens: 8 })).rejects.toThrow(/stopped answering/);
  });

  test('401 says to check the API key; 404 says the model is not served', async () => {
    const unauthorised = (async () => new Response(JSON.stringify({ error: { message: 'bad key' } }), { status: 401 })) as unknown as typeof fetch;
    await expect(new RemoteEngine(config, unauthorised).generate(prompt, { maxNewTokens: 8 })).rejects.toThrow(/401.*API key.*bad key/);
    const missing = (async () => new Response('{"error":"model not found"}', { status: 404 })) as unknown as typeof fetch;
    await expect(new RemoteEngine(config, missing).generate(prompt, { maxNewTokens: 8 })).rejects.toThrow(/does not serve the model "aligner\/aligner-7b-v1.0"/);
  });

  test('an unreachable server says so, naming CORS as a possible cause', async () => {
    const down = (async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    await expect(new RemoteEngine(config, down).generate(prompt, { maxNewTokens: 8 })).rejects.toThrow(/Could not reach 127\.0\.0\.1:9.*CORS/);
  });

  test('cancelling aborts the request', async () => {
    const { impl } = fakeFetch([event('The')], { stallAfter: 1 });
    const controller = new AbortController();
    const pending = new RemoteEngine({ ...config, timeoutMs: 10_000 }, impl).generate(prompt, { maxNewTokens: 8, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow(/cancelled/);
  });

  test('Test connection lists the served models', async () => {
    const models = (async () => new Response(JSON.stringify({ data: [{ id: 'aligner/aligner-7b-v1.0' }] }))) as unknown as typeof fetch;
    expect(await new RemoteEngine(config, models).listModels()).toEqual(['aligner/aligner-7b-v1.0']);
  });
});

/** A fetch whose body streams `count` pieces, recording how many were pulled and whether the body was cancelled. */
function endlessFetch(piece: (index: number) => string, count = Number.POSITIVE_INFINITY, delayMs = 0) {
  const seen = { pulls: 0, cancelled: false, inits: [] as RequestInit[] };
  const impl = (async (_url: string, init: RequestInit = {}) => {
    seen.inits.push(init);
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (seen.pulls >= count) return controller.close();
        if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
        controller.enqueue(encoder.encode(piece(seen.pulls++)));
      },
      cancel() {
        seen.cancelled = true;
      },
    });
    init.signal?.addEventListener('abort', () => {
      seen.cancelled = true;
    });
    return new Response(stream, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
  }) as unknown as typeof fetch;
  return { impl, seen };
}

describe('RemoteEngine bounds what a server can send (issue 12)', () => {
  test('stops reading after maxNewTokens pieces, whatever the server does, and cancels the body', async () => {
    const { impl, seen } = endlessFetch((i) => event(` w${i}`), 100_000);
    const result = await new RemoteEngine(config, impl).generate(prompt, { maxNewTokens: 50 });
    expect(result.tokens).toBe(50);
    expect(result.text.split(' w').length - 1).toBe(50);
    expect(seen.pulls).toBeLessThanOrEqual(52);
    expect(seen.cancelled).toBe(true);
  });

  test('cuts the text at maxChars (never inside a surrogate pair), says so, and cancels the body', async () => {
    const { impl, seen } = endlessFetch(() => event('😀'.repeat(10_000)), 1_000);
    const seenTexts: string[] = [];
    const result = await new RemoteEngine(config, impl).generate(prompt, { maxNewTokens: 1024, maxChars: 1001, onText: (text) => seenTexts.push(text) });
    expect(result.text).toBe('😀'.repeat(500));
    expect(result.charLimitReached).toBe(true);
    expect(seen.pulls).toBeLessThanOrEqual(2);
    expect(seen.cancelled).toBe(true);
    expect(Math.max(...seenTexts.map((text) => text.length))).toBeLessThanOrEqual(1001);
  });

  test('without maxChars, a piece can add at most MAX_CHARS_PER_PIECE characters on average', async () => {
    const { impl } = endlessFetch(() => event('x'.repeat(100_000)), 1_000);
    const result = await new RemoteEngine(config, impl).generate(prompt, { maxNewTokens: 16 });
    expect(result.text.length).toBe(16 * MAX_CHARS_PER_PIECE);
    expect(result.charLimitReached).toBe(true);
  });

  test('a server that trickles (never silent long enough to stall) is ended by the overall deadline', async () => {
    const { impl, seen } = endlessFetch((i) => event(` w${i}`), 10_000, 5);
    const engine = new RemoteEngine({ ...config, timeoutMs: 5_000, deadlineMs: 300 }, impl);
    await expect(engine.generate(prompt, { maxNewTokens: 100_000 })).rejects.toThrow(/did not finish within 0 s \(the limit for 100000 new tokens\); the request was stopped/);
    expect(seen.cancelled).toBe(true);
    expect(seen.pulls).toBeLessThan(10_000);
  });

  test('the default deadline is the stall timeout plus 200 ms a token, at most 10 minutes', () => {
    expect(requestDeadlineMs(30_000, 1024)).toBe(30_000 + 1024 * 200);
    expect(requestDeadlineMs(30_000, 32_768)).toBe(10 * 60_000);
  });

  test('an event over the size cap is an error that says so, naming the host', async () => {
    const { impl, seen } = endlessFetch(() => 'x'.repeat(64 * 1024), 1_000);
    await expect(new RemoteEngine(config, impl).generate(prompt, { maxNewTokens: 8 })).rejects.toThrow(
      /^127\.0\.0\.1:9: The server sent an event of more than 1,048,576 characters/,
    );
    // It stopped at the cap: 1 MiB is 16 chunks of 64 KiB.
    expect(seen.pulls).toBeLessThanOrEqual(18);
    expect(seen.cancelled).toBe(true);
  });

  test('cancelling mid-stream cancels the HTTP body', async () => {
    const { impl, seen } = endlessFetch((i) => event(` w${i}`), Number.POSITIVE_INFINITY, 5);
    const controller = new AbortController();
    const pending = new RemoteEngine({ ...config, timeoutMs: 10_000 }, impl).generate(prompt, { maxNewTokens: 100_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow(/cancelled/);
    expect(seen.cancelled).toBe(true);
  });
});

describe('RemoteEngine never follows redirects (issue 12)', () => {
  test('every request asks fetch not to follow redirects', async () => {
    const { impl, seen } = endlessFetch(() => 'data: [DONE]\n\n', 1);
    await new RemoteEngine(config, impl).generate(prompt, { maxNewTokens: 8 });
    const models = (async (_url: string, init: RequestInit) => (seen.inits.push(init), new Response('{"data":[]}'))) as unknown as typeof fetch;
    await new RemoteEngine(config, models).listModels();
    expect(seen.inits.map((init) => init.redirect)).toEqual(['manual', 'manual']);
  });

  test('a redirecting server gets an error that says so, and the target gets nothing (real loopback servers)', async () => {
    const hits: string[] = [];
    const target = await listenOnLoopback(createServer((request, response) => (hits.push(request.url ?? ''), response.end('{}'))));
    const redirecting = await listenOnLoopback(
      createServer((request, response) => {
        request.resume();
        response.writeHead(307, { Location: `${target.url}${request.url}` }).end();
      }),
    );
    try {
      const engine = new RemoteEngine({ ...config, endpoint: redirecting.url, apiKey: 'sk-secret' });
      const targetHost = new URL(target.url).host;
      await expect(engine.generate(prompt, { maxNewTokens: 8 })).rejects.toThrow(
        new RegExp(`redirected the request \\(307\\) to ${targetHost.replace(/\./g, '\\.')}\\. Realign does not follow redirects`),
      );
      await expect(engine.listModels()).rejects.toThrow(/redirected the request \(307\)/);
      expect(hits).toEqual([]);
    } finally {
      await redirecting.close();
      await target.close();
    }
  });

  test("a browser's opaque redirect (no status, no Location) is reported as a redirect too", async () => {
    const opaque = (async () => ({ type: 'opaqueredirect', status: 0, ok: false, headers: new Headers(), body: null }) as unknown as Response) as unknown as typeof fetch;
    await expect(new RemoteEngine(config, opaque).generate(prompt, { maxNewTokens: 8 })).rejects.toThrow(/^127\.0\.0\.1:9 redirected the request\. Realign does not follow/);
  });
});

describe('server addresses and credentials (issue 12)', () => {
  test('an address with user:password@ is refused with a message that repeats neither', () => {
    for (const endpoint of ['http://user:hunter2@gpu:8000', 'https://hunter2@gpu/v1', 'http://:hunter2@gpu']) {
      expect(() => normaliseEndpoint(endpoint)).toThrow(/must not contain a user name or password/);
      expect(() => new RemoteEngine({ ...config, endpoint })).toThrow(/API key field/);
      try {
        normaliseEndpoint(endpoint);
      } catch (error) {
        expect(String(error)).not.toMatch(/hunter2/);
      }
    }
  });

  test('an invalid address is refused without repeating it', () => {
    try {
      normaliseEndpoint('http//user:hunter2@gpu');
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toMatch(/not a valid URL/);
      expect(String(error)).not.toMatch(/hunter2/);
    }
  });

  test('errors never repeat credentials that a fetch implementation or a server put in their words', async () => {
    const throwing = (async () => {
      throw new TypeError('Request cannot be constructed from a URL that includes credentials: http://user:hunter2@gpu:8000/v1/completions');
    }) as unknown as typeof fetch;
    const unreachable = new RemoteEngine(config, throwing).generate(prompt, { maxNewTokens: 8 });
    await expect(unreachable).rejects.toThrow(/Could not reach 127\.0\.0\.1:9.*http:\/\/gpu:8000\/v1\/completions/);
    await expect(new RemoteEngine(config, throwing).generate(prompt, { maxNewTokens: 8 })).rejects.not.toThrow(/hunter2/);
    const echoing = (async () => new Response(JSON.stringify({ error: { message: 'upstream http://admin:hunter2@10.0.0.2/ failed' } }), { status: 502 })) as unknown as typeof fetch;
    await expect(new RemoteEngine(config, echoing).generate(prompt, { maxNewTokens: 8 })).rejects.toThrow(/answered 502: upstream http:\/\/10\.0\.0\.2\/ failed$/);
  });

  test('withoutCredentials removes user:password@ from every URL in a text, in one pass', () => {
    expect(withoutCredentials('see http://a:b@x.example/p and https://tok@y.example, ftp://z.example/@q')).toBe(
      'see http://x.example/p and https://y.example, ftp://z.example/@q',
    );
    expect(withoutCredentials('no urls here')).toBe('no urls here');
    // A text made to trip a backtracking regex: many schemes and at-signs, no end.
    const hostile = 'a://'.repeat(50_000) + '@'.repeat(50_000);
    expect(withoutCredentials(hostile).length).toBeLessThanOrEqual(hostile.length);
  });

  test('a server error message is clipped: a huge error body never becomes a huge error', async () => {
    const huge = (async () => new Response(JSON.stringify({ error: 'x'.repeat(5_000_000) }), { status: 500 })) as unknown as typeof fetch;
    const error = await new RemoteEngine(config, huge).generate(prompt, { maxNewTokens: 8 }).catch((caught: Error) => caught);
    expect((error as Error).message.length).toBeLessThan(700);
  });
});

describe('insecureKeyWarning (issue 12)', () => {
  test('warns when a key would go over plain http to another machine', () => {
    expect(insecureKeyWarning('http://gpu.lan:8000', 'sk-1')).toMatch(/unencrypted \(http:\/\/\) to gpu\.lan:8000/);
    expect(insecureKeyWarning('http://10.0.0.5/v1', 'sk-1')).toMatch(/10\.0\.0\.5/);
    expect(insecureKeyWarning('HTTP://[2001:db8::1]:8000', 'sk-1')).toMatch(/\[2001:db8::1\]:8000/);
  });

  test('says nothing for https, for this machine, without a key, or for an invalid address', () => {
    for (const endpoint of ['https://gpu.lan:8000', 'http://127.0.0.1:8000', 'http://127.1:8000', 'http://localhost:8000', 'http://api.localhost/', 'http://[::1]:8000', 'http://[::ffff:127.0.0.1]/']) {
      expect(insecureKeyWarning(endpoint, 'sk-1'), endpoint).toBeNull();
    }
    expect(insecureKeyWarning('http://gpu.lan:8000', '')).toBeNull();
    expect(insecureKeyWarning('http://gpu.lan:8000', '   ')).toBeNull();
    expect(insecureKeyWarning('not a url', 'sk-1')).toBeNull();
  });
});

describe('SseParser is linear and capped (issue 12)', () => {
  test('a 1,000,000-character event fed 8 characters at a time parses (rescanning the buffer per chunk would take ~10^11 steps)', () => {
    const payload = 'x'.repeat(1_000_000);
    const stream = `data: ${payload}\n\ndata: [DONE]\n\n`;
    const parser = new SseParser();
    const events: string[] = [];
    for (let at = 0; at < stream.length; at += 8) events.push(...parser.push(stream.slice(at, at + 8)));
    expect(events).toEqual([payload, '[DONE]']);
  });

  test('an event over the cap throws a clear error before the rest of it is read', () => {
    const parser = new SseParser();
    const chunk = 'y'.repeat(64 * 1024);
    let fed = 0;
    expect(() => {
      parser.push('data: ');
      for (; fed < 100; fed++) parser.push(chunk);
    }).toThrow(SseEventTooLargeError);
    // 'data: ' and 15 chunks fit; the 16th crosses the cap and is the last one read.
    expect(fed).toBe(Math.ceil((MAX_SSE_EVENT_CHARS - 'data: '.length) / chunk.length) - 1);
    expect(() => new SseParser(10).push('data: 12345678901\n\n')).toThrow(/more than 10 characters/);
  });

  test('many data lines of one event count together against the cap', () => {
    expect(() => new SseParser(100).push('data: 0123456789\n'.repeat(20))).toThrow(SseEventTooLargeError);
    expect(new SseParser(100).push('data: 0123456789\n'.repeat(5) + '\n')).toEqual([Array(5).fill('0123456789').join('\n')]);
  });

  test('CRLF line ends, comments and other fields, a CRLF split between chunks, and a last event without a blank line', () => {
    const parser = new SseParser();
    const out = [...parser.push(': keep-alive\r\nevent: message\r\nid: 1\r\ndata: a\r'), ...parser.push('\n\r\ndata:b\n'), ...parser.push('\ndata: c')];
    out.push(...parser.flush());
    expect(out).toEqual(['a', 'b', 'c']);
  });
});

describe('the remote path streams throttled deltas (issue 12)', () => {
  test('3,000 streamed pieces reach the panel as at most one delta per 16 ms, never whole texts', async () => {
    // A clock that moves 1 ms each time it is read: the throttle then lets one update in 16 reads.
    let clock = 0;
    const dateNow = vi.spyOn(Date, 'now').mockImplementation(() => (clock += 1));
    try {
      const pieces = Array.from({ length: 3000 }, (_, i) => ` w${i}`);
      const { impl } = endlessFetch((i) => (i < pieces.length ? event(pieces[i]!) : 'data: [DONE]\n\n'), pieces.length + 1);
      const engine = new RemoteEngine(config, impl);
      const updates: CorrectionUpdate[] = [];
      const answer = pieces.join('').trim();
      const result = await correctAnswer(engine, 'Q?', answer, { template: 'aligner-v1', contextLength: 100_000, maxNewTokens: 4000, onUpdate: (update) => updates.push(update) });
      expect(result.text).toBe(answer);
      const texts = updates.filter((update) => update.kind === 'text');
      expect(texts.length).toBeLessThanOrEqual(pieces.length / 16 + 2);
      expect(texts.length).toBeGreaterThan(10);
      // Deltas: what is sent adds up to the text (plus what trimming took back), not to its square.
      const sent = texts.reduce((sum, update) => sum + update.append.length, 0);
      expect(sent).toBeLessThanOrEqual(result.text.length + texts.length * 2);
      let streamed = '';
      for (const update of texts) streamed = applyTextDelta(streamed, update)!;
      expect(streamed).toBe(result.text);
    } finally {
      dateNow.mockRestore();
    }
  });
});
