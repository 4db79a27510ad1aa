import { browser } from 'wxt/browser';
import { createBrowserPlatform } from '../../model/browser-platform';
import { EngineHost } from '../../model/engine-host';
import { ENGINE_HOST_PORT, parseEngineHostRequest, type EngineHostMessage } from '../../utils/protocol';

// The offscreen document hosts the engine (Chrome). It talks to the background over one port,
// which it opens itself; it closes itself after the idle time to give the memory back.
const port = browser.runtime.connect({ name: ENGINE_HOST_PORT });
const post = (message: EngineHostMessage) => {
  try {
    port.postMessage(message);
  } catch {
    // The background restarted; it will recreate this document if it needs it.
  }
};

const host = new EngineHost(
  createBrowserPlatform({
    ortBaseUrl: `${browser.runtime.getURL('/')}ort/`,
    onIdle: () => window.close(),
    onStatus: (status) => post({ type: 'status', status }),
  }),
);

port.onMessage.addListener((raw: unknown) => {
  const request = parseEngineHostRequest(raw);
  if (!request) return;
  switch (request.type) {
    case 'correct':
      void host.run(request.id, request.job, (update) => post({ type: 'update', id: request.id, update }));
      break;
    case 'cancel':
      host.cancel(request.id);
      break;
    case 'unload':
      void host.unload();
      break;
    case 'status':
      post({ type: 'status', status: host.getStatus() });
      break;
    case 'configure':
      host.configure(request.idleCloseMs);
      break;
  }
});
// Without the background there is nobody to serve: close rather than hold the model's memory.
port.onDisconnect.addListener(() => window.close());
