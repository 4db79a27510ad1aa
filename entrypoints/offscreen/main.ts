import { browser } from 'wxt/browser';
import { createBrowserPlatform } from '../../model/browser-platform';
import { InProcessEngineService } from '../../model/engine-service';
import { ENGINE_CHANNEL, type PortLike } from '../../utils/task-port';
import { serveEngineService } from './serve';

// The offscreen document hosts the engine (Chrome). It serves the engine service's jobs to the
// background over one port, which it opens itself; it closes itself after the idle time to
// give the memory back.
const port = browser.runtime.connect({ name: ENGINE_CHANNEL.name }) as unknown as PortLike;
const service = new InProcessEngineService(
  createBrowserPlatform({
    ortBaseUrl: `${browser.runtime.getURL('/')}ort/`,
    onIdle: () => window.close(),
  }),
);
serveEngineService(port, service);
// Without the background there is nobody to serve: close rather than hold the model's memory.
port.onDisconnect.addListener(() => window.close());
