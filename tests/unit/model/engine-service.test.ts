import { describe, expect, test, vi } from 'vitest';
import { InProcessEngineService, type HostPlatform } from '../../../model/engine-service';
import { RemoteEngine } from '../../../model/remote-engine';
import { applyTextDelta, type CorrectionUpdate, type EngineJob } from '../../../utils/messages';
import { EchoEngine } from '../../support/echo-engine';

async function collect<T>(events: AsyncIterable<T>, onEvent?: (event: T) => void): Promise<T[]> {
  const all: T[] = [];
  for await (const event of events) {
    all.push(event);
    onEvent?.(event);
  }
  return all;
}

const job = (answer: string, contextLength = 2048): EngineJob => ({
  question: 'Q?',
  answer,
  maxNewTokens: 256,
  model: {
    engine: 'local',
    repo: 'realign/tiny-aligner',
    template: 'aligner-v1',
    dtypes: { webgpu: 'fp32', wasm: 'fp32', webgpuNoF16: 'fp32' },
    contextLength,
    host: 'http://127.0.0.1/',
    allowWebgpu: true,
  },
});

function platform(options: { gpu: boolean; failOnGpu?: boolean }) {
  const loads: string[] = [];
  const value: HostPlatform = {
    detectWebGpu: async () => ({ available: options.gpu, f16: false, reason: options.gpu ? undefined : 'No WebGPU adapter.' }),
    loadLocal: async ({ device }) => {
      loads.push(device);
      return new EchoEngine(device, options.failOnGpu);
    },
    createRemote: () => {
      throw new Error('not used');
    },
    onIdle: () => undefined,
  };
  return { value, loads };
}

describe('InProcessEngineService', () => {
  test('loads once on WebGPU when an adapter exists, streams text as deltas in order, then done', async () => {
    const { value, loads } = platform({ gpu: true });
    const service = new InProcessEngineService(value);
    const updates = await collect(service.correct(job('The weather is bad today.')));
    await collect(service.correct(job('It is bad.')));
    expect(loads).toEqual(['webgpu']);
    let streamed = '';
    for (const update of updates) {
      if (update.kind !== 'text') continue;
      // Each delta fits the text so far (an append, or a tail taken back).
      expect(update.from).toBeLessThanOrEqual(streamed.length);
      streamed = applyTextDelta(streamed, update)!;
    }
    expect(updates.at(-1)).toMatchObject({ kind: 'done', text: 'The weather is good today.' });
    expect(streamed).toBe('The weather is good today.');
    expect(updates.find((update) => update.kind === 'loading')).toMatchObject({ device: 'webgpu' });
  });

  test('no adapter: WASM, and the reason is said', async () => {
    const { value, loads } = platform({ gpu: false });
    const updates = await collect(new InProcessEngineService(value).correct(job('bad')));
    expect(loads).toEqual(['wasm']);
    expect(updates.find((update) => update.kind === 'loading')).toMatchObject({ device: 'wasm', fallbackReason: 'No WebGPU adapter.' });
  });

  test('a GPU failure mid-correction falls back to WASM and still finishes', async () => {
    const { value, loads } = platform({ gpu: true, failOnGpu: true });
    const updates = await collect(new InProcessEngineService(value).correct(job('It is bad.')));
    expect(loads).toEqual(['webgpu', 'wasm']);
    expect(updates.filter((update) => update.kind === 'loading').at(-1)).toMatchObject({ device: 'wasm', fallbackReason: expect.stringMatching(/GPU device lost/) });
    expect(updates.at(-1)).toMatchObject({ kind: 'done', text: 'It is good.' });
  });

  test('aborting the signal stops the generation with a cancelled error', async () => {
    const service = new InProcessEngineService(platform({ gpu: false }).value);
    const controller = new AbortController();
    const updates = await collect(service.correct(job('one two three four five six seven eight nine ten eleven twelve'), controller.signal), (update) => {
      if (update.kind === 'text') controller.abort();
    });
    expect(updates.at(-1)).toEqual({ kind: 'error', message: 'The correction was cancelled.' });
    expect(updates.filter((update) => update.kind === 'text').length).toBeLessThanOrEqual(2);
  });
});

describe('InProcessEngineService jobs', () => {
  test('a load job downloads and loads without correcting, then says ok; a correction after it loads nothing more', async () => {
    const { value, loads } = platform({ gpu: false });
    const service = new InProcessEngineService(value);
    const statuses: string[] = [];
    service.watchStatus((status) => statuses.push(status.state));
    const events = await collect(service.load(job('x').model as Extract<EngineJob['model'], { engine: 'local' }>));
    expect(events.at(-1)).toEqual({ kind: 'ok' });
    expect(loads).toEqual(['wasm']);
    expect(statuses).toEqual(['empty', 'loading', 'ready']);
    await collect(service.correct(job('It is bad.')));
    expect(loads).toEqual(['wasm']);
    expect(statuses.slice(-2)).toEqual(['busy', 'ready']);
  });

  test('a model that fails to load ends the load job with a readable error and an error status', async () => {
    const { value } = platform({ gpu: false });
    value.loadLocal = async () => {
      throw new Error('Failed to fetch');
    };
    const service = new InProcessEngineService(value);
    const events = await collect(service.load(job('x').model as Extract<EngineJob['model'], { engine: 'local' }>));
    expect(events.at(-1)).toMatchObject({ kind: 'error', message: expect.stringMatching(/Could not download the model realign\/tiny-aligner from http:\/\/127\.0\.0\.1\//) });
    expect(service.status()).toMatchObject({ state: 'error' });
  });
});

describe('InProcessEngineService idle time', () => {
  test('after the configured idle time without work the model is freed and the host told to close', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let idle = 0;
      let disposed = 0;
      const { value } = platform({ gpu: false });
      const loadLocal = value.loadLocal;
      value.loadLocal = async (options) => {
        const engine = await loadLocal(options);
        engine.dispose = async () => void (disposed += 1);
        return engine;
      };
      value.onIdle = () => void (idle += 1);
      const service = new InProcessEngineService(value);
      service.configure(60_000);
      let settled = false;
      void collect(service.correct(job('It is bad.'))).finally(() => (settled = true));
      // The stand-in engine waits 1 ms a word: step the fake clock until the job is done.
      while (!settled) await vi.advanceTimersByTimeAsync(1);
      await vi.advanceTimersByTimeAsync(59_000);
      expect(idle).toBe(0);
      await vi.advanceTimersByTimeAsync(2_000);
      expect(disposed).toBe(1);
      expect(idle).toBe(1);
      expect(service.status()).toEqual({ state: 'empty' });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('InProcessEngineService remote engine (issue 12)', () => {
  test('a rotated API key of the same length reaches the server at once', async () => {
    const authorizations: string[] = [];
    const server = (async (_url: string, init: RequestInit) => {
      authorizations.push((init.headers as Record<string, string>).Authorization ?? '');
      return new Response(`data: ${JSON.stringify({ choices: [{ text: ' It is good.' }] })}\n\ndata: [DONE]\n\n`);
    }) as unknown as typeof fetch;
    const value: HostPlatform = {
      ...platform({ gpu: false }).value,
      createRemote: (model) => new RemoteEngine(model, server),
    };
    const service = new InProcessEngineService(value);
    const remoteJob = (apiKey: string): EngineJob => ({
      question: 'Q?',
      answer: 'It is bad.',
      maxNewTokens: 64,
      model: { engine: 'remote', endpoint: 'http://127.0.0.1:9', model: 'aligner', template: 'aligner-v1', apiKey, contextLength: 2048, timeoutMs: 5_000 },
    });
    for (const apiKey of ['sk-old-0001', 'sk-old-0001', 'sk-new-0002']) {
      const updates = await collect(service.correct(remoteJob(apiKey)));
      expect(updates.at(-1)).toMatchObject({ kind: 'done', text: 'It is good.' });
    }
    expect(authorizations).toEqual(['Bearer sk-old-0001', 'Bearer sk-old-0001', 'Bearer sk-new-0002']);
  });
});

describe('InProcessEngineService conversions', () => {
  const converted = (repo: string) => ({
    ...(job('x').model as Extract<EngineJob['model'], { engine: 'local' }>),
    repo: `realign-converted/${repo}`,
    convert: { from: `owner/${repo}`, dtype: 'q4' as const },
  });
  /** A platform whose conversions run until their signal aborts (or `finish` is called). */
  function converting() {
    const { value } = platform({ gpu: false });
    const started: Array<{ repo: string; signal: AbortSignal; finish: () => void }> = [];
    value.ensureConverted = ({ repo, signal, onProgress }) =>
      new Promise<void>((resolve, reject) => {
        started.push({ repo, signal, finish: resolve });
        onProgress({ bytesRead: 1, bytesTotal: 2, tensorsDone: 2, tensorsTotal: 2, etaMs: 0 });
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      });
    return { value, started };
  }

  test('choosing another converted model stops the first conversion, and only the second speaks for the status', async () => {
    const { value, started } = converting();
    const service = new InProcessEngineService(value);
    const first = new AbortController();
    const firstJob = collect(service.load(converted('a'), first.signal));
    await vi.waitFor(() => expect(started).toHaveLength(1));
    first.abort(); // the panel was dismissed: the conversion goes on without it
    await firstJob;
    expect(started[0]!.signal.aborted).toBe(false);
    const secondJob = collect(service.load(converted('b')));
    await vi.waitFor(() => expect(started).toHaveLength(2));
    expect(started[0]!.signal.aborted).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(service.status().state).not.toBe('error');
    started[1]!.finish();
    expect((await secondJob).at(-1)).toEqual({ kind: 'ok' });
  });

  test('unload stops a conversion, and the next job starts a fresh one instead of joining the stopped one', async () => {
    const { value, started } = converting();
    const service = new InProcessEngineService(value);
    const first = new AbortController();
    const firstJob = collect(service.load(converted('a'), first.signal));
    await vi.waitFor(() => expect(started).toHaveLength(1));
    first.abort();
    await firstJob;
    await service.unload();
    expect(started[0]!.signal.aborted).toBe(true);
    expect(service.status().state).toBe('empty');
    const again = collect(service.load(converted('a')));
    await vi.waitFor(() => expect(started).toHaveLength(2));
    started[1]!.finish();
    expect((await again).at(-1)).toEqual({ kind: 'ok' });
  });

  test('a conversion that finishes with no job waiting leaves no "converting" status behind', async () => {
    const { value, started } = converting();
    const service = new InProcessEngineService(value);
    const first = new AbortController();
    const firstJob = collect(service.load(converted('a'), first.signal));
    await vi.waitFor(() => expect(started).toHaveLength(1));
    first.abort();
    await firstJob;
    started[0]!.finish();
    await vi.waitFor(() => expect(service.status().state).toBe('empty'));
  });
});
