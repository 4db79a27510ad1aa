import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import type { HubServer } from '../support/hub-server';
import { startTinyAlignerBrowser } from '../support/tiny-setup';
import { setSettings, type ExtensionBrowser } from '../support/chromium';
import { Panels } from '../support/panels';
import { askDemo, openPage } from '../support/demo-page';

let hub: HubServer;
let browser: ExtensionBrowser;

type DemoWindow = { demoChat: { ask(q: string, a: string, o: object): Promise<void> } };

let close: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  ({ hub, browser, close } = await startTinyAlignerBrowser());
});
afterAll(() => close());

const demo = () => openPage(browser, `${hub.url}/pages/demo.html`);
const ask = (page: Page, answer: string, question = 'How is the weather?') => askDemo(page, question, answer, { chunkMs: 10 });
const phases = (page: Page) => page.locator('realign-panel').evaluateAll((hosts) => hosts.map((host) => host.getAttribute('data-phase')));
const lastStatus = async (page: Page) => (await (await Panels.of(page)).at(-1))?.status ?? '';

async function closeEngine() {
  await browser.worker.evaluate(async () => {
    const api = (globalThis as unknown as { chrome: { offscreen: { hasDocument(): Promise<boolean>; closeDocument(): Promise<void> } } }).chrome;
    if (await api.offscreen.hasDocument()) await api.offscreen.closeDocument();
    await caches.delete('transformers-cache');
  });
}

/** The engine's state as the popup sees it, from an extension page. */
async function engineState(): Promise<string> {
  const page = await browser.context.newPage();
  await page.goto(`chrome-extension://${browser.extensionId}/popup.html`);
  const state = await page.locator('[data-testid="popup-engine"]').getAttribute('data-state');
  await page.close();
  return state ?? '';
}

describe('faults', () => {
  test('the model download breaking midway gives a clear error, and Retry downloads it cleanly', async () => {
    await closeEngine();
    hub.faults.dieAfterBytes = 200_000;
    const page = await demo();
    await ask(page, 'The weather is bad today.');
    await expect.poll(() => lastStatus(page), { timeout: 60_000 }).toMatch(/Could not (download|load) the model realign\/tiny-aligner/);
    hub.faults.dieAfterBytes = null;
    await (await Panels.of(page)).click('retry');
    await expect.poll(() => lastStatus(page), { timeout: 60_000 }).toMatch(/^1 change · /);
    await page.close();
  });

  test('storage quota exceeded while caching: the correction still works, says the model was not kept, and the next load downloads again', async () => {
    await closeEngine();
    const page = await demo();
    // A 200 KB quota for the extension's own storage: the 700 KB weights cannot be cached.
    const session = await browser.context.newCDPSession(page);
    await session.send('Storage.overrideQuotaForOrigin', { origin: `chrome-extension://${browser.extensionId}`, quotaSize: 200_000 });
    try {
      await ask(page, 'The weather is bad today.');
      await expect.poll(async () => (await phases(page)).at(-1), { timeout: 60_000 }).toBe('done');
      expect((await (await Panels.of(page)).at(-1))!.notes.join(' ')).toMatch(/no room to keep the model/);
      await closeEngine();
      const before = hub.requests.length;
      await ask(page, 'It is never fun.');
      await expect.poll(async () => (await phases(page)).join(), { timeout: 60_000 }).toBe('done,done');
      expect(hub.requests.slice(before).some((request) => request.url.endsWith('/onnx/model.onnx'))).toBe(true);
    } finally {
      await session.send('Storage.overrideQuotaForOrigin', { origin: `chrome-extension://${browser.extensionId}` });
    }
    await page.close();
  });

  test('the service worker stopped mid-correction: the panel says so and Retry works', async () => {
    // Slow the first download so the correction is surely in flight when the worker stops.
    await closeEngine();
    hub.faults.bytesPerSecond = 150_000;
    const page = await demo();
    await ask(page, 'The weather is bad today.');
    await expect.poll(async () => (await phases(page)).at(-1), { timeout: 30_000 }).toBe('downloading');
    const session = await browser.context.newCDPSession(page);
    const { targetInfos } = (await session.send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string; url: string }> };
    const worker = targetInfos.find((target) => target.type === 'service_worker' && target.url.includes(browser.extensionId))!;
    await session.send('Target.closeTarget', { targetId: worker.targetId });
    await expect.poll(() => lastStatus(page), { timeout: 30_000 }).toMatch(/background restarted\. Press Retry|engine closed unexpectedly/);
    hub.faults.bytesPerSecond = null;
    await (await Panels.of(page)).click('retry');
    await expect.poll(() => lastStatus(page), { timeout: 60_000 }).toMatch(/^1 change · /);
    browser.worker = browser.context.serviceWorkers()[0] ?? (await browser.context.waitForEvent('serviceworker'));
    await page.close();
  });

  test('navigating away mid-correction cancels the generation (no orphan work)', async () => {
    await setSettings(browser.worker, { customContextLength: 72 });
    const page = await demo();
    // Many paragraphs at a 72-token context: dozens of generate calls, seconds of work.
    const long = Array.from({ length: 40 }, (_, i) => (i % 2 ? 'It is never fun.' : 'The weather is bad today.')).join('\n\n');
    await ask(page, long);
    await expect.poll(async () => (await phases(page)).at(-1), { timeout: 60_000 }).toBe('correcting');
    await page.goto('about:blank');
    await expect.poll(() => engineState(), { timeout: 15_000 }).toBe('ready');
    await setSettings(browser.worker, { customContextLength: 512 });
    await page.close();
  });
});

describe('load', () => {
  test('a page that loads with 200 finished answers starts no correction', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${hub.url}/pages/demo.html`);
    await page.evaluate(() => {
      const main = document.getElementById('conversation')!;
      for (let i = 0; i < 200; i++) {
        main.insertAdjacentHTML(
          'beforeend',
          `<div class="turn user" data-role="user"><div class="turn-text">Question ${i}?</div></div><div class="turn assistant" data-role="assistant" data-streaming="false"><div class="answer-text"><p>The weather is bad today, answer ${i}.</p></div></div>`,
        );
      }
    });
    await page.waitForSelector('html[data-realign-active]');
    const before = hub.requests.length;
    await page.waitForTimeout(3000);
    expect(await page.locator('realign-panel').count()).toBe(0);
    expect(hub.requests.length).toBe(before);
    await page.close();
  });

  test('20 answers finishing within a second: the queue stays bounded, the oldest waiting are skipped with a message, the page stays responsive', async () => {
    const page = await demo();
    await page.evaluate(() => {
      (window as unknown as { __long: number[] }).__long = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) (window as unknown as { __long: number[] }).__long.push(entry.duration);
      }).observe({ type: 'longtask', buffered: false });
    });
    // A page open for a while (past the watcher's 5 s window for old answers after a load):
    // 20 answers stream at once, then all finish within one second.
    await page.waitForTimeout(5500);
    await page.evaluate(async () => {
      const main = document.getElementById('conversation')!;
      for (let i = 0; i < 20; i++) {
        main.insertAdjacentHTML(
          'beforeend',
          `<div class="turn user" data-role="user"><div class="turn-text">Question ${i}?</div></div><div class="turn assistant" data-role="assistant" data-streaming="true"><div class="answer-text"><p>The weather is bad today. Answer ${i}.</p></div></div>`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const turn of document.querySelectorAll('[data-streaming="true"]')) {
        turn.setAttribute('data-streaming', 'false');
        await new Promise((resolve) => setTimeout(resolve, 45));
      }
    });
    await expect.poll(async () => (await phases(page)).length, { timeout: 30_000 }).toBe(20);
    await expect.poll(async () => (await phases(page)).every((phase) => phase === 'done' || phase === 'error'), { timeout: 120_000 }).toBe(true);
    const statuses = (await (await Panels.of(page)).list()).map((panel) => panel.status);
    const skipped = statuses.filter((text) => text.startsWith('Skipped: too many answers were waiting'));
    expect(skipped.length).toBeGreaterThan(0);
    expect(statuses.length - skipped.length).toBeLessThanOrEqual(13); // one running + 12 waiting at most
    const longTasks = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
    expect(longTasks.filter((duration) => duration > 50)).toEqual([]);
    await page.close();
  });
});

describe('bad input', () => {
  test('empty and whitespace-only answers get no panel', async () => {
    const page = await demo();
    await ask(page, '   ');
    await page.waitForTimeout(2500);
    expect(await page.locator('realign-panel').count()).toBe(0);
    await page.close();
  });

  test('an answer that is only code, in mixed scripts, is corrected without breaking', async () => {
    const page = await demo();
    await ask(page, '```python\nprint("héllo wörld – 你好 – مرحبا")\n```');
    await expect.poll(async () => (await phases(page)).at(-1), { timeout: 60_000 }).toMatch(/done|error/);
    expect(await lastStatus(page)).not.toMatch(/undefined|\[object/);
    await page.close();
  });

  test('an answer over the size limit says it is too long, and the original is untouched', async () => {
    const page = await demo();
    const huge = Array.from({ length: 3000 }, (_, i) => `Sentence number ${i} is bad today.`).join(' ');
    const before = await page.evaluate(() => document.querySelectorAll('[data-role="assistant"] .answer-text').length);
    await page.evaluate((a) => {
      // A finished 100 KB answer appears at once (as after a page restore), then streams nothing more.
      void (window as unknown as DemoWindow).demoChat.ask('Long?', a, { chunkMs: 1, chunkWords: 2000 });
    }, huge);
    await expect.poll(() => lastStatus(page), { timeout: 60_000 }).toMatch(/too long to correct here \(\d+ KB; the limit is 60 KB\)/);
    const text = await page.evaluate((n) => document.querySelectorAll('[data-role="assistant"] .answer-text')[n]!.textContent, before);
    expect(text).toContain('Sentence number 2999 is bad today.');
    await page.close();
  });

  test('an answer that changes while it is being corrected: the correction is discarded and redone on the new text', async () => {
    await setSettings(browser.worker, { customContextLength: 72 });
    const page = await demo();
    const long = Array.from({ length: 12 }, () => 'The weather is bad today.').join('\n\n');
    await ask(page, long);
    await expect.poll(async () => (await phases(page)).at(-1), { timeout: 60_000 }).toBe('correcting');
    // The site edits the answer in place (as a regenerate does).
    await page.evaluate(() => {
      const answers = document.querySelectorAll('[data-role="assistant"] .answer-text');
      answers[answers.length - 1]!.innerHTML = '<p>It is never fun.</p>';
    });
    await expect.poll(() => lastStatus(page), { timeout: 60_000 }).toMatch(/^1 change · /);
    const panels = await Panels.of(page);
    if ((await panels.at(-1))!.body === null) await panels.click('collapse');
    await panels.click('corrected');
    await expect.poll(async () => (await panels.at(-1))!.body?.trim()).toBe('It is always fun.');
    expect(await page.locator('realign-panel').count()).toBe(1);
    await setSettings(browser.worker, { customContextLength: 512 });
    await page.close();
  });
});
