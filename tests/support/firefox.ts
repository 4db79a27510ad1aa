import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/** The add-on's id (wxt.config.ts) and the internal UUID these tests pin it to. */
export const FIREFOX_ADDON_ID = 'realign@realign.dev';
export const FIREFOX_ADDON_UUID = '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
export const FIREFOX_EXTENSION_ORIGIN = `moz-extension://${FIREFOX_ADDON_UUID}`;

/**
 * Debian's Firefox ESR, headless, driven over WebDriver BiDi, with the built add-on installed.
 * The add-on's UUID is pinned (so its pages have a known address) and the driver may open
 * extension pages (MOZ_REMOTE_ALLOW_SYSTEM_ACCESS, PLATFORM.md).
 */
export async function launchFirefoxWithExtension(extensionPath: string): Promise<Browser> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: mkdtempSync(join(tmpdir(), 'realign-firefox-')),
    env: { ...process.env, MOZ_REMOTE_ALLOW_SYSTEM_ACCESS: '1' },
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [FIREFOX_ADDON_ID]: FIREFOX_ADDON_UUID }),
      // No network beyond the machine: keep Firefox from calling home.
      'app.update.enabled': false,
      'browser.shell.checkDefaultBrowser': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      'extensions.getAddons.cache.enabled': false,
      'network.captive-portal-service.enabled': false,
    },
  });
  await browser.installExtension(extensionPath);
  return browser;
}

/**
 * Opens one of the add-on's own pages (popup.html, options.html, …). Firefox never reports the
 * navigation of an extension page as finished over BiDi, so this waits for the page's app root.
 */
export async function openExtensionPage(browser: Browser, path: string): Promise<Page> {
  const page = await browser.newPage();
  void page.goto(`${FIREFOX_EXTENSION_ORIGIN}/${path}`).catch(() => undefined);
  await until(page, () => document.readyState === 'complete' && location.protocol === 'moz-extension:', 'the extension page did not open');
  return page;
}

/**
 * Writes settings the way the options page does: a `saveSettings` request from an extension page
 * (Firefox keeps settings in the extension's IndexedDB, out of content scripts' reach).
 * `approvedModels` has no such request (a person approves by a click), so it is written into
 * that IndexedDB directly, as the Chromium tests write storage.local.
 */
export async function setFirefoxSettings(browser: Browser, patch: Record<string, unknown>): Promise<void> {
  const { approvedModels, ...fields } = patch as { approvedModels?: string[] } & Record<string, unknown>;
  const page = await openExtensionPage(browser, 'options.html');
  try {
    const result = await page.evaluate(async (data) => {
      const api = (globalThis as unknown as { browser: { runtime: { sendMessage(m: unknown): Promise<{ res?: unknown; err?: unknown }> } } }).browser;
      // @webext-core/messaging's wire format (utils/messaging.ts).
      return api.runtime.sendMessage({ id: 1, type: 'saveSettings', data, timestamp: Date.now() });
    }, { fields });
    if (!result || result.err) throw new Error(`saveSettings failed: ${JSON.stringify(result?.err)}`);
    if (approvedModels) await page.evaluate(writeApprovals, approvedModels);
  } finally {
    await page.close();
  }
}

/** Runs in an extension page: utils/private-store.ts's layout (idb-keyval database "realign", store "private"). */
async function writeApprovals(approvedModels: string[]): Promise<void> {
  const request = (r: IDBRequest) => new Promise<unknown>((resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(r.error))));
  const db = (await request(indexedDB.open('realign'))) as IDBDatabase;
  const settings = (await request(db.transaction('private').objectStore('private').get('settings'))) as Record<string, unknown>;
  const written = db.transaction('private', 'readwrite');
  written.objectStore('private').put({ ...settings, approvedModels }, 'settings');
  await new Promise((resolve, reject) => ((written.oncomplete = resolve), (written.onerror = () => reject(written.error))));
  db.close();
  // Tells every extension context the value changed, as PrivateItem.setValue does.
  new BroadcastChannel('realign/private-store').postMessage({ key: 'settings', from: 'test' });
}

/**
 * The panels of a page in Firefox, from the test build's hook (the `testHook` message, asked
 * from one of the add-on's pages: the closed shadow roots are out of the driver's reach too).
 */
export async function firefoxPanels(browser: Browser): Promise<{
  of(pageUrl: string): Promise<FirefoxPanel[]>;
  /** Runs an attempt (entrypoints/content/test-hook.ts) inside the page's content script. */
  attempt(pageUrl: string, what: object): Promise<{ ok: boolean; value?: unknown; error?: string }>;
  close(): Promise<void>;
}> {
  const extensionPage = await openExtensionPage(browser, 'options.html');
  const hook = async (pageUrl: string, data: object) => {
    const result = await extensionPage.evaluate(
      async (url, request) => {
        const api = (globalThis as unknown as { browser: { tabs: { query(q: object): Promise<Array<{ id: number; url?: string }>>; sendMessage(id: number, m: unknown): Promise<{ res?: Record<string, unknown>; err?: unknown }> } } }).browser;
        const tab = (await api.tabs.query({})).find((candidate) => candidate.url === url);
        if (!tab) return { err: `no tab at ${url}` };
        return api.tabs.sendMessage(tab.id, { id: 1, type: 'testHook', data: request, timestamp: Date.now() });
      },
      pageUrl,
      data,
    );
    if (!result?.res) throw new Error(`testHook failed: ${JSON.stringify(result?.err)}`);
    return result.res;
  };
  return {
    of: async (pageUrl) => (await hook(pageUrl, { op: 'panels' })).panels as FirefoxPanel[],
    attempt: async (pageUrl, what) => (await hook(pageUrl, { op: 'attempt', attempt: what })).attempt as { ok: boolean; value?: unknown; error?: string },
    close: () => extensionPage.close(),
  };
}

export interface FirefoxPanel {
  phase: string;
  status: string;
  view: string | null;
  body: string | null;
  controls: Array<{ name: string; rect: { x: number; y: number; width: number; height: number } }>;
}

/**
 * Restarts the add-on (runtime.reload from one of its pages) and returns once it runs again.
 * Firefox discards the add-on's tabs as it reloads (the driver is not told they closed), and a tab
 * opened in that moment can be discarded with them ("no such frame"): wait until the reloading
 * page is gone, then open an add-on page again, retrying.
 */
export async function reloadFirefoxExtension(browser: Browser): Promise<void> {
  const reloader = await openExtensionPage(browser, 'options.html');
  await reloader.evaluate(() => void (globalThis as unknown as { browser: { runtime: { reload(): void } } }).browser.runtime.reload()).catch(() => undefined);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && (await reloader.evaluate(() => true).catch(() => false))) await new Promise((resolve) => setTimeout(resolve, 100));
  await reloader.close().catch(() => undefined);
  for (let attempt = 1; ; attempt++) {
    try {
      const page = await openExtensionPage(browser, 'options.html');
      await page.close();
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/**
 * Polls `check` in the page until it holds. A plain loop of evaluations: puppeteer's
 * waitForFunction over BiDi can fail outright ("Waiting failed") when it races a page's load.
 */
export async function until(page: Page, check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await page.evaluate(check).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} (within ${timeoutMs / 1000} s)`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the content script marked the page live. */
export function waitForRealign(page: Page): Promise<void> {
  return until(page, () => document.documentElement.hasAttribute('data-realign-active'), "Realign's content script did not start on the page");
}
