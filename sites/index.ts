/** Chat sites: the registry, the exchanges on a page, the answer watcher, the generic and shape adapters. */
import { exchangesWith } from './core';
import { adapterFor } from './generic';
import type { Exchange } from './types';

export { SITES, SITE_MATCHES, adapterForUrl, siteBelongsTo } from './registry';
export { exchangeFromSelection, lastExchange, generic, adapterFor } from './generic';
export { findExchangesByShape, locateByShape, SHAPE_SITE } from './shape';
export { outlinePage } from './outline';
export type { OutlineOptions } from './outline';
export { watchAnswers } from './watcher';
export type { AnswerWatcher, WatchOptions, WatcherStats } from './watcher';
export type { AdapterHealth, AdapterStatus, Exchange, SiteAdapter, StreamingSignal } from './types';

/**
 * Every question/answer pair on the page, in page order. Uses the site's adapter, else the
 * generic role markers; [] when nothing is found. Never throws. (The shape adapter is
 * `findExchangesByShape`; the watcher falls back to it by itself.)
 */
export function findExchanges(root: ParentNode, url: URL): Exchange[] {
  try {
    return exchangesWith(adapterFor(root, url), root);
  } catch (error) {
    console.debug('[realign] findExchanges', error);
    return [];
  }
}
