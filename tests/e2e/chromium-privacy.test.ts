import { afterAll, beforeAll, expect, test } from 'vitest';
import { startHubServer, type HubServer } from '../support/hub-server';
import { launchWithExtension, setSettings, tinyAlignerSettings, type ExtensionBrowser } from '../support/chromium';
import { Panels } from '../support/panels';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy';

let hub: HubServer;
let proxy: RecordingProxy;
let browser: ExtensionBrowser;

beforeAll(async () => {
  hub = await startHubServer({ repos: { 'realign/tiny-aligner': 'tests/fixtures/models/tiny-aligner' }, pages: 'tests/fixtures/sites' });
  proxy = await startRecordingProxy();
  // Every request of every context (page, service worker, offscreen document) goes through the
  // recording proxy, loopback included.
  browser = await launchWithExtension({ webgpu: false, args: [`--proxy-server=${proxy.url}`, '--proxy-bypass-list=<-loopback>'] });
  await setSettings(browser.worker, tinyAlignerSettings(hub.url));
});
afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await hub?.close();
});

test('a local correction sends nothing anywhere: the only requests are the page and the model files from the configured hub', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${hub.url}/pages/demo.html`);
  await page.waitForSelector('html[data-realign-active]');
  const secret = 'The weather is bad today.';
  await page.evaluate((a) => (window as unknown as { demoChat: { ask(q: string, a: string, o: object): void } }).demoChat.ask('How is the weather?', a, { chunkMs: 15 }), secret);
  await expect
    .poll(async () => (await (await Panels.of(page)).at(-1))?.status, { timeout: 90_000 })
    .toMatch(/^1 change · /);
  expect(proxy.seen.length).toBeGreaterThan(0);
  const unexpected = proxy.seen.filter(
    (url) =>
      !url.startsWith(`${hub.url}/pages/`) &&
      !url.startsWith(`${hub.url}/realign/tiny-aligner/resolve/main/`) &&
      url !== `${hub.url}/favicon.ico` &&
      !isChromiumOwnService(url),
  );
  expect(unexpected).toEqual([]);
  expect(proxy.seen.some((url) => url.includes(encodeURIComponent('bad today')) || url.includes('bad%20today'))).toBe(false);
  expect(proxy.seen.some((url) => url.endsWith('/onnx/model.onnx'))).toBe(true);
  await page.close();
});

/**
 * Chromium itself (not Realign) calls Google's update, sign-in and autofill services even with
 * background networking off; the proxy refuses those tunnels, so nothing is sent, and no
 * extension code makes them (they happen without the extension too).
 */
function isChromiumOwnService(url: string): boolean {
  const host = url.startsWith('CONNECT ') ? url.slice(8).split(':')[0]! : new URL(url).hostname;
  return host === 'accounts.google.com' || host.endsWith('.googleapis.com') || host.endsWith('.gvt1.com');
}
