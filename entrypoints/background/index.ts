import { browser, type Browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { engineModelConfig } from '../../model/config';
import { InProcessEngineService, type EngineService, type HostPlatform } from '../../model/engine-service';
import { RemoteEngine } from '../../model/remote-engine';
import { isDemoBuild, REALIGN_COMMAND } from '../../utils/build-constants';
import { contentMessaging, handleInBackground } from '../../utils/messaging';
import { clearModelCache, modelCacheUsage } from '../../utils/model-cache';
import { senderAllowed } from '../../utils/sender-policy';
import {
  applySettingsChange,
  engineStatusItem,
  loadSettings,
  pageConfigFor,
  remoteApiKeyItem,
  settingsItem,
  rememberSiteView,
  siteViewsItem,
  updateSettings,
  watchedSettings,
} from '../../utils/settings';
import { CORRECTION_CHANNEL, ENGINE_CHANNEL, type PortLike } from '../../utils/task-port';
import { approvalRepoOf, approveModel, consentNeeded } from './consent';
import { CorrectionService } from './correction-service';
import { LazyEngineService, PortEngineService, RoutingEngineService } from './engine-client';
import { TabBadges } from './badges';
import { customSites, setCustomSite, unregisterOnPermissionRemoved } from './custom-sites';
import { messageOf } from '../../utils/errors';
import { importLegacyStorageOnce } from '../../utils/private-store';
import { siteBelongsTo } from '../../sites/registry';

export default defineBackground({
  type: 'module',
  main() {
    // Content scripts run inside pages we do not control: they get no storage.local at all
    // (their site's settings come by message). Firefox keeps its private values in IndexedDB.
    if (!import.meta.env.FIREFOX) void browser.storage.local.setAccessLevel?.({ accessLevel: 'TRUSTED_CONTEXTS' });
    else void importLegacyStorageOnce();

    const self = { id: browser.runtime.id, baseUrl: browser.runtime.getURL('/') };
    const stored = watchedSettings();
    const local = import.meta.env.FIREFOX ? createInProcessEngine() : createOffscreenEngine();
    const engine = new RoutingEngineService(local.service, createRemoteEngine());
    const service = new CorrectionService({
      engine,
      jobSettings: async () => {
        const settings = await stored.settings();
        engine.configure(settings.idleMinutes * 60_000);
        return { model: engineModelConfig(settings, await stored.apiKey()), maxNewTokens: settings.maxNewTokens };
      },
      isVisible: (tabId) => visibleTabs.has(tabId),
      consentNeeded: async () => consentNeeded(await stored.settings()),
      approve: (consent) => approveModel(consent.host, consent.repo),
      onPending: () => publishStatus(),
      onRunning: (tabId, running) => badges.setRunning(tabId, running),
    });
    const badges = new TabBadges();

    // The popup and welcome page watch this item instead of asking over and over.
    const publishStatus = () => void engineStatusItem.setValue({ status: engine.status(), pending: service.pending });
    engine.watchStatus(() => publishStatus());

    // The tab a person looks at goes first in the queue.
    const visibleTabs = new Set<number>();
    const refreshVisible = async () => {
      const tabs = await browser.tabs.query({ active: true });
      visibleTabs.clear();
      for (const tab of tabs) if (tab.id !== undefined) visibleTabs.add(tab.id);
    };
    browser.tabs.onActivated.addListener(() => void refreshVisible());
    browser.windows?.onFocusChanged.addListener(() => void refreshVisible());
    void refreshVisible();
    browser.tabs.onRemoved.addListener((tabId) => {
      service.cancelTab(tabId);
      badges.forget(tabId);
    });

    browser.runtime.onConnect.addListener((port) => {
      if (port.name === CORRECTION_CHANNEL.name && senderAllowed('port:correct', port.sender, self)) {
        service.handlePort(port as unknown as PortLike, port.sender!.tab!.id!);
      } else if (port.name === ENGINE_CHANNEL.name && senderAllowed('port:engine-host', port.sender, self)) {
        local.attach?.(port as unknown as PortLike);
      } else {
        port.disconnect();
      }
    });

    settingsItem.watch((settings) => {
      engine.configure(settings.idleMinutes * 60_000);
      void tellContentScripts();
    });
    registerHandlers(engine);
    handleInBackground('pageHealth', ({ health }, sender) => {
      if (sender.tab?.id !== undefined) badges.setHealth(sender.tab.id, health);
    });
    registerCommands();
    unregisterOnPermissionRemoved();
    browser.runtime.onInstalled.addListener(({ reason }) => {
      // First run: explain, and offer the download (never start it unasked). The demo build has
      // its tiny model ready, so `npm start` opens straight on the chat page.
      if (reason === 'install' && !isDemoBuild(import.meta.env.MODE)) void browser.tabs.create({ url: browser.runtime.getURL('/welcome.html') });
    });
  },
});

/** Settings changed: every content script asks for its site's settings again. */
async function tellContentScripts(): Promise<void> {
  const tabs = await browser.tabs.query({});
  for (const tab of tabs) {
    if (tab.id !== undefined) void contentMessaging.sendMessage('pageConfigChanged', undefined, tab.id).catch(() => undefined);
  }
}

/** Remote servers are reached from the background itself (see RoutingEngineService). */
function createRemoteEngine(): EngineService {
  const platform: HostPlatform = {
    detectWebGpu: async () => ({ available: false, f16: false }),
    loadLocal: () => Promise.reject(new Error('The remote engine runs no local model.')),
    createRemote: (model) => new RemoteEngine(model),
    onIdle: () => undefined,
  };
  return new InProcessEngineService(platform);
}

/** Firefox: the background page has a DOM and runs the engine itself (no offscreen API). */
function createInProcessEngine(): { service: EngineService; attach?: (port: PortLike) => void } {
  let loaded: Promise<InProcessEngineService> | null = null;
  const real = () =>
    (loaded ??= import('../../model/browser-platform').then(
      ({ createBrowserPlatform }) =>
        new InProcessEngineService(createBrowserPlatform({ ortBaseUrl: `${browser.runtime.getURL('/')}ort/`, onIdle: () => undefined })),
    ));
  // The model runtime loads on first use, not with the background page.
  return { service: new LazyEngineService(real) };
}

/** Chrome: the engine lives in the offscreen document, created on demand and only once. */
function createOffscreenEngine(): { service: EngineService; attach: (port: PortLike) => void } {
  const offscreenUrl = browser.runtime.getURL('/offscreen.html');
  let waiters: Array<() => void> = [];
  let creating: Promise<void> | null = null;
  const service: PortEngineService = new PortEngineService(async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waiter: (() => void) | undefined;
    const connected = new Promise<void>((resolve, reject) => {
      waiter = resolve;
      waiters.push(resolve);
      timer = setTimeout(() => reject(new Error('the engine page did not start within 30 s')), 30_000);
    });
    try {
      creating ??= ensureOffscreenDocument(offscreenUrl).finally(() => (creating = null));
      await creating;
      if (!service.connected) await connected;
    } finally {
      clearTimeout(timer);
      waiters = waiters.filter((entry) => entry !== waiter);
      // Whatever happened to the wait, its promise is settled or dropped, never left to reject unseen.
      connected.catch(() => undefined);
    }
  });
  return {
    service,
    attach(port) {
      service.attach(port);
      for (const resolve of waiters.splice(0)) resolve();
    },
  };
}

async function ensureOffscreenDocument(url: string): Promise<void> {
  const existing = await browser.runtime.getContexts({
    contextTypes: ['OFFSCREEN_DOCUMENT' as Browser.runtime.ContextType],
    documentUrls: [url],
  });
  if (existing.length > 0) return;
  await browser.offscreen.createDocument({
    url,
    reasons: ['WORKERS' as Browser.offscreen.Reason],
    justification: 'Runs the Aligner model (ONNX Runtime on WebGPU or WebAssembly) to correct answers on this device.',
  });
}

/** Every one-shot request the background answers (sender policy and schemas: utils/messaging.ts). */
function registerHandlers(engine: EngineService) {
  handleInBackground('pageConfig', async ({ site }) => pageConfigFor(await loadSettings(), await siteViewsItem.getValue(), site));
  handleInBackground('setSiteView', async ({ site, view }, sender) => {
    // A content script speaks for its own page's site only.
    if (!sender.url || !siteBelongsTo(site, new URL(sender.url))) throw new Error('That site is not this page\'s.');
    await rememberSiteView(site, view);
  });
  handleInBackground('saveSettings', async (change) => {
    await updateSettings((current) => applySettingsChange(current, change));
    return { ok: true as const };
  });
  handleInBackground('loadModel', async () => {
    const settings = await loadSettings();
    let model;
    try {
      model = engineModelConfig(settings, await remoteApiKeyItem.getValue());
    } catch (error) {
      return { ok: false as const, message: messageOf(error) };
    }
    if (model.engine !== 'local') return { ok: false as const, message: 'The remote engine has no model to download.' };
    // Pressing Download (a click in an extension page) is the agreement to download.
    await approveModel(model.host, approvalRepoOf(model));
    // Progress reaches pages through the published status; a failure too (status "error").
    void (async () => {
      for await (const event of engine.load(model)) void event;
    })().catch(() => undefined);
    return { ok: true as const };
  });
  handleInBackground('freeModel', () => engine.unload());
  handleInBackground('testRemote', async ({ endpoint, apiKey }) => {
    try {
      const remote = new RemoteEngine({ endpoint, model: '', apiKey, timeoutMs: 10_000 });
      return { ok: true as const, models: await remote.listModels() };
    } catch (error) {
      return { ok: false as const, message: messageOf(error) };
    }
  });
  handleInBackground('modelStorage', () => modelCacheUsage());
  handleInBackground('clearModels', async () => {
    await engine.unload();
    return clearModelCache();
  });
  handleInBackground('realignInTab', ({ tabId }) => realignInTab(tabId));
  handleInBackground('setCustomSite', ({ origin, enabled }) => setCustomSite(origin, enabled));
  handleInBackground('customSites', async () => ({ origins: await customSites() }));
}

async function realignInTab(tabId: number): Promise<{ ok: true } | { ok: false; message: string }> {
  try {
    return await contentMessaging.sendMessage('realignSelection', undefined, tabId);
  } catch {
    return { ok: false, message: 'Realign is not active on this page.' };
  }
}

function registerCommands() {
  browser.commands?.onCommand.addListener((command, tab) => {
    if (command !== REALIGN_COMMAND) return;
    const run = async () => {
      const tabId = tab?.id ?? (await browser.tabs.query({ active: true, currentWindow: true }))[0]?.id;
      if (tabId !== undefined) await realignInTab(tabId);
    };
    void run();
  });
  const createMenu = () => {
    browser.contextMenus.removeAll(() => {
      browser.contextMenus.create({ id: REALIGN_COMMAND, title: browser.i18n.getMessage('menuRealign') || 'Realign this answer', contexts: ['selection'] });
    });
  };
  browser.runtime.onInstalled.addListener(createMenu);
  browser.contextMenus.onClicked.addListener((info, tab) => {
    if (info.menuItemId === REALIGN_COMMAND && tab?.id !== undefined) void realignInTab(tab.id);
  });
}
