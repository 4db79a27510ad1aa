import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import type { ModelDescription } from '../model/config';
import { backgroundMessaging, contentMessaging } from '../utils/messaging';
import * as v from 'valibot';
import { AdapterHealthReportSchema, type AdapterHealthReport, type Mode } from '../utils/messages';
import { modelWeightsCached } from '../utils/model-cache';
import { modelApprovalKey, settingsNoticeItem, siteEnabled, siteMode, type PublishedEngineStatus, type Settings } from '../utils/settings';
import { formatBytes } from './Panel';
import { saveSettings, useEngineStatus, useSettings, useShortcut } from './hooks';

const HEALTH_TEXT: Record<AdapterHealthReport['health'], string> = {
  ok: 'Realign sees the conversation on this page.',
  fallback: "This site's layout changed a little: Realign still finds the answers, with its backup rules.",
  'no-conversation': 'No conversation on this page yet.',
  shape: "This site's layout changed: Realign now finds the answers from the page's structure.",
  stale: "This site's layout looks changed: Realign reads the page from its structure for now.",
  generic: 'Realign reads this page from its structure. Select an answer and press the shortcut to correct it.',
};

/** The health states worth a report: the site changed, or Realign finds nothing. */
const REPORTABLE = new Set<AdapterHealthReport['health']>(['fallback', 'shape', 'stale', 'no-conversation']);

/** The engine's state in plain words, for the popup's one status line. */
export function engineText(settings: Settings, model: ModelDescription, published: PublishedEngineStatus | null, downloaded: boolean | null): string {
  if (settings.engine === 'remote') return `Answers are sent to ${model.host} to be corrected.`;
  const status = published?.status;
  const waiting = published?.pending.waiting ?? 0;
  const where = status?.device === 'webgpu' ? 'on the GPU (WebGPU)' : 'on the CPU';
  switch (status?.state) {
    case 'converting':
      return status.download && status.download.total > 0
        ? `Converting for your browser: ${formatBytes(status.download.loaded)} of ${formatBytes(status.download.total)} read`
        : 'Converting for your browser…';
    case 'downloading':
      return status.download && status.download.total > 0
        ? `Downloading: ${formatBytes(status.download.loaded)} of ${formatBytes(status.download.total)}`
        : 'Downloading…';
    case 'loading':
      return 'Getting the model ready…';
    case 'ready':
      return `Ready, ${where}.`;
    case 'busy':
      return `Correcting an answer ${where}${waiting > 0 ? `; ${waiting} more waiting` : ''}.`;
    case 'error':
      return status.message ?? 'The model could not be loaded.';
    default:
      if (downloaded) return 'Downloaded; it loads when an answer needs it.';
      if (model.converted) return `Not converted yet: a ${model.downloadBytes > 0 ? `${formatBytes(model.downloadBytes)} ` : ''}download, ${model.keptBytes > 0 ? `${formatBytes(model.keptBytes)} kept` : 'converted in your browser'}.`;
      return model.downloadBytes > 0 ? `Not downloaded yet (${formatBytes(model.downloadBytes)}).` : 'Not downloaded yet.';
  }
}

/** What the popup needs from model/ and sites/, passed in by its entrypoint (components take only types from them). */
export interface PopupViewProps {
  describeModel(settings: Settings): ModelDescription;
  /** Whether a page's reported site really is the site of its address. */
  siteBelongsTo(site: string, url: URL): boolean;
}

export function PopupView({ describeModel, siteBelongsTo }: PopupViewProps) {
  const settings = useSettings();
  const engine = useEngineStatus();
  const { shortcut, change: changeShortcut } = useShortcut();
  const [tab, setTab] = useState<{ id: number; url: URL | null } | null>(null);
  const [page, setPage] = useState<AdapterHealthReport | null | 'none'>(null);
  const [downloaded, setDownloaded] = useState<boolean | null>(null);
  const [notice, setNotice] = useState('');
  const [message, setMessage] = useState('');

  useEffect(() => {
    void settingsNoticeItem.getValue().then(setNotice);
    // `popup.html?tab=ID` describes that tab (the popup opened as a page, e.g. by the test
    // suite); the toolbar popup describes the active tab.
    const requested = Number(new URLSearchParams(location.search).get('tab'));
    const target =
      Number.isInteger(requested) && requested > 0 ? browser.tabs.get(requested).then((found) => [found]) : browser.tabs.query({ active: true, currentWindow: true });
    void target.then(async ([current]) => {
      if (current?.id === undefined) return;
      let url: URL | null = null;
      try {
        url = current.url ? new URL(current.url) : null;
      } catch {
        url = null;
      }
      setTab({ id: current.id, url });
      try {
        // The reply comes from a content script, inside a page we do not control: checked, and its
        // site must be the tab's (the switches below change that site's settings).
        const reply = v.safeParse(AdapterHealthReportSchema, await contentMessaging.sendMessage('pageState', undefined, current.id));
        setPage(reply.success && (!url || siteBelongsTo(reply.output.site, url)) ? reply.output : 'none');
      } catch {
        setPage('none');
      }
    });
  }, []);

  const model = settings ? describeModel(settings) : null;
  useEffect(() => {
    if (!settings || settings.engine !== 'local' || !model) return;
    void modelWeightsCached(model.hubUrl, model.cachedRepo).then(setDownloaded, () => setDownloaded(false));
  }, [model?.hubUrl, model?.cachedRepo, engine?.status.state]);

  if (!settings || !model) return <main class="rl-page rl-popup">Loading…</main>;
  const site = page && page !== 'none' ? page.site : null;
  const origin = tab?.url && /^https?:$/.test(tab.url.protocol) ? tab.url.origin : null;
  const status = engine?.status;
  // The key the background approves under: the engine's own hub URL and download repo.
  const approved = settings.approvedModels.includes(modelApprovalKey(model.hubUrl, model.repo));
  const canDownload = settings.engine === 'local' && (!status || status.state === 'empty' || status.state === 'error');

  const setSite = (change: { enabled?: boolean; mode?: Mode }) => {
    if (site) void saveSettings({ site: { id: site, ...change } });
  };

  const enableHere = async () => {
    if (!origin || !tab) return;
    // Asked now, for this host only: Realign holds no permission for sites it does not know.
    const granted = await browser.permissions.request({ origins: [`${origin}/*`] });
    if (!granted) return setMessage('Permission was not given, so Realign stays off here.');
    const result = await backgroundMessaging.sendMessage('setCustomSite', { origin, enabled: true });
    setMessage(result.ok ? 'Enabled. Reload the page; answers get a Realign panel, or select one and press the shortcut.' : result.message);
  };

  const report = async () => {
    if (!tab) return;
    try {
      const { outline } = await contentMessaging.sendMessage('pageOutline', undefined, tab.id);
      await navigator.clipboard.writeText(`Realign: broken site report for ${tab.url?.host ?? 'a page'}\n\n${outline}`);
      setMessage("Copied an outline of this page's layout (tags and roles only, no text from the page). Paste it into a bug report.");
    } catch {
      setMessage('Could not read the page to make a report.');
    }
  };

  return (
    <main class="rl-page rl-popup">
      <header class="rl-head">
        <span class="rl-brand">
          <img src="/icon/32.png" alt="" />
          Realign
        </span>
        <label class="rl-check" title={settings.enabled ? 'Realign is on' : 'Realign is off everywhere'}>
          <span class="rl-hint">{settings.enabled ? 'On' : 'Off'}</span>
          <input
            type="checkbox"
            class="rl-switch"
            aria-label="Realign on all sites"
            checked={settings.enabled}
            onChange={(event) => void saveSettings({ fields: { enabled: (event.target as HTMLInputElement).checked } })}
          />
        </label>
      </header>
      {notice && (
        <p class="rl-warning" role="alert">
          {notice}{' '}
          <button type="button" class="rl-link-button" onClick={() => void settingsNoticeItem.setValue('').then(() => setNotice(''))}>
            OK
          </button>
        </p>
      )}
      <section aria-label="This site">
        <h2>This site</h2>
        {page === null && <p class="rl-hint">Checking this page…</p>}
        {page === 'none' && (
          <>
            <p data-testid="popup-site">Realign does not run on {origin ? new URL(origin).host : 'this page'}.</p>
            {origin && (
              <button type="button" onClick={() => void enableHere()} data-action="enable-site">
                Enable Realign on this site
              </button>
            )}
          </>
        )}
        {page && page !== 'none' && (
          <div class="rl-card">
            <p data-testid="popup-site">
              <strong>{page.siteName}</strong>{' '}
              <span class="rl-hint" data-testid="popup-health" data-health={page.health}>
                {HEALTH_TEXT[page.health]}
              </span>
            </p>
            <div class="rl-row">
              <label for="site-enabled">Correct answers here</label>
              <input
                id="site-enabled"
                type="checkbox"
                class="rl-switch"
                checked={siteEnabled(settings, page.site)}
                disabled={!settings.enabled}
                onChange={(event) => setSite({ enabled: (event.target as HTMLInputElement).checked })}
                data-testid="popup-site-enabled"
              />
            </div>
            <div class="rl-row">
              <label for="site-mode">When</label>
              <select id="site-mode" value={siteMode(settings, page.site)} onChange={(event) => setSite({ mode: (event.target as HTMLSelectElement).value as Mode })} data-testid="popup-site-mode">
                <option value="auto">Every answer</option>
                <option value="on-demand">When I ask</option>
              </select>
            </div>
            <div class="rl-buttons">
              {tab && (
                <button type="button" onClick={() => void backgroundMessaging.sendMessage('realignInTab', { tabId: tab.id }).then((r) => setMessage(r.ok ? 'Realigning…' : r.message))} data-action="realign-selection">
                  Realign selected answer
                </button>
              )}
              {REPORTABLE.has(page.health) && (
                <button type="button" onClick={() => void report()} data-action="report-site">
                  Report a broken site
                </button>
              )}
            </div>
          </div>
        )}
      </section>
      <section aria-label="Model">
        <h2>Model</h2>
        <div class="rl-card">
          <p data-testid="popup-model">
            <strong>{model.name}</strong>
            {model.kind === 'trained' && <span class="rl-badge">trained corrector</span>}
          </p>
          <p class="rl-hint">{model.summary}</p>
          <p data-testid="popup-engine" data-state={status?.state ?? 'empty'} class={status?.state === 'error' ? 'rl-error' : undefined}>
            {engineText(settings, model!, engine, downloaded)}
          </p>
          {(status?.state === 'downloading' || status?.state === 'converting') && status.download && status.download.total > 0 && (
            <progress max={status.download.total} value={status.download.loaded} aria-label="Model download" />
          )}
          <div class="rl-buttons">
            {canDownload && (
              <button type="button" class={downloaded || approved ? undefined : 'rl-primary'} onClick={() => void backgroundMessaging.sendMessage('loadModel', undefined).then((r) => !r.ok && setMessage(r.message))} data-action="download">
                {downloaded ? 'Load now' : model.downloadBytes > 0 ? `Download (${formatBytes(model.downloadBytes)})` : 'Download'}
              </button>
            )}
            {status && (status.state === 'ready' || status.state === 'busy') && settings.engine === 'local' && (
              <button type="button" onClick={() => void backgroundMessaging.sendMessage('freeModel', undefined)} data-action="free" title="The model is loaded again from the browser's storage when an answer needs it">
                Unload to free memory
              </button>
            )}
          </div>
        </div>
        {message && (
          <p role="status" class="rl-hint">
            {message}
          </p>
        )}
      </section>
      <footer class="rl-footer">
        <span data-testid="popup-shortcut">
          {shortcut === null ? '' : shortcut ? <>Shortcut <kbd>{shortcut}</kbd>{' '}</> : 'No shortcut set. '}
          <button type="button" class="rl-link-button" onClick={changeShortcut} data-action="change-shortcut">
            {shortcut ? 'change' : 'Set one'}
          </button>
        </span>
        <button type="button" onClick={() => void browser.runtime.openOptionsPage()} data-action="options">
          Options
        </button>
      </footer>
    </main>
  );
}
