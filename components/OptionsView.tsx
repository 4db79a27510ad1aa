import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import type { ModelPreset } from '../model/presets';
import type { PromptTemplate } from '../model/templates';
import { backgroundMessaging } from '../utils/messaging';
import type { Mode } from '../utils/messages';
import { remoteApiKeyItem, type Settings } from '../utils/settings';
import { formatBytes } from './Panel';
import { PresetChoice } from './PresetChoice';
import { saveSettings, useSettings, useShortcut } from './hooks';
import { messageOf } from '../utils/errors';

export interface OptionsViewProps {
  presets: ModelPreset[];
  templates: PromptTemplate[];
  /** Site ids and names, for the per-site list. */
  sites: Array<{ id: string; name: string }>;
  /** From model/ (components take only types from it): the preset the settings choose. */
  presetFromSettings(settings: Settings): ModelPreset;
  /** A warning when an API key would travel unencrypted, or null. */
  insecureKeyWarning(endpoint: string, apiKey: string): string | null;
}

const DTYPES = ['auto', 'fp32', 'fp16', 'q8', 'q4', 'q4f16'];
type Field = keyof Settings | 'apiKey' | 'sites';

/** "Saved" beside the control that changed, for a moment. */
function Saved({ field, last }: { field: Field; last: { field: Field; at: number } | null }) {
  return last?.field === field ? (
    <span class="rl-saved" aria-live="polite" key={last.at}>
      Saved
    </span>
  ) : null;
}

function Field(props: { label: string; hint?: ComponentChildren; children: ComponentChildren; saved?: ComponentChildren }) {
  return (
    <label class="rl-field">
      <span>
        {props.label} {props.saved}
      </span>
      {props.children}
      {props.hint && <span class="rl-hint">{props.hint}</span>}
    </label>
  );
}

/**
 * A text or number field bound to a setting, saved when the field is left. What the person types
 * is kept while the page re-renders (another field's save lands, "Saved" shows): a plain
 * controlled input would be reset to the stored value then, losing the typing.
 */
function SettingInput(props: {
  value: string | number;
  onCommit(value: string): void;
  type?: 'url' | 'number';
  placeholder?: string;
  min?: number;
  max?: number;
  'data-testid'?: string;
}) {
  const { value, onCommit, ...rest } = props;
  const [draft, setDraft] = useState<string | null>(null);
  // The stored value changed (this field's save landed, or another page changed it): show it.
  useEffect(() => setDraft(null), [value]);
  return (
    <input
      {...rest}
      value={draft ?? String(value)}
      onInput={(event) => setDraft((event.target as HTMLInputElement).value)}
      onChange={(event) => onCommit((event.target as HTMLInputElement).value)}
    />
  );
}

export function OptionsView(props: OptionsViewProps) {
  const settings = useSettings();
  const { shortcut, change: changeShortcut } = useShortcut();
  const [apiKey, setApiKey] = useState('');
  const [storageUse, setStorageUse] = useState<{ bytes: number; files: number } | null>(null);
  const [customOrigins, setCustomOrigins] = useState<string[] | null>(null);
  const [remoteResult, setRemoteResult] = useState('');
  const [pickingRemote, setPickingRemote] = useState(false);
  const [lastSaved, setLastSaved] = useState<{ field: Field; at: number } | null>(null);
  const [error, setError] = useState('');
  const clearTimer = useRef<ReturnType<typeof setTimeout>>();

  useEffect(() => {
    void remoteApiKeyItem.getValue().then(setApiKey);
    void backgroundMessaging.sendMessage('modelStorage', undefined).then(setStorageUse).catch(() => undefined);
    void backgroundMessaging.sendMessage('customSites', undefined).then((r) => setCustomOrigins(r.origins)).catch(() => setCustomOrigins([]));
  }, []);

  if (!settings) return <main class="rl-page rl-options">Loading…</main>;

  const saved = (field: Field) => {
    setLastSaved({ field, at: Date.now() });
    setError('');
    clearTimeout(clearTimer.current);
    clearTimer.current = setTimeout(() => setLastSaved(null), 2500);
  };
  /** Every change is saved at once and applies without a reload. */
  const set = <K extends keyof Settings>(key: K, value: Settings[K] & (string | number | boolean)) =>
    void saveSettings({ fields: { [key]: value } }).then(
      () => saved(key),
      (failure: unknown) => setError(`Not saved: ${messageOf(failure)}`),
    );
  const text = (event: Event) => (event.target as HTMLInputElement).value;
  const remoteShown = settings.engine === 'remote' || pickingRemote;
  const keyWarning = props.insecureKeyWarning(settings.remoteEndpoint, apiKey);

  const useRemote = async () => {
    const origin = originOf(settings.remoteEndpoint);
    if (!origin) return setRemoteResult('Enter the server address first, e.g. http://gpu-box:8000');
    // The server's host permission is asked for now, when the person chooses it, never up front.
    const granted = await browser.permissions.request({ origins: [`${origin}/*`] });
    if (!granted) return setRemoteResult(`Permission to reach ${new URL(origin).host} was not given; Realign keeps correcting in this browser.`);
    try {
      await saveSettings({ fields: { engine: 'remote' } });
    } catch (failure) {
      return setError(`Not saved: ${messageOf(failure)}`);
    }
    saved('engine');
    await testConnection();
  };

  const testConnection = async () => {
    setRemoteResult('Testing…');
    const result = await backgroundMessaging.sendMessage('testRemote', { endpoint: settings.remoteEndpoint, apiKey });
    if (!result.ok) return setRemoteResult(result.message);
    const served = result.models.includes(settings.remoteModel);
    setRemoteResult(
      `Connected. Models served: ${result.models.join(', ') || 'none'}.` + (settings.remoteModel && !served ? ` The model "${settings.remoteModel}" is not among them.` : ''),
    );
  };

  const removeSite = async (origin: string) => {
    await backgroundMessaging.sendMessage('setCustomSite', { origin, enabled: false });
    setCustomOrigins((current) => (current ?? []).filter((entry) => entry !== origin));
    saved('sites');
  };

  return (
    <main class="rl-page rl-options">
      <header class="rl-head">
        <h1 class="rl-brand">
          <img src="/icon/48.png" alt="" />
          Realign options
        </h1>
        <p role="status" class={error ? 'rl-error' : 'rl-saved'} data-testid="options-saved">
          {error || (lastSaved ? 'Saved.' : '')}
        </p>
      </header>

      <section aria-labelledby="model-heading">
        <h2 id="model-heading">Model</h2>
        <div class="rl-choices" role="radiogroup" aria-label="Model" data-testid="options-preset" data-value={settings.presetId}>
          {props.presets.map((preset) => (
            <PresetChoice preset={preset} group="preset" checked={settings.presetId === preset.id} onChoose={() => set('presetId', preset.id)} />
          ))}
          <label class="rl-choice">
            <input type="radio" name="preset" value="custom" checked={settings.presetId === 'custom'} onChange={() => set('presetId', 'custom')} data-testid="options-preset-custom" />
            <span>
              <strong>A model from the Hugging Face hub</strong>
            </span>
            <span class="rl-hint">Any repository in transformers.js layout (an onnx/ folder), for example a converted Aligner.</span>
          </label>
        </div>
        <Saved field="presetId" last={lastSaved} />
        {settings.presetId === 'custom' && (
          <div class="rl-card">
            <Field label="Hub repository" hint="owner/name, as on huggingface.co" saved={<Saved field="customRepo" last={lastSaved} />}>
              <SettingInput value={settings.customRepo} placeholder="owner/name" onCommit={(value) => set('customRepo', value.trim())} data-testid="options-custom-repo" />
            </Field>
            <label class="rl-row">
              <span>
                It holds PyTorch weights: convert them in the browser <Saved field="customConvert" last={lastSaved} />
              </span>
              <input type="checkbox" class="rl-switch" checked={settings.customConvert} onChange={(event) => set('customConvert', (event.target as HTMLInputElement).checked)} data-testid="options-custom-convert" />
            </label>
            {settings.customConvert && (
              <Field
                label="Tokenizer from (if the repo has no tokenizer.json)"
                hint="A repo with the identical vocabulary, e.g. TinyLlama/TinyLlama-1.1B-Chat-v1.0 for Llama-2-based models. Realign checks the sizes match."
                saved={<Saved field="customTokenizerFrom" last={lastSaved} />}
              >
                <SettingInput value={settings.customTokenizerFrom} placeholder="owner/name" onCommit={(value) => set('customTokenizerFrom', value.trim())} data-testid="options-custom-tokenizer" />
              </Field>
            )}
            <Field label="Prompt template" hint="The exact prompt the model was trained with." saved={<Saved field="customTemplate" last={lastSaved} />}>
              <select value={settings.customTemplate} onChange={(event) => set('customTemplate', text(event))} data-testid="options-custom-template">
                {props.templates.map((template) => (
                  <option value={template.id}>{template.label}</option>
                ))}
              </select>
            </Field>
          </div>
        )}
      </section>

      <section aria-labelledby="engine-heading">
        <h2 id="engine-heading">Where it runs</h2>
        <div class="rl-choices" role="radiogroup" aria-label="Where corrections run">
          <label class="rl-choice">
            <input
              type="radio"
              name="engine"
              checked={!remoteShown}
              onChange={() => {
                setPickingRemote(false);
                set('engine', 'local');
              }}
              data-testid="options-engine-local"
            />
            <strong>In this browser</strong>
            <span class="rl-hint">Nothing leaves your device. Uses your GPU through WebGPU when it can, else the CPU.</span>
          </label>
          <label class="rl-choice">
            <input type="radio" name="engine" checked={remoteShown} onChange={() => setPickingRemote(true)} data-testid="options-engine-remote" />
            <strong>A server I run</strong>
            <span class="rl-hint">An OpenAI-compatible server (vLLM, llama.cpp, Ollama, TGI), e.g. the official Aligner-7B on your GPU. Answers are sent to it.</span>
          </label>
        </div>
        <Saved field="engine" last={lastSaved} />
        {remoteShown && (
          <div class="rl-card" data-testid="options-remote">
            <Field label="Server address" saved={<Saved field="remoteEndpoint" last={lastSaved} />}>
              <SettingInput type="url" value={settings.remoteEndpoint} placeholder="http://gpu-box:8000" onCommit={(value) => set('remoteEndpoint', value.trim())} data-testid="options-remote-endpoint" />
            </Field>
            <Field label="Served model name" saved={<Saved field="remoteModel" last={lastSaved} />}>
              <SettingInput value={settings.remoteModel} placeholder="aligner/aligner-7b-v1.0" onCommit={(value) => set('remoteModel', value.trim())} data-testid="options-remote-model" />
            </Field>
            <Field label="Prompt template" saved={<Saved field="remoteTemplate" last={lastSaved} />}>
              <select value={settings.remoteTemplate} onChange={(event) => set('remoteTemplate', text(event))}>
                {props.templates.map((template) => (
                  <option value={template.id}>{template.label}</option>
                ))}
              </select>
            </Field>
            <Field label="API key (optional)" hint="Kept on this device only." saved={<Saved field="apiKey" last={lastSaved} />}>
              <input
                type="password"
                value={apiKey}
                autocomplete="off"
                onChange={(event) => {
                  setApiKey(text(event));
                  void remoteApiKeyItem.setValue(text(event)).then(() => saved('apiKey'));
                }}
              />
            </Field>
            {keyWarning && (
              <p class="rl-warning" role="alert" data-testid="options-insecure-key">
                {keyWarning}
              </p>
            )}
            <div class="rl-buttons">
              {settings.engine !== 'remote' && (
                <button type="button" class="rl-primary" onClick={() => void useRemote()} data-action="use-remote">
                  Use this server
                </button>
              )}
              <button type="button" onClick={() => void testConnection()} data-action="test-connection">
                Test connection
              </button>
            </div>
            <p role="status" data-testid="options-remote-result">
              {remoteResult}
            </p>
          </div>
        )}
      </section>

      <AspectsField
        settings={settings}
        templateId={settings.engine === 'remote' ? settings.remoteTemplate : props.presetFromSettings(settings).template}
        templates={props.templates} onSaved={() => saved('aspects')} last={lastSaved} />

      <section aria-labelledby="sites-heading">
        <h2 id="sites-heading">Sites</h2>
        <Field label="On each site, correct" saved={<Saved field="defaultMode" last={lastSaved} />}>
          <select value={settings.defaultMode} onChange={(event) => set('defaultMode', text(event) as Mode)} data-testid="options-default-mode">
            <option value="auto">Every answer, when it finishes</option>
            <option value="on-demand">Only when I press Realign</option>
          </select>
        </Field>
        <table class="rl-sites">
          <thead>
            <tr>
              <th>Site</th>
              <th>On</th>
              <th>Correct</th>
            </tr>
          </thead>
          <tbody>
            {props.sites.map((site) => (
              <tr>
                <td>{site.name}</td>
                <td>
                  <input
                    type="checkbox"
                    class="rl-switch"
                    aria-label={`Realign on ${site.name}`}
                    checked={settings.sites[site.id]?.enabled !== false}
                    onChange={(event) => void saveSettings({ site: { id: site.id, enabled: (event.target as HTMLInputElement).checked } }).then(() => saved('sites'))}
                  />
                </td>
                <td>
                  <select
                    aria-label={`When to correct on ${site.name}`}
                    value={settings.sites[site.id]?.mode ?? 'default'}
                    onChange={(event) => {
                      const value = text(event);
                      void saveSettings({ site: { id: site.id, mode: value === 'default' ? null : (value as Mode) } }).then(() => saved('sites'));
                    }}
                  >
                    <option value="default">As above</option>
                    <option value="auto">Every answer</option>
                    <option value="on-demand">When I ask</option>
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <Saved field="sites" last={lastSaved} />
        <h3>Sites you enabled</h3>
        {customOrigins && customOrigins.length === 0 && <p class="rl-hint">None. To add one, open it and choose “Enable Realign on this site” in Realign's toolbar popup.</p>}
        {customOrigins && customOrigins.length > 0 && (
          <ul data-testid="options-custom-sites">
            {customOrigins.map((origin) => (
              <li>
                {new URL(origin).host}{' '}
                <button type="button" class="rl-link-button" onClick={() => void removeSite(origin)} data-action="remove-site">
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
        <p class="rl-hint">
          Keyboard shortcut for “Realign the selected answer”: {shortcut ? <kbd>{shortcut}</kbd> : 'none set'}{' '}
          <button type="button" class="rl-link-button" onClick={changeShortcut}>
            change it
          </button>
        </p>
      </section>

      <details class="rl-advanced">
        <summary>Advanced</summary>
        <Field
          label="Weights precision (dtype)"
          hint={props.presetFromSettings(settings).convert ? 'A model converted in the browser has one precision (4-bit); this applies to the others.' : 'Automatic picks what suits the device: 4-bit on a GPU, 8-bit on the CPU.'}
          saved={<Saved field="dtype" last={lastSaved} />}
        >
          <select value={settings.dtype} onChange={(event) => set('dtype', text(event))} data-testid="options-dtype" disabled={Boolean(props.presetFromSettings(settings).convert)}>
            {DTYPES.map((dtype) => (
              <option value={dtype}>{dtype === 'auto' ? 'Automatic (by device)' : dtype}</option>
            ))}
          </select>
        </Field>
        {settings.presetId === 'custom' && (
          <Field label="Context length (tokens)" hint="Prompt, answer and correction together; longer answers are corrected in parts." saved={<Saved field="customContextLength" last={lastSaved} />}>
            <SettingInput type="number" min={128} value={settings.customContextLength} onCommit={(value) => set('customContextLength', Number(value))} />
          </Field>
        )}
        <Field label="Model host" hint="The Hugging Face hub, or a mirror with the same address layout." saved={<Saved field="modelHost" last={lastSaved} />}>
          <SettingInput type="url" value={settings.modelHost} onCommit={(value) => set('modelHost', value.trim())} data-testid="options-model-host" />
        </Field>
        <label class="rl-row">
          <span>
            Use the GPU (WebGPU) when available <Saved field="allowWebgpu" last={lastSaved} />
          </span>
          <input type="checkbox" class="rl-switch" checked={settings.allowWebgpu} onChange={(event) => set('allowWebgpu', (event.target as HTMLInputElement).checked)} />
        </label>
        <Field label="Longest correction (new tokens)" saved={<Saved field="maxNewTokens" last={lastSaved} />}>
          <SettingInput type="number" min={16} max={32768} value={settings.maxNewTokens} onCommit={(value) => set('maxNewTokens', Number(value))} data-testid="options-max-tokens" />
        </Field>
        <Field label="Free the model's memory after this many idle minutes" saved={<Saved field="idleMinutes" last={lastSaved} />}>
          <SettingInput type="number" min={1} max={1440} value={settings.idleMinutes} onCommit={(value) => set('idleMinutes', Number(value))} />
        </Field>
        <p class="rl-hint" data-testid="options-storage">
          Downloaded models: {storageUse ? `${formatBytes(storageUse.bytes)} in ${storageUse.files} files` : '…'}{' '}
          <button
            type="button"
            onClick={() =>
              void backgroundMessaging.sendMessage('clearModels', undefined).then(() => {
                setStorageUse({ bytes: 0, files: 0 });
                return saveSettings({ clearApprovals: true });
              })
            }
            data-action="clear-models"
          >
            Delete downloaded models
          </button>
        </p>
      </details>
    </main>
  );
}

/**
 * For a model whose prompt names what to improve (MetaAligner): the objectives, as checkboxes.
 * None ticked means the ones it was trained on.
 */
function AspectsField(props: { settings: Settings; templateId: string; templates: PromptTemplate[]; onSaved: () => void; last: { field: Field; at: number } | null }) {
  const { settings, templateId } = props;
  const aspects = props.templates.find((template) => template.id === templateId)?.aspects;
  if (!aspects) return null;
  const chosen = settings.aspects.filter((id) => aspects.some((aspect) => aspect.id === id));
  const effective = chosen.length > 0 ? chosen : aspects.filter((aspect) => aspect.trained).map((aspect) => aspect.id);
  const toggle = (id: string, on: boolean) => {
    const next = on ? [...new Set([...effective, id])] : effective.filter((entry) => entry !== id);
    void saveSettings({ aspects: next }).then(props.onSaved);
  };
  return (
    <section aria-labelledby="aspects-heading" data-testid="options-aspects">
      <h2 id="aspects-heading">
        What to improve <Saved field="aspects" last={props.last} />
      </h2>
      <p class="rl-hint">This model corrects answers for the objectives you choose. It was trained on the first ones; it follows the others from their description.</p>
      <div class="rl-choices" style="grid-template-columns: repeat(auto-fill, minmax(220px, 1fr))">
        {aspects.map((aspect) => (
          <label class="rl-choice" title={aspect.text}>
            <input type="checkbox" checked={effective.includes(aspect.id)} onChange={(event) => toggle(aspect.id, (event.target as HTMLInputElement).checked)} data-aspect={aspect.id} />
            <span>
              <strong>{aspect.label}</strong>
              {aspect.trained && <span class="rl-badge">trained</span>}
            </span>
            <span class="rl-hint">{aspect.text.replace(/^[^:]+:\s*/, '')}</span>
          </label>
        ))}
      </div>
      {chosen.length > 0 && (
        <button type="button" class="rl-link-button" onClick={() => void saveSettings({ aspects: [] }).then(props.onSaved)}>
          Back to the trained objectives
        </button>
      )}
    </section>
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
