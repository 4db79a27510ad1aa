import {
  parseEngineHostMessage,
  type CorrectionUpdate,
  type EngineHostRequest,
  type EngineJob,
  type EngineStatus,
} from '../../utils/protocol';
import type { EngineHost } from '../../model/engine-host';

/** How the background talks to wherever the engine runs. */
export interface EngineHostConnection {
  /** Resolves when the job has ended (its last update was `done` or `error`). */
  run(id: string, job: EngineJob, onUpdate: (update: CorrectionUpdate) => void): Promise<void>;
  cancel(id: string): void;
  unload(): Promise<void>;
  status(): Promise<EngineStatus>;
  configure(idleCloseMs: number): void;
}

/** The parts of a runtime.Port we use (so tests can pass a fake). */
export interface PortLike {
  name: string;
  postMessage(message: unknown): void;
  disconnect(): void;
  onMessage: { addListener(listener: (message: unknown) => void): void };
  onDisconnect: { addListener(listener: () => void): void };
}

/** Firefox: the engine runs in the background page itself. */
export class InProcessHostClient implements EngineHostConnection {
  constructor(private readonly host: EngineHost) {}
  run(id: string, job: EngineJob, onUpdate: (update: CorrectionUpdate) => void) {
    return this.host.run(id, job, onUpdate);
  }
  cancel(id: string) {
    this.host.cancel(id);
  }
  unload() {
    return this.host.unload();
  }
  async status() {
    return this.host.getStatus();
  }
  configure(idleCloseMs: number) {
    this.host.configure(idleCloseMs);
  }
}

/**
 * Chrome: the engine runs in the offscreen document, which connects a port to the background.
 * If the document goes away mid-job (closed, crashed), every job in flight fails with a message
 * and the next request creates a new document.
 */
export class PortHostClient implements EngineHostConnection {
  private readonly inFlight = new Map<string, { onUpdate: (update: CorrectionUpdate) => void; resolve: () => void }>();
  private lastStatus: EngineStatus = { state: 'empty' };
  private statusWaiters: Array<(status: EngineStatus) => void> = [];
  private idleCloseMs = 5 * 60_000;
  private port: PortLike | null = null;

  constructor(private readonly ensurePort: () => Promise<PortLike>) {}

  /** Called by the background when the offscreen document connects. */
  attach(port: PortLike): void {
    this.port = port;
    port.onMessage.addListener((raw) => {
      const message = parseEngineHostMessage(raw);
      if (!message) return;
      if (message.type === 'status') {
        this.lastStatus = message.status;
        for (const waiter of this.statusWaiters.splice(0)) waiter(message.status);
        return;
      }
      const job = this.inFlight.get(message.id);
      if (!job) return;
      job.onUpdate(message.update);
      if (message.update.kind === 'done' || message.update.kind === 'error') {
        this.inFlight.delete(message.id);
        job.resolve();
      }
    });
    port.onDisconnect.addListener(() => {
      if (this.port === port) this.port = null;
      this.lastStatus = { state: 'empty' };
      for (const waiter of this.statusWaiters.splice(0)) waiter(this.lastStatus);
      for (const [id, job] of this.inFlight) {
        this.inFlight.delete(id);
        job.onUpdate({ kind: 'error', message: 'The correction stopped: the engine closed unexpectedly. Press Retry to run it again.' });
        job.resolve();
      }
    });
    port.postMessage({ type: 'configure', idleCloseMs: this.idleCloseMs } satisfies EngineHostRequest);
  }

  get connected(): boolean {
    return this.port !== null;
  }

  private send(message: EngineHostRequest): void {
    this.port?.postMessage(message);
  }

  async run(id: string, job: EngineJob, onUpdate: (update: CorrectionUpdate) => void): Promise<void> {
    let port: PortLike;
    try {
      port = await this.ensurePort();
    } catch (error) {
      onUpdate({ kind: 'error', message: `Could not start the engine: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    return new Promise<void>((resolve) => {
      this.inFlight.set(id, { onUpdate, resolve });
      port.postMessage({ type: 'correct', id, job } satisfies EngineHostRequest);
    });
  }

  cancel(id: string): void {
    this.send({ type: 'cancel', id });
  }

  async unload(): Promise<void> {
    this.send({ type: 'unload' });
  }

  async status(): Promise<EngineStatus> {
    if (!this.port) return { state: 'empty' };
    const answer = new Promise<EngineStatus>((resolve) => {
      this.statusWaiters.push(resolve);
      setTimeout(() => resolve(this.lastStatus), 1000);
    });
    this.send({ type: 'status' });
    return answer;
  }

  /** The last status the host pushed (no round trip). */
  get cachedStatus(): EngineStatus {
    return this.lastStatus;
  }

  configure(idleCloseMs: number): void {
    this.idleCloseMs = idleCloseMs;
    this.send({ type: 'configure', idleCloseMs });
  }
}

/**
 * Sends local jobs to the engine page and remote jobs to a host inside the background itself: a
 * remote correction needs no DOM, WebGPU or offscreen document, and skips two message hops.
 */
export class RoutingHostClient implements EngineHostConnection {
  private lastEngine: 'local' | 'remote' = 'local';

  constructor(
    private readonly local: Promise<EngineHostConnection>,
    private readonly remote: EngineHostConnection,
  ) {}

  run(id: string, job: EngineJob, onUpdate: (update: CorrectionUpdate) => void): Promise<void> {
    this.lastEngine = job.model.engine;
    return job.model.engine === 'remote' ? this.remote.run(id, job, onUpdate) : this.local.then((host) => host.run(id, job, onUpdate));
  }

  cancel(id: string): void {
    this.remote.cancel(id);
    void this.local.then((host) => host.cancel(id));
  }

  async unload(): Promise<void> {
    await Promise.all([this.remote.unload(), this.local.then((host) => host.unload())]);
  }

  async status(): Promise<EngineStatus> {
    return this.lastEngine === 'remote' ? this.remote.status() : (await this.local).status();
  }

  configure(idleCloseMs: number): void {
    this.remote.configure(idleCloseMs);
    void this.local.then((host) => host.configure(idleCloseMs));
  }
}
