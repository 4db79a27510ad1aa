/**
 * One-shot requests (typed with @webext-core/messaging): extension pages and content scripts →
 * background, and background/pages → a content script. Streams go over ports instead
 * (utils/task-port.ts). Every handler is registered through `handle`, which validates the data
 * against the message's schema and checks the sender against utils/sender-policy.ts.
 */
import { defineExtensionMessaging } from '@webext-core/messaging';
import * as v from 'valibot';
import { browser } from 'wxt/browser';
import { AdapterHealthReportSchema, ModeSchema, PanelViewSchema, type AdapterHealthReport, type PageConfig, type PanelView } from './messages';
import { senderAllowed, type PolicyName, type SenderLike } from './sender-policy';

const text = (max: number) => v.pipe(v.string(), v.maxLength(max));

/** The settings an extension page may change in one request; the background applies it to the latest stored value. */
export const SettingsChangeSchema = v.object({
  /** Top-level fields (validated again by normaliseSettings before they are stored). */
  fields: v.optional(v.record(text(64), v.union([v.string(), v.number(), v.boolean()]))),
  /** One site's switches (undefined mode: back to the default). */
  site: v.optional(v.object({ id: text(300), enabled: v.optional(v.boolean()), mode: v.optional(v.nullable(ModeSchema)) })),
  /** The objectives to improve (MetaAligner templates); [] for the model's trained ones. */
  aspects: v.optional(v.pipe(v.array(text(64)), v.maxLength(32))),
  /** Forget every approved model download. */
  clearApprovals: v.optional(v.boolean()),
});
export type SettingsChange = v.InferOutput<typeof SettingsChangeSchema>;

export const BACKGROUND_MESSAGE_DATA = {
  pageConfig: v.object({ site: text(300) }),
  setSiteView: v.object({ site: text(300), view: PanelViewSchema }),
  pageHealth: v.object({ health: AdapterHealthReportSchema.entries.health }),
  saveSettings: SettingsChangeSchema,
  loadModel: v.undefined(),
  freeModel: v.undefined(),
  testRemote: v.object({ endpoint: text(2048), apiKey: text(4096) }),
  modelStorage: v.undefined(),
  clearModels: v.undefined(),
  realignInTab: v.object({ tabId: v.pipe(v.number(), v.integer(), v.minValue(0)) }),
  setCustomSite: v.object({ origin: text(2048), enabled: v.boolean() }),
  customSites: v.undefined(),
} satisfies Record<keyof BackgroundProtocol, v.GenericSchema>;

type Result = { ok: true } | { ok: false; message: string };

export interface BackgroundProtocol {
  /** A content script's own site settings (it never reads extension storage itself). */
  pageConfig(data: { site: string }): PageConfig;
  /** The panel's view was switched: remember it for the site (its own key, no settings rewrite). */
  setSiteView(data: { site: string; view: PanelView }): void;
  /** How well the site's adapter fits its page changed (the toolbar badge shows a changed layout). */
  pageHealth(data: { health: AdapterHealthReport['health'] }): void;
  saveSettings(data: SettingsChange): Result;
  /** Download and load the chosen model now (pressing it is the agreement to download). */
  loadModel(): Result;
  freeModel(): void;
  /** "Test connection": the models the server serves, or what went wrong. */
  testRemote(data: { endpoint: string; apiKey: string }): { ok: true; models: string[] } | { ok: false; message: string };
  /** Bytes used by downloaded models, and clearing them. */
  modelStorage(): { bytes: number; files: number };
  clearModels(): { bytes: number; files: number };
  /** The same path as the keyboard shortcut, for the tab given. */
  realignInTab(data: { tabId: number }): Result;
  /** Register or remove the content script on a host the person enabled by hand. */
  setCustomSite(data: { origin: string; enabled: boolean }): Result;
  /** The sites enabled by hand (their origins), for the options page to list and remove. */
  customSites(): { origins: string[] };
}

export const backgroundMessaging = defineExtensionMessaging<BackgroundProtocol>();

/** Background/popup → content script in a tab (tabs.sendMessage). */
export interface ContentProtocol {
  pageState(): AdapterHealthReport;
  realignSelection(): Result;
  /** The person changed settings: ask for this site's again. */
  pageConfigChanged(): void;
  /** "Report a broken site": the page's outline (tags, roles, class shapes; never any text). */
  pageOutline(): { outline: string };
  /** The test build only (entrypoints/content/test-hook.ts): the panels' state, or an attempt to check. */
  testHook(data: { op: 'panels' } | { op: 'attempt'; attempt: any }): { panels?: unknown[]; attempt?: unknown };
}

export const contentMessaging = defineExtensionMessaging<ContentProtocol>();

const CONTENT_MESSAGE_DATA = {
  pageState: v.undefined(),
  realignSelection: v.undefined(),
  pageConfigChanged: v.undefined(),
  pageOutline: v.undefined(),
  testHook: v.variant('op', [v.object({ op: v.literal('panels') }), v.object({ op: v.literal('attempt'), attempt: v.looseObject({ kind: v.picklist(['storage', 'storageWrite', 'message']) }) })]),
} satisfies Record<keyof ContentProtocol, v.GenericSchema>;

export class RefusedError extends Error {
  constructor(name: string) {
    super(`Realign refused "${name}" from this sender.`);
    this.name = 'RefusedError';
  }
}

function self() {
  return { id: browser.runtime.id, baseUrl: browser.runtime.getURL('/') };
}

type Handler<P, K extends keyof P> = P[K] extends (...args: infer A) => infer R
  ? (data: A extends [infer D] ? D : undefined, sender: SenderLike) => R | Promise<R>
  : never;

/** Registers a background handler: the sender must be allowed and the data must match its schema. */
export function handleInBackground<K extends keyof BackgroundProtocol & PolicyName>(name: K, handler: Handler<BackgroundProtocol, K>): void {
  backgroundMessaging.onMessage(name, (async ({ sender, data }: { sender: SenderLike; data: unknown }) => {
    if (!senderAllowed(name, sender, self())) throw new RefusedError(name);
    const parsed = v.safeParse(BACKGROUND_MESSAGE_DATA[name] as v.GenericSchema, data);
    if (!parsed.success) throw new Error(`Malformed "${name}" request.`);
    return (handler as (data: unknown, sender: SenderLike) => unknown)(parsed.output, sender);
  }) as never);
}

/** Registers a content-script handler, answering only the background and extension pages. */
export function handleInContent<K extends keyof ContentProtocol & PolicyName>(name: K, handler: Handler<ContentProtocol, K>): void {
  contentMessaging.onMessage(name, (async ({ sender, data }: { sender: SenderLike; data: unknown }) => {
    if (!senderAllowed(name, sender, self())) throw new RefusedError(name);
    const parsed = v.safeParse(CONTENT_MESSAGE_DATA[name] as v.GenericSchema, data);
    if (!parsed.success) throw new Error(`Malformed "${name}" request.`);
    return (handler as (data: unknown, sender: SenderLike) => unknown)(parsed.output, sender);
  }) as never);
}
