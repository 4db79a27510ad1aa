// A chat site whose markup changed under its adapter: Realign falls back to reading the page
// from its structure (the shape adapter), says so in the popup and on the toolbar icon, still
// corrects new answers, and "Report a broken site" copies an outline with no text of the page.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startTinyAlignerBrowser } from '../support/tiny-setup';
import type { ExtensionBrowser } from '../support/chromium';
import { Panels } from '../support/panels';
import type { HubServer } from '../support/hub-server';

let browser: ExtensionBrowser;
let hub: HubServer;
let close: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  ({ browser, hub, close } = await startTinyAlignerBrowser());
  // chatgpt.com, "redesigned": it now serves Open WebUI-like markup no ChatGPT selector matches.
  const redesigned = readFileSync('tests/fixtures/sites/oss/open-webui.html', 'utf8');
  await browser.context.route('https://chatgpt.com/**', (route) => route.fulfill({ contentType: 'text/html', body: redesigned }));
  // The clipboard is read back from a page of the local server (extension origins cannot be granted it).
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.url });
});
afterAll(() => close());

async function tabIdOf(page: Page): Promise<number> {
  return browser.worker.evaluate(async (url) => {
    const api = (globalThis as unknown as { chrome: { tabs: { query(q: object): Promise<Array<{ id: number; url?: string }>> } } }).chrome;
    return (await api.tabs.query({})).find((tab) => tab.url === url)!.id;
  }, page.url());
}

test('a changed layout: health "shape", the ! badge, new answers still corrected, and a report without page text', async () => {
  const page = await browser.context.newPage();
  await page.goto('https://chatgpt.com/c/3f1d2c7a');
  const tabId = await tabIdOf(page);
  const popup = await browser.context.newPage();
  await popup.goto(`chrome-extension://${browser.extensionId}/popup.html?tab=${tabId}`);
  await expect.poll(() => popup.locator('[data-testid="popup-health"]').getAttribute('data-health'), { timeout: 20_000 }).toBe('shape');
  expect(await popup.locator('[data-testid="popup-health"]').textContent()).toMatch(/layout changed/);
  const badge = await browser.worker.evaluate(
    (tab) => (globalThis as unknown as { chrome: { action: { getBadgeText(d: object): Promise<string> } } }).chrome.action.getBadgeText({ tabId: tab }),
    tabId,
  );
  expect(badge).toBe('!');
  await popup.setViewportSize({ width: 360, height: 560 });
  await popup.screenshot({ path: 'screenshots/popup-site-changed.png' });

  await popup.locator('[data-action="report-site"]').click();
  await expect.poll(() => popup.locator('[role="status"]').last().textContent()).toMatch(/Copied an outline/);
  const reader = await browser.context.newPage();
  await reader.goto(`${hub.url}/pages/demo.html`);
  const report = await reader.evaluate(() => navigator.clipboard.readText());
  await reader.close();
  expect(report).toMatch(/^Realign: broken site report for chatgpt\.com/);
  expect(report).toContain('<div');
  // Nothing the page says: not the conversation, not the sidebar, not a label.
  for (const words of ['Walrus operator', 'Thanks, that helps', 'Happy coding', 'Docker compose', 'llama3.1', 'Send a Message']) expect(report).not.toContain(words);
  await popup.close();

  // A new exchange in the changed layout (after the first seconds, in which answers on screen count as old).
  await page.waitForTimeout(5500);
  await page.evaluate(() => {
    const user = document.getElementById('message-f00e1c92')!.parentElement!;
    const answer = document.getElementById('message-1e9b3d55')!.parentElement!;
    const newUser = user.cloneNode(true) as HTMLElement;
    newUser.querySelector('p')!.textContent = 'How is the weather?';
    newUser.firstElementChild!.id = 'message-new-user';
    const newAnswer = answer.cloneNode(true) as HTMLElement;
    newAnswer.querySelector('p')!.textContent = 'The weather is bad today.';
    newAnswer.firstElementChild!.id = 'message-new-answer';
    answer.after(newUser, newAnswer);
  });
  const panels = await Panels.of(page);
  const done = await panels.waitForDone({ timeout: 60_000 });
  expect(done.status).toMatch(/^1 change · /);
  if (done.body === null) await panels.click('collapse');
  await panels.click('corrected');
  await expect.poll(async () => (await panels.at(-1))!.body?.trim()).toBe('The weather is good today.');
  // Only the new answer got a panel (the ones on the page at load were old).
  expect((await panels.list()).length).toBe(1);
  await page.close();
});
