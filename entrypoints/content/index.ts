import { defineContentScript } from 'wxt/utils/define-content-script';
import { mountPanel, pageTheme, type MountedPanel } from '../../components/mount';
import { adapterForUrl, exchangeFromSelection, lastExchange, outlinePage, SITE_MATCHES, watchAnswers, type Exchange } from '../../sites';
import type { AdapterHealthReport, PageConfig } from '../../utils/messages';
import { backgroundMessaging, handleInContent } from '../../utils/messaging';
import { requestCorrection } from './correction-client';
import { isDemoBuild } from '../../utils/build-constants';

export default defineContentScript({
  // The build (wxt.config.ts) writes the same list into host_permissions: one source of truth.
  matches: SITE_MATCHES,
  runAt: 'document_idle',
  async main(ctx) {
    const url = () => new URL(location.href);
    const adapter = adapterForUrl(url(), document);
    // A site enabled by hand has settings of its own, under its host.
    const site = adapter?.id ?? `custom:${location.hostname}`;
    const fetchConfig = () => backgroundMessaging.sendMessage('pageConfig', { site });
    let config: PageConfig = await fetchConfig().catch(() => ({ enabled: false, mode: 'on-demand' as const, view: 'changes' as const }));
    let health: AdapterHealthReport['health'] = adapter ? 'ok' : 'generic';
    const panels = new Map<Element, { panel: MountedPanel; answer: string }>();
    let watcher: ReturnType<typeof watchAnswers> | null = null;

    const removePanel = (element: Element) => {
      panels.get(element)?.panel.unmount();
      panels.delete(element);
    };

    const showPanel = (exchange: Exchange, autoStart: boolean) => {
      const existing = panels.get(exchange.answerElement);
      // The answer changed (regenerated, edited): the old correction is for other text.
      if (existing && existing.answer === exchange.answer && !autoStart) return;
      if (existing) removePanel(exchange.answerElement);
      if (!exchange.answer.trim()) return;
      const panel = mountPanel(exchange.answerElement, {
        original: exchange.answer,
        question: exchange.question,
        autoStart,
        // On a page no adapter knows, the question may be unknown: let the person give it.
        askQuestion: !adapter && !exchange.question,
        initialView: config.view,
        theme: pageTheme(),
        start: (question, onUpdate) => requestCorrection({ site: exchange.site, question, answer: exchange.answer }, onUpdate),
        onViewChange: (view) => {
          config = { ...config, view };
          void backgroundMessaging.sendMessage('setSiteView', { site, view }).catch(() => undefined);
        },
        onDismiss: () => panels.delete(exchange.answerElement),
      });
      panels.set(exchange.answerElement, { panel, answer: exchange.answer });
    };

    const start = () => {
      // Sites enabled by hand are watched too: their answers are found from the page's structure.
      if (watcher || !config.enabled) return;
      watcher = watchAnswers({
        // One task per panel: many answers finishing together never make one long task.
        onFinished: (exchange) => void setTimeout(() => showPanel(exchange, config.mode === 'auto'), 0),
        onHealth: (report) => {
          // On a site enabled by hand, reading by structure is the normal way, not a changed layout.
          health = adapter || report.status === 'no-conversation' ? report.status : 'generic';
          if (adapter) void backgroundMessaging.sendMessage('pageHealth', { health }).catch(() => undefined);
        },
        // On demand, every answer already on the page gets its Realign button too.
        reportExisting: config.mode === 'on-demand',
      });
    };
    const stop = () => {
      watcher?.stop();
      watcher = null;
      for (const element of [...panels.keys()]) removePanel(element);
    };

    start();
    // The demo build marks the page so `npm start` and the Firefox test know the script is live.
    if (isDemoBuild(import.meta.env.MODE)) document.documentElement.setAttribute('data-realign-active', '');

    handleInContent('pageConfigChanged', async () => {
      const before = config;
      config = await fetchConfig().catch(() => before);
      if (before.enabled && !config.enabled) stop();
      else if ((!before.enabled && config.enabled) || before.mode !== config.mode) {
        stop();
        start();
      }
    });
    handleInContent('pageState', () => ({
      site,
      siteName: adapter?.name ?? location.hostname,
      health,
      panels: panels.size,
      enabled: config.enabled,
      mode: config.mode,
    }));
    handleInContent('pageOutline', () => ({ outline: outlinePage(document) }));
    handleInContent('realignSelection', () => {
      if (!config.enabled) return { ok: false, message: 'Realign is switched off on this site.' };
      const exchange = exchangeFromSelection(getSelection(), document, url()) ?? lastExchange(document, url());
      if (!exchange || !exchange.answer.trim()) return { ok: false, message: 'Select an answer first.' };
      showPanel(exchange, true);
      return { ok: true };
    });

    if (import.meta.env.MODE === 'e2e') {
      const { installTestHook } = await import('./test-hook');
      installTestHook(() => [...panels.values()].map((entry) => entry.panel));
    }

    ctx.onInvalidated(stop);
  },
});
