import { describe, expect, test } from 'vitest';
import { CorrectionQueue } from '../../../entrypoints/background/queue';

type Item = { id: string; tabId: number };

function harness(options: { maxWaiting?: number; visible?: number } = {}) {
  const runs: string[] = [];
  const finishers = new Map<string, () => void>();
  const dropped: string[] = [];
  const positions = new Map<string, number>();
  const queue = new CorrectionQueue<Item>({
    maxWaiting: options.maxWaiting ?? 10,
    isVisible: (tabId) => tabId === (options.visible ?? -1),
    run: (item) => {
      runs.push(item.id);
      return new Promise<void>((resolve) => finishers.set(item.id, resolve));
    },
    onPosition: (item, position) => positions.set(item.id, position),
    onDropped: (item) => dropped.push(item.id),
  });
  const finish = async (id: string) => {
    finishers.get(id)!();
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { queue, runs, finish, dropped, positions };
}

describe('CorrectionQueue', () => {
  test('runs one item at a time, in arrival order', async () => {
    const { queue, runs, finish } = harness();
    queue.enqueue({ id: 'a', tabId: 1 });
    queue.enqueue({ id: 'b', tabId: 1 });
    expect(runs).toEqual(['a']);
    await finish('a');
    expect(runs).toEqual(['a', 'b']);
  });

  test("the visible tab's requests go first", async () => {
    const { queue, runs, finish, positions } = harness({ visible: 2 });
    queue.enqueue({ id: 'a', tabId: 1 });
    queue.enqueue({ id: 'hidden', tabId: 1 });
    queue.enqueue({ id: 'visible', tabId: 2 });
    expect(positions.get('visible')).toBe(1);
    expect(positions.get('hidden')).toBe(2);
    await finish('a');
    expect(runs).toEqual(['a', 'visible']);
  });

  test('at most maxWaiting wait: the oldest waiting one is dropped with a message', () => {
    const { queue, dropped } = harness({ maxWaiting: 2 });
    for (const id of ['run', 'w1', 'w2', 'w3']) queue.enqueue({ id, tabId: 1 });
    expect(dropped).toEqual(['w1']);
    expect(queue.waitingCount).toBe(2);
  });


});
