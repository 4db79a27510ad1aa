// Screenshots of every page and panel state, light and dark, for review and the store
// (screenshots/, not committed). Each shot also checks the state it shows, so a broken state
// cannot slip through as a picture.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { loadNodeEngine } from '../../model/node-platform';
import type { TransformersEngine } from '../../model/transformers-engine';
import { setSettings, tinyAlignerSettings, type ExtensionBrowser } from '../support/chromium';
import { askDemo, openPage } from '../support/demo-page';
import type { HubServer } from '../support/hub-server';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server';
import { Panels } from '../support/panels';
import { startTinyAlignerBrowser } from '../support/tiny-setup';

let hub: HubServer;
let browser: ExtensionBrowser;
let close: () => Promise<void> = async () => undefined;
let engine: TransformersEngine;
let server: OpenAiServer;

beforeAll(async () => {
  mkdirSync('screenshots', { recursive: true });
  ({ hub, browser, close } = await startTinyAlignerBrowser());
  engine = await loadNodeEngine({ model: 'tests/fixtures/models/tiny-aligner' });
  server = await startOpenAiServer({ engine, model: 'tiny-aligner' });
});
afterAll(async () => {
  await close();
  await server?.close();
  await engine?.dispose();
});

type Scheme = 'light' | 'dark';

async function shootPanel(page: Page, name: string, scheme: Scheme): Promise<void> {
  const turn = page.locator('[data-role="assistant"]').last();
  await turn.evaluate((element) => element.scrollIntoView({ block: 'center' }));
  await page.mouse.move(0, 0);
  await turn.screenshot({ path: `screenshots/panel-${name}-${scheme}.png`, animations: 'disabled' });
}

async function extensionPage(path: string, scheme: Scheme, size: { width: number; height: number }): Promise<Page> {
  const page = await browser.context.newPage();
  await page.emulateMedia({ colorScheme: scheme });
  await page.setViewportSize(size);
  await page.goto(`chrome-extension://${browser.extensionId}/${path}`);
  return page;
}

describe.each(['light', 'dark'] as const)('%s', (scheme) => {
  test('panel states: no changes, an error, consent to download, unusable output', async () => {
    await setSettings(browser.worker, tinyAlignerSettings(hub.url));
    // No changes needed: one quiet line, no Copy.
    let page = await openPage(browser, `${hub.url}/pages/demo.html`, { colorScheme: scheme });
    await askDemo(page, 'How is the weather?', 'The weather is good today.');
    let panels = await Panels.of(page);
    const quiet = await panels.waitForDone();
    expect(quiet.status).toMatch(/^No changes needed · /);
    expect(quiet.controls.map((control) => control.name)).not.toContain('copy');
    expect(quiet.body).toBeNull();
    await shootPanel(page, 'no-changes', scheme);
    await page.close();

    // An error (a model the hub does not have), with Retry.
    await setSettings(browser.worker, { customRepo: 'realign/not-there', approvedModels: [`${hub.url}/|realign/not-there`] });
    page = await openPage(browser, `${hub.url}/pages/demo.html`, { colorScheme: scheme });
    await askDemo(page, 'How is the weather?', 'The weather is bad today.');
    panels = await Panels.of(page);
    const failed = await panels.waitForPhase('error');
    expect(failed.status).toMatch(/realign\/not-there/);
    expect(failed.controls.map((control) => control.name)).toContain('retry');
    await shootPanel(page, 'error', scheme);
    await page.close();

    // Consent: the model was never approved.
    await setSettings(browser.worker, { customRepo: 'realign/tiny-aligner', approvedModels: [] });
    await browser.worker.evaluate(() => caches.delete('transformers-cache'));
    page = await openPage(browser, `${hub.url}/pages/demo.html`, { colorScheme: scheme });
    await askDemo(page, 'How is the weather?', 'The weather is bad today.');
    panels = await Panels.of(page);
    const consent = await panels.waitForPhase('consent');
    expect(consent.controls.map((control) => control.name)).toEqual(expect.arrayContaining(['approve', 'not-now']));
    await shootPanel(page, 'consent', scheme);
    await page.close();

    // Unusable output: a server that comments on the answer instead of correcting it.
    await setSettings(browser.worker, { ...tinyAlignerSettings(hub.url), engine: 'remote', remoteEndpoint: server.url, remoteModel: 'tiny-aligner', remoteTemplate: 'aligner-v1' });
    server.faults.replaceAnswer = 'The answer is correct and needs no changes.';
    try {
      page = await openPage(browser, `${hub.url}/pages/demo.html`, { colorScheme: scheme });
      await askDemo(page, 'How is the weather?', 'The weather is bad today.');
      panels = await Panels.of(page);
      const unusable = await panels.waitForDone();
      expect(unusable.status).toBe('The model commented on the answer instead of correcting it. The answer is unchanged.');
      expect(unusable.body).toBeNull();
      expect(unusable.html).toContain('What the model wrote');
      await shootPanel(page, 'unusable', scheme);
      await page.close();
    } finally {
      server.faults.replaceAnswer = null;
      await setSettings(browser.worker, tinyAlignerSettings(hub.url, { engine: 'local' }));
    }
  });

  test('a narrow chat column: the status keeps its row and no control overlaps another', async () => {
    const page = await openPage(browser, `${hub.url}/pages/demo.html`, { colorScheme: scheme });
    await page.setViewportSize({ width: 420, height: 800 });
    await askDemo(page, 'What do you think?', 'The plan is bad today. My dog never sleeps.');
    const panels = await Panels.of(page);
    const panel = await panels.waitForDone();
    const boxes = panel.controls.map((control) => control.rect);
    for (const [i, a] of boxes.entries()) {
      // Inside the panel, and clear of every other control.
      expect(a.x).toBeGreaterThanOrEqual(panel.host.x - 0.5);
      expect(a.x + a.width).toBeLessThanOrEqual(panel.host.x + panel.host.width + 0.5);
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;
        expect(overlap).toBe(false);
      }
    }
    await shootPanel(page, 'narrow', scheme);
    await page.close();
  });

  test('popup, options and welcome pages', async () => {
    const demo = await openPage(browser, `${hub.url}/pages/demo.html`);
    const tabId = await browser.worker.evaluate(async (url) => {
      const api = (globalThis as unknown as { chrome: { tabs: { query(q: object): Promise<Array<{ id: number; url?: string }>> } } }).chrome;
      return (await api.tabs.query({})).find((tab) => tab.url === url)!.id;
    }, demo.url());
    const popup = await extensionPage(`popup.html?tab=${tabId}`, scheme, { width: 360, height: 540 });
    await popup.locator('[data-testid="popup-health"]').waitFor();
    // Extension pages render at 14 px, not Chrome's 75 % of 14 px.
    expect(await popup.evaluate(() => getComputedStyle(document.body).fontSize)).toBe('14px');
    await popup.screenshot({ path: `screenshots/popup-${scheme}.png` });
    await popup.close();
    const options = await extensionPage('options.html', scheme, { width: 1000, height: 900 });
    await options.locator('[data-testid="options-preset"]').waitFor();
    await options.locator('details.rl-advanced > summary').click();
    await options.screenshot({ path: `screenshots/options-${scheme}.png`, fullPage: true });
    await options.close();
    const welcome = await extensionPage('welcome.html', scheme, { width: 1000, height: 900 });
    await welcome.locator('[data-testid="welcome-model"]').waitFor();
    await welcome.screenshot({ path: `screenshots/welcome-${scheme}.png`, fullPage: true });
    await welcome.close();
    await demo.close();
  });
});
