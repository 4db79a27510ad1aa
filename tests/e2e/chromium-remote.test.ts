import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { loadNodeEngine } from '../../model/node-platform';
import type { TransformersEngine } from '../../model/transformers-engine';
import { startHubServer, type HubServer } from '../support/hub-server';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server';
import { launchWithExtension, setSettings, type ExtensionBrowser } from '../support/chromium';
import { Panels } from '../support/panels';
import { askDemo, openPage } from '../support/demo-page';

let engine: TransformersEngine;
let server: OpenAiServer;
let hub: HubServer;
let browser: ExtensionBrowser;
let port = 0;

beforeAll(async () => {
  // A real OpenAI-compatible server on loopback, backed by the tiny Aligner (not canned text).
  engine = await loadNodeEngine({ model: 'tests/fixtures/models/tiny-aligner' });
  server = await startOpenAiServer({ engine, model: 'tiny-aligner', apiKey: 'sk-local' });
  port = Number(new URL(server.url).port);
  hub = await startHubServer({ repos: {}, pages: 'tests/fixtures/sites' });
  browser = await launchWithExtension({ webgpu: false });
  await setSettings(browser.worker, { defaultMode: 'auto' });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await hub?.close();
  await engine?.dispose();
});

const status = async (page: Page) => (await (await Panels.of(page)).at(-1))?.status ?? '';

async function ask(answer: string): Promise<Page> {
  const page = await openPage(browser, `${hub.url}/pages/demo.html`);
  await askDemo(page, 'How is the weather?', answer);
  return page;
}

describe('remote engine (OpenAI-compatible server on 127.0.0.1)', () => {
  test('chosen in the options page: Test connection lists the served model', async () => {
    const options = await browser.context.newPage();
    await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
    // The server's fields show once "A server I run" is picked; "Use this server" switches to it and tests it.
    expect(await options.locator('[data-testid="options-remote-endpoint"]').count()).toBe(0);
    await options.locator('[data-testid="options-engine-remote"]').check();
    await options.locator('[data-testid="options-remote-endpoint"]').fill(server.url);
    await options.locator('[data-testid="options-remote-endpoint"]').blur();
    await options.locator('[data-testid="options-remote-model"]').fill('tiny-aligner');
    await options.locator('[data-testid="options-remote-model"]').blur();
    await options.locator('input[type="password"]').fill('sk-local');
    await options.locator('input[type="password"]').blur();
    // A key to a server on this machine is no warning; the same key over http to another host is.
    expect(await options.locator('[data-testid="options-insecure-key"]').count()).toBe(0);
    await options.locator('[data-action="use-remote"]').click();
    await expect.poll(() => options.locator('[data-testid="options-remote-result"]').textContent()).toMatch(/Connected\. Models served: tiny-aligner\./);
    expect(await options.locator('[data-testid="options-engine-remote"]').isChecked()).toBe(true);
    await options.close();
  });

  test('corrects a toy answer through the server, and says where the answer went', async () => {
    const page = await ask('The weather is bad today.');
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/^1 change · your server · /);
    const panels = await Panels.of(page);
    expect((await panels.at(-1))!.html).toContain(`<p class="rl-note">This answer was sent to 127.0.0.1:${port} for correction.</p>`);
    if ((await panels.at(-1))!.body === null) await panels.click('collapse');
    await panels.click('corrected');
    await expect.poll(async () => (await panels.at(-1))!.body?.trim()).toBe('The weather is good today.');
    const body = server.requests.at(-1)!;
    expect(body.prompt).toBe('BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: How is the weather? | The weather is bad today. ASSISTANT:');
    expect(body.temperature).toBe(0);
    expect(body.stream).toBe(true);
    await page.close();
  });

  test('the server dying mid-stream gives a clear error; Retry works once it is back', async () => {
    server.faults.dieAfterEvents = 1;
    const page = await ask('It is never fun.');
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/Could not reach 127\.0\.0\.1|stopped answering/);
    await server.close();
    await (await Panels.of(page)).click('retry');
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/Could not reach 127\.0\.0\.1:\d+/);
    server = await startOpenAiServer({ engine, model: 'tiny-aligner', apiKey: 'sk-local', port });
    await (await Panels.of(page)).click('retry');
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/^1 change · /);
    await page.close();
  });

  test('a wrong API key is reported as such', async () => {
    await browser.worker.evaluate(async () => {
      const api = (globalThis as unknown as { chrome: { storage: { local: { set(v: object): Promise<void> } } } }).chrome;
      await api.storage.local.set({ remoteApiKey: 'wrong' });
    });
    const page = await ask('The weather is bad today.');
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/refused the request \(401\): check the API key/);
    await page.close();
  });
});
