import type { Settings } from '../utils/settings';
import type { EngineModelConfig } from '../utils/messages';
import { CUSTOM_PRESET_ID, customPreset, DEFAULT_PRESET_ID, findPreset, isValidRepoId, type ModelPreset } from './presets';
import { isTemplateId } from './templates';

/** The preset the settings name; an unknown id falls back to the default rather than failing. */
export function presetFromSettings(settings: Settings): ModelPreset {
  if (settings.presetId === CUSTOM_PRESET_ID) {
    const template = isTemplateId(settings.customTemplate) ? settings.customTemplate : 'aligner-v1';
    return customPreset(
      settings.customRepo.trim(),
      template,
      settings.customContextLength,
      settings.customConvert ? { tokenizerFrom: settings.customTokenizerFrom.trim() || undefined } : undefined,
    );
  }
  return findPreset(settings.presetId) ?? findPreset(DEFAULT_PRESET_ID)!;
}

/** What the engine host needs to run one job, from the person's settings. Throws a readable error. */
export function engineModelConfig(settings: Settings, apiKey: string): EngineModelConfig {
  if (settings.engine === 'remote') {
    if (!settings.remoteEndpoint.trim()) throw new Error('The remote engine is chosen but no server address is set (Realign options → Engine).');
    return {
      engine: 'remote',
      endpoint: settings.remoteEndpoint.trim(),
      model: settings.remoteModel.trim(),
      template: isTemplateId(settings.remoteTemplate) ? settings.remoteTemplate : 'aligner-v1',
      aspects: settings.aspects,
      apiKey,
      contextLength: 2048,
      timeoutMs: settings.remoteTimeoutSeconds * 1000,
    };
  }
  const preset = presetFromSettings(settings);
  const source = preset.convert?.from ?? preset.repo;
  const invalid = [source, preset.convert?.tokenizerFrom].find((repo) => repo !== undefined && !isValidRepoId(repo));
  if (invalid !== undefined) throw new Error(`"${invalid}" is not a hub repo id (owner/name). Set one in Realign's options.`);
  // A converted checkpoint has one graph (its conversion's dtype): the dtype setting cannot apply.
  const pick = (dtype: string) => (settings.dtype === 'auto' || preset.convert ? dtype : settings.dtype);
  return {
    engine: 'local',
    repo: preset.repo,
    ...(preset.convert ? { convert: preset.convert } : {}),
    template: preset.template,
    aspects: settings.aspects,
    dtypes: {
      webgpu: pick(preset.dtypes.webgpu),
      wasm: pick(preset.dtypes.wasm),
      webgpuNoF16: pick(preset.webgpuNoF16Dtype),
    },
    contextLength: preset.contextLength,
    host: hubUrlOf(settings),
    allowWebgpu: settings.allowWebgpu,
  };
}

/** What the pages say about the chosen model, in plain words. */
export interface ModelDescription {
  /** "Qwen2.5 0.5B Instruct", "realign/tiny-aligner", "aligner-7b on gpu-box:8000". */
  name: string;
  /** One sentence: what it is. */
  summary: string;
  kind: ModelPreset['kind'] | 'remote';
  /** Bytes to download (0: unknown, or nothing to download). */
  downloadBytes: number;
  licence: string;
  /** Where it comes from: the hub host, or the server's host. */
  host: string;
  /** The hub URL the engine downloads from (and approvals are keyed on); '' for a server. */
  hubUrl: string;
  /** The hub repo the person downloads (for a converted model: the checkpoint). */
  repo: string;
  /** The repo it is kept under in the browser (the converted folder for a converted model). */
  cachedRepo: string;
  /** Converted in the browser from PyTorch weights; `keptBytes` then what stays on disk. */
  converted: boolean;
  keptBytes: number;
  caveat?: string;
}

export function describeModel(settings: Settings): ModelDescription {
  if (settings.engine === 'remote') {
    const host = hostOf(settings.remoteEndpoint) || 'your server';
    return {
      name: settings.remoteModel.trim() || 'the model on your server',
      summary: `Runs on ${host}, a server you set up: answers are sent there to be corrected.`,
      kind: 'remote',
      downloadBytes: 0,
      licence: '',
      host,
      hubUrl: '',
      repo: settings.remoteModel.trim(),
      cachedRepo: '',
      converted: false,
      keptBytes: 0,
    };
  }
  const preset = presetFromSettings(settings);
  return {
    name: preset.name,
    summary: preset.summary,
    kind: preset.kind,
    downloadBytes: preset.downloadBytes,
    licence: preset.licence,
    host: hostOf(settings.modelHost) || 'huggingface.co',
    hubUrl: hubUrlOf(settings),
    repo: preset.convert?.from ?? preset.repo,
    cachedRepo: preset.repo,
    converted: Boolean(preset.convert),
    keptBytes: preset.diskBytes ?? 0,
    ...(preset.caveat ? { caveat: preset.caveat } : {}),
  };
}

/** The hub (or mirror) the local engine downloads from: the setting, or the hub itself. */
function hubUrlOf(settings: Settings): string {
  return settings.modelHost.trim() || 'https://huggingface.co/';
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}
