/**
 * The answer watcher: reports each answer once it has finished streaming, and again when it
 * is regenerated or edited. Cost is the point (it runs on every chat page):
 * - one MutationObserver; its callback only notes the mutated nodes and the time, and polls
 *   location.href (a content script cannot hook the page's history API);
 * - work is debounced: a scan runs after `quietMs` without mutations (at the latest every
 *   3 × quietMs while the page keeps mutating), and then re-reads only answers that changed;
 * - a streaming answer's text is not read at all until the site's signal says it is done.
 */
import { adapterFor, generic } from './generic';
import { answerTextOf, compile, exchangeFor, locate, type Located } from './core';
import { SITES } from './registry';
import type { AdapterHealth, Exchange, SiteAdapter } from './types';

export interface WatcherStats {
  /** MutationObserver callbacks run. */
  mutationCallbacks: number;
  /** Scans (locate turns, re-read changed answers). */
  scans: number;
  /** Answer texts read. */
  extractions: number;
  /** Milliseconds spent inside the watcher's own callbacks (excluding onFinished/onHealth). */
  busyMs: number;
}

export interface WatchOptions {
  /** What to observe and search (default: the document). */
  root?: Node;
  /** The page URL (default: location.href). */
  url?: () => URL;
  /** An answer counts as finished after this long without changes and with the site's signal off. */
  quietMs?: number;
  /** Report the answers already on the page when watching starts (default false). */
  reportExisting?: boolean;
  onFinished: (exchange: Exchange) => void;
  /** How well the site's adapter fits the page; called once per change. Known sites only. */
  onHealth?: (health: AdapterHealth) => void;
  /** Where the watcher's own errors go (default console.debug); it never throws into the page. */
  onError?: (error: unknown) => void;
  /** Counters filled in as the watcher runs (benchmarks, tests). */
  stats?: WatcherStats;
}

export interface AnswerWatcher {
  stop(): void;
  /** Scan now instead of waiting for the debounce (the quiet period still applies). */
  scanNow(): void;
}

interface Tracked {
  /** Last text read; undefined until read. */
  text?: string;
  /** Text last reported (or taken as the baseline of an old answer). */
  reported?: string;
  /** When the text last changed (latest mutation time known to precede the change). */
  changedAt: number;
  /** A mutation touched it since its text was last read. */
  dirty: boolean;
  /** An old answer found at load: its first finished text is the baseline, not a report. */
  baseline: boolean;
  /** Finished and reported (or baselined); only a mutation wakes it. */
  settled: boolean;
}

/**
 * For this long after load or a navigation, an answer that appears finished (no streaming signal,
 * not seen growing) is an old one being rendered, not news.
 */
const BASELINE_WINDOW_MS = 5000;
/** Mutated nodes remembered between scans; past this, every answer is re-read once instead. */
const MAX_TOUCHED = 4096;

export function watchAnswers(options: WatchOptions): AnswerWatcher {
  const quietMs = Math.max(0, options.quietMs ?? 1000);
  const maxWaitMs = Math.max(quietMs * 3, 50);
  const reportExisting = options.reportExisting === true;
  const stats = options.stats;
  const rootNode: Node = options.root ?? document;
  const root = rootNode as unknown as ParentNode;
  const readUrl = options.url ?? (() => new URL(location.href));
  const readHref = options.url !== undefined ? () => options.url!().href : () => location.href;

  const states = new WeakMap<Element, Tracked>();
  let touched: Node[] = [];
  let touchedOverflow = false;
  let lastMutationAt = -Infinity;
  let firstPendingAt = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let timerDue = Infinity;
  let stopped = false;
  let firstScan = true;
  let baselineMode = !reportExisting;
  let baselineSince = Date.now();
  let lastHref = safe(readHref, '');
  let lastHealth = '';
  let adapter: SiteAdapter = safe(() => adapterFor(root, readUrl()), generic);
  // When the page last showed a streaming signal: an answer that shows up after that is news even
  // if it already finished by the time a (debounced) scan first sees it.
  let streamSeenAt = -Infinity;
  let lastSignalCheck = -Infinity;

  function fail(error: unknown): void {
    try {
      if (options.onError) options.onError(error);
      else console.debug('[realign] watcher', error);
    } catch {
      // The page's console or the caller's handler failed: nothing left to tell.
    }
  }

  function safe<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (error) {
      fail(error);
      return fallback;
    }
  }

  /** Runs one of the watcher's own callbacks: timed, and never throwing into the page. */
  function guarded(fn: () => void): void {
    if (stopped) return;
    const t0 = stats ? performance.now() : 0;
    try {
      fn();
    } catch (error) {
      fail(error);
    }
    if (stats) stats.busyMs += performance.now() - t0;
  }

  function schedule(at: number): void {
    if (stopped) return;
    if (timer !== null && timerDue <= at) return;
    if (timer !== null) clearTimeout(timer);
    timerDue = at;
    timer = setTimeout(onTimer, Math.max(0, at - Date.now()));
  }

  function onTimer(): void {
    timer = null;
    timerDue = Infinity;
    guarded(() => {
      const now = Date.now();
      // Still mutating: wait for quiet, but not forever (a page may never be quiet).
      if (firstPendingAt !== 0 && now - lastMutationAt < quietMs && now - firstPendingAt < maxWaitMs) {
        schedule(Math.min(lastMutationAt + quietMs, firstPendingAt + maxWaitMs));
        return;
      }
      scan(now);
    });
  }

  function checkNavigation(now: number): void {
    const href = safe(readHref, lastHref);
    if (href === lastHref) return;
    lastHref = href;
    // A new conversation's old answers are not news: re-baseline (answers that stream are).
    baselineMode = !reportExisting;
    baselineSince = now;
  }

  function reportHealth(adapter: SiteAdapter, located: Located): void {
    if (adapter === generic || !options.onHealth) return;
    const key = `${adapter.id}:${located.status}`;
    if (key === lastHealth) return;
    lastHealth = key;
    const health: AdapterHealth = { site: adapter.id, status: located.status };
    try {
      options.onHealth(health);
    } catch (error) {
      fail(error);
    }
  }

  /** The tracked answers that mutated nodes belong to (walk up to the nearest tracked element). */
  function dirtyAnswers(): Set<Element> | 'all' {
    if (touchedOverflow) return 'all';
    const dirty = new Set<Element>();
    const seen = new Set<Node>();
    for (const node of touched) {
      if (seen.has(node)) continue;
      seen.add(node);
      for (let n: Node | null = node; n !== null; n = n.parentNode) {
        if (n.nodeType === 1 && states.has(n as Element)) {
          dirty.add(n as Element);
          break;
        }
      }
    }
    return dirty;
  }

  function scan(now: number): void {
    if (stats) stats.scans++;
    checkNavigation(now);
    if (baselineMode && now - baselineSince >= BASELINE_WINDOW_MS) baselineMode = false;
    const dirty = dirtyAnswers();
    touched = [];
    touchedOverflow = false;
    firstPendingAt = 0;

    adapter = adapterFor(root, readUrl());
    const located = locate(adapter, root);
    const lastItem = located.answers[located.answers.length - 1];
    if (lastItem?.streaming) streamSeenAt = now;
    const streamedSinceBaseline = streamSeenAt >= baselineSince;
    reportHealth(adapter, located);

    const initial = firstScan;
    firstScan = false;
    let recheckAt = Infinity;
    for (const item of located.answers) {
      const el = item.answer;
      let st = states.get(el);
      if (st === undefined) {
        st = {
          // Already there at start (reportExisting): finished long ago, no quiet period to wait.
          changedAt: initial ? -Infinity : lastMutationAt,
          // Rendered within the baseline window after load/navigation and not streaming: old.
          dirty: true,
          baseline: baselineMode && !item.streaming && !(streamedSinceBaseline && item === lastItem),
          settled: false,
        };
        states.set(el, st);
      } else if (dirty === 'all' || dirty.has(el)) {
        st.dirty = true;
        st.settled = false;
      }
      if (st.settled) continue;
      if (item.streaming) {
        // Not read while streaming: the text is only wanted once the site says it is done.
        st.dirty = true;
        st.baseline = false;
        st.changedAt = now;
        recheckAt = Math.min(recheckAt, now + quietMs);
        continue;
      }
      if (st.dirty || st.text === undefined) {
        if (stats) stats.extractions++;
        const text = answerTextOf(adapter, root, el);
        st.dirty = false;
        if (text !== st.text) {
          // The change happened at the latest mutation, at the latest: the quiet period counts from there.
          st.changedAt = Math.max(st.changedAt, lastMutationAt);
          // Seen growing before it settled: a live answer, not an old one being rendered.
          if (st.text !== undefined) st.baseline = false;
          st.text = text;
        }
      }
      if (st.text === '') {
        recheckAt = Math.min(recheckAt, now + quietMs);
        continue;
      }
      if (now - st.changedAt < quietMs) {
        recheckAt = Math.min(recheckAt, st.changedAt + quietMs);
        continue;
      }
      st.settled = true;
      if (st.baseline) {
        st.baseline = false;
        st.reported = st.text;
        continue;
      }
      if (st.text === st.reported) continue;
      st.reported = st.text;
      const exchange = exchangeFor(adapter, root, located, item);
      exchange.answer = st.text;
      exchange.streaming = false;
      try {
        options.onFinished(exchange);
      } catch (error) {
        fail(error);
      }
    }
    if (recheckAt !== Infinity) schedule(recheckAt);
  }

  /** Throttled look for the site's streaming signal (one querySelector at most every 250 ms). */
  function checkSignal(now: number, force: boolean): void {
    if (!force && now - lastSignalCheck < 250) return;
    lastSignalCheck = now;
    const c = compile(adapter, root);
    const sel = c.streamingAnswer !== undefined && c.streamingPage !== undefined ? `${c.streamingAnswer}, ${c.streamingPage}` : c.streamingAnswer ?? c.streamingPage;
    if (sel !== undefined && root.querySelector(sel) !== null) streamSeenAt = now;
  }

  const observer = new MutationObserver((records) => {
    guarded(() => {
      if (stats) stats.mutationCallbacks++;
      const now = Date.now();
      lastMutationAt = now;
      if (firstPendingAt === 0) firstPendingAt = now;
      let signalFlip = false;
      if (!touchedOverflow) {
        for (const record of records) {
          touched.push(record.target);
          if (record.type === 'attributes') {
            signalFlip = true;
            // A streaming attribute that changes value (true → false) on an element that was
            // already on the page is a live answer finishing, even when the throttled signal
            // check never saw it as "true" (a short answer streamed within one throttle window).
            // An element inserted and flipped in the same task is an old answer being rendered.
            const target = record.target as Element;
            if (
              baselineMode &&
              record.oldValue !== null &&
              record.oldValue !== target.getAttribute(record.attributeName ?? '') &&
              !records.some((r) => r.type === 'childList' && [...r.addedNodes].some((n) => n === target || n.contains(target)))
            ) {
              streamSeenAt = now;
            }
          }
        }
        if (touched.length > MAX_TOUCHED) {
          touched = [];
          touchedOverflow = true;
        }
      }
      checkNavigation(now);
      if (baselineMode) checkSignal(now, signalFlip || firstPendingAt === now);
      schedule(now + quietMs);
    });
  });

  const attributeFilter = [
    ...new Set(
      [generic, ...SITES].flatMap((a) => a.streaming?.attributes ?? []),
    ),
  ];
  observer.observe(rootNode, {
    childList: true,
    subtree: true,
    characterData: true,
    ...(attributeFilter.length > 0 ? { attributes: true, attributeOldValue: true, attributeFilter } : {}),
  });

  const onNavigate = (): void => guarded(() => schedule(Date.now()));
  const nav = (globalThis as { navigation?: EventTarget }).navigation;
  const win = typeof window !== 'undefined' ? window : undefined;
  win?.addEventListener('popstate', onNavigate);
  nav?.addEventListener?.('navigatesuccess', onNavigate);

  // First scan right after the caller has its handle (old answers become the baseline).
  void Promise.resolve().then(() => guarded(() => scan(Date.now())));

  return {
    stop(): void {
      if (stopped) return;
      stopped = true;
      observer.disconnect();
      if (timer !== null) clearTimeout(timer);
      timer = null;
      touched = [];
      win?.removeEventListener('popstate', onNavigate);
      nav?.removeEventListener?.('navigatesuccess', onNavigate);
    },
    scanNow(): void {
      guarded(() => scan(Date.now()));
    },
  };
}
