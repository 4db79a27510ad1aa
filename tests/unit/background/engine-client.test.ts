// The background's engine client and the engine page's server, over a real pair of ports: the
// whole message layer between background and offscreen document, in Node.
import { describe, expect, test, vi } from 'vitest';
import { PortEngineService, RoutingEngineService } from '../../../entrypoints/background/engine-client';
import { serveEngineService } from '../../../entrypoints/offscreen/serve';
import { InProcessEngineService, type EngineService, type HostPlatform } from '../../../model/engine-service';
import { applyTextDelta, type CorrectionUpdate, type EngineJob, type EngineStatus } from '../../../utils/messages';
import { EchoEngine } from '../../support/echo-engine';
import { portPair } from '../../support/fake-ports';

const platform = (): HostPlatform => ({
  detectWebGpu: async () => ({ available: false, f16: false, reason: 'No WebGPU adapter.' }),
  loadLocal: async ({ device }) => new EchoEngine(device),
  createRemote: () => {
    throw new Error('not used');
  },
  onIdle: () => undefined,
});

const job = (answer: string): EngineJob => ({
  question: 'Q?',
  answer,
  maxNewTokens: 256,
  model: { engine: 'local', repo: 'realign/tiny-aligner', template: 'aligner-v1', dtypes: { webgpu: 'fp32', wasm: 'fp32', webgpuNoF16: 'fp32' }, contextLength: 2048, host: 'http://127.0.0.1/', allowWebgpu: true },
});

/** The background's client, an engine page that connects when asked, and its service. */
function connectedEngine() {
  let pages = 0;
  let engine: InProcessEngineService | null = null;
  let pagePort: ReturnType<typeof portPair>[1] | null = null;
  const client: PortEngineService = new PortEngineService(async () => {
    // "Create the offscreen document": it connects its port back.
    pages += 1;
    const [background, page] = portPair('realign/engine-host');
    engine = new InProcessEngineService(platform());
    serveEngineService(page, engine);
    pagePort = page;
    client.attach(background);
  });
  return { client, pages: () => pages, closePage: () => pagePort?.disconnect(), engine: () => engine };
}

async function collect<T>(events: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe('PortEngineService (background) ⇄ serveEngineService (engine page)', () => {
  test('the first job starts the engine page; a correction streams deltas and ends with done', async () => {
    const { client, pages } = connectedEngine();
    const updates = await collect(client.correct(job('The weather is bad today.')));
    expect(pages()).toBe(1);
    let text = '';
    for (const update of updates) if (update.kind === 'text') text = applyTextDelta(text, update)!;
    expect(text).toBe('The weather is good today.');
    expect(updates.at(-1)).toMatchObject({ kind: 'done', text: 'The weather is good today.' });
    // The page stays: the next job reuses it.
    await collect(client.correct(job('It is bad.')));
    expect(pages()).toBe(1);
  });

  test('the engine page\'s status reaches the background as it changes', async () => {
    const { client } = connectedEngine();
    const seen: EngineStatus['state'][] = [];
    client.watchStatus((status) => seen.push(status.state));
    await collect(client.correct(job('bad')));
    await vi.waitFor(() => expect(seen.at(-1)).toBe('ready'));
    expect(seen).toContain('loading');
    expect(seen).toContain('busy');
  });

  test('aborting a correction cancels it on the engine page', async () => {
    const { client } = connectedEngine();
    const controller = new AbortController();
    const updates: CorrectionUpdate[] = [];
    for await (const update of client.correct(job('one two three four five six seven eight nine ten eleven twelve thirteen'), controller.signal)) {
      updates.push(update);
      if (update.kind === 'text') controller.abort();
    }
    expect(updates.at(-1)).toEqual({ kind: 'error', message: 'The correction was cancelled.' });
  });

  test('the engine page closing mid-job ends the job with a message; the next job starts a new page', async () => {
    const { client, pages, closePage } = connectedEngine();
    const updates: CorrectionUpdate[] = [];
    for await (const update of client.correct(job(Array.from({ length: 60 }, () => 'bad').join(' ')))) {
      updates.push(update);
      if (update.kind === 'text' && updates.filter((u) => u.kind === 'text').length === 1) closePage();
    }
    expect(updates.at(-1)).toEqual({ kind: 'error', message: 'The correction stopped: the engine closed unexpectedly. Press Retry to run it again.' });
    await vi.waitFor(() => expect(client.status().state).toBe('empty'));
    const next = await collect(client.correct(job('It is bad.')));
    expect(next.at(-1)).toMatchObject({ kind: 'done' });
    expect(pages()).toBe(2);
  });

  test('a load job reports its events and ok; unload empties the engine', async () => {
    const { client, engine } = connectedEngine();
    const events = await collect(client.load(job('x').model as Extract<EngineJob['model'], { engine: 'local' }>));
    expect(events.at(-1)).toEqual({ kind: 'ok' });
    expect(engine()!.status().state).toBe('ready');
    await client.unload();
    expect(engine()!.status().state).toBe('empty');
  });
});

describe('RoutingEngineService', () => {
  test('local jobs go to the local service, remote ones to the remote; status follows the last', async () => {
    const calls: string[] = [];
    const fake = (name: string, state: EngineStatus['state']): EngineService => ({
      correct: () => {
        calls.push(name);
        return (async function* () {
          yield { kind: 'done', text: name, notes: [], tokens: 0, ms: 0 } as CorrectionUpdate;
        })();
      },
      load: () => (async function* () {})(),
      unload: async () => void calls.push(`${name}:unload`),
      configure: () => undefined,
      status: () => ({ state }),
      watchStatus: (listener) => {
        listener({ state });
        return () => undefined;
      },
    });
    const routing = new RoutingEngineService(fake('local', 'ready'), fake('remote', 'busy'));
    const remoteJob = { ...job('x'), model: { engine: 'remote' as const, endpoint: 'http://127.0.0.1:1', model: 'm', template: 'aligner-v1', apiKey: '', contextLength: 2048, timeoutMs: 1000 } };
    await collect(routing.correct(job('x')));
    expect(routing.status().state).toBe('ready');
    await collect(routing.correct(remoteJob));
    expect(routing.status().state).toBe('busy');
    await routing.unload();
    expect(calls).toEqual(['local', 'remote', 'remote:unload', 'local:unload']);
  });
});
