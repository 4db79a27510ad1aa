import { browser } from 'wxt/browser';
import { defineContentScript } from 'wxt/utils/define-content-script';
import { mountPanel, pageTheme, type MountedPanel } from '../../components/mount';
import { adapterForUrl, exchangeFromSelection, lastExchange, SITE_MATCHES, watchAnswers, type Exchange } from '../../sites';
import { requestCorrection } from './correction-client';
import { contentMessaging } from '../../utils/messaging';
import type { AdapterHealthReport } from '../../utils/page-state';
import { settingsItem, siteEnabled, siteMode, normaliseSettings, updateSettings, type Settings } from '../../utils/settings';

export default defineContentScript({
  // The build (wxt.config.ts) writes the same list into host_permissions: one source of truth.
  matches: SITE_MATCHES,
  runAt: 'document_idle',
  async main(ctx) {
    const url = () => new URL(location.href);
    const adapter = adapterForUrl(url(), document);
    const site = adapter?.id ?? 'generic';
    let settings: Settings = normaliseSettings(await settingsItem.getValue()).settings;
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
        askQuestion: exchange.site === 'generic' && !exchange.question,
        initialView: settings.sites[site]?.view ?? 'changes',
        theme: pageTheme(),
        start: (question, onUpdate) => requestCorrection({ site: exchange.site, question, answer: exchange.answer }, onUpdate),
        onViewChange: (view) =>
          void updateSettings((current) => {
            current.sites[site] = { ...current.sites[site], view };
          }),
        onDismiss: () => panels.delete(exchange.answerElement),
      });
      panels.set(exchange.answerElement, { panel, answer: exchange.answer });
    };

    const start = () => {
      if (watcher || !siteEnabled(settings, site) || !adapter) return;
      watcher = watchAnswers({
        // One task per panel: many answers finishing together never make one long task.
        onFinished: (exchange) => void setTimeout(() => showPanel(exchange, siteMode(settings, site) === 'auto'), 0),
        onHealth: (report) => {
          health = report.status;
        },
        // On demand, every answer already on the page gets its Realign button too.
        reportExisting: siteMode(settings, site) === 'on-demand',
      });
    };
    const stop = () => {
      watcher?.stop();
      watcher = null;
      for (const element of [...panels.keys()]) removePanel(element);
    };

    start();
    // The demo build marks the page so `npm start` and the Firefox test know the script is live.
    if (import.meta.env.MODE === 'demo') document.documentElement.setAttribute('data-realign-active', '');
    const unwatch = settingsItem.watch((value) => {
      const before = settings;
      settings = normaliseSettings(value).settings;
      const wasOn = siteEnabled(before, site);
      const isOn = siteEnabled(settings, site);
      if (wasOn && !isOn) stop();
      else if ((!wasOn && isOn) || siteMode(before, site) !== siteMode(settings, site)) {
        stop();
        start();
      }
    });

    contentMessaging.onMessage('pageState', ({ sender }) => {
      if (sender.id !== browser.runtime.id) throw new Error('refused');
      return {
        site,
        siteName: adapter?.name ?? location.hostname,
        health,
        panels: panels.size,
        enabled: siteEnabled(settings, site),
        mode: siteMode(settings, site),
      };
    });
    contentMessaging.onMessage('realignSelection', ({ sender }) => {
      if (sender.id !== browser.runtime.id) throw new Error('refused');
      if (!siteEnabled(settings, site)) return { ok: false, message: 'Realign is switched off on this site.' };
      const exchange = exchangeFromSelection(getSelection(), document, url()) ?? lastExchange(document, url());
      if (!exchange || !exchange.answer.trim()) return { ok: false, message: 'Select an answer first.' };
      showPanel(exchange, true);
      return { ok: true };
    });

    ctx.onInvalidated(() => {
      unwatch();
      stop();
    });
  },
});
