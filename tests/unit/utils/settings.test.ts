import { beforeEach, describe, expect, test } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { applySettingsChange, DEFAULT_SETTINGS, loadSettings, migrateSettingsV1toV2, pageConfigFor, rememberSiteView, remoteApiKeyItem, watchedSettings, normaliseSettings, settingsItem, settingsNoticeItem, siteEnabled, siteMode, siteViewsItem, updateSettings } from '../../../utils/settings';

beforeEach(() => fakeBrowser.reset());

describe('settings', () => {
  test('defaults when nothing is stored: on, the default preset, the real hub, local engine', async () => {
    const settings = await loadSettings();
    expect(settings).toEqual(DEFAULT_SETTINGS);
    expect(settings.modelHost).toBe('https://huggingface.co/');
    expect(settings.engine).toBe('local');
    expect(await settingsNoticeItem.getValue()).toBe('');
  });

  test('per-site overrides win over the defaults, others follow the defaults', async () => {
    await updateSettings((current) => {
      current.defaultMode = 'auto';
      current.sites.chatgpt = { enabled: false };
      current.sites.claude = { mode: 'on-demand' };
    });
    const settings = await loadSettings();
    expect(siteEnabled(settings, 'chatgpt')).toBe(false);
    expect(siteEnabled(settings, 'claude')).toBe(true);
    expect(siteMode(settings, 'claude')).toBe('on-demand');
    expect(siteMode(settings, 'gemini')).toBe('auto');
    settings.enabled = false;
    expect(siteEnabled(settings, 'claude')).toBe(false);
  });

  test('corrupted stored values are reset to defaults with a notice, keeping the valid ones', async () => {
    await fakeBrowser.storage.local.set({
      settings: { maxNewTokens: 'lots', presetId: 'qwen2.5-1.5b-instruct', sites: { chatgpt: 'yes', claude: { mode: 'sometimes', enabled: false } } },
    });
    const settings = await loadSettings();
    expect(settings.maxNewTokens).toBe(DEFAULT_SETTINGS.maxNewTokens);
    expect(settings.presetId).toBe('qwen2.5-1.5b-instruct');
    expect(settings.sites).toEqual({ claude: { enabled: false } });
    expect(await settingsNoticeItem.getValue()).toMatch(/reset/);
    // The repaired value was written back: the next read is clean and says nothing new.
    await settingsNoticeItem.setValue('');
    await loadSettings();
    expect(await settingsNoticeItem.getValue()).toBe('');
  });

  test('a stored value that is not an object at all is replaced by the defaults', () => {
    expect(normaliseSettings('garbage')).toEqual({ settings: DEFAULT_SETTINGS, repaired: true });
    expect(normaliseSettings([1, 2])).toEqual({ settings: DEFAULT_SETTINGS, repaired: true });
    expect(normaliseSettings(undefined)).toEqual({ settings: DEFAULT_SETTINGS, repaired: false });
  });

  test('changes are seen by watchers without a reload', async () => {
    const seen: boolean[] = [];
    const unwatch = settingsItem.watch((value) => seen.push(value.enabled));
    await updateSettings((current) => void (current.enabled = false));
    unwatch();
    expect(seen).toEqual([false]);
  });

  test('settings stored by v1 (before download consent) migrate to v2, keeping the model already in use approved', async () => {
    await fakeBrowser.storage.local.set({
      settings: { enabled: true, presetId: 'custom', customRepo: 'me/my-aligner', modelHost: 'https://mirror.example/', maxNewTokens: 256, sites: {} },
      settings$: { v: 1 },
    });
    // What the background does on start after an update (WXT runs an item's migrations then).
    await settingsItem.migrate();
    const settings = await loadSettings();
    expect(settings.approvedModels).toEqual(['https://mirror.example/|me/my-aligner']);
    expect(settings.maxNewTokens).toBe(256);
    expect(((await fakeBrowser.storage.local.get('settings$')) as { settings$: { v: number } }).settings$.v).toBe(2);
  });

  test('v1 with the default preset migrates to the default model approved on the hub', () => {
    expect(migrateSettingsV1toV2({ presetId: 'qwen2.5-0.5b-instruct' })).toMatchObject({
      approvedModels: ['https://huggingface.co/|onnx-community/Qwen2.5-0.5B-Instruct'],
    });
  });

  test('the background cache of settings is dropped on any change, so the next request sees it', async () => {
    const stored = watchedSettings();
    expect((await stored.settings()).maxNewTokens).toBe(DEFAULT_SETTINGS.maxNewTokens);
    await updateSettings((current) => void (current.maxNewTokens = 77));
    expect((await stored.settings()).maxNewTokens).toBe(77);
    await remoteApiKeyItem.setValue('sk-1');
    expect(await stored.apiKey()).toBe('sk-1');
  });
});

describe('settings writes never lose a change', () => {
  test('twenty changes made at once (the options page, a popup, consent) all land', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        updateSettings((current) => {
          current.sites[`site${i}`] = { enabled: i % 2 === 0 };
        }),
      ),
    );
    const settings = await loadSettings();
    expect(Object.keys(settings.sites).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `site${i}`).sort());
  });

  test('views remembered at once from many tabs are all kept, settings saved meanwhile too, and the oldest go past 200 sites', async () => {
    await updateSettings((current) => void (current.engine = 'remote'));
    // Each rememberSiteView reads then writes the whole map: unserialised, most of these would be lost.
    await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => rememberSiteView(`site${i}`, i % 2 ? 'changes' : 'corrected')),
      updateSettings((current) => applySettingsChange(current, { fields: { engine: 'local' } })),
    ]);
    expect((await loadSettings()).engine).toBe('local');
    const views = await siteViewsItem.getValue();
    expect(Object.keys(views)).toHaveLength(30);
    expect(views.site7).toBe('changes');
    expect(pageConfigFor(await loadSettings(), views, 'site8').view).toBe('corrected');

    await Promise.all(Array.from({ length: 200 }, (_, i) => rememberSiteView(`more${i}`, 'changes')));
    const capped = await siteViewsItem.getValue();
    expect(Object.keys(capped)).toHaveLength(200);
    expect(capped.site0).toBeUndefined();
    expect(capped.more199).toBe('changes');
    // Remembering a site again makes it the newest.
    await rememberSiteView('more0', 'corrected');
    await rememberSiteView('extra', 'changes');
    const after = await siteViewsItem.getValue();
    expect(after.more0).toBe('corrected');
    expect(after.more1).toBeUndefined();
  });

  test('a page request changes only what it names; unknown fields and approvals are not touched by fields', () => {
    const before = { ...DEFAULT_SETTINGS, approvedModels: ['h|a/b'] };
    const after = applySettingsChange(before, { fields: { maxNewTokens: 64, approvedModels: 'x', evil: true } as never, site: { id: 'chatgpt', mode: 'on-demand' } });
    expect(after.maxNewTokens).toBe(64);
    expect(after.approvedModels).toEqual(['h|a/b']);
    expect('evil' in after).toBe(false);
    expect(after.sites.chatgpt).toEqual({ mode: 'on-demand' });
    expect(applySettingsChange(after, { site: { id: 'chatgpt', mode: null } }).sites.chatgpt).toEqual({});
    expect(applySettingsChange(after, { clearApprovals: true }).approvedModels).toEqual([]);
  });
});
