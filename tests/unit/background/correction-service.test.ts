import { describe, expect, test } from 'vitest';
import { CorrectionService } from '../../../entrypoints/background/correction-service';
import { eventStream, type EngineService } from '../../../model/engine-service';
import type { CorrectionUpdate, EngineJob } from '../../../utils/messages';
import type { PortLike } from '../../../utils/task-port';

/** A content script's port: it speaks the task wire format; `sent` holds the events it received. */
function fakePort() {
  const sent: CorrectionUpdate[] = [];
  const wire: unknown[] = [];
  let onMessage: (message: unknown) => void = () => undefined;
  let onDisconnect: () => void = () => undefined;
  const port: PortLike = {
    name: 'realign/correct',
    postMessage: (message) => {
      wire.push(message);
      sent.push((message as { event: CorrectionUpdate }).event);
    },
    disconnect: () => undefined,
    onMessage: { addListener: (listener) => void (onMessage = listener) },
    onDisconnect: { addListener: (listener) => void (onDisconnect = listener) },
  };
  return {
    port,
    sent,
    wire,
    /** What the content script sends: a start, an approve signal, a cancel, or anything raw. */
    start: (request: object) => onMessage({ t: 'start', id: 't1', request }),
    approve: () => onMessage({ t: 'signal', id: 't1', signal: { kind: 'approve' } }),
    raw: (message: unknown) => onMessage(message),
    close: () => onDisconnect(),
  };
}

/** An engine whose jobs finish when the test says so. */
function fakeHost() {
  const jobs: Array<{ id: string; job: EngineJob; finish: () => void }> = [];
  const cancelled: string[] = [];
  let sequence = 0;
  const host: EngineService = {
    correct: (job, signal) =>
      eventStream<CorrectionUpdate>(
        (emit) =>
          new Promise<void>((resolve) => {
            const id = `job${++sequence}`;
            signal?.addEventListener('abort', () => {
              cancelled.push(id);
              emit({ kind: 'error', message: 'The correction was cancelled.' });
              resolve();
            });
            jobs.push({ id, job, finish: () => (emit({ kind: 'done', text: job.answer.toUpperCase(), notes: [], tokens: 1, ms: 1 }), resolve()) });
          }),
      ),
    load: () => eventStream(async (emit) => emit({ kind: 'ok' })),
    unload: async () => undefined,
    configure: () => undefined,
    status: () => ({ state: 'empty' }),
    watchStatus: () => () => undefined,
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
    const service = new CorrectionService({ engine: host, jobSettings: settings, isVisible: () => false });
    const a = fakePort();
    const b = fakePort();
    service.handlePort(a.port, 1);
    service.handlePort(b.port, 2);
    a.start({ site: 'demo', question: 'q', answer: 'first' });
    b.start({ site: 'demo', question: 'q', answer: 'second' });
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
    const service = new CorrectionService({ engine: host, jobSettings: settings, isVisible: () => false });
    const a = fakePort();
    service.handlePort(a.port, 1);
    a.start({ site: 'demo', question: 'q', answer: 'x' });
    await tick();
    a.close();
    expect(cancelled).toEqual(['job1']);
  });

  test('a closed tab loses its waiting requests without running them', async () => {
    const { host, jobs } = fakeHost();
    const service = new CorrectionService({ engine: host, jobSettings: settings, isVisible: () => false });
    const running = fakePort();
    const waiting = fakePort();
    service.handlePort(running.port, 1);
    service.handlePort(waiting.port, 2);
    running.start({ site: 'demo', question: '', answer: 'one' });
    waiting.start({ site: 'demo', question: '', answer: 'two' });
    await tick();
    service.cancelTab(2);
    jobs[0]!.finish();
    await tick();
    await tick();
    expect(jobs.map((job) => job.job.answer)).toEqual(['one']);
    expect(waiting.sent.at(-1)).toEqual({ kind: 'error', message: 'The correction was cancelled.' });
  });

  test('a malformed request gets an error on its task, not a crash; a message outside the wire format too', async () => {
    const { host } = fakeHost();
    const service = new CorrectionService({ engine: host, jobSettings: settings, isVisible: () => false });
    const a = fakePort();
    service.handlePort(a.port, 1);
    a.start({ answer: 42 });
    a.raw({ type: 'start', answer: 'old format' });
    a.raw('start');
    await tick();
    expect(a.wire).toEqual([
      { t: 'event', id: 't1', seq: 0, event: { kind: 'error', message: 'Realign received a malformed request.' } },
      { t: 'event', id: 'malformed', seq: 0, event: { kind: 'error', message: 'Realign received a malformed request.' } },
      { t: 'event', id: 'malformed', seq: 0, event: { kind: 'error', message: 'Realign received a malformed request.' } },
    ]);
  });

  test('unusable settings end the request with their message', async () => {
    const { host } = fakeHost();
    const service = new CorrectionService({
      engine: host,
      jobSettings: async () => {
        throw new Error('No server address is set.');
      },
      isVisible: () => false,
    });
    const a = fakePort();
    service.handlePort(a.port, 1);
    a.start({ site: 'demo', question: '', answer: 'x' });
    await tick();
    await tick();
    expect(a.sent.at(-1)).toEqual({ kind: 'error', message: 'No server address is set.' });
  });

  test('a model never approved: the person is asked first (with the size), and only Download starts it', async () => {
    const { host, jobs } = fakeHost();
    const approved: string[] = [];
    const service = new CorrectionService({
      engine: host,
      jobSettings: settings,
      isVisible: () => false,
      consentNeeded: async () => (approved.length ? null : { kind: 'consent', model: 'Qwen2.5 0.5B Instruct', repo: 'a/b', host: 'https://huggingface.co/', bytes: 483e6 }),
      approve: async (consent) => void approved.push(consent.repo),
    });
    const a = fakePort();
    service.handlePort(a.port, 1);
    a.start({ site: 'demo', question: '', answer: 'x' });
    await tick();
    expect(a.sent).toEqual([{ kind: 'consent', model: 'Qwen2.5 0.5B Instruct', repo: 'a/b', host: 'https://huggingface.co/', bytes: 483e6 }]);
    expect(jobs).toEqual([]);
    a.approve();
    await tick();
    await tick();
    expect(approved).toEqual(['a/b']);
    expect(jobs.map((job) => job.job.answer)).toEqual(['x']);
  });

  test('an answer over the size limit is refused with a message saying what to do', async () => {
    const { host, jobs } = fakeHost();
    const service = new CorrectionService({ engine: host, jobSettings: settings, isVisible: () => false });
    const a = fakePort();
    service.handlePort(a.port, 1);
    a.start({ site: 'demo', question: '', answer: 'word '.repeat(40_000) });
    await tick();
    expect(a.sent).toEqual([{ kind: 'error', message: expect.stringMatching(/too long to correct here \(200 KB; the limit is 60 KB\)\. Select a part/) }]);
    expect(jobs).toEqual([]);
  });
});
