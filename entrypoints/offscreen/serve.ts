import type { EngineService } from '../../model/engine-service';
import { ENGINE_CHANNEL, serveTasks, type PortLike } from '../../utils/task-port';

/** Serves an engine service's jobs on a port: the engine page's end of ENGINE_CHANNEL. */
export function serveEngineService(port: PortLike, service: EngineService): void {
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
}
