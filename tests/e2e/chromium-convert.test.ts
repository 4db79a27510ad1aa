// A trained Aligner in PyTorch form, converted inside the extension: the engine page reads the
// checkpoint from the hub mirror (range requests through its 302 to a CDN origin), converts it
// with progress in the panel, keeps it in Cache Storage, corrects, and later loads it with no
// request at all. A checkpoint whose pickle would run code is refused and leaves nothing behind.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { launchWithExtension, setSettings, tinyAlignerSettings, type ChromeLike, type ExtensionBrowser } from '../support/chromium';
import { askDemo, openPage } from '../support/demo-page';
import { startHubServer, type HubServer } from '../support/hub-server';
import { Panels } from '../support/panels';

let hub: HubServer;
let browser: ExtensionBrowser;

beforeAll(async () => {
  hub = await startHubServer({
    repos: {
      'realign/tiny-aligner-hf': 'tests/fixtures/models/tiny-aligner',
      'fixtures/os-system': join('tests/fixtures/converter/malicious/os-system'),
    },
    pages: 'tests/fixtures/sites',
    redirectFilesFrom: 4096,
  });
  browser = await launchWithExtension({ webgpu: false });
  await setSettings(browser.worker, {
    ...tinyAlignerSettings(hub.url),
    customRepo: 'realign/tiny-aligner-hf',
    customConvert: true,
    approvedModels: [],
  });
});
afterAll(async () => {
  await browser?.close();
  await hub?.close();
});

const cachedUrls = () => browser.worker.evaluate(async () => (await (await caches.open('transformers-cache')).keys()).map((request) => request.url));

describe('converting a checkpoint in the extension', () => {
  test('asks first, converts with progress, corrects; later loads from the browser with zero requests', async () => {
    const page = await openPage(browser, `${hub.url}/pages/demo.html`);
    const phases: string[] = [];
    await page.exposeFunction('__phase', (phase: string) => void (phases.at(-1) !== phase && phases.push(phase)));
    await page.evaluate(() =>
      new MutationObserver(() => {
        const phase = document.querySelector('realign-panel')?.getAttribute('data-phase');
        if (phase) void (window as unknown as { __phase(p: string): void }).__phase(phase);
      }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-phase'], childList: true }),
    );
    await askDemo(page, 'How is the weather?', 'The weather is bad today.');
    const panels = await Panels.of(page);
    const consent = await panels.waitForPhase('consent');
    expect(consent.status).toMatch(/needs to download and convert its model once: realign\/tiny-aligner-hf, .*from 127\.0\.0\.1:\d+/);
    // Nothing was fetched before the person agreed.
    expect(hub.requests.filter((request) => request.url.includes('/resolve/'))).toEqual([]);
    await panels.click('approve');
    const done = await panels.waitForDone({ timeout: 120_000 });
    expect(done.status).toMatch(/^1 change · /);
    expect(phases).toContain('converting');
    if (done.body === null) await panels.click('collapse');
    await panels.click('corrected');
    await expect.poll(async () => (await panels.at(-1))!.body?.trim()).toBe('The weather is good today.');
    // The weights came from the CDN origin as ranges; nothing was asked for the converted repo.
    const weightReads = hub.cdn!.requests.filter((request) => request.url.endsWith('.safetensors'));
    expect(weightReads.length).toBeGreaterThan(0);
    expect(weightReads.every((request) => request.status === 206 && /^bytes=\d+-\d+$/.test(request.range ?? ''))).toBe(true);
    expect(hub.requests.filter((request) => request.url.includes('realign-converted'))).toEqual([]);
    const kept = (await cachedUrls()).filter((url) => url.includes('/realign-converted/realign--tiny-aligner-hf-q4/'));
    expect(kept.some((url) => url.endsWith('/config.json'))).toBe(true);
    expect(kept.some((url) => url.endsWith('/onnx/model_q4.onnx'))).toBe(true);
    await page.close();

    // A fresh engine page: the converted model loads from Cache Storage, with no request at all.
    await browser.worker.evaluate(async () => {
      const api = (globalThis as unknown as { chrome: ChromeLike }).chrome;
      if (await api.offscreen.hasDocument()) await api.offscreen.closeDocument();
    });
    const hubBefore = hub.requests.filter((request) => !request.url.startsWith('/pages/')).length;
    const cdnBefore = hub.cdn!.requests.length;
    const again = await openPage(browser, `${hub.url}/pages/demo.html`);
    await askDemo(again, 'Is it fun?', 'It is never fun.');
    const second = await (await Panels.of(again)).waitForDone({ timeout: 60_000 });
    expect(second.status).toMatch(/^1 change · /);
    expect(hub.requests.filter((request) => !request.url.startsWith('/pages/')).length).toBe(hubBefore);
    expect(hub.cdn!.requests.length).toBe(cdnBefore);
    await again.close();
  });

  test('a checkpoint whose pickle would run code is refused with a clear message, and nothing is kept', async () => {
    await setSettings(browser.worker, { customRepo: 'fixtures/os-system', approvedModels: [`${hub.url}/|fixtures/os-system`] });
    const page = await openPage(browser, `${hub.url}/pages/demo.html`);
    await askDemo(page, 'How is the weather?', 'The weather is bad today.');
    const failed = await (await Panels.of(page)).waitForPhase('error', { timeout: 60_000 });
    expect(failed.status).toMatch(/Could not convert fixtures\/os-system: .*pytorch_model\.bin was refused: its pickle imports os\.system/);
    expect((await cachedUrls()).filter((url) => url.includes('fixtures--os-system'))).toEqual([]);
    await page.close();
    await setSettings(browser.worker, { customRepo: 'realign/tiny-aligner-hf' });
  });
});
