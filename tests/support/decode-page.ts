/**
 * A plain page in headless Chromium running the engine's decode loop (tests/bench/decode-page-entry.ts,
 * bundled with esbuild) on the tiny Aligner fixtures served by the local hub, on WebGPU
 * (SwiftShader, --enable-unsafe-webgpu) or WASM. Used by the Chromium decode test and bench.
 */
import { rmSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bundlePage } from './bundle-page';
import { CHROMIUM } from './chromium';
import { startHubServer, type HubServer } from './hub-server';

export interface DecodePage {
  page: Page;
  hub: HubServer;
  /** Loads `repo` on `device`; the model's key for the page's other functions. */
  load(repo: string, device: 'webgpu' | 'wasm'): Promise<{ key: string; multiToken: boolean; gpuResident: boolean }>;
  call<T>(name: string, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

export async function openDecodePage(repos: Record<string, string>): Promise<DecodePage> {
  const folder = await bundlePage('tests/bench/decode-page-entry.ts', 'decode');
  const hub = await startHubServer({ repos, pages: folder });
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking'],
    });
    const page = await browser.newPage();
    await page.addInitScript({ content: 'window.__name = (f) => f;' });
    await page.goto(`${hub.url}/pages/decode.html`);
    await page.waitForFunction(() => 'loadDecodeModel' in window);
    const call = <T>(name: string, ...args: unknown[]) =>
      page.evaluate(([fn, rest]) => (window as unknown as Record<string, (...a: unknown[]) => unknown>)[fn as string]!(...(rest as unknown[])), [name, args] as const) as Promise<T>;
    const opened = browser;
    return {
      page,
      hub,
      call,
      async load(repo, device) {
        const result = await call<{ multiToken: boolean; gpuResident: boolean }>('loadDecodeModel', { host: `${hub.url}/`, ortBase: `${hub.url}/pages/ort/`, device, repo });
        return { key: `${repo}@${device}`, ...result };
      },
      async close() {
        await opened.close();
        await hub.close();
        rmSync(folder, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await browser?.close();
    await hub.close();
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}
