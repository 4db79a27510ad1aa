/**
 * The converter: MB/s and peak memory converting a 320 MB random-weight fp16 checkpoint (generated
 * here, Llama-shaped, 160 M parameters) in Node (a fresh process per conversion) and in Chromium
 * (a plain page reading the test hub's CDN with range requests, writing Cache Storage); and the
 * decode speed of a converted graph against the torch-exported tiny Aligner it was converted from.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { writeRandomCheckpoint, SHAPES } from '../../scripts/converter-fixtures/random-checkpoint';
import { convertCheckpoint } from '../../model/convert/index';
import { FolderSink, localFolderFiles } from '../../model/convert/node';
import { buildPrompt } from '../../model/engine';
import { loadNodeEngine } from '../../model/node-platform';
import { CHROMIUM } from '../support/chromium';
import { startHubServer } from '../support/hub-server';
import { bundlePage } from '../support/bundle-page';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function measureNode(model: string, out: string, dtype: string) {
  const output = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/converter-fixtures/measure-convert.ts', model, out, dtype], { encoding: 'utf8' });
  return JSON.parse(output.trim().split('\n').at(-1)!) as { ms: number; bytesRead: number; bytesWritten: number; baselineRssMB: number; peakRssMB: number };
}

async function measureChromium(model: string, bytes: number): Promise<{ ms: number; peakRssMB: number; baselineRssMB: number; heapMB: number }> {
  const pages = await bundlePage('tests/e2e/converter-page.ts', 'converter');
  const hub = await startHubServer({ repos: { 'bench/random-160m': model }, pages, redirectFilesFrom: 1e6 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless=new', '--no-sandbox', '--enable-precise-memory-info'] });
  try {
    const page = await browser.newPage();
    await page.addInitScript({ content: 'window.__name = (f) => f;' });
    await page.goto(`${hub.url}/pages/converter.html`);
    await page.waitForFunction(() => 'convertInPage' in window);
    // The renderer's resident memory, from /proc: its peak (VmHWM) after the conversion.
    const cdp = await browser.newBrowserCDPSession();
    const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: Array<{ type: string; id: number }> };
    const renderers = processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
    const status = (pid: number, key: string) => Number(/(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(key)) ?? '0 kB')![1]) / 1000;
    const baseline = Math.max(...renderers.map((pid) => status(pid, 'VmRSS')));
    const result = await page.evaluate(
      (options) => (window as unknown as { convertInPage(o: object): Promise<{ ms: number; peakHeap: number; bytesRead: number }> }).convertInPage(options),
      { host: `${hub.url}/`, ortBase: `${hub.url}/pages/ort/`, repo: 'bench/random-160m', target: 'bench/random-160m-q4', dtype: 'q4' },
    );
    if (result.bytesRead !== bytes) throw new Error(`read ${result.bytesRead} of ${bytes} bytes`);
    const peak = Math.max(...renderers.map((pid) => status(pid, 'VmHWM')));
    return { ms: result.ms, peakRssMB: peak, baselineRssMB: baseline, heapMB: result.peakHeap / 1e6 };
  } finally {
    await browser.close();
    await hub.close();
    rmSync(pages, { recursive: true, force: true });
  }
}

async function decodeTokensPerSecond(folder: string, runs = 7): Promise<number> {
  const engine = await loadNodeEngine({ model: folder });
  try {
    const prompt = buildPrompt('aligner-v1', 'What do you think?', 'The plan is bad today. My dog never sleeps.\n\nThe food is bad. It is never fun.');
    await engine.generate(prompt, { maxNewTokens: 64 });
    const rates: number[] = [];
    for (let i = 0; i < runs; i++) {
      let first = -1;
      const start = performance.now();
      const result = await engine.generate(prompt, { maxNewTokens: 64, onText: () => void (first < 0 && (first = performance.now())) });
      rates.push(((result.tokens - 1) / (performance.now() - first)) * 1000);
    }
    return median(rates);
  } finally {
    await engine.dispose();
  }
}

export default async function run(): Promise<Result[]> {
  const root = mkdtempSync(join(tmpdir(), 'realign-convert-bench-'));
  const results: Result[] = [];
  try {
    const model = join(root, 'random-160m');
    const generated = writeRandomCheckpoint(model, SHAPES['bench-200mb']!, 'fp16');
    const mb = generated.bytes / 1e6;
    const note = `${mb.toFixed(0)} MB fp16 safetensors, Llama-shaped, 160 M parameters`;

    for (const dtype of ['q4', 'fp16', 'q8', 'fp32']) {
      const measured = measureNode(model, join(root, `out-${dtype}`), dtype);
      results.push(
        { name: `convert in Node → ${dtype}: throughput`, value: +(mb / (measured.ms / 1000)).toFixed(1), unit: 'MB/s', note },
        { name: `convert in Node → ${dtype}: peak RSS over the process's start`, value: measured.peakRssMB - measured.baselineRssMB, unit: 'MB', note: `largest tensor 65.5 MB; output ${(measured.bytesWritten / 1e6).toFixed(0)} MB` },
      );
      rmSync(join(root, `out-${dtype}`), { recursive: true, force: true });
    }

    const browser = await measureChromium(model, generated.bytes);
    results.push(
      { name: 'convert in Chromium (hub → CDN ranges → Cache Storage) → q4: throughput', value: +(mb / (browser.ms / 1000)).toFixed(1), unit: 'MB/s', note },
      { name: 'convert in Chromium → q4: renderer peak RSS over its start', value: Math.round(browser.peakRssMB - browser.baselineRssMB), unit: 'MB', note: `renderer ${browser.baselineRssMB.toFixed(0)} → peak ${browser.peakRssMB.toFixed(0)} MB; JS heap peak ${browser.heapMB.toFixed(0)} MB` },
    );

    // Decode speed: the converted graph against the torch export it came from (onnxruntime-node).
    const converted = join(root, 'tiny-fp32');
    await convertCheckpoint({ files: localFolderFiles('tests/fixtures/models/tiny-aligner'), sink: new FolderSink(converted), dtype: 'fp32' });
    const original = await decodeTokensPerSecond('tests/fixtures/models/tiny-aligner');
    const mine = await decodeTokensPerSecond(converted);
    results.push(
      { name: 'decode: torch-exported tiny Aligner (onnxruntime-node)', value: +original.toFixed(1), unit: 'tok/s' },
      { name: 'decode: the same weights converted (fp32, onnxruntime-node)', value: +mine.toFixed(1), unit: 'tok/s' },
      { name: 'decode: converted / torch-exported', value: +(mine / original).toFixed(3), unit: 'ratio', budget: '>= 0.8' },
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return results;
}
