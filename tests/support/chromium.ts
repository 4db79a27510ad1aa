import { chromium, type BrowserContext, type Worker } from 'playwright-core';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** What `npm start` loads: the demo build (no test hook). */
export const CHROME_DEMO_BUILD = resolve('.output/chrome-mv3-demo');
/** What the e2e tests load: the demo build plus the content script's test hook. */
export const CHROME_TEST_BUILD = resolve('.output/chrome-mv3-e2e');
export const FIREFOX_TEST_BUILD = resolve('.output/firefox-mv3-e2e');
export const CHROME_BUILD = resolve('.output/chrome-mv3');

export interface ExtensionBrowser {
  context: BrowserContext;
  worker: Worker;
  extensionId: string;
  close(): Promise<void>;
}

/**
 * Chromium's flags for a browser with Realign loaded (PLATFORM.md), the one list every such
 * launch uses (tests, benches, `npm start`; plain pages without the extension pass their own few
 * flags). `--disable-extensions-except` is what matters (Playwright adds --disable-extensions);
 * `webgpu` adds --enable-unsafe-webgpu (a SwiftShader adapter); without it there is no adapter,
 * which is the "no WebGPU" case.
 */
export function chromiumArgs(extensionPath: string, options: { webgpu?: boolean; headless?: boolean; args?: string[] } = {}): string[] {
  return [
    ...(options.headless === false ? [] : ['--headless=new']),
    `--disable-extensions-except=${extensionPath}`,
    `--load-extension=${extensionPath}`,
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    ...(options.webgpu ? ['--enable-unsafe-webgpu'] : []),
    ...(options.args ?? []),
  ];
}

/** Debian's Chromium, headless, with the built extension (the test build unless told otherwise). */
export async function launchWithExtension(options: { webgpu: boolean; extensionPath?: string; args?: string[]; profile?: string }): Promise<ExtensionBrowser> {
  const extensionPath = options.extensionPath ?? CHROME_TEST_BUILD;
  if (!existsSync(resolve(extensionPath, 'manifest.json'))) {
    throw new Error(`No built extension at ${extensionPath}: run \`npm run build:test\` first.`);
  }
  const args = chromiumArgs(extensionPath, options);
  const context = await chromium.launchPersistentContext(options.profile ?? '', {
    executablePath: CHROMIUM,
    headless: true,
    args,
    viewport: { width: 1000, height: 900 },
  });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 30_000 }));
  const extensionId = new URL(worker.url()).host;
  return { context, worker, extensionId, close: () => context.close() };
}

/** Writes settings the way the options page does (WXT storage key `local:settings`). */
export async function setSettings(worker: Worker, patch: Record<string, unknown>): Promise<void> {
  await worker.evaluate(async (change) => {
    const api = (globalThis as unknown as { chrome: ChromeLike }).chrome;
    const { settings } = await api.storage.local.get('settings');
    // `settings$` is WXT's version record: these are current (v2) settings, not ones to migrate.
    await api.storage.local.set({ settings: { ...((settings as object) ?? {}), ...change }, settings$: { v: 2 } });
  }, patch);
}

export function tinyAlignerSettings(hubUrl: string, extra: Record<string, unknown> = {}) {
  return {
    presetId: 'custom',
    customRepo: 'realign/tiny-aligner',
    customTemplate: 'aligner-v1',
    customContextLength: 512,
    modelHost: `${hubUrl}/`,
    maxNewTokens: 128,
    defaultMode: 'auto',
    // The person already agreed to these downloads (the consent flow has its own test).
    approvedModels: [`${hubUrl}/|realign/tiny-aligner`, `${hubUrl}/|realign/tiny-aligner-copy`],
    ...extra,
  };
}

/** The few chrome.* calls tests make inside the service worker. */
export interface ChromeLike {
  storage: { local: { get(key: string): Promise<Record<string, unknown>>; set(value: object): Promise<void> } };
  offscreen: { hasDocument(): Promise<boolean>; closeDocument(): Promise<void> };
  runtime: { getContexts(filter: object): Promise<Array<{ documentUrl?: string }>> };
}
