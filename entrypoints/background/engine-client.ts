import type { EngineService, LoadEvent } from '../../model/engine-service';
import { eventStream } from '../../model/engine-service';
import type { CorrectionUpdate, EngineJob, EngineRequest, EngineStatus, LocalModelConfig } from '../../utils/messages';
import { ENGINE_CHANNEL, TaskClient, type PortLike } from '../../utils/task-port';
import { messageOf } from '../../utils/errors';

/**
 * Chrome: the engine service runs in the offscreen document, which connects a port to the
 * background; this is the background's end of it, the same EngineService interface over
 * ENGINE_CHANNEL tasks. If the document goes away mid-job (closed, crashed), every job in flight
 * ends with a message and the next job creates a new document.
 */
export class PortEngineService implements EngineService {
  private client: TaskClient<typeof ENGINE_CHANNEL> | null = null;
  private current: EngineStatus = { state: 'empty' };
  private readonly listeners = new Set<(status: EngineStatus) => void>();
  private idleCloseMs = 5 * 60_000;

  /** `ensurePort` creates the engine page if needed and resolves with its port once it has connected. */
  constructor(private readonly ensurePort: () => Promise<void>) {}

  /** Called by the background when the engine page connects. */
  attach(port: PortLike): void {
    const client = new TaskClient(port, ENGINE_CHANNEL);
    this.client = client;
    port.onDisconnect.addListener(() => {
      if (this.client === client) this.client = null;
      this.setStatus({ state: 'empty' });
    });
    client.start({ kind: 'configure', idleCloseMs: this.idleCloseMs }, () => undefined);
    client.start({ kind: 'watchStatus' }, (event) => {
      if (event.kind === 'status') this.setStatus(event.status);
    });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  private setStatus(status: EngineStatus): void {
    this.current = status;
    for (const listener of this.listeners) listener(status);
  }

  /** Starts a job on the engine page; its events end with a final one, whatever happens. */
  private run<T>(request: EngineRequest, signal: AbortSignal | undefined, accept: (event: unknown) => event is T): AsyncIterable<T> {
    return eventStream<T>(async (emit) => {
      try {
        if (!this.connected) await this.ensurePort();
      } catch (error) {
        emit({ kind: 'error', message: `Could not start the engine: ${messageOf(error)}` } as T);
        return;
      }
      const client = this.client!;
      await new Promise<void>((resolve) => {
        let settled = false;
        const settle = () => {
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          if (settled) return;
          handle.cancel();
          emit({ kind: 'error', message: 'The correction was cancelled.' } as T);
          settle();
        };
        const handle = client.start(request, (event) => {
          if (settled) return;
          if (accept(event)) emit(event);
          if (ENGINE_CHANNEL.isFinal(event)) settle();
        });
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort);
      });
    });
  }

  correct(job: EngineJob, signal?: AbortSignal): AsyncIterable<CorrectionUpdate> {
    return this.run({ kind: 'correct', job }, signal, isCorrectionUpdate);
  }

  load(model: LocalModelConfig, signal?: AbortSignal): AsyncIterable<LoadEvent> {
    return this.run({ kind: 'load', model }, signal, isLoadEvent);
  }

  async unload(): Promise<void> {
    const client = this.client;
    if (!client) return;
    await new Promise<void>((resolve) => client.start({ kind: 'unload' }, (event) => ENGINE_CHANNEL.isFinal(event) && resolve()));
  }

  configure(idleCloseMs: number): void {
    this.idleCloseMs = idleCloseMs;
    this.client?.start({ kind: 'configure', idleCloseMs }, () => undefined);
  }

  status(): EngineStatus {
    return this.current;
  }

  watchStatus(listener: (status: EngineStatus) => void): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => this.listeners.delete(listener);
  }
}

function isCorrectionUpdate(event: unknown): event is CorrectionUpdate {
  const kind = (event as { kind?: string }).kind;
  return kind !== 'status' && kind !== 'ok';
}

function isLoadEvent(event: unknown): event is LoadEvent {
  const kind = (event as { kind?: string }).kind;
  return kind === 'download' || kind === 'convert' || kind === 'loading' || kind === 'error' || kind === 'ok';
}

/**
 * Sends local jobs to the engine page (or Firefox's in-process service) and remote jobs to a
 * service inside the background itself: a remote correction needs no DOM, WebGPU or offscreen
 * document, and skips two message hops. Status follows whichever ran last.
 */
export class RoutingEngineService implements EngineService {
  private lastEngine: 'local' | 'remote' = 'local';
  private readonly listeners = new Set<(status: EngineStatus) => void>();

  constructor(
    private readonly local: EngineService,
    private readonly remote: EngineService,
  ) {
    local.watchStatus((status) => this.lastEngine === 'local' && this.notify(status));
    remote.watchStatus((status) => this.lastEngine === 'remote' && this.notify(status));
  }

  private notify(status: EngineStatus): void {
    for (const listener of this.listeners) listener(status);
  }

  correct(job: EngineJob, signal?: AbortSignal): AsyncIterable<CorrectionUpdate> {
    if (job.model.engine !== this.lastEngine) {
      this.lastEngine = job.model.engine;
      this.notify(this.status());
    }
    return (job.model.engine === 'remote' ? this.remote : this.local).correct(job, signal);
  }

  load(model: LocalModelConfig, signal?: AbortSignal): AsyncIterable<LoadEvent> {
    this.lastEngine = 'local';
    return this.local.load(model, signal);
  }

  async unload(): Promise<void> {
    await Promise.all([this.remote.unload(), this.local.unload()]);
  }

  configure(idleCloseMs: number): void {
    this.remote.configure(idleCloseMs);
    this.local.configure(idleCloseMs);
  }

  status(): EngineStatus {
    return this.lastEngine === 'remote' ? this.remote.status() : this.local.status();
  }

  watchStatus(listener: (status: EngineStatus) => void): () => void {
    this.listeners.add(listener);
    listener(this.status());
    return () => this.listeners.delete(listener);
  }
}

/** An EngineService whose implementation is imported on first use. */
export class LazyEngineService implements EngineService {
  private readonly statusListeners = new Set<(status: EngineStatus) => void>();
  private loading: Promise<EngineService> | null = null;
  private resolved: EngineService | null = null;
  private idleCloseMs: number | null = null;
  constructor(private readonly importService: () => Promise<EngineService>) {}

  /** The service, imported once (concurrent first calls share the one import). */
  private get(): Promise<EngineService> {
    this.loading ??= this.importService().then(
      (service) => {
        this.resolved = service;
        if (this.idleCloseMs !== null) service.configure(this.idleCloseMs);
        service.watchStatus((status) => this.statusListeners.forEach((listener) => listener(status)));
        return service;
      },
      (error: unknown) => {
        this.loading = null; // the next job tries again
        throw error;
      },
    );
    return this.loading;
  }

  private stream<T>(make: (service: EngineService) => AsyncIterable<T>): AsyncIterable<T> {
    const get = () => this.get();
    return {
      async *[Symbol.asyncIterator]() {
        yield* make(await get());
      },
    };
  }

  correct: EngineService['correct'] = (job, signal) => this.stream((service) => service.correct(job, signal));
  load: EngineService['load'] = (model, signal) => this.stream((service) => service.load(model, signal));
  unload = async () => {
    await this.resolved?.unload();
  };
  /** Remembered, not a reason to load the runtime: applied when the service is first used. */
  configure = (idleCloseMs: number) => {
    this.idleCloseMs = idleCloseMs;
    this.resolved?.configure(idleCloseMs);
  };
  status = () => this.resolved?.status() ?? { state: 'empty' as const };
  watchStatus: EngineService['watchStatus'] = (listener) => {
    this.statusListeners.add(listener);
    listener(this.status());
    return () => this.statusListeners.delete(listener);
  };
}
