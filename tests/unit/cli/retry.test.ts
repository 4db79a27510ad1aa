import { describe, expect, test } from 'vitest';
import { AbortError, buildPrompt } from '../../../model/engine';
import { RemoteEngineError } from '../../../model/remote-engine';
import { DEFAULT_RETRY_POLICY, isRetryable, parseRetryAfter, retryDelayMs, RetryingRemoteEngine, type RetryNotice } from '../../../scripts/align/retry';
import { runPool } from '../../../scripts/align/pool';

const prompt = buildPrompt('aligner-v1', 'How is the weather?', 'The weather is bad today.');
const config = { endpoint: 'http://127.0.0.1:8000', model: 'm', apiKey: '', timeoutMs: 2000 };
const fast = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1, maxDelayMs: 4 };

type Step = { status: number; retryAfter?: string } | 'network' | 'ok';
/** A fetch that plays the given steps, one per request; 'ok' streams " fine". */
function scriptedFetch(steps: Step[]) {
  const seen: string[] = [];
  const impl = (async (url: string) => {
    seen.push(url);
    const step = steps.shift() ?? 'ok';
    if (step === 'network') throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' }) });
    if (step === 'ok') return new Response(`data: ${JSON.stringify({ choices: [{ text: ' fine' }] })}\n\ndata: [DONE]\n\n`, { status: 200 });
    return new Response(JSON.stringify({ error: { message: 'busy' } }), { status: step.status, headers: step.retryAfter ? { 'Retry-After': step.retryAfter } : {} });
  }) as unknown as typeof fetch;
  return { impl, seen };
}

describe('what is retried', () => {
  test('429, 5xx and network failures are; other 4xx and non-server errors are not', () => {
    expect(isRetryable(new RemoteEngineError('x', 429))).toBe(true);
    expect(isRetryable(new RemoteEngineError('x', 500))).toBe(true);
    expect(isRetryable(new RemoteEngineError('x', 503))).toBe(true);
    expect(isRetryable(new RemoteEngineError('x'))).toBe(true);
    for (const status of [400, 401, 403, 404, 422]) expect(isRetryable(new RemoteEngineError('x', status))).toBe(false);
    expect(isRetryable(new Error('bug'))).toBe(false);
    expect(isRetryable(new AbortError())).toBe(false);
  });

  test('Retry-After in seconds or as an HTTP date', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0.5 ', now)).toBe(500);
    expect(parseRetryAfter('Tue, 01 Dec 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  test('backoff doubles from the base up to the cap, with half of it random; Retry-After wins, capped, plus up to 10 %', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1000, maxDelayMs: 8000, maxRetryAfterMs: 20_000 };
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelayMs(attempt, policy, null, () => 0))).toEqual([500, 1000, 2000, 4000, 4000]);
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelayMs(attempt, policy, null, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(retryDelayMs(3, policy, 1500, () => 0)).toBe(1500);
    expect(retryDelayMs(3, policy, 1500, () => 1)).toBe(1650);
    expect(retryDelayMs(1, policy, 3_600_000, () => 0)).toBe(20_000);
  });
});

describe('RetryingRemoteEngine', () => {
  test('retries a 429 after its Retry-After and a network failure after backoff, then returns the answer', async () => {
    const { impl, seen } = scriptedFetch([{ status: 429, retryAfter: '0' }, 'network', { status: 502 }, 'ok']);
    const notices: RetryNotice[] = [];
    const engine = new RetryingRemoteEngine(config, fast, impl, () => 0);
    engine.onRetry = (notice) => notices.push(notice);
    const result = await engine.generate(prompt, { maxNewTokens: 8 });
    expect(result.text).toBe(' fine');
    expect(seen).toHaveLength(4);
    expect(notices.map((notice) => [notice.attempt, notice.delayMs])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
    ]);
    expect(notices[0]!.error.message).toBe('127.0.0.1:8000 answered 429: busy');
    // In the CLI's words: the address and the reason, no word about the extension or CORS.
    expect(notices[1]!.error.message).toBe('Could not reach 127.0.0.1:8000 (connection refused: nothing is listening there, ECONNREFUSED): is the server running, and is --endpoint right?');
  });

  test('a 400 is not retried', async () => {
    const { impl, seen } = scriptedFetch([{ status: 400 }, 'ok']);
    const engine = new RetryingRemoteEngine(config, fast, impl);
    await expect(engine.generate(prompt, { maxNewTokens: 8 })).rejects.toMatchObject({ status: 400 });
    expect(seen).toHaveLength(1);
  });

  test('gives up after the policy\'s retries with the last error', async () => {
    const { impl, seen } = scriptedFetch(Array.from({ length: 10 }, () => ({ status: 503 })));
    const engine = new RetryingRemoteEngine(config, { ...fast, retries: 2 }, impl);
    await expect(engine.generate(prompt, { maxNewTokens: 8 })).rejects.toMatchObject({ status: 503 });
    expect(seen).toHaveLength(3);
  });

  test('an abort during the pause stops at once', async () => {
    const { impl, seen } = scriptedFetch([{ status: 429, retryAfter: '60' }]);
    const engine = new RetryingRemoteEngine(config, fast, impl);
    const controller = new AbortController();
    engine.onRetry = () => setTimeout(() => controller.abort(), 5);
    await expect(engine.generate(prompt, { maxNewTokens: 8, signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
    expect(seen).toHaveLength(1);
  });
});

describe('runPool', () => {
  test('never runs more than the limit at once, uses every slot, and runs each item once', async () => {
    let running = 0;
    let most = 0;
    const slotsSeen = new Set<number>();
    const done: number[] = [];
    await runPool(Array.from({ length: 20 }, (_, index) => index), 4, async (item, slot) => {
      running += 1;
      most = Math.max(most, running);
      slotsSeen.add(slot);
      await new Promise((resolve) => setTimeout(resolve, (item * 7) % 5));
      done.push(item);
      running -= 1;
    });
    expect(most).toBe(4);
    expect([...slotsSeen].sort()).toEqual([0, 1, 2, 3]);
    expect([...done].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, index) => index));
  });

  test('stops taking items once aborted', async () => {
    const controller = new AbortController();
    const started: number[] = [];
    await runPool([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      if (item === 1) controller.abort();
      await Promise.resolve();
    }, controller.signal);
    expect(started).toEqual([0, 1]);
  });
});
