/**
 * Where privileged values live (settings, the remote API key, approved downloads): somewhere a
 * content script can neither read nor write, since a content script runs inside pages we do
 * not control.
 * - Chrome: `storage.local`, which the background restricts to trusted contexts at startup
 *   (`setAccessLevel({ accessLevel: 'TRUSTED_CONTEXTS' })`), through WXT's storage items.
 * - Firefox: its `setAccessLevel` covers only `storage.session`, so storage.local stays open to
 *   content scripts. Values live in the extension origin's IndexedDB instead (idb-keyval), which
 *   content scripts (page origin) cannot open; changes are announced on a BroadcastChannel,
 *   which every extension context of the same origin hears.
 */
import { createStore, get, set, type UseStore } from 'idb-keyval';
import { browser } from 'wxt/browser';
import { storage } from 'wxt/utils/storage';

export interface PrivateItem<T> {
  getValue(): Promise<T>;
  setValue(value: T): Promise<void>;
  /** Called with the new value whenever any extension context changes it; returns the unwatch. */
  watch(callback: (value: T) => void): () => void;
  /** Runs the item's migrations now (WXT also runs them when the extension updates). */
  migrate(): Promise<void>;
}

export interface PrivateItemOptions<T> {
  fallback: T;
  /** Chrome: WXT's versioned migrations. Firefox: applied once to a value imported from storage.local. */
  version?: number;
  migrations?: Record<number, (old: unknown) => unknown>;
}

export function privateItem<T>(key: string, options: PrivateItemOptions<T>): PrivateItem<T> {
  return import.meta.env.FIREFOX ? indexedDbItem(key, options) : storageLocalItem(key, options);
}

function storageLocalItem<T>(key: string, options: PrivateItemOptions<T>): PrivateItem<T> {
  const item = storage.defineItem<T>(`local:${key}`, {
    fallback: options.fallback,
    ...(options.version ? { version: options.version, migrations: options.migrations as never } : {}),
  });
  return {
    getValue: () => item.getValue(),
    setValue: (value) => item.setValue(value),
    watch: (callback) => item.watch((value) => callback(value ?? options.fallback)),
    migrate: () => item.migrate(),
  };
}

let idbStore: UseStore | undefined;
const CHANGES_CHANNEL = 'realign/private-store';

function indexedDbItem<T>(key: string, options: PrivateItemOptions<T>): PrivateItem<T> {
  idbStore ??= createStore('realign', 'private');
  const store = idbStore;
  const local = new Set<(value: T) => void>();
  let channel: BroadcastChannel | null = null;
  const announce = (value: T) => {
    for (const callback of local) callback(value);
    channel ??= new BroadcastChannel(CHANGES_CHANNEL);
    channel.postMessage({ key });
  };
  /** A value an earlier version kept in storage.local moves here once (and leaves storage.local). */
  const importLegacy = async (): Promise<T | undefined> => {
    const legacy = (await browser.storage.local.get(key))[key];
    if (legacy === undefined) return undefined;
    let value: unknown = legacy;
    for (let version = 2; version <= (options.version ?? 1); version += 1) value = options.migrations?.[version]?.(value) ?? value;
    await set(key, value, store);
    await browser.storage.local.remove([key, `${key}$`]);
    return value as T;
  };
  const importLegacyOnce = async () => ((await get<T>(key, store)) === undefined ? importLegacy() : undefined);
  return {
    async getValue() {
      const stored = (await get<T>(key, store)) ?? (await importLegacyOnce());
      return stored === undefined ? structuredClone(options.fallback) : stored;
    },
    async setValue(value) {
      await set(key, value, store);
      announce(value);
    },
    watch(callback) {
      local.add(callback);
      const listener = new BroadcastChannel(CHANGES_CHANNEL);
      listener.onmessage = (event: MessageEvent<{ key?: string }>) => {
        if (event.data?.key !== key) return;
        void get<T>(key, store).then((value) => callback(value ?? structuredClone(options.fallback)));
      };
      return () => {
        local.delete(callback);
        listener.close();
      };
    },
    // Values from an earlier version are migrated as they are imported from storage.local.
    migrate: async () => void (await importLegacyOnce()),
  };
}
