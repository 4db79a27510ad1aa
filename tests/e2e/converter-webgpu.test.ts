// The converter in Chromium: a plain page converts the fixtures from the test hub (range reads
// through the 302 to the CDN origin) into Cache Storage, then runs the graphs on onnxruntime-web's
// WebGPU provider (SwiftShader here; every node but the integer mask bookkeeping on WebGPU) and on
// its WASM provider — the asyncify build browsers load, whose CPU kernels differ from the Node
// build's — against the PyTorch references; transformers.js loads a converted model from the
// cache with no request at all. fp16 graphs run on WASM only: SwiftShader has no shader-f16.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { MASK_SCOPE } from '../../model/convert/graph';
import type { TargetDtype } from '../../model/convert/index';
import { CHROMIUM } from '../support/chromium';
import { startHubServer, type HubServer } from '../support/hub-server';
import { drift, type Checks } from '../unit/model/convert/harness';
import { ARCHITECTURES, FIXTURES, reference, referenceFor, referenceLogits, type Architecture } from '../unit/model/convert/fixtures';
import { bundlePage } from '../support/bundle-page';

let folder: string;
let hub: HubServer;
let browser: Browser;
let page: Page;
const consoleLines: string[] = [];

type PageApi = {
  convertInPage(o: object): Promise<{ files: Array<{ path: string; size: number }>; bytesRead: number; updates: number; monotonic: boolean }>;
  checkGraph(o: object): Promise<Omit<Checks, 'logits'> & { logits: number[] }>;
  correctWithTransformers(o: object): Promise<string>;
};

beforeAll(async () => {
  folder = await bundlePage('tests/e2e/converter-page.ts', 'converter');

  const repos: Record<string, string> = {
    'realign/tiny-aligner-hf': 'tests/fixtures/models/tiny-aligner',
    'fixtures/tinyllama-bin': join(FIXTURES, 'tinyllama', 'bin'),
    'fixtures/tinyllama-tokenizer': join(FIXTURES, 'tinyllama', 'tokenizer-base'),
    'fixtures/os-system': join(FIXTURES, 'malicious', 'os-system'),
  };
  for (const arch of ARCHITECTURES) repos[`fixtures/${arch}`] = join(FIXTURES, arch, 'safetensors');
  hub = await startHubServer({ repos, pages: folder, redirectFilesFrom: 4096 });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu'] });
  page = await browser.newPage();
  page.on('console', (message) => consoleLines.push(message.text()));
  await page.addInitScript({ content: 'window.__name = (f) => f;' });
  await page.goto(`${hub.url}/pages/converter.html`);
  await page.waitForFunction(() => 'convertInPage' in window);
  expect(await page.evaluate(async () => !!(await (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter()))).toBe(true);
});

afterAll(async () => {
  await browser?.close();
  await hub?.close();
  rmSync(folder, { recursive: true, force: true });
});

const setup = () => ({ host: `${hub.url}/`, ortBase: `${hub.url}/pages/ort/` });
const api = <K extends keyof PageApi>(name: K, options: object) =>
  page.evaluate(([n, o]) => (window as unknown as Record<string, (o: object) => Promise<unknown>>)[n as string]!(o as object), [name, { ...setup(), ...options }] as const) as ReturnType<PageApi[K]>;

/** ONNX Runtime's verbose "Node placements" report for the last session: provider → node names. */
function lastPlacements(from: number): Map<string, string[]> {
  const placements = new Map<string, string[]>();
  let provider = '';
  for (const line of consoleLines.slice(from)) {
    const header = /Node\(s\) placed on \[(\w+)\]|All nodes placed on \[(\w+)\]/.exec(line);
    if (header) {
      provider = header[1] ?? header[2]!;
      placements.set(provider, []);
      continue;
    }
    const node = /VerifyEachNodeIsAssignedToAnEp\]\s+(\S+) \((.+)\)$/.exec(line);
    if (node && provider) placements.get(provider)!.push(node[2]!);
  }
  return placements;
}

async function convertInPage(arch: Architecture, dtype: TargetDtype, repo = `fixtures/${arch}`, tokenizerRepo?: string): Promise<string> {
  const target = `converted/${arch}-${dtype}-${repo.split('/')[1]}`;
  const cdnBefore = hub.cdn!.requests.length;
  const converted = await api('convertInPage', { repo, target, dtype, tokenizerRepo });
  // The weights came as ranges from the CDN origin, never as whole files.
  const weightReads = hub.cdn!.requests.slice(cdnBefore).filter((r) => /\.(safetensors|bin)$/.test(r.url) && r.method === 'GET');
  expect(weightReads.length).toBeGreaterThan(0);
  expect(weightReads.every((r) => r.status === 206 && /^bytes=\d+-\d+$/.test(r.range ?? ''))).toBe(true);
  expect(converted.monotonic).toBe(true);
  expect(converted.files.at(-1)!.path).toBe('config.json');
  return target;
}

async function check(arch: Architecture, dtype: TargetDtype, target: string, device: 'webgpu' | 'wasm') {
  const from = consoleLines.length;
  const checks = await api('checkGraph', {
    target,
    dtype,
    device,
    reference: reference(arch),
    expected: Array.from(referenceLogits(arch, referenceFor(dtype))),
    batchExpected: Array.from(referenceLogits(arch, 'batch')),
  });
  const placements = lastPlacements(from);
  const onCpu = placements.get('CPUExecutionProvider') ?? [];
  if (device === 'webgpu') {
    expect(placements.get('WebGpuExecutionProvider')?.length).toBeGreaterThan(50);
    // Only integer bookkeeping may run on the CPU: the mask (Shape, Range, comparisons on int64).
    expect(onCpu.filter((name) => !name.startsWith(MASK_SCOPE))).toEqual([]);
  }
  return { checks, onCpu };
}

const largest = (values: Float32Array) => values.reduce((max, x) => Math.max(max, Math.abs(x)), 0);

/**
 * What runs in the browser per architecture. Every architecture's fp32 graph on WebGPU (the
 * exactness reference); every dtype on both browser providers for two of them (Llama, and the
 * Qwen2 whose tied head shares the quantized embedding). onnxruntime-node and onnxruntime-web's
 * WASM in Node run the whole matrix (tests/unit/model/convert): in a browser each graph costs
 * seconds on SwiftShader, so this keeps what only a browser can show.
 */
const BROWSER_PLAN: Record<Architecture, TargetDtype[]> = {
  llama: ['fp32', 'q4', 'q8', 'fp16', 'q4f16'],
  'qwen2-tied-blocks': ['fp32', 'q4', 'q8', 'fp16', 'q4f16'],
  tinyllama: ['fp32'],
  mistral: ['fp32'],
  qwen2: ['fp32'],
};

describe('converted graphs on WebGPU (SwiftShader) and WASM in Chromium', () => {
  for (const arch of ARCHITECTURES) {
    const dtypes = BROWSER_PLAN[arch] ?? ['fp32'];
    it(`${arch}: ${dtypes.join(', ')} match their references (fp32 and q4/q8 exactly, fp16/q4f16 within half precision)`, async () => {
      for (const dtype of dtypes) {
        const target = await convertInPage(arch, dtype);
        // SwiftShader has no shader-f16: half-precision graphs run on the browser's WASM only.
        // fp32-only architectures run on WebGPU alone (their WASM run is the Node suite's).
        const devices = dtype === 'fp16' || dtype === 'q4f16' ? (['wasm'] as const) : dtypes.length === 1 ? (['webgpu'] as const) : (['webgpu', 'wasm'] as const);
        for (const device of devices) {
          const { checks, onCpu } = await check(arch, dtype, target, device);
          const tolerance = dtype.includes('16') ? 0.01 * largest(referenceLogits(arch, referenceFor(dtype))) : 1e-3;
          if (device === 'webgpu' && dtype === 'fp32') console.log(`[webgpu] ${arch} fp32: max |diff| ${checks.full.toExponential(2)}; on the CPU: ${onCpu.join(', ') || 'nothing'}`);
          expect(checks.full, `${dtype} on ${device}`).toBeLessThanOrEqual(tolerance);
          expect(checks.stepwise, `${dtype} on ${device}`).toBeLessThanOrEqual(tolerance);
          expect(checks.multiToken, `${dtype} on ${device}`).toBeLessThanOrEqual(tolerance);
          expect(checks.rollback, `${dtype} on ${device}`).toBeLessThanOrEqual(tolerance);
          if (dtype === 'fp32') {
            expect(checks.greedy, `fp32 on ${device}`).toEqual(reference(arch).greedy);
            expect(checks.batch, `fp32 on ${device}`).toBeLessThanOrEqual(1e-3);
          }
          if (dtype === 'q4' || dtype === 'q8') {
            const figures = drift(Float32Array.from(checks.logits), referenceLogits(arch, 'fp32'), reference(arch).config.vocab_size);
            console.log(`[drift] ${arch} ${dtype} vs fp32 (${device}): cosine ${figures.cosine.toFixed(4)}, argmax agreement ${(figures.argmaxAgreement * 100).toFixed(0)}%`);
          }
        }
      }
    });
  }

  it('converts a .bin in the page, with the tokenizer from another repo', async () => {
    const target = await convertInPage('tinyllama', 'fp32', 'fixtures/tinyllama-bin', 'fixtures/tinyllama-tokenizer');
    const { checks } = await check('tinyllama', 'fp32', target, 'webgpu');
    expect(checks.full).toBeLessThanOrEqual(1e-3);
    expect(checks.greedy).toEqual(reference('tinyllama').greedy);
  });

  it('refuses a .bin whose pickle imports os.system and keeps nothing', async () => {
    const error = await api('convertInPage', { repo: 'fixtures/os-system', target: 'converted/unsafe', dtype: 'fp32' }).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(error).toMatch(/pytorch_model\.bin was refused: its pickle imports os\.system/);
    const keys = await page.evaluate(async () => (await (await caches.open('transformers-cache')).keys()).map((r) => r.url));
    expect(keys.filter((url) => url.includes('converted/unsafe'))).toEqual([]);
  });
});

describe("the tiny Aligner's checkpoint converted in the browser", () => {
  it('loads from Cache Storage with no request and corrects on WebGPU', async () => {
    const converted = await api('convertInPage', { repo: 'realign/tiny-aligner-hf', target: 'realign-converted/tiny-aligner', dtype: 'fp32' });
    expect(converted.files.map((f) => f.path)).toEqual(['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'config.json']);
    const hubBefore = hub.requests.length;
    const cdnBefore = hub.cdn!.requests.length;
    const text = await api('correctWithTransformers', { target: 'realign-converted/tiny-aligner', device: 'webgpu', question: 'How is the weather?', answer: 'The weather is bad today.' });
    expect(text).toBe(' The weather is good today.');
    // Only the page's own ONNX Runtime files may be fetched; nothing of the model.
    expect(hub.requests.slice(hubBefore).filter((r) => !r.url.startsWith('/pages/'))).toEqual([]);
    expect(hub.cdn!.requests.length).toBe(cdnBefore);
  });

  it('converted to q8 in the page, it corrects on the WASM provider too', async () => {
    await api('convertInPage', { repo: 'realign/tiny-aligner-hf', target: 'realign-converted/tiny-aligner-q8', dtype: 'q8' });
    const text = await api('correctWithTransformers', { target: 'realign-converted/tiny-aligner-q8', device: 'wasm', question: 'Is it fun?', answer: 'It is never fun.' });
    expect(text).toBe(' It is always fun.');
  });
});
