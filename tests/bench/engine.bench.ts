/**
 * The engine in Chromium on the tiny Aligner: load time (cold, cached), tokens per second on WASM
 * and WebGPU (SwiftShader: correctness, not GPU speed) through the extension, the same model run
 * bare with transformers.js in a plain page, and the extension's overhead to the first token.
 * Needs the demo build (`npm run build:test`); `npm run bench` builds it first.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { startHubServer } from '../support/hub-server';
import { launchWithExtension, setSettings, tinyAlignerSettings } from '../support/chromium';
import { ORT_WASM_FILES } from '../../utils/build-constants';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };

const QUESTION = 'What do you think?';
const ANSWER = 'The plan is bad today. My dog never sleeps.\n\nThe food is bad. It is never fun.';
const RUNS = 5;

interface Timed {
  firstTokenMs: number;
  totalMs: number;
  tokens: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function barePage(): Promise<string> {
  const folder = join(tmpdir(), `realign-bare-${process.pid}`);
  mkdirSync(join(folder, 'ort'), { recursive: true });
  const bundle = await build({
    entryPoints: [resolve('tests/bench/bare-page-entry.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    external: ['onnxruntime-node', 'sharp'],
  });
  writeFileSync(join(folder, 'bare.js'), bundle.outputFiles[0]!.text);
  writeFileSync(join(folder, 'bare.html'), '<!doctype html><meta charset="utf-8"><title>bare</title><script type="module" src="bare.js"></script>');
  for (const file of ORT_WASM_FILES) cpSync(resolve('node_modules/onnxruntime-web/dist', file), join(folder, 'ort', file));
  return folder;
}

export default async function run(): Promise<Result[]> {
  const results: Result[] = [];
  const pages = await barePage();
  for (const webgpu of [false, true]) {
    const device = webgpu ? 'webgpu' : 'wasm';
    const label = webgpu ? 'WebGPU (SwiftShader)' : 'WASM';
    const hub = await startHubServer({ repos: { 'realign/tiny-aligner': 'tests/fixtures/models/tiny-aligner' }, pages });
    const browser = await launchWithExtension({ webgpu });
    try {
      await setSettings(browser.worker, tinyAlignerSettings(hub.url, { maxNewTokens: 128 }));
      // The extension path: a tab of ours opens the same port a content script opens.
      const page = await browser.context.newPage();
      await page.addInitScript({ content: 'window.__name = (f) => f;' });
      await page.goto(`chrome-extension://${browser.extensionId}/popup.html`);
      const correct = () =>
        page.evaluate(
          ([question, answer]) =>
            new Promise<Timed & { loadMs: number }>((done, fail) => {
              const api = (globalThis as unknown as { chrome: { runtime: { connect(o: object): { postMessage(m: object): void; onMessage: { addListener(f: (m: { kind: string; tokens?: number; message?: string }) => void): void } } } } }).chrome;
              const port = api.runtime.connect({ name: 'realign/correct' });
              const start = performance.now();
              let firstTokenMs = -1;
              let correctingAt = -1;
              port.onMessage.addListener((update) => {
                const now = performance.now() - start;
                if (update.kind === 'correcting') correctingAt = now;
                if (update.kind === 'text' && firstTokenMs < 0) firstTokenMs = now - correctingAt;
                if (update.kind === 'done') done({ firstTokenMs, totalMs: now - correctingAt, tokens: update.tokens ?? 0, loadMs: correctingAt });
                if (update.kind === 'error') fail(new Error(update.message));
              });
              port.postMessage({ type: 'start', site: 'bench', question, answer });
            }),
          [QUESTION, ANSWER],
        );
      const cold = await correct();
      // Free the engine page: the next load reads the weights from the Cache API.
      await browser.worker.evaluate(async () => {
        const api = (globalThis as unknown as { chrome: { offscreen: { closeDocument(): Promise<void> } } }).chrome;
        await api.offscreen.closeDocument();
      });
      const cached = await correct();
      const warm: Timed[] = [];
      for (let i = 0; i < RUNS; i++) warm.push(await correct());

      const bare = await browser.context.newPage();
      await bare.addInitScript({ content: 'window.__name = (f) => f;' });
      await bare.goto(`${hub.url}/pages/bare.html`);
      await bare.waitForFunction(() => 'runBare' in window);
      const bareResult = (await bare.evaluate(
        (options) => (window as unknown as { runBare(o: object): Promise<unknown> }).runBare(options),
        { host: `${hub.url}/`, ortBase: `${hub.url}/pages/ort/`, device, question: QUESTION, answer: ANSWER, runs: RUNS + 1 },
      )) as { loadMs: number; runs: Timed[] };
      const bareWarm = bareResult.runs.slice(1);

      const tps = (runs: Timed[]) => median(runs.map((r) => (r.tokens / r.totalMs) * 1000));
      const extTps = tps(warm);
      const bareTps = tps(bareWarm);
      const overhead = median(warm.map((r) => r.firstTokenMs)) - median(bareWarm.map((r) => r.firstTokenMs));
      results.push(
        { name: `engine ${label}: load, cold (download + session)`, value: Math.round(cold.loadMs), unit: 'ms' },
        { name: `engine ${label}: load, cached (new engine page, no network)`, value: Math.round(cached.loadMs), unit: 'ms' },
        { name: `engine ${label}: tokens/s through the extension`, value: +extTps.toFixed(1), unit: 'tok/s', note: `${warm[0]!.tokens} tokens, median of ${RUNS}` },
        { name: `engine ${label}: tokens/s bare transformers.js page`, value: +bareTps.toFixed(1), unit: 'tok/s' },
        { name: `engine ${label}: extension / bare speed`, value: +(extTps / bareTps).toFixed(3), unit: 'ratio', budget: '>= 0.90' },
        { name: `engine ${label}: first-token overhead (request → first text, minus the model's own)`, value: +overhead.toFixed(1), unit: 'ms', budget: '< 50' },
      );
    } finally {
      await browser.close();
      await hub.close();
    }
  }
  return results;
}
