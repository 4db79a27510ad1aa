import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import type { HubServer } from '../support/hub-server';
import { startTinyAlignerBrowser } from '../support/tiny-setup';
import { launchWithExtension, setSettings, type ExtensionBrowser } from '../support/chromium';
import { Panels } from '../support/panels';
import { openPage } from '../support/demo-page';

let hub: HubServer;
let browser: ExtensionBrowser;
type DemoWindow = { demoChat: { ask(q: string, a: string, o: object): Promise<void>; regenerate(a?: string, o?: object): Promise<void> } };

let close: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  ({ hub, browser, close } = await startTinyAlignerBrowser());
});
afterAll(() => close());

async function demo(): Promise<Page> {
  const page = await openPage(browser, `${hub.url}/pages/demo.html`);
  // Count every panel ever mounted (the page's view of our work: one panel per report).
  await page.evaluate(() => {
    const w = window as unknown as { __mounted: number };
    w.__mounted = 0;
    new MutationObserver((records) => {
      for (const record of records) for (const node of record.addedNodes) if (node.nodeName === 'REALIGN-PANEL') w.__mounted += 1;
    }).observe(document.body, { subtree: true, childList: true });
  });
  return page;
}
const mounted = (page: Page) => page.evaluate(() => (window as unknown as { __mounted: number }).__mounted);
const phase = (page: Page) => page.locator('realign-panel').last().getAttribute('data-phase');

describe('the answer watcher in a real page', () => {
  test('exactly one correction per finished answer, none while streaming, one more after a regenerate', async () => {
    const page = await demo();
    const streaming = page.evaluate(() => (window as unknown as DemoWindow).demoChat.ask('How is the weather?', 'The weather is bad today. It is never fun. The plan is bad today.', { chunkMs: 150 }));
    await page.waitForTimeout(600);
    expect(await page.locator('[data-streaming="true"]').count()).toBe(1);
    expect(await mounted(page)).toBe(0);
    await streaming;
    await expect.poll(() => phase(page), { timeout: 60_000 }).toBe('done');
    await page.waitForTimeout(2000);
    expect(await mounted(page)).toBe(1);
    await page.evaluate(() => (window as unknown as DemoWindow).demoChat.regenerate('It is never fun.', { chunkMs: 30 }));
    await expect.poll(() => mounted(page), { timeout: 30_000 }).toBe(2);
    await expect.poll(() => phase(page), { timeout: 60_000 }).toBe('done');
    await page.waitForTimeout(2000);
    expect(await mounted(page)).toBe(2);
    expect(await page.locator('realign-panel').count()).toBe(1);
    await page.close();
  });
});

describe('engine host', () => {
  test('two tabs asking at once are both served, in order', async () => {
    const first = await demo();
    const second = await demo();
    await Promise.all([
      first.evaluate(() => void (window as unknown as DemoWindow).demoChat.ask('How is the weather?', 'The weather is bad today.', { chunkMs: 10 })),
      second.evaluate(() => void (window as unknown as DemoWindow).demoChat.ask('Is it fun?', 'It is never fun.', { chunkMs: 10 })),
    ]);
    await expect.poll(() => phase(first), { timeout: 60_000 }).toBe('done');
    await expect.poll(() => phase(second), { timeout: 60_000 }).toBe('done');
    const panels = await Panels.of(second);
    if ((await panels.at(-1))!.body === null) await panels.click('collapse');
    await panels.click('corrected');
    await expect.poll(async () => (await panels.at(-1))!.body?.trim()).toBe('It is always fun.');
    await first.close();
    await second.close();
  });

  test('the engine page closed mid-generation: the request fails with a message, and the next one works', async () => {
    await setSettings(browser.worker, { customContextLength: 72 });
    const page = await demo();
    const long = Array.from({ length: 40 }, () => 'The weather is bad today.').join('\n\n');
    await page.evaluate((a) => void (window as unknown as DemoWindow).demoChat.ask('How is the weather?', a, { chunkMs: 5, chunkWords: 50 }), long);
    await expect.poll(() => phase(page), { timeout: 60_000 }).toBe('correcting');
    await browser.worker.evaluate(async () => {
      await (globalThis as unknown as { chrome: { offscreen: { closeDocument(): Promise<void> } } }).chrome.offscreen.closeDocument();
    });
    const panels = await Panels.of(page);
    await expect.poll(async () => (await panels.at(-1))?.status, { timeout: 30_000 }).toMatch(/engine closed unexpectedly\. Press Retry/);
    await setSettings(browser.worker, { customContextLength: 512 });
    await page.evaluate(() => void (window as unknown as DemoWindow).demoChat.ask('Is it fun?', 'It is never fun.', { chunkMs: 10 }));
    await expect.poll(() => phase(page), { timeout: 60_000 }).toBe('done');
    await page.close();
  });
});

test('settings survive a browser restart', async () => {
  const profile = mkdtempSync(join(tmpdir(), 'realign-profile-'));
  const launch = async () => (await launchWithExtension({ webgpu: false, profile })).context;
  let context = await launch();
  let worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  const id = new URL(worker.url()).host;
  const options = await context.newPage();
  await options.goto(`chrome-extension://${id}/options.html`);
  // Technical settings sit under Advanced.
  await options.locator('details.rl-advanced > summary').click();
  await options.locator('[data-testid="options-max-tokens"]').fill('321');
  await options.locator('[data-testid="options-max-tokens"]').blur();
  await expect.poll(() => options.locator('[data-testid="options-saved"]').textContent()).toBe('Saved.');
  await context.close();
  context = await launch();
  worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  const page = await context.newPage();
  await page.goto(`chrome-extension://${id}/options.html`);
  await page.locator('details.rl-advanced > summary').click();
  await expect.poll(() => page.locator('[data-testid="options-max-tokens"]').inputValue()).toBe('321');
  await context.close();
});
