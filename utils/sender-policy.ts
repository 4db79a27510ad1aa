/**
 * Which context may send what: the one place every receiver asks. `sender.id` alone says
 * nothing (content scripts carry the extension's id too), so a sender is classified by its URL
 * and tab: an extension page has a URL under the extension's own origin; the engine page is
 * offscreen.html; a content script has a tab and a web page's URL.
 */
export type SenderContext = 'content' | 'extension-page' | 'engine-page' | 'background';

export interface SenderLike {
  id?: string;
  url?: string;
  tab?: { id?: number };
}

export interface ExtensionIdentity {
  id: string;
  /** `chrome-extension://ID/` or `moz-extension://UUID/` (runtime.getURL('/')). */
  baseUrl: string;
}

export function classifySender(sender: SenderLike | undefined, self: ExtensionIdentity): SenderContext | null {
  if (!sender || sender.id !== self.id) return null;
  const url = sender.url ?? '';
  if (url.startsWith(self.baseUrl)) {
    const path = url.slice(self.baseUrl.length).replace(/[?#].*$/, '');
    if (path === 'offscreen.html') return 'engine-page';
    if (path === 'background.js' || path === '_generated_background_page.html') return 'background';
    return 'extension-page';
  }
  // Not one of our pages: a content script, which always runs in a tab.
  return sender.tab?.id !== undefined ? 'content' : null;
}

/**
 * Every message and port, and who may send it. Content scripts run inside pages we do not
 * control: they may ask for corrections and their own site's settings, nothing privileged
 * (settings, remote servers, custom sites, model storage, download consent outside the panel).
 */
export const SENDER_POLICY = {
  // Ports.
  'port:correct': ['content'],
  'port:engine-host': ['engine-page'],
  // Content script → background.
  pageConfig: ['content'],
  setSiteView: ['content'],
  pageHealth: ['content'],
  // Extension pages (popup, options, welcome) → background.
  saveSettings: ['extension-page'],
  loadModel: ['extension-page'],
  freeModel: ['extension-page'],
  testRemote: ['extension-page'],
  modelStorage: ['extension-page'],
  clearModels: ['extension-page'],
  realignInTab: ['extension-page'],
  setCustomSite: ['extension-page'],
  customSites: ['extension-page'],
  // Background or extension pages → a content script.
  pageState: ['background', 'extension-page'],
  realignSelection: ['background', 'extension-page'],
  pageConfigChanged: ['background', 'extension-page'],
  pageOutline: ['extension-page'],
  testHook: ['background', 'extension-page'],
} as const satisfies Record<string, readonly SenderContext[]>;

export type PolicyName = keyof typeof SENDER_POLICY;

export function senderAllowed(name: PolicyName, sender: SenderLike | undefined, self: ExtensionIdentity): boolean {
  const context = classifySender(sender, self);
  return context !== null && (SENDER_POLICY[name] as readonly SenderContext[]).includes(context);
}
