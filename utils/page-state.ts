/** What the content script tells the popup about its page. */
export interface AdapterHealthReport {
  site: string;
  siteName: string;
  /** ok: the site's adapter found the conversation; fallback: it did not and the generic adapter is used. */
  health: 'ok' | 'fallback' | 'no-conversation' | 'generic';
  panels: number;
  enabled: boolean;
  mode: 'auto' | 'on-demand';
}
