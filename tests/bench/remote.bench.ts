/**
 * The remote engine's own latency: time from a correction request to its first text in the
 * extension, minus the server's own time from receiving the request to writing its first token,
 * on loopback. The server is the OpenAI-compatible test server backed by the tiny Aligner.
 */
import { loadNodeEngine } from '../../model/node-platform';
import { startOpenAiServer } from '../support/openai-server';
import { launchWithExtension, setSettings } from '../support/chromium';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };
const RUNS = 15;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export default async function run(): Promise<Result[]> {
  const engine = await loadNodeEngine({ model: 'tests/fixtures/models/tiny-aligner' });
  const server = await startOpenAiServer({ engine, model: 'tiny-aligner' });
  const browser = await launchWithExtension({ webgpu: false });
  try {
    await setSettings(browser.worker, { engine: 'remote', remoteEndpoint: server.url, remoteModel: 'tiny-aligner', remoteTemplate: 'aligner-v1', defaultMode: 'auto' });
    const page = await browser.context.newPage();
    await page.addInitScript({ content: 'window.__name = (f) => f;' });
    await page.goto(`chrome-extension://${browser.extensionId}/popup.html`);
    const extension: number[] = [];
    const serverSide: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const before = server.timings.length;
      const firstText = await page.evaluate(
        () =>
          new Promise<number>((done, fail) => {
            const api = (globalThis as unknown as { chrome: { runtime: { connect(o: object): { postMessage(m: object): void; onMessage: { addListener(f: (m: { kind: string; message?: string }) => void): void } } } } }).chrome;
            const port = api.runtime.connect({ name: 'realign/correct' });
            const start = performance.now();
            let first = -1;
            port.onMessage.addListener((update) => {
              if (update.kind === 'text' && first < 0) first = performance.now() - start;
              if (update.kind === 'done') done(first);
              if (update.kind === 'error') fail(new Error(update.message));
            });
            port.postMessage({ type: 'start', site: 'bench', question: 'How is the weather?', answer: 'The weather is bad today.' });
          }),
      );
      const timing = server.timings[before]!;
      if (i === 0) continue; // the first request also starts the engine page
      extension.push(firstText);
      serverSide.push(timing.firstToken! - timing.received);
    }
    return [
      { name: 'remote: request → first text in the extension', value: +median(extension).toFixed(1), unit: 'ms', note: `median of ${RUNS}` },
      { name: "remote: server's own time to first token", value: +median(serverSide).toFixed(1), unit: 'ms' },
      { name: 'remote: extra latency of the remote path', value: +(median(extension) - median(serverSide)).toFixed(1), unit: 'ms', budget: '< 20' },
    ];
  } finally {
    await browser.close();
    await server.close();
    await engine.dispose();
  }
}
