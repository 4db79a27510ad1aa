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
/** Tells this context's own change announcements from other contexts' (each hears only theirs). */
const CONTEXT_ID = Math.random().toString(36).slice(2);
const LEGACY_IMPORTED = '__legacyImported';
/** Every Firefox item, for the one-time import of values an earlier version kept in storage.local. */
const idbItems = new Map<string, PrivateItemOptions<unknown>>();

function store(): UseStore {
  idbStore ??= createStore('realign', 'private');
  return idbStore;
}

/** The import this context started, if any: its reads and writes wait for it (see below). */
let importing: Promise<void> | null = null;

/**
 * Firefox, once per profile, in the background page at startup: values an earlier version kept
 * in storage.local move into IndexedDB (migrated from their stored version) and leave
 * storage.local. Never again after that: content scripts can write storage.local, so nothing
 * privileged is ever read from it later.
 */
export function importLegacyStorageOnce(): Promise<void> {
  importing ??= importLegacyStorage();
  return importing;
}

/**
 * Reads and writes in the context that imports (the background, at startup) wait for the import:
 * a page's request in the meantime would otherwise read defaults, or write first and make the
 * import skip (and drop) the person's old value.
 */
const afterImport = (): Promise<unknown> | undefined => importing?.catch(() => undefined);

async function importLegacyStorage(): Promise<void> {
  if (!import.meta.env.FIREFOX || (await get<boolean>(LEGACY_IMPORTED, store()))) return;
  for (const [key, options] of idbItems) {
    const stored = await browser.storage.local.get([key, `${key}$`]);
    const legacy = stored[key];
    if (legacy !== undefined && (await get(key, store())) === undefined) {
      const from = Number((stored[`${key}$`] as { v?: number } | undefined)?.v ?? 1);
      let value: unknown = legacy;
      for (let version = from + 1; version <= (options.version ?? 1); version += 1) value = options.migrations?.[version]?.(value) ?? value;
      await set(key, value, store());
    }
    await browser.storage.local.remove([key, `${key}$`]);
  }
  await set(LEGACY_IMPORTED, true, store());
}

function indexedDbItem<T>(key: string, options: PrivateItemOptions<T>): PrivateItem<T> {
  idbItems.set(key, options as PrivateItemOptions<unknown>);
  const local = new Set<(value: T) => void>();
  let channel: BroadcastChannel | null = null;
  const announce = (value: T) => {
    for (const callback of local) callback(value);
    channel ??= new BroadcastChannel(CHANGES_CHANNEL);
    channel.postMessage({ key, from: CONTEXT_ID });
  };
  return {
    async getValue() {
      await afterImport();
      const stored = await get<T>(key, store());
      return stored === undefined ? structuredClone(options.fallback) : stored;
    },
    async setValue(value) {
      await afterImport();
      await set(key, value, store());
      announce(value);
    },
    watch(callback) {
      local.add(callback);
      const listener = new BroadcastChannel(CHANGES_CHANNEL);
      listener.onmessage = (event: MessageEvent<{ key?: string; from?: string }>) => {
        // This context's own changes were told to `local` already.
        if (event.data?.key !== key || event.data.from === CONTEXT_ID) return;
        void get<T>(key, store()).then((value) => callback(value ?? structuredClone(options.fallback)));
      };
      return () => {
        local.delete(callback);
        listener.close();
      };
    },
    // Values from an earlier version are imported (and migrated) by importLegacyStorageOnce.
    migrate: () => importLegacyStorageOnce(),
  };
}
