// Measurements in Chromium with the converter's test page (tests/e2e/converter-page.ts):
//   node --import tsx scripts/converter-fixtures/measure-browser.ts convert <checkpoint folder> <dtype>
//     converts in a page from a loopback hub (302 to a CDN origin, range reads) into Cache Storage
//   node --import tsx scripts/converter-fixtures/measure-browser.ts load <converted folder> <webgpu|wasm> [steps]
//     creates an onnxruntime-web session for a converted graph (e.g. does a 7B fit?) and runs steps
// WebGPU is SwiftShader here (--enable-unsafe-webgpu): it says whether a session can be created,
// not how fast a GPU is. Prints JSON, including the renderer's peak resident memory.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { CHROMIUM } from '../../tests/support/chromium';
import { startHubServer } from '../../tests/support/hub-server';
import { ORT_WASM_FILES } from '../../utils/build-constants';

const [mode, folder, arg, stepsArg = '1'] = process.argv.slice(2);
if (!['convert', 'load'].includes(mode ?? '') || !folder || !arg) {
  console.error('usage: measure-browser.ts convert <checkpoint folder> <dtype> | load <converted folder> <webgpu|wasm> [steps]');
  process.exit(2);
}
const pages = mkdtempSync(join(tmpdir(), 'realign-measure-page-'));
mkdirSync(join(pages, 'ort'));
const bundle = await build({ entryPoints: [resolve('tests/e2e/converter-page.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent', external: ['onnxruntime-node', 'sharp', 'node:*'] });
writeFileSync(join(pages, 'converter.js'), bundle.outputFiles[0]!.text);
writeFileSync(join(pages, 'converter.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="converter.js"></script>');
for (const file of ORT_WASM_FILES) cpSync(resolve('node_modules/onnxruntime-web/dist', file), join(pages, 'ort', file));
const hub = await startHubServer({ repos: { 'measure/model': folder }, pages, redirectFilesFrom: 1e6 });
// A persistent profile on disk, as the extension has: an incognito context keeps Cache Storage
// in memory with a small quota (a 707 MB entry fails there with "Unexpected internal error").
const profile = mkdtempSync(join(tmpdir(), 'realign-measure-profile-'));
const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-precise-memory-info'] });
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => process.env.VERBOSE && console.error(m.text()));
  await page.addInitScript({ content: 'window.__name = (f) => f;' });
  await page.goto(`${hub.url}/pages/converter.html`);
  await page.waitForFunction(() => 'convertInPage' in window);
  // This profile's renderer and GPU processes, found by their command lines.
  const processes = readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (!cmdline.includes(profile)) return [];
        const type = /--type=([\w-]+)/.exec(cmdline)?.[1];
        return type === 'renderer' || type === 'gpu-process' ? [{ pid, type }] : [];
      } catch {
        return [];
      }
    });
  const memory = (key: string) => {
    const out: Record<string, number> = {};
    for (const { pid, type } of processes) {
      try {
        const kb = Number(/(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(key)) ?? '0 kB')![1]);
        out[type] = Math.max(out[type] ?? 0, kb / 1000);
      } catch {
        // the process ended
      }
    }
    return out;
  };
  const before = memory('VmRSS');
  const setup = { host: `${hub.url}/`, ortBase: `${hub.url}/pages/ort/` };
  const call = (name: string, options: object) => page.evaluate(([n, o]) => (window as unknown as Record<string, (o: object) => Promise<unknown>>)[n as string]!(o as object), [name, { ...setup, ...options }] as const);
  let result: unknown;
  if (mode === 'convert') {
    result = await call('convertInPage', { repo: 'measure/model', target: 'measure/converted', dtype: arg });
  } else {
    const onnx = readdirSync(join(folder, 'onnx'));
    const graph = onnx.find((f) => f.endsWith('.onnx'))!;
    result = await call('loadAndStep', { url: `${hub.url}/measure/model/resolve/main/onnx/${graph}`, dataFiles: onnx.filter((f) => f.startsWith(`${graph}_data`)).sort(), device: arg, steps: Number(stepsArg) });
  }
  console.log(JSON.stringify({ mode, folder, arg, result, rssBeforeMB: before, peakRssMB: memory('VmHWM') }, (key, value) => (key === 'files' ? undefined : value)));
} finally {
  await context.close();
  await hub.close();
  rmSync(pages, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
}
