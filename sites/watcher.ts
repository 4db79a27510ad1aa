/**
 * The answer watcher: reports each answer once it has finished streaming, and again when it
 * is regenerated or edited. It is a thin DOM driver around answer-state.ts, where each answer's
 * life (old, streaming, settling, reported, superseded) is a pure transition.
 *
 * Cost is the point (it runs on every chat page):
 * - one MutationObserver; its callback only notes the mutated nodes and the time, and polls
 *   location.href (a content script cannot hook the page's history API);
 * - work is debounced: a scan runs after `quietMs` without mutations (at the latest every
 *   3 × quietMs while the page keeps mutating), and then re-reads only answers that changed;
 * - a streaming answer's text is not read at all until the site's signal says it is done;
 * - the shape adapter (structure alone) runs only when the site's adapter finds no answer, on
 *   pages no adapter knows, and as a cross-check when the number of answers changes.
 */
import { generic } from './generic';
import type { Located, LocatedAnswer } from './core';
import { adapterForUrl, SITES } from './registry';
import { looksStale, shapeReader, siteReader, type PageReader } from './reader';
import { needsText, scanAnswer, touchAnswer, trackAnswer, type TrackedAnswer } from './answer-state';
import type { AdapterHealth, Exchange } from './types';

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
  /**
   * How well the site's adapter fits the page; called once per change. Known sites always; pages
   * no adapter knows only once the shape adapter finds a conversation there (`status: 'shape'`).
   */
  onHealth?: (health: AdapterHealth) => void;
  /** Where the watcher's own errors go (default console.debug); it never throws into the page. */
  onError?: (error: unknown) => void;
  /** Counters filled in as the watcher runs (benchmarks, tests). */
  stats?: WatcherStats;
  /** Stops the watcher when aborted (the same as `stop()`). */
  signal?: AbortSignal;
}

export interface AnswerWatcher {
  stop(): void;
  /** Scan now instead of waiting for the debounce (the quiet period still applies). */
  scanNow(): void;
}

/**
 * For this long after load, a navigation or a switch of reader, an answer that appears finished
 * (no streaming signal, not seen growing) is an old one being rendered, not news.
 */
const BASELINE_WINDOW_MS = 5000;
/** Mutated nodes remembered between scans; past this, every answer is re-read once instead. */
const MAX_TOUCHED = 4096;
/** While the site's adapter is stale, look again this often whether it has recovered. */
const RECHECK_STALE_MS = 10_000;
/** Streaming attributes every reader may watch (site adapters add their own). */
const SHAPE_ATTRIBUTES = ['aria-busy', 'data-is-streaming', 'data-streaming'];

interface PageRead {
  reader: PageReader;
  located: Located;
  health?: AdapterHealth;
}

export function watchAnswers(options: WatchOptions): AnswerWatcher {
  const quietMs = Math.max(0, options.quietMs ?? 1000);
  const maxWaitMs = Math.max(quietMs * 3, 50);
  const reportExisting = options.reportExisting === true;
  const stats = options.stats;
  const rootNode: Node = options.root ?? document;
  const root = rootNode as unknown as ParentNode;
  const readUrl = options.url ?? (() => new URL(location.href));
  const readHref = options.url !== undefined ? () => options.url!().href : () => location.href;

  /** Every answer seen, by its element, with its state. */
  const tracked = new Map<Element, TrackedAnswer>();
  /** Mutations noted since the last scan. */
  const pending = { nodes: [] as Node[], overflow: false, firstAt: 0, lastAt: -Infinity };
  /** The debounce timer. */
  const timer = { id: null as ReturnType<typeof setTimeout> | null, due: Infinity };
  /** Old answers are a baseline, not news, during a window after load, navigation or a reader switch. */
  const baseline = { active: !reportExisting, since: Date.now(), streamSeenAt: -Infinity, lastSignalCheck: -Infinity };
  /** Which reader the page is read with, and the cross-check of a site's adapter against shape. */
  const reading = { reader: undefined as PageReader | undefined, answers: 0, lastHealth: '', stale: false, checkedCount: -1, checkedAt: -Infinity };
  let stopped = false;
  let firstScan = true;
  let lastHref = safe(readHref, '');

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
    if (timer.id !== null && timer.due <= at) return;
    if (timer.id !== null) clearTimeout(timer.id);
    timer.due = at;
    timer.id = setTimeout(onTimer, Math.max(0, at - Date.now()));
  }

  function onTimer(): void {
    timer.id = null;
    timer.due = Infinity;
    guarded(() => {
      const now = Date.now();
      // Still mutating: wait for quiet, but not forever (a page may never be quiet).
      if (pending.firstAt !== 0 && now - pending.lastAt < quietMs && now - pending.firstAt < maxWaitMs) {
        schedule(Math.min(pending.lastAt + quietMs, pending.firstAt + maxWaitMs));
        return;
      }
      scan(now);
    });
  }

  function rebaseline(now: number): void {
    baseline.active = !reportExisting;
    baseline.since = now;
  }

  function checkNavigation(now: number): void {
    const href = safe(readHref, lastHref);
    if (href === lastHref) return;
    lastHref = href;
    // A new conversation's old answers are not news: re-baseline (answers that stream are).
    rebaseline(now);
  }

  /**
   * Reads the page with the best reader: the site's adapter, else the shape adapter; the generic
   * markers on unknown pages. `initial`: the first scan, which leaves the cross-check to a follow-up
   * scan (so that watching a long conversation never starts with one long task).
   */
  function readPage(now: number, initial: boolean): PageRead {
    const site = adapterForUrl(readUrl(), root);
    if (site === undefined) {
      const markers = siteReader(generic);
      const located = markers.locate(root);
      if (located.answers.length > 0) return { reader: markers, located };
      const byShape = shapeReader.locate(root);
      if (byShape.answers.length > 0) return { reader: shapeReader, located: byShape, health: { site: generic.id, status: 'shape' } };
      return { reader: markers, located };
    }
    const reader = siteReader(site);
    const located = reader.locate(root);
    if (located.answers.length === 0) {
      reading.stale = false;
      reading.checkedCount = -1;
      const byShape = shapeReader.locate(root);
      if (byShape.answers.length > 0) return { reader: shapeReader, located: byShape, health: { site: site.id, status: 'shape' } };
      return { reader, located, health: { site: site.id, status: located.status } };
    }
    // Cross-check when the number of answers changes (and, while stale, now and then to see a recovery).
    const count = located.answers.length;
    if (initial && count !== reading.checkedCount) {
      // Health waits for the cross-check, one quiet period later.
      schedule(now + quietMs);
      return { reader, located };
    } else if (count !== reading.checkedCount || (reading.stale && now - reading.checkedAt >= RECHECK_STALE_MS)) {
      const byShape = shapeReader.locate(root);
      reading.stale = looksStale(located, byShape);
      reading.checkedCount = count;
      reading.checkedAt = now;
      if (reading.stale) return { reader: shapeReader, located: byShape, health: { site: site.id, status: 'stale' } };
    } else if (reading.stale) {
      return { reader: shapeReader, located: shapeReader.locate(root), health: { site: site.id, status: 'stale' } };
    }
    return { reader, located, health: { site: site.id, status: located.status } };
  }

  function reportHealth(health: AdapterHealth | undefined): void {
    if (health === undefined || !options.onHealth) return;
    const key = `${health.site}:${health.status}`;
    if (key === reading.lastHealth) return;
    reading.lastHealth = key;
    try {
      options.onHealth(health);
    } catch (error) {
      fail(error);
    }
  }

  /** The tracked answers that mutated nodes belong to (walk up to the nearest tracked element). */
  function touchedAnswers(): Set<Element> | 'all' {
    if (pending.overflow) return 'all';
    const dirty = new Set<Element>();
    const seen = new Set<Node>();
    for (const node of pending.nodes) {
      if (seen.has(node)) continue;
      seen.add(node);
      for (let n: Node | null = node; n !== null; n = n.parentNode) {
        if (n.nodeType === 1 && tracked.has(n as Element)) {
          dirty.add(n as Element);
          break;
        }
      }
    }
    return dirty;
  }

  function report(read: PageRead, item: LocatedAnswer, text: string): void {
    const exchange = read.reader.exchange(root, read.located, item);
    exchange.answer = text;
    exchange.streaming = false;
    try {
      options.onFinished(exchange);
    } catch (error) {
      fail(error);
    }
  }

  function scan(now: number): void {
    if (stats) stats.scans++;
    checkNavigation(now);
    if (baseline.active && now - baseline.since >= BASELINE_WINDOW_MS) baseline.active = false;
    const touched = touchedAnswers();
    pending.nodes = [];
    pending.overflow = false;
    pending.firstAt = 0;

    const read = readPage(now, firstScan);
    if (reading.reader !== undefined && read.reader !== reading.reader && reading.answers > 0) {
      // Another reader sees the same answers as other elements: what it finds already there is not news.
      rebaseline(now);
    }
    reading.reader = read.reader;
    reading.answers = read.located.answers.length;
    reportHealth(read.health);
    const answers = read.located.answers;
    const lastItem = answers[answers.length - 1];
    if (lastItem?.streaming) baseline.streamSeenAt = now;
    const streamedSinceBaseline = baseline.streamSeenAt >= baseline.since;

    // Answers whose element left the page are superseded (regenerated, removed): final, so forgotten.
    const located = new Set(answers.map((item) => item.answer));
    for (const el of tracked.keys()) if (!located.has(el) && !el.isConnected) tracked.delete(el);

    const initial = firstScan;
    firstScan = false;
    let recheckAt = Infinity;
    for (const item of answers) {
      const el = item.answer;
      let answer = tracked.get(el);
      if (answer === undefined) {
        answer = trackAnswer({
          // Rendered within the baseline window and not streaming: an old answer.
          old: baseline.active && !item.streaming && !(streamedSinceBaseline && item === lastItem),
          // Already there at start (reportExisting): finished long ago, no quiet period to wait.
          changedAt: initial ? -Infinity : pending.lastAt,
        });
      } else if (touched === 'all' || touched.has(el)) {
        answer = touchAnswer(answer);
      }
      let text: string | undefined;
      if (needsText(answer, item.streaming)) {
        if (stats) stats.extractions++;
        text = read.reader.answerText(root, el);
      }
      const step = scanAnswer(answer, { now, streaming: item.streaming, lastMutationAt: pending.lastAt, quietMs, text });
      tracked.set(el, step.next);
      if (step.recheckAt !== undefined) recheckAt = Math.min(recheckAt, step.recheckAt);
      if (step.report !== undefined) report(read, item, step.report);
    }
    if (recheckAt !== Infinity) schedule(recheckAt);
  }

  /** Throttled look for a streaming signal (one querySelector at most every 250 ms). */
  function checkSignal(now: number, force: boolean): void {
    if (!force && now - baseline.lastSignalCheck < 250) return;
    baseline.lastSignalCheck = now;
    const reader = reading.reader ?? siteReader(adapterForUrl(readUrl(), root) ?? generic);
    const sel = reader.signalSelector(root);
    if (sel !== undefined && root.querySelector(sel) !== null) baseline.streamSeenAt = now;
  }

  const observer = new MutationObserver((records) => {
    guarded(() => {
      if (stats) stats.mutationCallbacks++;
      const now = Date.now();
      pending.lastAt = now;
      if (pending.firstAt === 0) pending.firstAt = now;
      let signalFlip = false;
      if (!pending.overflow) {
        for (const record of records) {
          pending.nodes.push(record.target);
          if (record.type === 'attributes') {
            signalFlip = true;
            // A streaming attribute that changes value (true → false) on an element that was
            // already on the page is a live answer finishing, even when the throttled signal
            // check never saw it as "true" (a short answer streamed within one throttle window).
            // An element inserted and flipped in the same task is an old answer being rendered.
            const target = record.target as Element;
            if (
              baseline.active &&
              record.oldValue !== null &&
              record.oldValue !== target.getAttribute(record.attributeName ?? '') &&
              !records.some((r) => r.type === 'childList' && [...r.addedNodes].some((n) => n === target || n.contains(target)))
            ) {
              baseline.streamSeenAt = now;
            }
          }
        }
        if (pending.nodes.length > MAX_TOUCHED) {
          pending.nodes = [];
          pending.overflow = true;
        }
      }
      checkNavigation(now);
      if (baseline.active) checkSignal(now, signalFlip || pending.firstAt === now);
      schedule(now + quietMs);
    });
  });

  const attributeFilter = [...new Set([...SHAPE_ATTRIBUTES, ...[generic, ...SITES].flatMap((a) => a.streaming?.attributes ?? [])])];
  const onNavigate = (): void => guarded(() => schedule(Date.now()));
  const nav = (globalThis as { navigation?: EventTarget }).navigation;
  const win = typeof window !== 'undefined' ? window : undefined;

  const watcher: AnswerWatcher = {
    stop(): void {
      if (stopped) return;
      stopped = true;
      observer.disconnect();
      if (timer.id !== null) clearTimeout(timer.id);
      timer.id = null;
      pending.nodes = [];
      tracked.clear();
      win?.removeEventListener('popstate', onNavigate);
      nav?.removeEventListener?.('navigatesuccess', onNavigate);
      options.signal?.removeEventListener('abort', onAbort);
    },
    scanNow(): void {
      guarded(() => scan(Date.now()));
    },
  };
  function onAbort(): void {
    watcher.stop();
  }

  if (options.signal?.aborted) {
    stopped = true;
    return watcher;
  }
  options.signal?.addEventListener('abort', onAbort, { once: true });
  observer.observe(rootNode, {
    childList: true,
    subtree: true,
    characterData: true,
    attributes: true,
    attributeOldValue: true,
    attributeFilter,
  });
  win?.addEventListener('popstate', onNavigate);
  nav?.addEventListener?.('navigatesuccess', onNavigate);

  // First scan right after the caller has its handle (old answers become the baseline).
  void Promise.resolve().then(() => guarded(() => scan(Date.now())));

  return watcher;
}
