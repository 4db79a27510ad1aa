import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { buildPrompt } from '../../../model/engine';
import { normaliseEndpoint, RemoteEngine } from '../../../model/remote-engine';
import { SseParser } from '../../../model/sse';
import { TEMPLATES } from '../../../model/templates';

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
