// The background's one-shot requests, through WXT's fake browser: each handler runs only for the
// senders the policy names, and only with data of the right shape.
import { beforeAll, describe, expect, test } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { browser } from 'wxt/browser';
import { handleInBackground } from '../../../utils/messaging';

// @webext-core/messaging installs one root listener per context: register every handler once.
const seen: Record<string, unknown[]> = { testRemote: [], setSiteView: [] };
beforeAll(() => {
  fakeBrowser.reset();
  handleInBackground('testRemote', async (data) => {
    seen.testRemote!.push(data);
    return { ok: false as const, message: 'no server' };
  });
  handleInBackground('setSiteView', (data) => void seen.setSiteView!.push(data));
  handleInBackground('pageConfig', () => ({ enabled: true, mode: 'auto' as const, view: 'changes' as const }));
});

const extensionPage = () => ({ id: browser.runtime.id, url: browser.runtime.getURL('/options.html') });
const contentScript = () => ({ id: browser.runtime.id, url: 'https://chatgpt.com/c/1', tab: { id: 7 } });

async function send(type: string, data: unknown, sender: object): Promise<{ res?: unknown; err?: { message?: string } }> {
  const replies = await fakeBrowser.runtime.onMessage.trigger({ id: 1, type, data, timestamp: Date.now() }, sender as never);
  return replies.find(Boolean) as { res?: unknown; err?: { message?: string } };
}

describe('background requests', () => {
  test('a privileged request runs for an extension page and is refused to a content script', async () => {
    expect(await send('testRemote', { endpoint: 'http://x', apiKey: 'k' }, extensionPage())).toEqual({ res: { ok: false, message: 'no server' } });
    const refused = await send('testRemote', { endpoint: 'http://attacker', apiKey: 'k' }, contentScript());
    expect(refused.err?.message).toMatch(/refused "testRemote"/);
    expect(seen.testRemote).toEqual([{ endpoint: 'http://x', apiKey: 'k' }]);
  });

  test('data of the wrong shape is refused before the handler sees it; extra fields are dropped', async () => {
    expect((await send('setSiteView', { site: 'chatgpt', view: 'everything' }, contentScript())).err?.message).toMatch(/Malformed/);
    expect((await send('setSiteView', { site: 42, view: 'changes' }, contentScript())).err?.message).toMatch(/Malformed/);
    await send('setSiteView', { site: 'chatgpt', view: 'changes', extra: 'dropped' }, contentScript());
    expect(seen.setSiteView).toEqual([{ site: 'chatgpt', view: 'changes' }]);
  });

  test('another extension (another id) is nobody', async () => {
    expect((await send('pageConfig', { site: 'x' }, { id: 'someone-else', url: 'https://chatgpt.com/', tab: { id: 1 } })).err?.message).toMatch(/refused/);
    expect((await send('pageConfig', { site: 'x' }, contentScript())).res).toEqual({ enabled: true, mode: 'auto', view: 'changes' });
  });
});
