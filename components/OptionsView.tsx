import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { backgroundMessaging } from '../utils/messaging';
import { remoteApiKeyItem, type Settings } from '../utils/settings';
import type { Mode } from '../utils/messages';
import { saveSettings, useSettings } from './hooks';
import type { ModelPreset } from '../model/presets';
import type { PromptTemplate } from '../model/templates';
import { formatBytes } from './Panel';

export interface OptionsViewProps {
  presets: ModelPreset[];
  templates: PromptTemplate[];
  /** Site ids and names, for the per-site list. */
  sites: Array<{ id: string; name: string }>;
}

const DTYPES = ['auto', 'fp32', 'fp16', 'q8', 'q4', 'q4f16'];

export function OptionsView(props: OptionsViewProps) {
  const settings = useSettings();
  const [apiKey, setApiKey] = useState('');
  const [storageUse, setStorageUse] = useState<{ bytes: number; files: number } | null>(null);
  const [remoteResult, setRemoteResult] = useState('');
  const [saved, setSaved] = useState('');

  useEffect(() => {
    void remoteApiKeyItem.getValue().then(setApiKey);
    void backgroundMessaging.sendMessage('modelStorage', undefined).then(setStorageUse).catch(() => undefined);
  }, []);

  if (!settings) return <main class="rl-page">Loading…</main>;

  /** Every change is saved at once and applies without a reload. */
  const set = <K extends keyof Settings>(key: K, value: Settings[K] & (string | number | boolean)) =>
    void saveSettings({ fields: { [key]: value } }).then(
      () => setSaved('Saved.'),
      (error: unknown) => setSaved(`Not saved: ${error instanceof Error ? error.message : String(error)}`),
    );

  const chooseRemote = async () => {
    const origin = originOf(settings.remoteEndpoint);
    if (!origin) return setRemoteResult('Enter the server address first, e.g. http://gpu-box:8000');
    // The server's host permission is asked for now, when the person chooses it, never up front.
    const granted = await browser.permissions.request({ origins: [`${origin}/*`] });
    if (!granted) return setRemoteResult(`Permission to reach ${origin} was not given; the remote engine stays off.`);
    set('engine', 'remote');
  };

  const testConnection = async () => {
    setRemoteResult('Testing…');
    const result = await backgroundMessaging.sendMessage('testRemote', { endpoint: settings.remoteEndpoint, apiKey });
    if (!result.ok) return setRemoteResult(result.message);
    const served = result.models.includes(settings.remoteModel);
    setRemoteResult(
      `Connected. Models served: ${result.models.join(', ') || 'none'}.` +
        (settings.remoteModel && !served ? ` The model "${settings.remoteModel}" is not among them.` : ''),
    );
  };

  const number = (event: Event) => Number((event.target as HTMLInputElement).value);
  const text = (event: Event) => (event.target as HTMLInputElement).value;

  return (
    <main class="rl-page rl-options">
      <h1>Realign options</h1>
      <p role="status" class="rl-saved">{saved}</p>
      <section>
        <h2>Model</h2>
        <label class="rl-field">
          Model
          <select value={settings.presetId} onChange={(event) => set('presetId', text(event))} data-testid="options-preset">
            {props.presets.map((preset) => (
              <option value={preset.id}>{preset.label}</option>
            ))}
            <option value="custom">Custom hub repo (a converted Aligner)</option>
          </select>
        </label>
        {settings.presetId !== 'custom' &&
          props.presets
            .filter((preset) => preset.id === settings.presetId)
            .map((preset) => (
              <p class="rl-hint">
                {preset.note} Download about {formatBytes(preset.downloadBytes)}. Licence: {preset.licence}. From {preset.repo}.
              </p>
            ))}
        {settings.presetId === 'custom' && (
          <>
            <label class="rl-field">
              Hub repo id (transformers.js layout)
              <input value={settings.customRepo} placeholder="owner/name" onChange={(event) => set('customRepo', text(event).trim())} data-testid="options-custom-repo" />
            </label>
            <label class="rl-field">
              Prompt template
              <select value={settings.customTemplate} onChange={(event) => set('customTemplate', text(event))} data-testid="options-custom-template">
                {props.templates.map((template) => (
                  <option value={template.id}>{template.label}</option>
                ))}
              </select>
            </label>
            <label class="rl-field">
              Context length (tokens)
              <input type="number" min={128} value={settings.customContextLength} onChange={(event) => set('customContextLength', number(event))} />
            </label>
          </>
        )}
        <label class="rl-field">
          Weights (dtype)
          <select value={settings.dtype} onChange={(event) => set('dtype', text(event))} data-testid="options-dtype">
            {DTYPES.map((dtype) => (
              <option value={dtype}>{dtype === 'auto' ? 'Automatic (by device)' : dtype}</option>
            ))}
          </select>
        </label>
        <label class="rl-field">
          Model host (the Hugging Face hub, or a mirror with the same URL layout)
          <input value={settings.modelHost} onChange={(event) => set('modelHost', text(event).trim())} data-testid="options-model-host" />
        </label>
        <label class="rl-row">
          <input type="checkbox" checked={settings.allowWebgpu} onChange={(event) => set('allowWebgpu', (event.target as HTMLInputElement).checked)} />
          Use WebGPU when available (else WebAssembly on the CPU)
        </label>
        <label class="rl-field">
          Longest correction (new tokens)
          <input type="number" min={16} max={32768} value={settings.maxNewTokens} onChange={(event) => set('maxNewTokens', number(event))} data-testid="options-max-tokens" />
        </label>
        <label class="rl-field">
          Free the model after this many idle minutes
          <input type="number" min={1} max={1440} value={settings.idleMinutes} onChange={(event) => set('idleMinutes', number(event))} />
        </label>
        <p class="rl-hint" data-testid="options-storage">
          Downloaded models: {storageUse ? `${formatBytes(storageUse.bytes)} in ${storageUse.files} files` : '…'}{' '}
          <button
            type="button"
            onClick={() => void backgroundMessaging.sendMessage('clearModels', undefined).then(() => setStorageUse({ bytes: 0, files: 0 }))}
            data-action="clear-models"
          >
            Clear downloaded models
          </button>
        </p>
      </section>
      <section>
        <h2>Engine</h2>
        <label class="rl-row">
          <input type="radio" name="engine" checked={settings.engine === 'local'} onChange={() => set('engine', 'local')} data-testid="options-engine-local" />
          In this browser (nothing leaves your device)
        </label>
        <label class="rl-row">
          <input type="radio" name="engine" checked={settings.engine === 'remote'} onChange={() => void chooseRemote()} data-testid="options-engine-remote" />
          A server I run (OpenAI-compatible: vLLM, llama.cpp, Ollama, TGI) — answers are sent to it
        </label>
        <label class="rl-field">
          Server address
          <input value={settings.remoteEndpoint} placeholder="http://gpu-box:8000" onChange={(event) => set('remoteEndpoint', text(event).trim())} data-testid="options-remote-endpoint" />
        </label>
        <label class="rl-field">
          Served model name
          <input value={settings.remoteModel} placeholder="aligner/aligner-7b-v1.0" onChange={(event) => set('remoteModel', text(event).trim())} data-testid="options-remote-model" />
        </label>
        <label class="rl-field">
          Prompt template
          <select value={settings.remoteTemplate} onChange={(event) => set('remoteTemplate', text(event))}>
            {props.templates.map((template) => (
              <option value={template.id}>{template.label}</option>
            ))}
          </select>
        </label>
        <label class="rl-field">
          API key (optional; kept on this device only)
          <input
            type="password"
            value={apiKey}
            autocomplete="off"
            onChange={(event) => {
              setApiKey(text(event));
              void remoteApiKeyItem.setValue(text(event));
            }}
          />
        </label>
        <button type="button" onClick={() => void testConnection()} data-action="test-connection">
          Test connection
        </button>
        <p role="status" data-testid="options-remote-result">{remoteResult}</p>
      </section>
      <section>
        <h2>Sites</h2>
        <label class="rl-field">
          Default mode
          <select value={settings.defaultMode} onChange={(event) => set('defaultMode', text(event) as Mode)}>
            <option value="auto">Automatic: correct every finished answer</option>
            <option value="on-demand">On demand: a Realign button on each answer</option>
          </select>
        </label>
        <table class="rl-sites">
          <thead>
            <tr>
              <th>Site</th>
              <th>On</th>
              <th>Mode</th>
            </tr>
          </thead>
          <tbody>
            {props.sites.map((site) => (
              <tr>
                <td>{site.name}</td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Realign on ${site.name}`}
                    checked={settings.sites[site.id]?.enabled !== false}
                    onChange={(event) => void saveSettings({ site: { id: site.id, enabled: (event.target as HTMLInputElement).checked } })}
                  />
                </td>
                <td>
                  <select
                    aria-label={`Mode on ${site.name}`}
                    value={settings.sites[site.id]?.mode ?? 'default'}
                    onChange={(event) => {
                      const value = text(event);
                      void saveSettings({ site: { id: site.id, mode: value === 'default' ? null : (value as Mode) } });
                    }}
                  >
                    <option value="default">Default</option>
                    <option value="auto">Automatic</option>
                    <option value="on-demand">On demand</option>
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}

function originOf(endpoint: string): string | null {
  try {
    const url = new URL(endpoint);
    return /^https?:$/.test(url.protocol) ? url.origin : null;
  } catch {
    return null;
  }
}
