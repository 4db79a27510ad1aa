/**
 * Runs `work` over `items` with at most `concurrency` calls in flight; each call gets the slot it
 * runs in (0 … concurrency-1), so a slot can own per-connection state. Stops taking new items once
 * `signal` aborts. `work` handles its own failures: a rejection stops the pool and is rethrown.
 */
export async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T, slot: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async (slot: number) => {
    while (next < items.length && !signal?.aborted) {
      const item = items[next++]!;
      await work(item, slot);
    }
  };
  const slots = Math.max(1, Math.min(concurrency, items.length));
  await Promise.all(Array.from({ length: slots }, (_, slot) => worker(slot)));
}
