import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser } from 'puppeteer-core';
import { startHubServer, type HubServer } from '../support/hub-server';
import { FIREFOX_TEST_BUILD } from '../support/chromium';
import { firefoxPanels, launchFirefoxWithExtension, openExtensionPage, reloadFirefoxExtension, setFirefoxSettings, until, waitForRealign } from '../support/firefox';
import { PRIVILEGED_ATTEMPTS } from '../support/privileged';
import { tinyAlignerSettings } from '../support/chromium';

let hub: HubServer;
let browser: Browser;

beforeAll(async () => {
  // Any free port: the settings pointing Realign at it are written from an extension page.
  hub = await startHubServer({
    repos: { 'realign/tiny-aligner': 'tests/fixtures/models/tiny-aligner', 'realign/tiny-aligner-hf': 'tests/fixtures/models/tiny-aligner' },
    pages: 'tests/fixtures/sites',
    redirectFilesFrom: 4096,
  });
  browser = await launchFirefoxWithExtension(FIREFOX_TEST_BUILD);
  await setFirefoxSettings(browser, tinyAlignerSettings(hub.url));
});
afterAll(async () => {
  await browser?.close();
  await hub?.close();
});

test('Firefox: a finished answer is corrected through the background page on WASM', async () => {
  const page = await browser.newPage();
  await page.goto(`${hub.url}/pages/demo.html`);
  // Give the content script its start, then stream an answer the way the site would.
  await waitForRealign(page);
  await page.evaluate(() =>
    (window as unknown as { demoChat: { ask(q: string, a: string, o: object): void } }).demoChat.ask('How is the weather?', 'The weather is bad today.', { chunkMs: 15 }),
  );
  const url = page.url();
  const panels = await firefoxPanels(browser);
  const lastPanel = async () => (await panels.of(url)).at(-1);
  await page.bringToFront();
  await expect.poll(async () => (await lastPanel())?.status ?? '', { timeout: 120_000, interval: 500 }).toMatch(/^1 change · /);
  expect((await lastPanel())!.status).toContain('WASM');
  expect(hub.requests.some((request) => request.url.endsWith('/onnx/model.onnx'))).toBe(true);
  // The page cannot reach the panel: its shadow root is closed.
  expect(await page.evaluate(() => document.querySelector('realign-panel')?.shadowRoot === null)).toBe(true);
  // A real click (trusted input from the driver) on the Corrected tab.
  let panel = (await lastPanel())!;
  if (panel.body === null) {
    const expand = panel.controls.find((control) => control.name === 'collapse')!;
    await page.mouse.click(expand.rect.x + expand.rect.width / 2, expand.rect.y + expand.rect.height / 2);
    await expect.poll(async () => (await lastPanel())!.body !== null).toBe(true);
    panel = (await lastPanel())!;
  }
  const tab = panel.controls.find((control) => control.name === 'corrected')!;
  await page.mouse.click(tab.rect.x + tab.rect.width / 2, tab.rect.y + tab.rect.height / 2);
  await expect.poll(async () => (await lastPanel())!.view).toBe('corrected');
  const corrected = (await lastPanel())!.body ?? '';
  await panels.close();
  expect(corrected.trim()).toBe('The weather is good today.');
});

test('Firefox assigns the suggested shortcut (read from an extension page)', async () => {
  const page = await openExtensionPage(browser, 'popup.html');
  const commands = await page.evaluate(() =>
    (globalThis as unknown as { browser: { commands: { getAll(): Promise<Array<{ name?: string; shortcut?: string }>> } } }).browser.commands.getAll(),
  );
  expect(commands.find((command) => command.name === 'realign-selection')?.shortcut).toBe('Alt+Shift+K');
  await until(page, () => document.querySelector('[data-testid="popup-shortcut"]')?.textContent?.includes('Alt+Shift+K') === true, 'the popup does not show the shortcut', 10_000);
  await page.close();
});

test('Firefox: the page cannot drive the panel, and a content script holds no secrets and may send nothing privileged', async () => {
  await setFirefoxSettings(browser, { defaultMode: 'on-demand' });
  // A secret a content script must never see: the remote server's API key, typed in the options page.
  const options = await openExtensionPage(browser, 'options.html');
  // The server's fields show once "A server I run" is picked (a real click).
  await options.waitForSelector('[data-testid="options-engine-remote"]');
  await options.click('[data-testid="options-engine-remote"]');
  await options.waitForSelector('input[type="password"]');
  await options.type('input[type="password"]', 'sk-firefox-secret');
  await options.$eval('input[type="password"]', (input) => (input as HTMLInputElement).blur());
  // It was kept, in the extension's own IndexedDB (where content scripts cannot look).
  await expect
    .poll(() =>
      options.evaluate(
        () =>
          new Promise<string>((resolve) => {
            const open = indexedDB.open('realign');
            open.onsuccess = () => {
              const get = open.result.transaction('private').objectStore('private').get('remoteApiKey');
              get.onsuccess = () => resolve(String(get.result ?? ''));
            };
            open.onerror = () => resolve('');
          }),
      ),
    )
    .toBe('sk-firefox-secret');
  await options.close();

  const page = await browser.newPage();
  await page.goto(`${hub.url}/pages/demo.html`);
  await waitForRealign(page);
  const url = page.url();
  const panels = await firefoxPanels(browser);
  await expect.poll(async () => (await panels.of(url)).at(0)?.phase, { timeout: 30_000 }).toBe('idle');
  // Synthetic clicks from the page (untrusted) on the panel's place start nothing.
  await page.evaluate(() => {
    const host = document.querySelector('realign-panel')!;
    const box = host.getBoundingClientRect();
    (host as HTMLElement).click();
    document.elementFromPoint(box.x + box.width - 70, box.y + 15)?.dispatchEvent(new MouseEvent('click', { bubbles: true, composed: true }));
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect((await panels.of(url))[0]!.phase).toBe('idle');

  // Storage: nothing privileged is in storage.local (which Firefox content scripts can read).
  const storage = await panels.attempt(url, { kind: 'storage' });
  expect(storage.ok).toBe(true);
  expect(JSON.stringify(storage.value)).not.toContain('sk-firefox-secret');
  expect(Object.keys(storage.value as object)).not.toContain('settings');
  // Privileged requests from the content script are refused; its own site's settings are not.
  for (const [name, data] of PRIVILEGED_ATTEMPTS) {
    const result = await panels.attempt(url, { kind: 'message', name, data });
    expect(result, name).toMatchObject({ ok: false, error: expect.stringMatching(/refused/) });
  }
  const before = await panels.attempt(url, { kind: 'message', name: 'pageConfig', data: { site: 'demo' } });
  expect(before).toMatchObject({ ok: true, value: { mode: 'on-demand' } });
  const view = (before.value as { view: string }).view;
  // Values a content script plants in storage.local (which it may write in Firefox) are never read:
  // not on a restart of the background either (the one-time import of old values has run).
  const otherView = view === 'changes' ? 'corrected' : 'changes';
  const planted = { settings: { engine: 'remote', remoteEndpoint: 'http://attacker.test', defaultMode: 'auto' }, remoteApiKey: 'planted', siteViews: { demo: otherView } };
  expect(await panels.attempt(url, { kind: 'storageWrite', items: planted })).toMatchObject({ ok: true });
  const unchanged = { ok: true, value: { mode: 'on-demand', view } };
  expect(await panels.attempt(url, { kind: 'message', name: 'pageConfig', data: { site: 'demo' } })).toMatchObject(unchanged);
  await panels.close();
  await page.close();
  await reloadFirefoxExtension(browser);
  const after = await browser.newPage();
  await after.goto(`${hub.url}/pages/demo.html`);
  await waitForRealign(after);
  const panelsAfter = await firefoxPanels(browser);
  expect(await panelsAfter.attempt(after.url(), { kind: 'message', name: 'pageConfig', data: { site: 'demo' } })).toMatchObject(unchanged);
  await panelsAfter.close();
  await after.close();
  await setFirefoxSettings(browser, { defaultMode: 'auto' });
});

test('Firefox: a PyTorch checkpoint is converted in the background page, then corrects', async () => {
  await setFirefoxSettings(browser, { defaultMode: 'auto', customRepo: 'realign/tiny-aligner-hf', customConvert: true, approvedModels: [`${hub.url}/|realign/tiny-aligner-hf`] });
  const page = await browser.newPage();
  // An address of its own: the panels are found by the tab's address.
  await page.goto(`${hub.url}/pages/demo.html?converted`);
  await waitForRealign(page);
  await page.evaluate(() =>
    (window as unknown as { demoChat: { ask(q: string, a: string, o: object): void } }).demoChat.ask('Is it fun?', 'It is never fun.', { chunkMs: 15 }),
  );
  const panels = await firefoxPanels(browser);
  const url = page.url();
  await expect.poll(async () => (await panels.of(url)).at(-1)?.status ?? '', { timeout: 120_000, interval: 500 }).toMatch(/^1 change · /);
  expect(hub.cdn!.requests.some((request) => request.url.endsWith('.safetensors') && request.status === 206)).toBe(true);
  await panels.close();
  await page.close();
  await setFirefoxSettings(browser, { customRepo: 'realign/tiny-aligner', customConvert: false });
});
