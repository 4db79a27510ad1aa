import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startHubServer, type HubServer } from '../support/hub-server';
import { launchWithExtension, setSettings, tinyAlignerSettings, type ExtensionBrowser } from '../support/chromium';
import { Panels } from '../support/panels';
import { askDemo, openPage } from '../support/demo-page';
import { PRESETS } from '../../model/presets';

const MODEL = 'tests/fixtures/models/tiny-aligner';
let hub: HubServer;
let browser: ExtensionBrowser;

beforeAll(async () => {
  mkdirSync('screenshots', { recursive: true });
  // Two repo ids for one folder: switching between them shows which one a correction used.
  hub = await startHubServer({ repos: { 'realign/tiny-aligner': MODEL, 'realign/tiny-aligner-copy': MODEL }, pages: 'tests/fixtures/sites' });
  browser = await launchWithExtension({ webgpu: false });
  await setSettings(browser.worker, tinyAlignerSettings(hub.url));
});
afterAll(async () => {
  await browser?.close();
  await hub?.close();
});

/** The page's tab: by URL where Realign may see it, else the newest tab (no `tabs` permission). */
async function tabIdOf(page: Page): Promise<number> {
  return browser.worker.evaluate(async (url) => {
    const api = (globalThis as unknown as { chrome: { tabs: { query(q: object): Promise<Array<{ id: number; url?: string }>> } } }).chrome;
    const tabs = await api.tabs.query({});
    return tabs.find((tab) => tab.url === url)?.id ?? Math.max(...tabs.map((tab) => tab.id));
  }, page.url());
}

async function openPopupFor(page: Page): Promise<Page> {
  const popup = await browser.context.newPage();
  await popup.goto(`chrome-extension://${browser.extensionId}/popup.html?tab=${await tabIdOf(page)}`);
  return popup;
}

async function demoWithAnswer(answer = 'The weather is bad today.'): Promise<Page> {
  const page = await openPage(browser, `${hub.url}/pages/demo.html`);
  await askDemo(page, 'How is the weather?', answer);
  await page.locator('realign-panel').first().waitFor({ timeout: 30_000 });
  return page;
}

describe('popup', () => {
  test('on a supported page: the site, its adapter health, and its switches', async () => {
    const page = await demoWithAnswer();
    const popup = await openPopupFor(page);
    await expect.poll(() => popup.locator('[data-testid="popup-health"]').getAttribute('data-health')).toBe('ok');
    expect(await popup.locator('[data-testid="popup-site"]').textContent()).toContain('Realign demo chat');
    expect(await popup.locator('[data-testid="popup-site-enabled"]').isChecked()).toBe(true);
    expect(await popup.locator('[data-testid="popup-site-mode"]').inputValue()).toBe('auto');
    await popup.setViewportSize({ width: 360, height: 520 });
    await popup.screenshot({ path: 'screenshots/popup-supported-site.png' });
    await popup.close();
    await page.close();
  });

  test('on a page no adapter knows: says Realign is not active there', async () => {
    const page = await browser.context.newPage();
    await page.route('https://unknown-chat.example/**', (route) => route.fulfill({ contentType: 'text/html', body: '<h1>Some other site</h1>' }));
    await page.goto('https://unknown-chat.example/');
    const popup = await openPopupFor(page);
    // The host name (and the "Enable Realign on this site" button) needs activeTab's grant, which
    // only a click on the toolbar button gives; opened as a page, the popup cannot see the URL.
    await expect.poll(() => popup.locator('[data-testid="popup-site"]').textContent()).toMatch(/Realign does not run on this page/);
    await popup.setViewportSize({ width: 360, height: 420 });
    await popup.screenshot({ path: 'screenshots/popup-unknown-site.png' });
    await popup.close();
    await page.close();
  });

  test('while the model downloads: status and a progress bar with sizes', async () => {
    await browser.worker.evaluate(async () => {
      const api = (globalThis as unknown as { chrome: { offscreen: { hasDocument(): Promise<boolean>; closeDocument(): Promise<void> } } }).chrome;
      if (await api.offscreen.hasDocument()) await api.offscreen.closeDocument();
      await caches.delete('transformers-cache');
    });
    hub.faults.bytesPerSecond = 100_000;
    try {
      const page = await demoWithAnswer();
      const popup = await openPopupFor(page);
      await expect.poll(() => popup.locator('[data-testid="popup-engine"]').getAttribute('data-state'), { timeout: 20_000 }).toBe('downloading');
      expect(await popup.locator('[data-testid="popup-engine"]').textContent()).toMatch(/Downloading: .*KB of 7\d\d KB/);
      expect(await popup.locator('progress').count()).toBe(1);
      // The toolbar icon says a correction is running in that tab (and only there).
      const tabId = await tabIdOf(page);
      const badge = (id: number) =>
        browser.worker.evaluate((tab) => (globalThis as unknown as { chrome: { action: { getBadgeText(d: object): Promise<string> } } }).chrome.action.getBadgeText({ tabId: tab }), id);
      expect(await badge(tabId)).toBe('…');
      expect(await badge(await tabIdOf(popup))).toBe('');
      await popup.setViewportSize({ width: 360, height: 520 });
      await popup.screenshot({ path: 'screenshots/popup-downloading.png' });
      await popup.close();
      await expect.poll(() => page.locator('realign-panel').first().getAttribute('data-phase'), { timeout: 60_000 }).toBe('done');
      await expect.poll(() => badge(tabId)).toBe('');
      await page.close();
    } finally {
      hub.faults.bytesPerSecond = null;
    }
  });

  test('switching the site off removes its panels and stops corrections there', async () => {
    const page = await demoWithAnswer();
    const popup = await openPopupFor(page);
    await popup.locator('[data-testid="popup-site-enabled"]').uncheck();
    await expect.poll(() => page.locator('realign-panel').count()).toBe(0);
    const before = hub.requests.length;
    await askDemo(page, 'Is it fun?', 'It is never fun.');
    await page.waitForTimeout(2500);
    expect(await page.locator('realign-panel').count()).toBe(0);
    expect(hub.requests.slice(before)).toEqual([]);
    await popup.locator('[data-testid="popup-site-enabled"]').check();
    await popup.close();
    await page.close();
  });

  test('"Realign selected answer" runs the keyboard shortcut\'s path on the selected answer', async () => {
    await setSettings(browser.worker, { defaultMode: 'on-demand' });
    const page = await openPage(browser, `${hub.url}/pages/demo.html`);
    // On demand: the existing answer has a Realign button, nothing runs by itself.
    await page.locator('realign-panel').first().waitFor();
    expect(await page.locator('realign-panel').first().getAttribute('data-phase')).toBe('idle');
    await page.evaluate(() => {
      const answer = document.querySelector('[data-role="assistant"] .answer-text')!;
      const range = document.createRange();
      range.selectNodeContents(answer);
      getSelection()!.removeAllRanges();
      getSelection()!.addRange(range);
    });
    const popup = await openPopupFor(page);
    await popup.locator('[data-action="realign-selection"]').click();
    await expect.poll(() => page.locator('realign-panel').first().getAttribute('data-phase'), { timeout: 30_000 }).not.toBe('idle');
    await popup.close();
    await page.close();
    await setSettings(browser.worker, { defaultMode: 'auto' });
  });
});

describe('keyboard shortcut', () => {
  test('the browser really assigns the suggested key, and the popup shows the assigned key', async () => {
    const commands = await browser.worker.evaluate(async () =>
      (globalThis as unknown as { chrome: { commands: { getAll(): Promise<Array<{ name?: string; shortcut?: string }>> } } }).chrome.commands.getAll(),
    );
    expect(commands.find((command) => command.name === 'realign-selection')?.shortcut).toBe('Alt+Shift+K');
    const page = await demoWithAnswer();
    const popup = await openPopupFor(page);
    await expect.poll(() => popup.locator('[data-testid="popup-shortcut"]').textContent()).toContain('Alt+Shift+K');
    await popup.close();
    await page.close();
  });
});

describe('options page', () => {
  test('changing the model there is used by the next correction, without a reload', async () => {
    const options = await browser.context.newPage();
    await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
    expect(await options.locator('[data-testid="options-preset"]').getAttribute('data-value')).toBe('custom');
    await options.locator('[data-testid="options-custom-repo"]').fill('realign/tiny-aligner-copy');
    await options.locator('[data-testid="options-custom-repo"]').blur();
    await expect.poll(() => options.locator('[data-testid="options-saved"]').textContent()).toBe('Saved.');
    await options.screenshot({ path: 'screenshots/options.png', fullPage: true });
    const before = hub.requests.length;
    const page = await demoWithAnswer('It is never fun.');
    await expect.poll(() => page.locator('realign-panel').first().getAttribute('data-phase'), { timeout: 60_000 }).toBe('done');
    expect(hub.requests.slice(before).some((request) => request.url.startsWith('/realign/tiny-aligner-copy/resolve/'))).toBe(true);
    await page.close();
    await options.close();
  });

  test('what a person is typing survives the page re-rendering for another change', async () => {
    const options = await browser.context.newPage();
    await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
    const repo = options.locator('[data-testid="options-custom-repo"]');
    const before = await repo.inputValue();
    await repo.click();
    await repo.press('End');
    await repo.pressSequentially('-typed');
    // Another setting changes meanwhile (another field's save landing, or another page): the
    // options page re-renders with the stored settings while the field still has focus.
    const maxTokens = Number(await options.locator('[data-testid="options-max-tokens"]').inputValue());
    await setSettings(browser.worker, { maxNewTokens: maxTokens + 1 });
    await expect.poll(() => options.locator('[data-testid="options-max-tokens"]').inputValue()).toBe(String(maxTokens + 1));
    expect(await repo.inputValue()).toBe(`${before}-typed`);
    await repo.blur();
    const stored = () =>
      browser.worker.evaluate(async () => (await (globalThis as unknown as { chrome: { storage: { local: { get(k: string): Promise<{ settings: { customRepo: string } }> } } } }).chrome.storage.local.get('settings')).settings.customRepo);
    await expect.poll(stored).toBe(`${before}-typed`);
    await setSettings(browser.worker, { customRepo: before, maxNewTokens: maxTokens });
    await expect.poll(() => repo.inputValue()).toBe(before);
    await options.close();
  });
});

describe('first run and download consent', () => {
  test('a model never approved is not downloaded: the panel asks, and only "Download and correct" fetches it', async () => {
    await setSettings(browser.worker, { approvedModels: [], customRepo: 'realign/tiny-aligner' });
    await browser.worker.evaluate(async () => {
      const api = (globalThis as unknown as { chrome: { offscreen: { hasDocument(): Promise<boolean>; closeDocument(): Promise<void> } } }).chrome;
      if (await api.offscreen.hasDocument()) await api.offscreen.closeDocument();
      await caches.delete('transformers-cache');
    });
    const before = hub.requests.length;
    const page = await demoWithAnswer();
    const panel = page.locator('realign-panel').first();
    await expect.poll(() => panel.getAttribute('data-phase'), { timeout: 30_000 }).toBe('consent');
    const panels = await Panels.of(page);
    expect((await panels.at(0))!.status).toMatch(/needs to download its model once: .*from 127\.0\.0\.1:\d+/);
    await page.waitForTimeout(1000);
    expect(hub.requests.slice(before).filter((request) => request.url.includes('/resolve/'))).toEqual([]);
    await panels.click('approve', { index: 0 });
    await expect.poll(() => panel.getAttribute('data-phase'), { timeout: 60_000 }).toBe('done');
    expect(hub.requests.slice(before).some((request) => request.url.endsWith('/onnx/model.onnx'))).toBe(true);
    // Agreed once: the next answer needs no question.
    await askDemo(page, 'Is it fun?', 'It is never fun.');
    await expect.poll(() => page.locator('realign-panel').last().getAttribute('data-phase'), { timeout: 60_000 }).toBe('done');
    await page.close();
  });

  test('the welcome page names the model and its source, and downloads only when asked', async () => {
    await setSettings(browser.worker, { approvedModels: [] });
    await browser.worker.evaluate(async () => {
      const api = (globalThis as unknown as { chrome: { offscreen: { hasDocument(): Promise<boolean>; closeDocument(): Promise<void> } } }).chrome;
      if (await api.offscreen.hasDocument()) await api.offscreen.closeDocument();
    });
    const welcome = await browser.context.newPage();
    await welcome.goto(`chrome-extension://${browser.extensionId}/welcome.html`);
    expect(await welcome.locator('[data-testid="welcome-model"]').textContent()).toMatch(/realign\/tiny-aligner.*downloaded once from 127\.0\.0\.1:\d+/);
    expect(await welcome.locator('[data-testid="welcome-status"]').count()).toBe(0);
    // The trained correctors come first, each saying what it downloads, keeps and takes to convert.
    const cards = welcome.locator('[data-testid="welcome-presets"] [data-preset]');
    expect(await cards.evaluateAll((labels) => labels.map((label) => label.getAttribute('data-preset')))).toEqual([
      ...PRESETS.filter((preset) => preset.kind === 'trained').map((preset) => preset.id),
      ...PRESETS.filter((preset) => preset.kind !== 'trained').map((preset) => preset.id),
      'custom',
    ]);
    expect(PRESETS.slice(0, 2).map((preset) => preset.kind)).toEqual(['trained', 'trained']);
    expect(await cards.first().textContent()).toMatch(/trained corrector.*4\.4 GB to download once and convert in your browser \(750 MB kept\), then about a minute of converting \(47 s measured/);
    expect(await cards.nth(1).textContent()).toMatch(/13\.5 GB to download .*\(4\.4 GB kept\).*measured.*Experimental/);
    const presetId = () => browser.worker.evaluate(async () => (await (globalThis as unknown as { chrome: { storage: { local: { get(k: string): Promise<{ settings: { presetId: string } }> } } } }).chrome.storage.local.get('settings')).settings.presetId);
    // Choosing one (a real click) chooses the model the button downloads; nothing is downloaded yet.
    const requestsBefore = hub.requests.length;
    await cards.first().click();
    await expect.poll(presetId).toBe('metaaligner-1.1b');
    await expect.poll(() => welcome.locator('[data-action="download"]').textContent()).toBe('Download and convert the model (4.4 GB)');
    expect(await welcome.locator('[data-testid="welcome-model"]').textContent()).toMatch(/MetaAligner 1\.1B \(MetaAligner\/MetaAligner-UltraFeedback-1\.1B\)\. Its weights, about 4\.4 GB, are downloaded once from 127\.0\.0\.1:\d+ and converted in your browser/);
    expect(hub.requests.length).toBe(requestsBefore);
    await welcome.locator('[data-testid="welcome-presets"] [data-preset="custom"]').click();
    await expect.poll(presetId).toBe('custom');
    await expect.poll(() => welcome.locator('[data-testid="welcome-model"]').textContent()).toMatch(/realign\/tiny-aligner/);
    await welcome.screenshot({ path: 'screenshots/welcome.png' });
    await welcome.locator('[data-action="download"]').click();
    await expect.poll(() => welcome.locator('[data-testid="welcome-status"]').textContent(), { timeout: 60_000 }).toMatch(/ready/);
    const stored = await browser.worker.evaluate(async () => {
      const api = (globalThis as unknown as { chrome: { storage: { local: { get(k: string): Promise<{ settings: { approvedModels: string[] } }> } } } }).chrome;
      return (await api.storage.local.get('settings')).settings.approvedModels;
    });
    expect(stored).toEqual([`${hub.url}/|realign/tiny-aligner`]);
    await welcome.close();
  });
});
