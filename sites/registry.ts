/** The registry of chat sites: which adapter a URL (and page) belongs to. */
import { aistudio } from './aistudio';
import { chatgpt } from './chatgpt';
import { claude } from './claude';
import { hasRequiredMarkers } from './core';
import { copilot } from './copilot';
import { deepseek } from './deepseek';
import { demo } from './demo';
import { gemini } from './gemini';
import { grok } from './grok';
import { huggingchat } from './huggingchat';
import { matchesPattern } from './match';
import { mistral } from './mistral';
import { perplexity } from './perplexity';
import { poe } from './poe';
import type { SiteAdapter } from './types';

export const SITES: readonly SiteAdapter[] = [
  chatgpt, claude, gemini, copilot, perplexity, deepseek, grok, mistral, poe, huggingchat, aistudio, demo,
];

/** Every site's match patterns, once: the manifest's host_permissions and content-script matches. */
export const SITE_MATCHES: string[] = [...new Set(SITES.flatMap((site) => site.matches))];

export function urlMatches(adapter: SiteAdapter, url: URL): boolean {
  if (!adapter.matches.some((pattern) => matchesPattern(pattern, url))) return false;
  const prefix = adapter.pathPrefix;
  return prefix === undefined || url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
}

/**
 * The adapter for a URL. With `root`, an adapter that `requires` page markers (the demo) claims
 * the page only when they are present; without it, the URL alone decides.
 */
export function adapterForUrl(url: URL, root?: ParentNode): SiteAdapter | undefined {
  for (const site of SITES) {
    if (!urlMatches(site, url)) continue;
    if (root !== undefined && !hasRequiredMarkers(site, root)) continue;
    return site;
  }
  return undefined;
}
