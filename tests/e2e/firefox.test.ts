import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser } from 'puppeteer-core';
import { startHubServer, type HubServer } from '../support/hub-server';
import { FIREFOX_DEMO_BUILD } from '../support/chromium';
import { launchFirefoxWithExtension, openExtensionPage, setFirefoxSettings } from '../support/firefox';
import { tinyAlignerSettings } from '../support/chromium';

let hub: HubServer;
let browser: Browser;

beforeAll(async () => {
  // Any free port: the settings pointing Realign at it are written from an extension page.
  hub = await startHubServer({ repos: { 'realign/tiny-aligner': 'tests/fixtures/models/tiny-aligner' }, pages: 'tests/fixtures/sites' });
  browser = await launchFirefoxWithExtension(FIREFOX_DEMO_BUILD);
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
  await page.waitForFunction(() => document.documentElement.hasAttribute('data-realign-active'), { timeout: 30_000 });
  await page.evaluate(() =>
    (window as unknown as { demoChat: { ask(q: string, a: string, o: object): void } }).demoChat.ask('How is the weather?', 'The weather is bad today.', { chunkMs: 15 }),
  );
  const readStatus = () =>
    page.evaluate(() => document.querySelector('realign-panel')?.shadowRoot?.querySelector('[data-testid="realign-status"]')?.textContent ?? '');
  await expect.poll(readStatus, { timeout: 120_000, interval: 500 }).toMatch(/^1 change\./);
  expect(await readStatus()).toContain('WASM');
  expect(hub.requests.some((request) => request.url.endsWith('/onnx/model.onnx'))).toBe(true);
  const corrected = await page.evaluate(() => {
    const root = document.querySelector('realign-panel')!.shadowRoot!;
    (root.querySelector('[data-view="corrected"]') as HTMLButtonElement).click();
    return new Promise<string>((resolve) => setTimeout(() => resolve(root.querySelector('[data-testid="realign-corrected"]')?.textContent ?? ''), 100));
  });
  expect(corrected.trim()).toBe('The weather is good today.');
});

test('Firefox assigns the suggested shortcut (read from an extension page)', async () => {
  const page = await openExtensionPage(browser, 'popup.html');
  const commands = await page.evaluate(() =>
    (globalThis as unknown as { browser: { commands: { getAll(): Promise<Array<{ name?: string; shortcut?: string }>> } } }).browser.commands.getAll(),
  );
  expect(commands.find((command) => command.name === 'realign-selection')?.shortcut).toBe('Alt+Shift+K');
  await page.waitForFunction(() => document.querySelector('[data-testid="popup-shortcut"]')?.textContent?.includes('Alt+Shift+K'), { timeout: 10_000 });
  await page.close();
});
