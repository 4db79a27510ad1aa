import { describe, expect, test } from 'vitest';
import { CorrectionService } from '../../../entrypoints/background/correction-service';
import type { EngineHostConnection, PortLike } from '../../../entrypoints/background/host-client';
import type { CorrectionUpdate, EngineJob } from '../../../utils/protocol';

function fakePort() {
  const sent: CorrectionUpdate[] = [];
  let onMessage: (message: unknown) => void = () => undefined;
  let onDisconnect: () => void = () => undefined;
  const port: PortLike = {
    name: 'realign/correct',
    postMessage: (message) => sent.push(message as CorrectionUpdate),
    disconnect: () => undefined,
    onMessage: { addListener: (listener) => void (onMessage = listener) },
    onDisconnect: { addListener: (listener) => void (onDisconnect = listener) },
  };
  return { port, sent, send: (message: unknown) => onMessage(message), close: () => onDisconnect() };
}

/** A host whose jobs finish when the test says so. */
function fakeHost() {
  const jobs: Array<{ id: string; job: EngineJob; onUpdate: (u: CorrectionUpdate) => void; finish: () => void }> = [];
  const cancelled: string[] = [];
  const host: EngineHostConnection = {
    run: (id, job, onUpdate) =>
      new Promise<void>((resolve) => {
        jobs.push({ id, job, onUpdate, finish: () => (onUpdate({ kind: 'done', text: job.answer.toUpperCase(), notes: [], tokens: 1, ms: 1 }), resolve()) });
      }),
    cancel: (id) => {
      cancelled.push(id);
      const job = jobs.find((entry) => entry.id === id);
      job?.onUpdate({ kind: 'error', message: 'The correction was cancelled.' });
    },
    unload: async () => undefined,
    status: async () => ({ state: 'empty' }),
    configure: () => undefined,
  };
  return { host, jobs, cancelled };
}

const settings = async () => ({
  maxNewTokens: 64,
  model: { engine: 'local', repo: 'a/b', template: 'aligner-v1', dtypes: { webgpu: 'fp32', wasm: 'fp32', webgpuNoF16: 'fp32' }, contextLength: 512, host: 'http://x/', allowWebgpu: true } as const,
});
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('CorrectionService', () => {
  test('two tabs asking at once are both served, one after the other, each on its own port', async () => {
    const { host, jobs } = fakeHost();
    const service = new CorrectionService({ host, jobSettings: settings, isVisible: () => false });
    const a = fakePort();
    const b = fakePort();
    service.handlePort(a.port, 1);
    service.handlePort(b.port, 2);
    a.send({ type: 'start', site: 'demo', question: 'q', answer: 'first' });
    b.send({ type: 'start', site: 'demo', question: 'q', answer: 'second' });
    await tick();
    expect(jobs.map((job) => job.job.answer)).toEqual(['first']);
    expect(b.sent).toContainEqual({ kind: 'queued', position: 1 });
    jobs[0]!.finish();
    await tick();
    await tick();
    expect(jobs.map((job) => job.job.answer)).toEqual(['first', 'second']);
    jobs[1]!.finish();
    await tick();
    expect(a.sent.at(-1)).toMatchObject({ kind: 'done', text: 'FIRST' });
    expect(b.sent.at(-1)).toMatchObject({ kind: 'done', text: 'SECOND' });
  });

  test('a port that disconnects (tab closed, navigated, panel dismissed) cancels its running job', async () => {
    const { host, cancelled } = fakeHost();
    const service = new CorrectionService({ host, jobSettings: settings, isVisible: () => false });
    const a = fakePort();
    service.handlePort(a.port, 1);
    a.send({ type: 'start', site: 'demo', question: 'q', answer: 'x' });
    await tick();
    a.close();
    expect(cancelled).toEqual(['1:1']);
  });

  test('a closed tab loses its waiting requests without running them', async () => {
    const { host, jobs } = fakeHost();
    const service = new CorrectionService({ host, jobSettings: settings, isVisible: () => false });
    const running = fakePort();
    const waiting = fakePort();
    service.handlePort(running.port, 1);
    service.handlePort(waiting.port, 2);
    running.send({ type: 'start', site: 'demo', question: '', answer: 'one' });
    waiting.send({ type: 'start', site: 'demo', question: '', answer: 'two' });
    await tick();
    service.cancelTab(2);
    jobs[0]!.finish();
    await tick();
    await tick();
    expect(jobs.map((job) => job.job.answer)).toEqual(['one']);
    expect(waiting.sent.at(-1)).toEqual({ kind: 'error', message: 'The correction was cancelled.' });
  });

  test('a malformed message gets an error, not a crash', () => {
    const { host } = fakeHost();
    const service = new CorrectionService({ host, jobSettings: settings, isVisible: () => false });
    const a = fakePort();
    service.handlePort(a.port, 1);
    a.send({ type: 'start', answer: 42 });
    expect(a.sent).toEqual([{ kind: 'error', message: 'Realign received a malformed request.' }]);
  });

  test('unusable settings end the request with their message', async () => {
    const { host } = fakeHost();
    const service = new CorrectionService({
      host,
      jobSettings: async () => {
        throw new Error('No server address is set.');
      },
      isVisible: () => false,
    });
    const a = fakePort();
    service.handlePort(a.port, 1);
    a.send({ type: 'start', site: 'demo', question: '', answer: 'x' });
    await tick();
    await tick();
    expect(a.sent.at(-1)).toEqual({ kind: 'error', message: 'No server address is set.' });
  });

  test('a model never approved: the person is asked first (with the size), and only Download starts it', async () => {
    const { host, jobs } = fakeHost();
    const approved: string[] = [];
    const service = new CorrectionService({
      host,
      jobSettings: settings,
      isVisible: () => false,
      consentNeeded: async () => (approved.length ? null : { kind: 'consent', model: 'Qwen2.5 0.5B Instruct', repo: 'a/b', host: 'https://huggingface.co/', bytes: 483e6 }),
      approve: async (consent) => void approved.push(consent.repo),
    });
    const a = fakePort();
    service.handlePort(a.port, 1);
    a.send({ type: 'start', site: 'demo', question: '', answer: 'x' });
    await tick();
    expect(a.sent).toEqual([{ kind: 'consent', model: 'Qwen2.5 0.5B Instruct', repo: 'a/b', host: 'https://huggingface.co/', bytes: 483e6 }]);
    expect(jobs).toEqual([]);
    a.send({ type: 'approve' });
    await tick();
    await tick();
    expect(approved).toEqual(['a/b']);
    expect(jobs.map((job) => job.job.answer)).toEqual(['x']);
  });

  test('an answer over the size limit is refused with a message saying what to do', () => {
    const { host, jobs } = fakeHost();
    const service = new CorrectionService({ host, jobSettings: settings, isVisible: () => false });
    const a = fakePort();
    service.handlePort(a.port, 1);
    a.send({ type: 'start', site: 'demo', question: '', answer: 'word '.repeat(40_000) });
    expect(a.sent).toEqual([{ kind: 'error', message: expect.stringMatching(/too long to correct here \(200 KB; the limit is 60 KB\)\. Select a part/) }]);
    expect(jobs).toEqual([]);
  });
});
