import 'fake-indexeddb/auto';
import { clear, createStore } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';

type Store = typeof import('../../../utils/private-store');

/** A fresh copy of the module: one extension context (popup, background page, …) of the Firefox build. */
async function firefoxContext(): Promise<Store> {
  vi.resetModules();
  return import('../../../utils/private-store');
}

const deleteDatabase = () =>
  new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase('realign');
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
  });

beforeEach(async () => {
  vi.stubEnv('FIREFOX', true as never);
  fakeBrowser.reset();
  // Every context keeps its connection open (a deleted database would wait on them): empty it instead.
  await clear(createStore('realign', 'private'));
});
afterEach(() => vi.unstubAllEnvs());

describe('privileged values in Firefox (IndexedDB, out of content scripts\' reach)', () => {
  test('values live in IndexedDB, never in storage.local, and a fallback is a fresh copy each time', async () => {
    const { privateItem } = await firefoxContext();
    const item = privateItem<{ list: string[] }>('settings', { fallback: { list: [] } });
    const first = await item.getValue();
    first.list.push('changed by a caller');
    expect(await item.getValue()).toEqual({ list: [] });
    await item.setValue({ list: ['a'] });
    expect(await item.getValue()).toEqual({ list: ['a'] });
    expect(await fakeBrowser.storage.local.get(null)).toEqual({});
  });

  test('a change in one context reaches the others once, and its own watchers once', async () => {
    const popup = await firefoxContext();
    const background = await firefoxContext();
    const inPopup = popup.privateItem<string>('remoteApiKey', { fallback: '' });
    const inBackground = background.privateItem<string>('remoteApiKey', { fallback: '' });
    const heardByBackground: string[] = [];
    const heardByPopup: string[] = [];
    const unwatch = inBackground.watch((value) => heardByBackground.push(value));
    inPopup.watch((value) => heardByPopup.push(value));
    await inPopup.setValue('secret');
    await vi.waitFor(() => expect(heardByBackground).toEqual(['secret']));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heardByPopup).toEqual(['secret']);
    unwatch();
    await inPopup.setValue('other');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heardByBackground).toEqual(['secret']);
    expect(await inBackground.getValue()).toBe('other');
  });

  test('an earlier version\'s storage.local values move in once, migrated; later storage.local writes are never read', async () => {
    await fakeBrowser.storage.local.set({ settings: { engine: 'remote' }, settings$: { v: 1 }, remoteApiKey: 'old-key' });
    const { privateItem, importLegacyStorageOnce } = await firefoxContext();
    const settings = privateItem<Record<string, unknown>>('settings', {
      fallback: {},
      version: 3,
      migrations: { 2: (old) => ({ ...(old as object), v2: true }), 3: (old) => ({ ...(old as object), v3: true }) },
    });
    const apiKey = privateItem<string>('remoteApiKey', { fallback: '' });
    await importLegacyStorageOnce();
    expect(await settings.getValue()).toEqual({ engine: 'remote', v2: true, v3: true });
    expect(await apiKey.getValue()).toBe('old-key');
    expect(await fakeBrowser.storage.local.get(null)).toEqual({});

    // A content script (which can write storage.local in Firefox) plants values, one for an item
    // IndexedDB has no value for yet: never imported after the first time.
    await fakeBrowser.storage.local.set({ settingsNotice: 'planted', remoteApiKey: 'planted' });
    const restarted = await firefoxContext();
    const notice = restarted.privateItem<string>('settingsNotice', { fallback: '' });
    const apiKeyAfterRestart = restarted.privateItem<string>('remoteApiKey', { fallback: '' });
    await restarted.importLegacyStorageOnce();
    expect(await notice.getValue()).toBe('');
    expect(await apiKeyAfterRestart.getValue()).toBe('old-key');
  });

  test('in the context that imports, a read or write during the import waits for it', async () => {
    await fakeBrowser.storage.local.set({ settings: { defaultMode: 'on-demand' }, remoteApiKey: 'old-key' });
    const { privateItem, importLegacyStorageOnce } = await firefoxContext();
    const settings = privateItem<Record<string, unknown>>('settings', { fallback: { defaultMode: 'auto' } });
    const apiKey = privateItem<string>('remoteApiKey', { fallback: '' });
    const importing = importLegacyStorageOnce();
    // A page's requests arrive while the import is under way.
    const [read] = await Promise.all([settings.getValue(), apiKey.setValue('new-key')]);
    await importing;
    expect(read).toEqual({ defaultMode: 'on-demand' });
    expect(await apiKey.getValue()).toBe('new-key');
    expect(importLegacyStorageOnce()).toBe(importing);
  });

  test('a value already in IndexedDB wins over a leftover in storage.local', async () => {
    const before = await firefoxContext();
    await before.privateItem<string>('remoteApiKey', { fallback: '' }).setValue('current');
    await fakeBrowser.storage.local.set({ remoteApiKey: 'leftover' });
    const { privateItem, importLegacyStorageOnce } = await firefoxContext();
    const apiKey = privateItem<string>('remoteApiKey', { fallback: '' });
    await importLegacyStorageOnce();
    expect(await apiKey.getValue()).toBe('current');
    expect(await fakeBrowser.storage.local.get(null)).toEqual({});
  });
});
