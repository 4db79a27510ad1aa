import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startHubServer, type HubServer } from '../support/hub-server';
import { launchWithExtension, setSettings, tinyAlignerSettings, type ChromeLike, type ExtensionBrowser } from '../support/chromium';
import { Panels } from '../support/panels';
import { askDemo, openPage } from '../support/demo-page';

const TINY_REPOS = { 'realign/tiny-aligner': 'tests/fixtures/models/tiny-aligner' };

/** Records every phase the first panel goes through (the panel mirrors it on its host element). */
async function recordPhases(page: Page) {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __phases: string[] }).__phases = seen;
    new MutationObserver(() => {
      const phase = document.querySelector('realign-panel')?.getAttribute('data-phase');
      if (phase && seen[seen.length - 1] !== phase) seen.push(phase);
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-phase'], childList: true });
  });
}

const openDemo = (browser: ExtensionBrowser, hub: HubServer) => openPage(browser, `${hub.url}/pages/demo.html`);

const status = async (page: Page) => (await (await Panels.of(page)).at(-1))?.status ?? '';

describe.each([
  { webgpu: true, device: 'WebGPU' },
  { webgpu: false, device: 'CPU (WASM)' },
])('Chromium, tiny Aligner on $device', ({ webgpu, device }) => {
  let hub: HubServer;
  let browser: ExtensionBrowser;

  beforeAll(async () => {
    hub = await startHubServer({ repos: TINY_REPOS, pages: 'tests/fixtures/sites' });
    browser = await launchWithExtension({ webgpu });
    await setSettings(browser.worker, tinyAlignerSettings(hub.url));
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  test('downloads the model from the hub mirror, shows progress, and streams the correction into the panel', async () => {
    const page = await openDemo(browser, hub);
    await recordPhases(page);
    await askDemo(page, 'How is the weather?', 'The weather is bad today.');
    await expect.poll(() => status(page), { timeout: 90_000 }).toMatch(/^1 change · /);
    expect(await status(page)).toContain(device);

    const phases = await page.evaluate(() => (window as unknown as { __phases: string[] }).__phases);
    expect(phases).toContain('downloading');
    expect(phases).toContain('correcting');
    expect(phases.at(-1)).toBe('done');
    expect(hub.requests.some((request) => request.url.endsWith('/onnx/model.onnx'))).toBe(true);

    const panels = await Panels.of(page);
    if ((await panels.at(-1))!.body === null) await panels.click('collapse');
    await panels.click('changes');
    await expect.poll(async () => (await panels.at(-1))!.view).toBe('changes');
    const diffHtml = (await panels.at(-1))!.bodyHtml!;
    expect([...diffHtml.matchAll(/<del[^>]*>(.*?)<\/del>/g)].map((m) => m[1])).toEqual(['bad']);
    expect([...diffHtml.matchAll(/<ins[^>]*>(.*?)<\/ins>/g)].map((m) => m[1])).toEqual(['good']);
    await panels.click('corrected');
    await expect.poll(async () => (await panels.at(-1))!.body?.trim()).toBe('The weather is good today.');
    await page.close();
  });

  test('after the engine page is closed, the next correction recreates it and loads the weights from the cache', async () => {
    await browser.worker.evaluate(async () => {
      const api = (globalThis as unknown as { chrome: ChromeLike }).chrome;
      if (await api.offscreen.hasDocument()) await api.offscreen.closeDocument();
    });
    const before = hub.requests.length;
    const page = await openDemo(browser, hub);
    await askDemo(page, 'Is it fun?', 'It is never fun.');
    await expect.poll(() => status(page), { timeout: 90_000 }).toMatch(/^1 change · /);
    const modelRequests = hub.requests.slice(before).filter((request) => request.url.includes('/resolve/'));
    expect(modelRequests).toEqual([]);
    await page.close();
  });

  test('a model the server does not have gives a clear error, and Retry works once it is fixed', async () => {
    await setSettings(browser.worker, {
      customRepo: 'realign/not-there',
      approvedModels: [`${hub.url}/|realign/tiny-aligner`, `${hub.url}/|realign/not-there`],
    });
    const page = await openDemo(browser, hub);
    await askDemo(page, 'How is the weather?', 'The weather is bad today.');
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/realign\/not-there.*missing config\.json/);
    await setSettings(browser.worker, { customRepo: 'realign/tiny-aligner' });
    await (await Panels.of(page)).click('retry');
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/^1 change · /);
    await page.close();
  });
});
