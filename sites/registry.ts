/** The registry of chat sites: which adapter a URL (and page) belongs to. */
import { MatchPattern } from 'wxt/utils/match-patterns';
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
import { mistral } from './mistral';
import { perplexity } from './perplexity';
import { poe } from './poe';
import type { SiteAdapter } from './types';

export const SITES: readonly SiteAdapter[] = [
  chatgpt, claude, gemini, copilot, perplexity, deepseek, grok, mistral, poe, huggingchat, aistudio, demo,
];

/** Every site's match patterns, once: the manifest's host_permissions and content-script matches. */
export const SITE_MATCHES: string[] = [...new Set(SITES.flatMap((site) => site.matches))];

const patterns = new Map<string, MatchPattern | null>();

/**
 * A WebExtension match pattern against a URL (WXT's MatchPattern: ports ignored, `*.host` also
 * matches `host`, the path without the query). False for a pattern the browser would reject.
 */
export function matchesPattern(pattern: string, url: URL): boolean {
  let parsed = patterns.get(pattern);
  if (parsed === undefined) {
    try {
      parsed = new MatchPattern(pattern);
    } catch {
      parsed = null;
    }
    patterns.set(pattern, parsed);
  }
  if (parsed === null) return false;
  try {
    // A string, not the URL object: MatchPattern tests `instanceof Location`, which a service worker lacks.
    return parsed.includes(url.href);
  } catch {
    return false; // ftp:// and urn:// patterns are not implemented there; no site uses them.
  }
}

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

/**
 * Whether a site id may speak for a page at `url`: its adapter's own pages, or a site enabled by
 * hand (`custom:<host>`) on that host. The background asks this before a content script's word
 * about "its" site is taken (a content script could claim any id).
 */
export function siteBelongsTo(site: string, url: URL): boolean {
  if (site === `custom:${url.hostname}`) return true;
  const adapter = SITES.find((candidate) => candidate.id === site);
  return adapter !== undefined && urlMatches(adapter, url);
}
