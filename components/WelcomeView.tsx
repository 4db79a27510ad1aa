import { useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import type { ModelDescription } from '../model/config';
import type { ModelPreset } from '../model/presets';
import { backgroundMessaging } from '../utils/messaging';
import { messageOf } from '../utils/errors';
import { formatBytes } from './Panel';
import { PresetChoice } from './PresetChoice';
import { saveSettings, useEngineStatus, useSettings, useShortcut } from './hooks';

/**
 * First run: what Realign does, the models it can use (trained correctors first, with what each
 * downloads, keeps and takes to convert), and one clear Download button for the chosen one.
 */
export function WelcomeView(props: { presets: ModelPreset[]; describeModel(settings: Settings): ModelDescription }) {
  const settings = useSettings();
  const status = useEngineStatus()?.status;
  const { shortcut, change: changeShortcut } = useShortcut();
  const [message, setMessage] = useState('');
  const [started, setStarted] = useState(false);

  if (!settings) return <main class="rl-page rl-welcome">Loading…</main>;
  const model = props.describeModel(settings);
  const size = model.downloadBytes > 0 ? formatBytes(model.downloadBytes) : '';
  const download = async () => {
    setStarted(true);
    setMessage('');
    const result = await backgroundMessaging.sendMessage('loadModel', undefined);
    if (!result.ok) setMessage(result.message);
  };
  const ready = status?.state === 'ready' || status?.state === 'busy';
  const failed = status?.state === 'error';
  const choosing = !started || failed || Boolean(message);
  /** A preset's card already says what it is (and its caveat). */
  const listed = settings.engine === 'local' && props.presets.some((preset) => preset.id === settings.presetId);
  const choose = (presetId: string) => {
    setMessage('');
    void saveSettings({ fields: { presetId } }).catch((failure: unknown) => setMessage(`Not saved: ${messageOf(failure)}`));
  };

  return (
    <main class="rl-page rl-welcome">
      <p class="rl-brand">
        <img src="/icon/48.png" alt="" style="width:40px;height:40px" />
        Realign
      </p>
      <h1>Better chatbot answers, corrected right under them</h1>
      <p>
        On ChatGPT, Claude, Gemini and other chat sites, Realign gives each finished answer to a small correction model that
        runs in your browser, and shows the corrected answer under the original with every change highlighted. The site's
        answer is never changed, and your conversations stay on your device.
      </p>

      <section class="rl-card" aria-labelledby="model-heading">
        <h2 id="model-heading" style="margin-top:4px">First, its model</h2>
        {settings.engine === 'local' && (
          <>
            <p>Pick the model that corrects the answers. The trained correctors were made for exactly this; the instruct models are smaller and quicker to get.</p>
            <fieldset class="rl-choices" role="radiogroup" aria-label="Model" data-testid="welcome-presets" disabled={!choosing}>
              {props.presets.map((preset) => (
                <PresetChoice preset={preset} group="welcome-preset" checked={settings.presetId === preset.id} onChoose={() => choose(preset.id)} />
              ))}
              {settings.customRepo.trim() !== '' && (
                <label class="rl-choice" data-preset="custom">
                  <input type="radio" name="welcome-preset" value="custom" checked={settings.presetId === 'custom'} onChange={() => choose('custom')} />
                  <span>
                    <strong>{settings.customRepo.trim()}</strong>
                  </span>
                  <span class="rl-hint">The Hugging Face hub model you chose in the options.</span>
                </label>
              )}
            </fieldset>
          </>
        )}
        <p data-testid="welcome-model">
          Realign uses <strong>{model.name}</strong>{model.repo && model.repo !== model.name ? ` (${model.repo})` : ''}. {listed ? '' : `${model.summary} `}
          {model.converted
            ? `Its weights${size ? `, about ${size},` : ''} are downloaded once from ${model.host} and converted in your browser${model.keptBytes > 0 ? `, which keeps about ${formatBytes(model.keptBytes)}` : ''}; nothing is downloaded until you choose to.`
            : `It is downloaded once${size ? `, about ${size},` : ''} from ${model.host} and kept by your browser; nothing is downloaded until you choose to.`}
        </p>
        {model.caveat && !listed && <p class="rl-hint">{model.caveat}</p>}
        <div class="rl-buttons">
          <button type="button" class="rl-primary" onClick={() => void download()} disabled={started && !failed && !message} data-action="download">
            {model.converted ? (size ? `Download and convert the model (${size})` : 'Download and convert the model') : size ? `Download the model (${size})` : 'Download the model'}
          </button>
          <button type="button" onClick={() => void browser.runtime.openOptionsPage()}>
            More options
          </button>
          <button type="button" onClick={() => window.close()}>
            Later
          </button>
        </div>
        {started && (
          <p role="status" data-testid="welcome-status" class={failed ? 'rl-error' : ready ? 'rl-ok' : undefined}>
            {status?.state === 'converting' && status.download
              ? `Converting for your browser: ${formatBytes(status.download.loaded)} of ${formatBytes(status.download.total)} read`
              : status?.state === 'downloading' && status.download
              ? `Downloading: ${formatBytes(status.download.loaded)} of ${formatBytes(status.download.total)}`
              : ready
                ? 'The model is ready. Open a chat site: each finished answer gets its correction.'
                : failed
                  ? `The download failed: ${status?.message ?? 'unknown error'} You can try again.`
                  : 'Starting…'}
          </p>
        )}
        {(status?.state === 'downloading' || status?.state === 'converting') && status.download && status.download.total > 0 && (
          <progress max={status.download.total} value={status.download.loaded} aria-label="Model download" />
        )}
        {message && (
          <p role="alert" class="rl-error">
            {message}
          </p>
        )}
      </section>

      <h2>How it works</h2>
      <ol class="rl-steps">
        <li>Ask a chatbot as usual.</li>
        <li>When the answer finishes, Realign corrects it and shows what changed, right under it. Switch between the changes and the corrected answer, copy it, or hide it.</li>
        <li data-testid="welcome-shortcut">
          To correct an answer yourself, select it and press {shortcut ? <kbd>{shortcut}</kbd> : 'the Realign shortcut (none is set yet)'}, or right-click → “Realign this answer”.{' '}
          <button type="button" class="rl-link-button" onClick={changeShortcut}>
            {shortcut ? 'Change the shortcut' : 'Set a shortcut'}
          </button>
        </li>
        <li>Turn Realign off for a site, or make it correct only when you ask, from its button in the toolbar.</li>
      </ol>
      <p class="rl-hint">
        Researchers: run the official Aligner-7B on your own GPU server and point Realign at it in the options (answers are
        then sent to that server, and only there).
      </p>
    </main>
  );
}
