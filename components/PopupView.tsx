import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { backgroundMessaging, contentMessaging } from '../utils/messaging';
import type { AdapterHealthReport, EngineStatus, Mode } from '../utils/messages';
import { settingsNoticeItem, siteEnabled, siteMode } from '../utils/settings';
import { formatBytes } from './Panel';
import { saveSettings, useEngineStatus, useSettings, useShortcut } from './hooks';

const HEALTH_TEXT: Record<AdapterHealthReport['health'], string> = {
  ok: 'Found the conversation on this page.',
  fallback: "This site's layout changed: Realign could not find the answers and falls back to selected text (select an answer, then press the shortcut).",
  'no-conversation': 'No conversation on this page yet.',
  shape: "This site's layout changed: Realign now finds the answers from the page's structure.",
  stale: "This site's layout looks changed: Realign reads the page from its structure for now.",
  generic: 'Select an answer and press the shortcut, or use the context menu.',
};

const STATE_TEXT: Record<EngineStatus['state'], string> = {
  empty: 'not loaded',
  downloading: 'downloading',
  loading: 'loading',
  ready: 'loaded',
  busy: 'correcting',
  error: 'failed to load',
};

export interface PopupViewProps {
  /** Label of the chosen model (from model/presets), shown as is. */
  modelLabel: (settings: Settings) => string;
}

export function PopupView(props: PopupViewProps) {
  const settings = useSettings();
  const engine = useEngineStatus();
  const [tab, setTab] = useState<{ id: number; url: URL | null } | null>(null);
  const [page, setPage] = useState<AdapterHealthReport | null | 'none'>(null);
  const [notice, setNotice] = useState('');
  const [message, setMessage] = useState('');
  const { shortcut, change: changeShortcut } = useShortcut();

  useEffect(() => {
    void settingsNoticeItem.getValue().then(setNotice);
    // `popup.html?tab=ID` describes that tab (the popup opened as a page, e.g. from a keyboard
    // shortcut or by the test suite); the toolbar popup describes the active tab.
    const requested = Number(new URLSearchParams(location.search).get('tab'));
    const target = Number.isInteger(requested) && requested > 0
      ? browser.tabs.get(requested).then((tab) => [tab])
      : browser.tabs.query({ active: true, currentWindow: true });
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
        setPage(await contentMessaging.sendMessage('pageState', undefined, current.id));
      } catch {
        setPage('none');
      }
    });
  }, []);

  if (!settings) return <main class="rl-page rl-popup">Loading…</main>;
  const site = page && page !== 'none' ? page.site : null;
  const origin = tab?.url && /^https?:$/.test(tab.url.protocol) ? tab.url.origin : null;

  const setSite = (change: { enabled?: boolean; mode?: Mode }) => {
    if (site) void saveSettings({ site: { id: site, ...change } });
  };

  const enableHere = async () => {
    if (!origin || !tab) return;
    // Asked now, for this host only: Realign holds no permission for sites it does not know.
    const granted = await browser.permissions.request({ origins: [`${origin}/*`] });
    if (!granted) return setMessage('Permission was not given.');
    const result = await backgroundMessaging.sendMessage('setCustomSite', { origin, enabled: true });
    setMessage(result.ok ? 'Enabled. Reload the page, then select an answer and press the shortcut.' : result.message);
  };

  const status = engine?.status;
  return (
    <main class="rl-page rl-popup">
      <header class="rl-head">
        <strong>Realign</strong>
        <label class="rl-switch">
          <input
            type="checkbox"
            checked={settings.enabled}
            onChange={(event) => void saveSettings({ fields: { enabled: (event.target as HTMLInputElement).checked } })}
          />
          On
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
        {page === null && <p>Checking this page…</p>}
        {page === 'none' && (
          <>
            <p data-testid="popup-site">Realign is not active on {origin ? new URL(origin).host : 'this page'}.</p>
            {origin && (
              <button type="button" onClick={() => void enableHere()} data-action="enable-site">
                Enable Realign on this site
              </button>
            )}
          </>
        )}
        {page && page !== 'none' && (
          <>
            <p data-testid="popup-site">
              {page.siteName}: <span data-testid="popup-health" data-health={page.health}>{HEALTH_TEXT[page.health]}</span>
            </p>
            <label class="rl-row">
              <input
                type="checkbox"
                checked={siteEnabled(settings, page.site)}
                onChange={(event) => setSite({ enabled: (event.target as HTMLInputElement).checked })}
                data-testid="popup-site-enabled"
              />
              Correct answers on this site
            </label>
            <label class="rl-row">
              Mode
              <select
                value={siteMode(settings, page.site)}
                onChange={(event) => setSite({ mode: (event.target as HTMLSelectElement).value as Mode })}
                data-testid="popup-site-mode"
              >
                <option value="auto">Automatic: every finished answer</option>
                <option value="on-demand">On demand: a Realign button on each answer</option>
              </select>
            </label>
          </>
        )}
      </section>
      <section aria-label="Model">
        <h2>Model</h2>
        <p data-testid="popup-model">{props.modelLabel(settings)}</p>
        {settings.engine === 'remote' && settings.remoteEndpoint && (
          <p class="rl-warning">Answers are sent to {safeHost(settings.remoteEndpoint)} for correction.</p>
        )}
        <p data-testid="popup-engine" data-state={status?.state ?? 'empty'}>
          Status: {status ? STATE_TEXT[status.state] : '…'}
          {status?.device && ` on ${status.device === 'webgpu' ? 'WebGPU' : status.device === 'wasm' ? 'WASM (CPU)' : 'a remote server'}`}
          {status?.state === 'downloading' && status.download && ` (${formatBytes(status.download.loaded)} of ${formatBytes(status.download.total)})`}
          {status?.message && ` — ${status.message}`}
          {engine && engine.pending.waiting > 0 && ` · ${engine.pending.waiting} waiting`}
        </p>
        {status?.state === 'downloading' && status.download && status.download.total > 0 && (
          <progress max={status.download.total} value={status.download.loaded} aria-label="Model download" />
        )}
        <div class="rl-buttons">
          {(!status || status.state === 'empty' || status.state === 'error') && (
            <button type="button" onClick={() => void backgroundMessaging.sendMessage('loadModel', undefined).then((r) => !r.ok && setMessage(r.message))} data-action="download">
              Download / load model
            </button>
          )}
          {status && (status.state === 'ready' || status.state === 'busy') && (
            <button type="button" onClick={() => void backgroundMessaging.sendMessage('freeModel', undefined)} data-action="free">
              Free memory
            </button>
          )}
          {page && page !== 'none' && tab && (
            <button
              type="button"
              onClick={() => void backgroundMessaging.sendMessage('realignInTab', { tabId: tab.id }).then((r) => setMessage(r.ok ? 'Realigning…' : r.message))}
              data-action="realign-selection"
            >
              Realign selected answer
            </button>
          )}
          <button type="button" onClick={() => void browser.runtime.openOptionsPage()}>
            Options
          </button>
        </div>
        {message && <p role="status">{message}</p>}
      </section>
      <p class="rl-hint" data-testid="popup-shortcut">
        {shortcut === null ? '' : shortcut ? <>Shortcut: <kbd>{shortcut}</kbd> realigns the selected answer. </> : 'No keyboard shortcut is set. '}
        <button type="button" class="rl-link-button" onClick={changeShortcut} data-action="change-shortcut">
          {shortcut ? 'Change' : 'Set one'}
        </button>
      </p>
    </main>
  );
}

function safeHost(endpoint: string): string {
  try {
    return new URL(endpoint).host;
  } catch {
    return endpoint;
  }
}
