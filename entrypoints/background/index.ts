import { browser, type Browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { CorrectionService } from './correction-service';
import { engineModelConfig } from '../../model/config';
import { EngineHost } from '../../model/engine-host';
import { InProcessHostClient, PortHostClient, RoutingHostClient, type EngineHostConnection, type PortLike } from './host-client';
import { RemoteEngine } from '../../model/remote-engine';
import { backgroundMessaging, contentMessaging } from '../../utils/messaging';
import { CORRECTION_PORT, ENGINE_HOST_PORT } from '../../utils/protocol';
import { loadSettings, remoteApiKeyItem, watchedSettings } from '../../utils/settings';
import { clearModelCache, modelCacheUsage } from '../../utils/model-cache';
import { approveModel, consentNeeded } from './consent';
import { setCustomSite } from './custom-sites';
import { REALIGN_COMMAND } from '../../utils/build-constants';

export default defineBackground({
  type: 'module',
  main() {
    const stored = watchedSettings();
    const local = import.meta.env.FIREFOX ? createInProcessHost() : createOffscreenHost();
    const host = new RoutingHostClient(local, createRemoteHost());
    const service = new CorrectionService({
      host,
      jobSettings: async () => {
        const settings = await stored.settings();
        host.configure(settings.idleMinutes * 60_000);
        return { model: engineModelConfig(settings, await stored.apiKey()), maxNewTokens: settings.maxNewTokens };
      },
      isVisible: (tabId) => visibleTabs.has(tabId),
      consentNeeded: async () => consentNeeded(await stored.settings()),
      approve: (consent) => approveModel(consent.host, consent.repo),
    });

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
    browser.tabs.onRemoved.addListener((tabId) => service.cancelTab(tabId));

    browser.runtime.onConnect.addListener((port) => {
      // Only our own content scripts (a tab) and our own engine page may connect.
      if (port.sender?.id !== browser.runtime.id) return port.disconnect();
      if (port.name === CORRECTION_PORT && port.sender.tab?.id !== undefined) {
        service.handlePort(port as unknown as PortLike, port.sender.tab.id);
      } else if (port.name !== ENGINE_HOST_PORT) {
        port.disconnect();
      }
    });

    browser.storage.onChanged.addListener((changes) => {
      if (changes.settings) void stored.settings().then((s) => host.configure(s.idleMinutes * 60_000));
    });

    registerUiHandlers(service, host);
    registerCommands();
    browser.runtime.onInstalled.addListener(({ reason }) => {
      // First run: explain, and offer the download (never start it unasked). The demo build has
      // its tiny model ready, so `npm start` opens straight on the chat page.
      if (reason === 'install' && import.meta.env.MODE !== 'demo') void browser.tabs.create({ url: browser.runtime.getURL('/welcome.html') });
    });
  },
});

/** Remote servers are reached from the background itself (see RoutingHostClient). */
function createRemoteHost(): EngineHostConnection {
  return new InProcessHostClient(
    new EngineHost({
      detectWebGpu: async () => ({ available: false, f16: false }),
      loadLocal: () => Promise.reject(new Error('The remote host runs no local model.')),
      createRemote: (model) => new RemoteEngine(model),
      onIdle: () => undefined,
      onStatus: () => undefined,
    }),
  );
}

/** Firefox: the background page has a DOM and hosts the engine itself (no offscreen API). */
async function createInProcessHost(): Promise<EngineHostConnection> {
  const { createBrowserPlatform } = await import('../../model/browser-platform');
  const engineHost = new EngineHost(
    createBrowserPlatform({
      ortBaseUrl: `${browser.runtime.getURL('/')}ort/`,
      onIdle: () => undefined,
      onStatus: () => undefined,
    }),
  );
  return new InProcessHostClient(engineHost);
}

/** Chrome: the engine lives in the offscreen document, created on demand and only once. */
async function createOffscreenHost(): Promise<EngineHostConnection> {
  const offscreenUrl = browser.runtime.getURL('/offscreen.html');
  let waiters: Array<(port: PortLike) => void> = [];
  let creating: Promise<void> | null = null;
  const client: PortHostClient = new PortHostClient(async () => {
    if (client.connected) return currentPort!;
    const connected = new Promise<PortLike>((resolve, reject) => {
      waiters.push(resolve);
      setTimeout(() => reject(new Error('the engine page did not start within 30 s')), 30_000);
    });
    creating ??= ensureOffscreenDocument(offscreenUrl).finally(() => (creating = null));
    await creating;
    return connected;
  });
  let currentPort: PortLike | null = null;
  browser.runtime.onConnect.addListener((port) => {
    if (port.name !== ENGINE_HOST_PORT || port.sender?.id !== browser.runtime.id) return;
    if (!port.sender.url?.startsWith(offscreenUrl)) return port.disconnect();
    currentPort = port as unknown as PortLike;
    client.attach(currentPort);
    port.onDisconnect.addListener(() => {
      if (currentPort === (port as unknown)) currentPort = null;
    });
    for (const resolve of waiters.splice(0)) resolve(currentPort);
  });
  return client;
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

function registerUiHandlers(service: CorrectionService, host: EngineHostConnection) {
  const fromUs = (sender: { id?: string }) => sender.id === browser.runtime.id;
  backgroundMessaging.onMessage('engineStatus', async ({ sender }) => {
    if (!fromUs(sender)) throw new Error('refused');
    return { status: await host.status(), pending: service.pending };
  });
  backgroundMessaging.onMessage('freeModel', async ({ sender }) => {
    if (!fromUs(sender)) throw new Error('refused');
    await host.unload();
  });
  backgroundMessaging.onMessage('downloadModel', async ({ sender }) => {
    if (!fromUs(sender)) throw new Error('refused');
    const settings = await loadSettings();
    let model;
    try {
      model = engineModelConfig(settings, await remoteApiKeyItem.getValue());
    } catch (error) {
      return { ok: false as const, message: String(error instanceof Error ? error.message : error) };
    }
    // Pressing Download is the agreement to download.
    if (model.engine === 'local') await approveModel(model.host, model.repo);
    // Loading is a correction of an empty answer: the host loads the model and returns at once.
    void host.run(`preload:${Date.now()}`, { question: '', answer: '', model, maxNewTokens: 1 }, () => undefined);
    return { ok: true as const };
  });
  backgroundMessaging.onMessage('testRemote', async ({ sender, data }) => {
    if (!fromUs(sender)) throw new Error('refused');
    try {
      const engine = new RemoteEngine({ endpoint: data.endpoint, model: '', apiKey: data.apiKey, timeoutMs: 10_000 });
      return { ok: true as const, models: await engine.listModels() };
    } catch (error) {
      return { ok: false as const, message: error instanceof Error ? error.message : String(error) };
    }
  });
  backgroundMessaging.onMessage('modelStorage', async ({ sender }) => {
    if (!fromUs(sender)) throw new Error('refused');
    return modelCacheUsage();
  });
  backgroundMessaging.onMessage('clearModels', async ({ sender }) => {
    if (!fromUs(sender)) throw new Error('refused');
    await host.unload();
    return clearModelCache();
  });
  backgroundMessaging.onMessage('realignInTab', async ({ sender, data }) => {
    if (!fromUs(sender)) throw new Error('refused');
    return realignInTab(data.tabId);
  });
  backgroundMessaging.onMessage('setCustomSite', async ({ sender, data }) => {
    if (!fromUs(sender)) throw new Error('refused');
    return setCustomSite(data.origin, data.enabled);
  });
}


async function realignInTab(tabId: number): Promise<{ ok: boolean; message?: string }> {
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
      browser.contextMenus.create({ id: 'realign-selection', title: 'Realign this answer', contexts: ['selection'] });
    });
  };
  browser.runtime.onInstalled.addListener(createMenu);
  browser.contextMenus.onClicked.addListener((info, tab) => {
    if (info.menuItemId === 'realign-selection' && tab?.id !== undefined) void realignInTab(tab.id);
  });
}
