import { defineExtensionMessaging } from '@webext-core/messaging';
import type { EngineStatus } from './protocol';
import type { AdapterHealthReport } from './page-state';

/**
 * One-shot requests between the popup/options pages and the background (typed with
 * @webext-core/messaging). Corrections stream over ports instead (utils/protocol.ts).
 */
export interface BackgroundProtocol {
  engineStatus(): { status: EngineStatus; pending: { running: number; waiting: number } };
  /** Download and load the chosen model now (the popup's and welcome page's Download button). */
  downloadModel(): { ok: true } | { ok: false; message: string };
  freeModel(): void;
  /** "Test connection": the models the server serves, or what went wrong. */
  testRemote(data: { endpoint: string; apiKey: string }): { ok: true; models: string[] } | { ok: false; message: string };
  /** Bytes used by downloaded models, and clearing them. */
  modelStorage(): { bytes: number; files: number };
  clearModels(): { bytes: number; files: number };
  /** The same path as the keyboard shortcut, for the tab given. */
  realignInTab(data: { tabId: number }): { ok: boolean; message?: string };
  /** Register or remove the generic content script on a host the person enabled by hand. */
  setCustomSite(data: { origin: string; enabled: boolean }): { ok: boolean; message?: string };
}

export const backgroundMessaging = defineExtensionMessaging<BackgroundProtocol>();

/** Background/popup → content script in a tab (tabs.sendMessage). */
export interface ContentProtocol {
  pageState(): AdapterHealthReport;
  realignSelection(): { ok: boolean; message?: string };
}

export const contentMessaging = defineExtensionMessaging<ContentProtocol>();
