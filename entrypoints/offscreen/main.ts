import { browser } from 'wxt/browser';
import { createBrowserPlatform } from '../../model/browser-platform';
import { InProcessEngineService } from '../../model/engine-service';
import { ENGINE_CHANNEL, serveTasks, type PortLike } from '../../utils/task-port';

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

serveTasks(port, ENGINE_CHANNEL, async (request, task) => {
  switch (request.kind) {
    case 'correct':
      for await (const update of service.correct(request.job, task.signal)) task.emit(update);
      return;
    case 'load':
      for await (const event of service.load(request.model, task.signal)) task.emit(event);
      return;
    case 'unload':
      await service.unload();
      task.emit({ kind: 'ok' });
      return;
    case 'configure':
      service.configure(request.idleCloseMs);
      task.emit({ kind: 'ok' });
      return;
    case 'watchStatus': {
      const stop = service.watchStatus((status) => task.emit({ kind: 'status', status }));
      // Runs until the background cancels it or the port closes.
      await new Promise<void>((resolve) => task.signal.addEventListener('abort', () => resolve()));
      stop();
      return;
    }
  }
});
// Without the background there is nobody to serve: close rather than hold the model's memory.
port.onDisconnect.addListener(() => window.close());
