import { useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { backgroundMessaging } from '../utils/messaging';
import type { Settings } from '../utils/settings';
import type { ModelPreset } from '../model/presets';
import { formatBytes } from './Panel';
import { useEngineStatus, useSettings, useShortcut } from './hooks';

export interface WelcomeViewProps {
  describeModel: (settings: Settings) => ModelPreset;
}

/** First run: what Realign does, which model it needs and from where, and a Download button. */
export function WelcomeView(props: WelcomeViewProps) {
  const settings = useSettings();
  const status = useEngineStatus()?.status;
  const [message, setMessage] = useState('');
  const [started, setStarted] = useState(false);
  const { shortcut, change: changeShortcut } = useShortcut();


  if (!settings) return <main class="rl-page rl-options">Loading…</main>;
  const preset = props.describeModel(settings);
  const host = safeHost(settings.modelHost);
  const download = async () => {
    setStarted(true);
    const result = await backgroundMessaging.sendMessage('loadModel', undefined);
    if (!result.ok) setMessage(result.message);
  };

  return (
    <main class="rl-page rl-options">
      <h1>Realign corrects chatbot answers, on your device</h1>
      <p>
        On ChatGPT, Claude, Gemini and other chat sites, Realign gives each finished answer (and its question) to a small
        correction model running inside your browser, and shows a corrected version with the changes highlighted right under
        the original. The site's own answer is never changed, and your conversations never leave your device.
      </p>
      <h2>The model</h2>
      <p data-testid="welcome-model">
        {preset.label}. {preset.note} It is downloaded once from {host} ({preset.downloadBytes > 0 ? `about ${formatBytes(preset.downloadBytes)}` : 'size shown by the hub'}
        , licence {preset.licence}) and kept by your browser. Nothing is downloaded until you choose to.
      </p>
      <div class="rl-buttons">
        <button type="button" onClick={() => void download()} disabled={started && status?.state !== 'error'} data-action="download">
          Download the model now
        </button>
        <button type="button" onClick={() => void browser.runtime.openOptionsPage()}>
          Choose another model
        </button>
        <button type="button" onClick={() => window.close()}>
          Later
        </button>
      </div>
      {started && (
        <p role="status" data-testid="welcome-status">
          {status?.state === 'downloading' && status.download
            ? `Downloading: ${formatBytes(status.download.loaded)} of ${formatBytes(status.download.total)}`
            : status?.state === 'ready' || status?.state === 'busy'
              ? 'The model is ready. Open a chat site: answers get a Realign panel.'
              : status?.state === 'error'
                ? `The download failed: ${status.message ?? 'unknown error'}`
                : 'Starting…'}
        </p>
      )}
      {status?.state === 'downloading' && status.download && status.download.total > 0 && (
        <progress max={status.download.total} value={status.download.loaded} aria-label="Model download" />
      )}
      {message && <p role="alert">{message}</p>}
      <h2>How to use it</h2>
      <ul>
        <li>Answers are corrected when they finish (or on demand: a Realign button on each answer). Switch per site in the toolbar popup.</li>
        <li data-testid="welcome-shortcut">
          {shortcut ? <>Select an answer and press <kbd>{shortcut}</kbd></> : 'Select an answer and press the Realign shortcut (none is set yet)'}, or right-click → “Realign this answer”.{' '}
          <button type="button" class="rl-link-button" onClick={changeShortcut}>
            {shortcut ? 'Change the shortcut' : 'Set a shortcut'}
          </button>
        </li>
        <li>Researchers: run the official Aligner-7B on your own GPU server and point Realign at it in the options.</li>
      </ul>
    </main>
  );
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
