import { beforeEach, describe, expect, test } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { approveModel, consentNeeded } from '../../../entrypoints/background/consent';
import { DEFAULT_SETTINGS, loadSettings, updateSettings } from '../../../utils/settings';

beforeEach(() => fakeBrowser.reset());

describe('download consent', () => {
  test('a model never approved asks first, naming it, its size and where it comes from', async () => {
    expect(await consentNeeded(DEFAULT_SETTINGS)).toEqual({
      kind: 'consent',
      model: 'Qwen2.5 0.5B Instruct',
      repo: 'onnx-community/Qwen2.5-0.5B-Instruct',
      host: 'https://huggingface.co/',
      bytes: 483e6,
    });
  });

  test('approved once (for that host and repo), it asks no more; another host asks again', async () => {
    await approveModel('https://huggingface.co/', 'onnx-community/Qwen2.5-0.5B-Instruct');
    await approveModel('https://huggingface.co/', 'onnx-community/Qwen2.5-0.5B-Instruct');
    const settings = await loadSettings();
    expect(settings.approvedModels).toEqual(['https://huggingface.co/|onnx-community/Qwen2.5-0.5B-Instruct']);
    expect(await consentNeeded(settings)).toBeNull();
    const mirrored = await updateSettings((current) => void (current.modelHost = 'https://mirror.example/'));
    expect(await consentNeeded(mirrored)).toMatchObject({ kind: 'consent', host: 'https://mirror.example/' });
  });

  test('the remote engine downloads nothing, so it asks nothing; unusable settings are left to the job to report', async () => {
    expect(await consentNeeded({ ...DEFAULT_SETTINGS, engine: 'remote', remoteEndpoint: 'http://gpu:8000' })).toBeNull();
    expect(await consentNeeded({ ...DEFAULT_SETTINGS, presetId: 'custom', customRepo: 'not a repo' })).toBeNull();
  });
});
