import { describe, expect, test, vi } from 'vitest';
import { CORRECTION_CHANNEL, ENGINE_CHANNEL, serveTasks, TaskClient } from '../../../utils/task-port';
import type { CorrectionUpdate } from '../../../utils/messages';
import { portPair } from '../../support/fake-ports';

/** Lets port messages (each a later task) arrive, even on a loaded machine. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 60));

describe('streaming tasks over a port', () => {
  test('a request streams its events in order and ends at the final one; later events are dropped', async () => {
    const [client, server] = portPair('realign/correct');
    serveTasks(server, CORRECTION_CHANNEL, (request, task) => {
      task.emit({ kind: 'correcting', device: 'wasm' });
      task.emit({ kind: 'text', from: 0, append: request.answer.toUpperCase(), part: 1, parts: 1 });
      task.emit({ kind: 'done', text: request.answer.toUpperCase(), notes: [], tokens: 1, ms: 1 });
      task.emit({ kind: 'error', message: 'after the end' });
    });
    const events: CorrectionUpdate[] = [];
    new TaskClient(client, CORRECTION_CHANNEL).start({ site: 'demo', question: 'q', answer: 'abc' }, (event) => events.push(event));
    await vi.waitFor(() => expect(events.map((event) => event.kind)).toEqual(['correcting', 'text', 'done']));
    await settle();
    expect(events).toHaveLength(3);
  });

  test('signals reach the task; cancel aborts it; one port carries several tasks', async () => {
    const [client, server] = portPair('realign/engine-host');
    const aborted: string[] = [];
    serveTasks(server, ENGINE_CHANNEL, (request, task) => {
      const name = request.kind;
      task.signal.addEventListener('abort', () => aborted.push(name));
      if (request.kind === 'configure') task.emit({ kind: 'ok' });
      return new Promise<void>((resolve) => task.signal.addEventListener('abort', () => resolve()));
    });
    const tasks = new TaskClient(client, ENGINE_CHANNEL);
    const first: string[] = [];
    const watch = tasks.start({ kind: 'watchStatus' }, (event) => first.push(event.kind));
    const second: string[] = [];
    tasks.start({ kind: 'configure', idleCloseMs: 1 }, (event) => second.push(event.kind));
    await settle();
    expect(second).toEqual(['ok']);
    watch.cancel();
    await settle();
    expect(aborted).toEqual(['watchStatus']);
    expect(first).toEqual([]);
  });

  test('the correction signal (approve) arrives validated; anything else is ignored', async () => {
    const [client, server] = portPair('realign/correct');
    const signals: unknown[] = [];
    serveTasks(server, CORRECTION_CHANNEL, (_request, task) => {
      task.onSignal((signal) => signals.push(signal));
      return new Promise(() => undefined);
    });
    const handle = new TaskClient(client, CORRECTION_CHANNEL).start({ site: 'demo', question: '', answer: 'x' }, () => undefined);
    handle.signal({ kind: 'approve' });
    client.postMessage({ t: 'signal', id: 't1', signal: { kind: 'delete-everything' } });
    await settle();
    expect(signals).toEqual([{ kind: 'approve' }]);
  });

  test('the port closing ends every open task with the channel\'s error, and aborts the server side', async () => {
    const [client, server] = portPair('realign/correct');
    let serverAborted = false;
    serveTasks(server, CORRECTION_CHANNEL, (_request, task) => {
      task.signal.addEventListener('abort', () => (serverAborted = true));
      return new Promise(() => undefined);
    });
    const events: CorrectionUpdate[] = [];
    const tasks = new TaskClient(client, CORRECTION_CHANNEL);
    tasks.start({ site: 'demo', question: '', answer: 'x' }, (event) => events.push(event));
    await settle();
    server.disconnect();
    await settle();
    expect(events).toEqual([CORRECTION_CHANNEL.disconnected]);
    expect(tasks.connected).toBe(false);
    // A task started on a closed port ends at once the same way.
    tasks.start({ site: 'demo', question: '', answer: 'y' }, (event) => events.push(event));
    await settle();
    expect(events).toHaveLength(2);
    const [client2, server2] = portPair('realign/correct');
    serveTasks(server2, CORRECTION_CHANNEL, (_r, task) => {
      task.signal.addEventListener('abort', () => (serverAborted = true));
      return new Promise(() => undefined);
    });
    new TaskClient(client2, CORRECTION_CHANNEL).start({ site: 'demo', question: '', answer: 'z' }, () => undefined);
    await settle();
    client2.disconnect();
    await settle();
    expect(serverAborted).toBe(true);
  });

  test('an event out of sequence or of the wrong shape ends the task instead of being trusted', async () => {
    const [client, server] = portPair('realign/correct');
    const events: CorrectionUpdate[] = [];
    new TaskClient(client, CORRECTION_CHANNEL).start({ site: 'demo', question: '', answer: 'x' }, (event) => events.push(event));
    server.postMessage({ t: 'event', id: 't1', seq: 1, event: { kind: 'done', text: 'skipped ahead', notes: [], tokens: 1, ms: 1 } });
    await settle();
    expect(events).toEqual([CORRECTION_CHANNEL.disconnected]);
    const [client2, server2] = portPair('realign/correct');
    const events2: CorrectionUpdate[] = [];
    new TaskClient(client2, CORRECTION_CHANNEL).start({ site: 'demo', question: '', answer: 'x' }, (event) => events2.push(event));
    server2.postMessage({ t: 'event', id: 't1', seq: 0, event: { kind: 'text', text: 'whole text, not a delta' } });
    await settle();
    expect(events2).toEqual([CORRECTION_CHANNEL.disconnected]);
  });

  test('a handler that returns without a final event ends the task with an error; a throw says why', async () => {
    const [client, server] = portPair('realign/engine-host');
    serveTasks(server, ENGINE_CHANNEL, (request) => {
      if (request.kind === 'unload') throw new Error('the engine is gone');
    });
    const tasks = new TaskClient(client, ENGINE_CHANNEL);
    const events: unknown[] = [];
    tasks.start({ kind: 'configure', idleCloseMs: 5 }, (event) => events.push(event));
    tasks.start({ kind: 'unload' }, (event) => events.push(event));
    await settle();
    expect(events).toEqual([
      { kind: 'error', message: 'The task ended without a result.' },
      { kind: 'error', message: 'the engine is gone' },
    ]);
  });
});
