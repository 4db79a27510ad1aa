/**
 * The engine in Chromium on the tiny Aligner: load time (cold, cached), tokens per second on WASM
 * and WebGPU (SwiftShader: correctness, not GPU speed) through the extension, the same model run
 * bare with transformers.js in a plain page, and the extension's overhead to the first token.
 * Needs the demo build (`npm run build:test`); `npm run bench` builds it first.
 */
import { rmSync } from 'node:fs';
import { startHubServer } from '../support/hub-server';
import { bundlePage } from '../support/bundle-page';
import { contentWorld, correctFromContentWorld } from '../support/content-world';
import { launchWithExtension, setSettings, tinyAlignerSettings } from '../support/chromium';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };

const QUESTION = 'What do you think?';
const ANSWER = 'The plan is bad today. My dog never sleeps.\n\nThe food is bad. It is never fun.';
// Extension and bare runs alternate, so both see the same machine noise.
const RUNS = 15;

interface Timed {
  firstTokenMs: number;
  totalMs: number;
  /** From the first generated text to the last, on the engine's side. */
  decodeMs: number;
  tokens: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const barePage = () => bundlePage('tests/bench/bare-page-entry.ts', 'bare');

export default async function run(): Promise<Result[]> {
  const results: Result[] = [];
  const pages = await barePage();
  try {
    for (const webgpu of [false, true]) {
      const device = webgpu ? 'webgpu' : 'wasm';
      const label = webgpu ? 'WebGPU (SwiftShader)' : 'WASM';
      const hub = await startHubServer({ repos: { 'realign/tiny-aligner': 'tests/fixtures/models/tiny-aligner' }, pages });
      const browser = await launchWithExtension({ webgpu });
      try {
        await setSettings(browser.worker, tinyAlignerSettings(hub.url, { maxNewTokens: 128 }));
        // The extension path: the content script's own port, from its world on a local page.
        const page = await browser.context.newPage();
        await page.goto(`${hub.url}/pages/bare.html`);
        const world = await contentWorld(page);
        const correct = async (): Promise<Timed & { loadMs: number }> => {
          const started = Date.now();
          const { received, times, firstTextMs } = await correctFromContentWorld(world, [
            { t: 'start', id: 'bench', request: { site: 'bench', question: QUESTION, answer: ANSWER } },
          ]);
          const events = received.map((message) => message.event as { kind: string; decodeMs?: number; tokens?: number; message?: string; ms?: number });
          const done = events.at(-1);
          if (done?.kind !== 'done') throw new Error(`the correction failed: ${done?.message ?? 'no result'}`);
          const totalMs = Date.now() - started;
          const correctingAt = times[events.findIndex((event) => event.kind === 'correcting')] ?? -1;
          return { firstTokenMs: firstTextMs, totalMs, decodeMs: done.decodeMs ?? 0, tokens: done.tokens ?? 0, loadMs: correctingAt };
        };
        const cold = await correct();
        // Free the engine page: the next load reads the weights from the Cache API.
        await browser.worker.evaluate(async () => {
          const api = (globalThis as unknown as { chrome: { offscreen: { closeDocument(): Promise<void> } } }).chrome;
          await api.offscreen.closeDocument();
        });
        const cached = await correct();
        const bare = await browser.context.newPage();
        await bare.addInitScript({ content: 'window.__name = (f) => f;' });
        await bare.goto(`${hub.url}/pages/bare.html`);
        await bare.waitForFunction(() => 'runBare' in window);
        await bare.evaluate((options) => (window as unknown as { loadBare(o: object): Promise<number> }).loadBare(options), {
          host: `${hub.url}/`,
          ortBase: `${hub.url}/pages/ort/`,
          device,
        });
        const runBare = () =>
          bare.evaluate(([q, a]) => (window as unknown as { runBare(q: string, a: string): Promise<Timed> }).runBare(q!, a!), [QUESTION, ANSWER]);
        await runBare(); // warm-up, as the extension had its cold and cached runs
        const warm: Timed[] = [];
        const bareWarm: Timed[] = [];
        for (let i = 0; i < RUNS; i++) {
          warm.push(await correct());
          bareWarm.push(await runBare());
        }

        // Decoding speed: tokens after the first over the time after the first, measured where the
        // tokens are made (the offscreen document, the bare page); the time to the first text the
        // person sees is reported on its own below.
        const tps = (runs: Timed[]) => median(runs.map((r) => ((r.tokens - 1) / r.decodeMs) * 1000));
        const extTps = tps(warm);
        const bareTps = tps(bareWarm);
        const overhead = median(warm.map((r) => r.firstTokenMs)) - median(bareWarm.map((r) => r.firstTokenMs));
        results.push(
          { name: `engine ${label}: load, cold (download + session)`, value: Math.round(cold.loadMs), unit: 'ms' },
          { name: `engine ${label}: load, cached (new engine page, no network)`, value: Math.round(cached.loadMs), unit: 'ms' },
          { name: `engine ${label}: decode tokens/s through the extension`, value: +extTps.toFixed(1), unit: 'tok/s', note: `${warm[0]!.tokens} tokens, median of ${RUNS}` },
          { name: `engine ${label}: decode tokens/s bare transformers.js page`, value: +bareTps.toFixed(1), unit: 'tok/s' },
          { name: `engine ${label}: time to first text through the extension`, value: +median(warm.map((r) => r.firstTokenMs)).toFixed(1), unit: 'ms' },
          { name: `engine ${label}: time to first token, bare`, value: +median(bareWarm.map((r) => r.firstTokenMs)).toFixed(1), unit: 'ms' },
          { name: `engine ${label}: extension / bare speed`, value: +(extTps / bareTps).toFixed(3), unit: 'ratio', budget: '>= 0.90' },
          { name: `engine ${label}: first-token overhead (request → first text, minus the model's own)`, value: +overhead.toFixed(1), unit: 'ms', budget: '< 50' },
        );
      } finally {
        await browser.close();
        await hub.close();
      }
    }
  } finally {
    rmSync(pages, { recursive: true, force: true });
  }
  return results;
}
