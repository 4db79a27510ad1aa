import { expect, test } from 'vitest';
import { CacheStorageSink } from '../../../../model/convert/sinks';

/** Cache Storage as a browser has it, as far as the sink uses it: put reads the whole body. */
function fakeCaches() {
  const entries = new Map<string, Uint8Array>();
  const cache = {
    async put(url: string, response: Response) {
      entries.set(url, new Uint8Array(await response.arrayBuffer()));
    },
    async delete(url: string) {
      return entries.delete(url);
    },
  };
  return { entries, caches: { open: async () => cache } as unknown as CacheStorage };
}

test('a finished file is stored under the URL transformers.js fetches it from', async () => {
  const { entries, caches } = fakeCaches();
  const sink = new CacheStorageSink({ host: 'https://hub.test', repo: 'realign-converted/x', caches });
  const file = await sink.openFile('onnx/model.onnx');
  await file.write(new Uint8Array([1, 2, 3]));
  await file.close();
  await sink.commit();
  expect([...entries.get('https://hub.test/realign-converted/x/resolve/main/onnx/model.onnx')!]).toEqual([1, 2, 3]);
});

test('aborting while a file is still being written ends its stream, settles, and removes what was written', async () => {
  const { entries, caches } = fakeCaches();
  const sink = new CacheStorageSink({ host: 'https://hub.test/', repo: 'realign-converted/x', caches });
  const done = await sink.openFile('config.json');
  await done.write(new TextEncoder().encode('{}'));
  await done.close();
  const open = await sink.openFile('onnx/model.onnx_data');
  await open.write(new Uint8Array(1024));
  // A cancel or a network drop in the middle of a weights file: abort() must not wait forever.
  const settled = await Promise.race([sink.abort().then(() => 'settled'), new Promise((resolve) => setTimeout(() => resolve('hung'), 2000))]);
  expect(settled).toBe('settled');
  expect(entries.size).toBe(0);
});
