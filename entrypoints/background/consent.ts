import { modelApprovalKey, updateSettings, type Settings } from '../../utils/settings';
import { modelWeightsCached } from '../../utils/model-cache';
import type { ConsentRequest, LocalModelConfig } from '../../utils/messages';
import { engineModelConfig, presetFromSettings } from '../../model/config';

/**
 * Nothing is downloaded without the person knowing: a local model that was never approved (and
 * is not already in the cache) makes the panel ask first, with the download size.
 */
export async function consentNeeded(settings: Settings): Promise<ConsentRequest | null> {
  if (settings.engine !== 'local') return null;
  let model;
  try {
    model = engineModelConfig(settings, '');
  } catch {
    return null; // the job itself reports the unusable settings
  }
  if (model.engine !== 'local' || settings.approvedModels.includes(modelApprovalKey(model.host, approvalRepoOf(model)))) return null;
  if (await modelWeightsCached(model.host, model.repo)) return null;
  const preset = presetFromSettings(settings);
  return {
    kind: 'consent',
    model: preset.name,
    repo: approvalRepoOf(model),
    host: model.host,
    bytes: preset.downloadBytes,
    ...(preset.convert ? { keptBytes: preset.diskBytes ?? 0 } : {}),
  };
}

/** What the person agrees to download: the model's repo, or the checkpoint converted into it. */
export function approvalRepoOf(model: LocalModelConfig): string {
  return model.convert?.from ?? model.repo;
}

export async function approveModel(host: string, repo: string): Promise<void> {
  const key = modelApprovalKey(host, repo);
  await updateSettings((current) => {
    if (!current.approvedModels.includes(key)) current.approvedModels = [...current.approvedModels, key];
  });
}

