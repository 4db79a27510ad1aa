import { storage } from 'wxt/utils/storage';
import type { EngineStatus, Mode, PageConfig, PanelView } from './messages';
import { privateItem } from './private-store';
import { isDemoBuild } from './build-constants';
import type { SettingsChange } from './messaging';


export interface SiteSettings {
  enabled?: boolean;
  mode?: Mode;
  /** Before 0.2 the remembered view lived here; now in `siteViewsItem` (read as a fallback). */
  view?: PanelView;
}

export interface Settings {
  enabled: boolean;
  defaultMode: Mode;
  /** A preset id from model/presets, or 'custom'. */
  presetId: string;
  /** 'auto' or a dtype name (fp32, fp16, q8, q4, q4f16). */
  dtype: string;
  customRepo: string;
  /** The custom repo holds PyTorch weights to convert in the browser (not a transformers.js folder). */
  customConvert: boolean;
  /** For a checkpoint without tokenizer.json: a repo with the identical vocabulary. */
  customTokenizerFrom: string;
  customTemplate: string;
  customContextLength: number;
  /** The hub, or a mirror with the hub's URL layout. */
  modelHost: string;
  allowWebgpu: boolean;
  maxNewTokens: number;
  /** Minutes without work before the model is freed. */
  idleMinutes: number;
  engine: 'local' | 'remote';
  remoteEndpoint: string;
  remoteModel: string;
  remoteTemplate: string;
  remoteTimeoutSeconds: number;
  sites: Record<string, SiteSettings>;
  /** Objectives a MetaAligner is asked to improve (template aspect ids); empty: the ones it was trained on. */
  aspects: string[];
  /**
   * Models the person agreed to download, as `host|repo` (settings v2). Nothing is downloaded
   * before that: the welcome page, the popup or the panel asks first, with the size.
   */
  approvedModels: string[];
}

export const DEFAULT_SETTINGS: Settings = {
  enabled: true,
  // Automatic: once the model is downloaded (with the person's agreement), every finished answer is corrected.
  defaultMode: 'auto',
  presetId: 'qwen2.5-0.5b-instruct',
  dtype: 'auto',
  customRepo: '',
  customConvert: false,
  customTokenizerFrom: '',
  customTemplate: 'aligner-v1',
  customContextLength: 2048,
  modelHost: 'https://huggingface.co/',
  allowWebgpu: true,
  maxNewTokens: 1024,
  idleMinutes: 5,
  engine: 'local',
  remoteEndpoint: '',
  remoteModel: '',
  remoteTemplate: 'aligner-v1',
  remoteTimeoutSeconds: 30,
  sites: {},
  aspects: [],
  approvedModels: [],
};

/** Where `npm start` serves the committed tiny Aligner, laid out like the hub. */
export const DEMO_HUB_URL = 'http://127.0.0.1:8765/';

/**
 * The demo build (`npm start`, the Firefox test) starts on the tiny test Aligner from the local
 * demo server, so it works offline. The production build starts on the default preset.
 */
export const DEMO_SETTINGS: Partial<Settings> = {
  presetId: 'custom',
  customRepo: 'realign/tiny-aligner',
  customTemplate: 'aligner-v1',
  customContextLength: 512,
  modelHost: DEMO_HUB_URL,
  maxNewTokens: 128,
  defaultMode: 'auto',
  // The demo's model is 0.7 MB from a server on this machine: nothing to ask about.
  approvedModels: [`${DEMO_HUB_URL}|realign/tiny-aligner`],
};

export const INITIAL_SETTINGS: Settings =
  isDemoBuild(import.meta.env?.MODE) ? { ...DEFAULT_SETTINGS, ...DEMO_SETTINGS } : DEFAULT_SETTINGS;

type Check<T> = (value: unknown) => value is T;
const isBool: Check<boolean> = (value): value is boolean => typeof value === 'boolean';
const isStr: Check<string> = (value): value is string => typeof value === 'string' && value.length < 2048;
const isMode: Check<Mode> = (value): value is Mode => value === 'auto' || value === 'on-demand';
const isView: Check<PanelView> = (value): value is PanelView =>
  value === 'original' || value === 'corrected' || value === 'changes';
const isPositive =
  (max: number): Check<number> =>
  (value): value is number =>
    typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= max;

const CHECKS: { [K in keyof Omit<Settings, 'sites' | 'approvedModels' | 'aspects'>]: Check<Settings[K]> } = {
  enabled: isBool,
  defaultMode: isMode,
  presetId: isStr,
  dtype: isStr,
  customRepo: isStr,
  customConvert: isBool,
  customTokenizerFrom: isStr,
  customTemplate: isStr,
  customContextLength: isPositive(1_000_000),
  modelHost: isStr,
  allowWebgpu: isBool,
  maxNewTokens: isPositive(32_768),
  idleMinutes: isPositive(24 * 60),
  engine: (value): value is Settings['engine'] => value === 'local' || value === 'remote',
  remoteEndpoint: isStr,
  remoteModel: isStr,
  remoteTemplate: isStr,
  remoteTimeoutSeconds: isPositive(600),
};

/**
 * Stored values are untrusted too (a bad write, a hand edit, an older build): every field that
 * is missing or of the wrong type falls back to its default, and `repaired` says so.
 */
export function normaliseSettings(raw: unknown): { settings: Settings; repaired: boolean } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { settings: structuredClone(INITIAL_SETTINGS), repaired: raw !== null && raw !== undefined };
  }
  const input = raw as Record<string, unknown>;
  const settings = structuredClone(INITIAL_SETTINGS) as unknown as Record<string, unknown>;
  let repaired = false;
  for (const [key, check] of Object.entries(CHECKS) as Array<[string, Check<unknown>]>) {
    if (!(key in input)) continue;
    if (check(input[key])) settings[key] = input[key];
    else repaired = true;
  }
  const sites: Record<string, SiteSettings> = {};
  if (typeof input.sites === 'object' && input.sites !== null && !Array.isArray(input.sites)) {
    for (const [site, value] of Object.entries(input.sites as Record<string, unknown>)) {
      if (typeof value !== 'object' || value === null) {
        repaired = true;
        continue;
      }
      const entry = value as Record<string, unknown>;
      const clean: SiteSettings = {};
      if (isBool(entry.enabled)) clean.enabled = entry.enabled;
      if (isMode(entry.mode)) clean.mode = entry.mode;
      if (isView(entry.view)) clean.view = entry.view;
      sites[site.slice(0, 128)] = clean;
    }
  } else if ('sites' in input) {
    repaired = true;
  }
  settings.sites = sites;
  if (Array.isArray(input.aspects)) {
    settings.aspects = input.aspects.filter((entry): entry is string => isStr(entry) && entry.length <= 64).slice(0, 32);
  } else if ('aspects' in input) {
    repaired = true;
  }
  if (Array.isArray(input.approvedModels)) {
    settings.approvedModels = input.approvedModels.filter((entry): entry is string => isStr(entry)).slice(0, 64);
  } else if ('approvedModels' in input) {
    repaired = true;
  }
  return { settings: settings as unknown as Settings, repaired };
}

/** Settings v1 (Realign 0.1 before download consent) had no `approvedModels`. */
export function migrateSettingsV1toV2(old: unknown): unknown {
  if (typeof old !== 'object' || old === null) return old;
  const v1 = old as Record<string, unknown>;
  // People who already used v1 downloaded their model knowingly: keep it working without asking.
  const host = typeof v1.modelHost === 'string' ? v1.modelHost : DEFAULT_SETTINGS.modelHost;
  const repo = v1.presetId === 'custom' ? v1.customRepo : v1.presetId === 'qwen2.5-1.5b-instruct' ? 'onnx-community/Qwen2.5-1.5B-Instruct' : 'onnx-community/Qwen2.5-0.5B-Instruct';
  const kept = Array.isArray(v1.approvedModels) ? v1.approvedModels : [];
  const inUse = typeof repo === 'string' && repo ? [modelApprovalKey(host, repo)] : [];
  return { ...v1, approvedModels: [...new Set([...kept, ...inUse])] };
}

/**
 * Settings live in the private store (utils/private-store.ts): never synced (the remote API key
 * sits beside them), never readable by content scripts. Only the background writes them
 * (`updateSettings`, reached from pages through the `saveSettings` message).
 */
export const settingsItem = privateItem<Settings>('settings', {
  fallback: INITIAL_SETTINGS,
  version: 2,
  migrations: { 2: migrateSettingsV1toV2 },
});

/**
 * The view each site's panels open with, remembered when the person switches. A key of its own:
 * a page switching views can never race a settings change made in the options page.
 */
export const siteViewsItem = privateItem<Record<string, PanelView>>('siteViews', { fallback: {} });

/** Sites whose view is remembered at most (the oldest are forgotten first). */
const MAX_SITE_VIEWS = 200;
let viewWrites: Promise<unknown> = Promise.resolve();

/** Remembers a site's panel view: writes one after another (never lost), a bounded number of sites. */
export function rememberSiteView(site: string, view: PanelView): Promise<void> {
  const write = viewWrites.then(async () => {
    const views = await siteViewsItem.getValue();
    if (views[site] === view) return;
    const { [site]: _previous, ...others } = views;
    const kept = Object.entries(others).slice(-(MAX_SITE_VIEWS - 1));
    await siteViewsItem.setValue({ ...Object.fromEntries(kept), [site]: view });
  });
  viewWrites = write.catch(() => undefined);
  return write;
}

export function modelApprovalKey(host: string, repo: string): string {
  return `${host.replace(/\/?$/, '/')}|${repo}`;
}

/** The remote server's API key: private, never synced, never logged, never sent to a page. */
export const remoteApiKeyItem = privateItem<string>('remoteApiKey', { fallback: '' });

/** Set when stored settings were unreadable and reset; the popup says so once. */
export const settingsNoticeItem = privateItem<string>('settingsNotice', { fallback: '' });

/**
 * The engine's status and the queue, published by the background for the popup and the welcome
 * page to watch (session storage: gone on restart, as the engine is).
 */
export interface PublishedEngineStatus {
  status: EngineStatus;
  pending: { running: number; waiting: number };
}
export const engineStatusItem = storage.defineItem<PublishedEngineStatus>('session:engineStatus', {
  fallback: { status: { state: 'empty' }, pending: { running: 0, waiting: 0 } },
});

export async function loadSettings(): Promise<Settings> {
  const raw = await settingsItem.getValue();
  const { settings, repaired } = normaliseSettings(raw);
  if (repaired) {
    await settingsItem.setValue(settings);
    await settingsNoticeItem.setValue('Some of Realign\'s stored settings were unreadable and were reset to their defaults.');
  }
  return settings;
}

let writes: Promise<unknown> = Promise.resolve();

/**
 * Applies a change to the latest stored settings. Writes run one after another in the context
 * that makes them (the background), so two changes never overwrite each other.
 */
export function updateSettings(change: (current: Settings) => Settings | void): Promise<Settings> {
  const write = writes.then(async () => {
    const current = await loadSettings();
    const next = normaliseSettings(change(current) ?? current).settings;
    await settingsItem.setValue(next);
    return next;
  });
  writes = write.catch(() => undefined);
  return write;
}

export function siteEnabled(settings: Settings, site: string): boolean {
  return settings.enabled && settings.sites[site]?.enabled !== false;
}

export function siteMode(settings: Settings, site: string): Mode {
  return settings.sites[site]?.mode ?? settings.defaultMode;
}

/** What a content script is told about its site. */
export function pageConfigFor(settings: Settings, views: Record<string, PanelView>, site: string): PageConfig {
  return { enabled: siteEnabled(settings, site), mode: siteMode(settings, site), view: views[site] ?? settings.sites[site]?.view ?? 'changes' };
}

/**
 * For the background, which reads settings on every request: read once, then dropped whenever
 * storage says they changed (from any context), so a change applies to the next request.
 */
export function watchedSettings(): { settings(): Promise<Settings>; apiKey(): Promise<string> } {
  let settings: Promise<Settings> | null = null;
  let apiKey: Promise<string> | null = null;
  settingsItem.watch(() => (settings = null));
  remoteApiKeyItem.watch(() => (apiKey = null));
  return {
    settings: () => (settings ??= loadSettings()),
    apiKey: () => (apiKey ??= remoteApiKeyItem.getValue()),
  };
}

/** Applies a page's `saveSettings` request to settings (validated again by normaliseSettings). */
export function applySettingsChange(settings: Settings, change: SettingsChange): Settings {
  const next = { ...settings, sites: { ...settings.sites } } as Settings & Record<string, unknown>;
  for (const [key, value] of Object.entries(change.fields ?? {})) {
    // Only known scalar fields; sites and approvals change through their own parts of the request.
    if (key in CHECKS) next[key] = value;
  }
  if (change.site) {
    const { id, enabled, mode } = change.site;
    const site = { ...next.sites[id] };
    if (enabled !== undefined) site.enabled = enabled;
    if (mode === null) delete site.mode;
    else if (mode !== undefined) site.mode = mode;
    next.sites[id] = site;
  }
  if (change.aspects) next.aspects = [...change.aspects];
  if (change.clearApprovals) next.approvedModels = [];
  return next;
}
