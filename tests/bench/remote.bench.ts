/**
 * The remote engine's own latency: time from a correction request to its first text in the
 * extension, minus the server's own time from receiving the request to writing its first token,
 * on loopback. The server is the OpenAI-compatible test server backed by the tiny Aligner.
 */
import { loadNodeEngine } from '../../model/node-platform';
import { startOpenAiServer } from '../support/openai-server';
import { launchWithExtension, setSettings } from '../support/chromium';
import { contentWorld, correctFromContentWorld } from '../support/content-world';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };
const RUNS = 15;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export default async function run(): Promise<Result[]> {
  const engine = await loadNodeEngine({ model: 'tests/fixtures/models/tiny-aligner' });
  const server = await startOpenAiServer({ engine, model: 'tiny-aligner' });
  const browser = await launchWithExtension({ webgpu: false });
  try {
    await setSettings(browser.worker, { engine: 'remote', remoteEndpoint: server.url, remoteModel: 'tiny-aligner', remoteTemplate: 'aligner-v1', defaultMode: 'auto' });
    // The content script's own path: a page it runs on, and its world's correction port.
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/`);
    const world = await contentWorld(page);
    const extension: number[] = [];
    const serverSide: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const before = server.timings.length;
      const { received, firstTextMs: firstText } = await correctFromContentWorld(world, [
        { t: 'start', id: 'bench', request: { site: 'bench', question: 'How is the weather?', answer: 'The weather is bad today.' } },
      ]);
      const last = received.at(-1)?.event;
      if (last?.kind !== 'done') throw new Error(`the correction failed: ${last?.message ?? 'no result'}`);
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
