import type {
  CorrectionUpdate,
  EngineJob,
  EngineStatus,
  LocalModelConfig,
  RemoteModelConfig,
} from '../utils/messages';
import { AbortError, correctAnswer, messageOf, type AlignerEngine } from './engine';
import { isTemplateId, type TemplateId } from './templates';
import type { LocalDevice } from './presets';
import type { DownloadProgress } from './transformers-engine';

export interface WebGpuSupport {
  available: boolean;
  f16: boolean;
  reason?: string;
}

/** What differs between the hosts (Chrome's offscreen document, Firefox's background page, Node). */
export interface HostPlatform {
  detectWebGpu(): Promise<WebGpuSupport>;
  loadLocal(options: {
    repo: string;
    host: string;
    device: LocalDevice;
    dtype: string;
    onProgress: (progress: DownloadProgress) => void;
  }): Promise<AlignerEngine>;
  createRemote(model: RemoteModelConfig): AlignerEngine;
  /**
   * Makes sure the checkpoint `convert.from` has been converted into `repo` on `host` (kept in
   * the browser): does nothing when a complete conversion is there, else converts it (starting
   * over if an earlier one was cut short). Absent where nothing can be converted.
   */
  ensureConverted?(options: {
    host: string;
    repo: string;
    convert: NonNullable<LocalModelConfig['convert']>;
    signal: AbortSignal;
    onProgress: (progress: ConvertProgress) => void;
  }): Promise<void>;
  /** Called after the idle time without work, once the model is freed (e.g. close the document). */
  onIdle(): void;
}

export type ConvertProgress = Omit<Extract<CorrectionUpdate, { kind: 'convert' }>, 'kind'>;

/** A load job's events: download (or conversion) progress, loading, then `ok` (or an error). */
export type LoadEvent = Extract<CorrectionUpdate, { kind: 'download' | 'convert' | 'loading' | 'error' }> | { kind: 'ok' };

/**
 * The engine as every caller sees it: jobs in, streams of events out. `InProcessEngineService`
 * runs it here (Firefox's background page, the offscreen document, tests); the background's
 * `PortEngineService` runs the same jobs behind the message layer (entrypoints/background).
 */
export interface EngineService {
  /** Corrects one answer; ends with `done` or `error`. Aborting the signal cancels it. */
  correct(job: EngineJob, signal?: AbortSignal): AsyncIterable<CorrectionUpdate>;
  /** Downloads (if needed) and loads a model without correcting anything. */
  load(model: LocalModelConfig, signal?: AbortSignal): AsyncIterable<LoadEvent>;
  /** Frees the model (jobs in flight are cancelled). */
  unload(): Promise<void>;
  configure(idleCloseMs: number): void;
  status(): EngineStatus;
  /** Calls `listener` with the current status, then on every change; returns the unsubscribe. */
  watchStatus(listener: (status: EngineStatus) => void): () => void;
}

/**
 * Turns a callback-style job into an AsyncIterable of its events. The job's last event must be
 * final; the iterable ends after it. A job that fails makes the iteration throw (never a silent
 * end with no final event).
 */
export function eventStream<T>(run: (emit: (event: T) => void) => Promise<void>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const queue: T[] = [];
      let finished = false;
      let failure: { error: unknown } | null = null;
      let wake: (() => void) | null = null;
      const notify = () => {
        wake?.();
        wake = null;
      };
      run((event) => {
        queue.push(event);
        notify();
      })
        .catch((error: unknown) => (failure = { error }))
        .finally(() => {
          finished = true;
          notify();
        });
      return {
        async next(): Promise<IteratorResult<T>> {
          for (;;) {
            if (queue.length > 0) return { value: queue.shift()!, done: false };
            if (finished && failure) throw failure.error;
            if (finished) return { value: undefined, done: true };
            await new Promise<void>((resolve) => (wake = resolve));
          }
        },
      };
    },
  };
}

/**
 * Keeps at most one model loaded and runs one job at a time. Knows nothing about messaging:
 * the entrypoints feed it jobs and forward its events.
 */
export class InProcessEngineService implements EngineService {
  private engine: AlignerEngine | null = null;
  private engineKey = '';
  /** A conversion under way, shared: no job owns it, so a panel going away does not stop it. */
  private conversion: { repo: string; done: Promise<void>; controller: AbortController; listeners: Set<(progress: ConvertProgress) => void> } | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly running = new Set<AbortController>();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private idleCloseMs = 5 * 60_000;
  private current: EngineStatus = { state: 'empty' };
  private readonly statusListeners = new Set<(status: EngineStatus) => void>();
  private webgpu: Promise<WebGpuSupport> | null = null;
  /** WebGPU failed once in this host (device lost, unsupported op): stay on WASM. */
  private webgpuBroken: string | null = null;

  constructor(private readonly platform: HostPlatform) {}

  configure(idleCloseMs: number): void {
    this.idleCloseMs = Math.max(10_000, idleCloseMs);
    this.armIdleTimer();
  }

  status(): EngineStatus {
    return this.current;
  }

  watchStatus(listener: (status: EngineStatus) => void): () => void {
    this.statusListeners.add(listener);
    listener(this.current);
    return () => this.statusListeners.delete(listener);
  }

  private setStatus(status: EngineStatus): void {
    this.current = status;
    for (const listener of this.statusListeners) listener(status);
  }

  correct(job: EngineJob, signal?: AbortSignal): AsyncIterable<CorrectionUpdate> {
    return eventStream((emit) => this.enqueue(signal, (aborted) => this.runCorrection(job, aborted, emit)));
  }

  load(model: LocalModelConfig, signal?: AbortSignal): AsyncIterable<LoadEvent> {
    return eventStream<LoadEvent>((emit) =>
      this.enqueue(signal, async (aborted) => {
        try {
          await this.engineFor(model, emit, aborted);
          emit({ kind: 'ok' });
        } catch (error) {
          emit({ kind: 'error', message: aborted.aborted ? 'The download was cancelled.' : messageOf(error) });
        }
      }),
    );
  }

  async unload(): Promise<void> {
    for (const controller of this.running) controller.abort();
    // A conversion stopped here is gone before the next job can join it.
    const conversion = this.conversion;
    this.conversion = null;
    conversion?.controller.abort();
    await conversion?.done.catch(() => undefined);
    await this.chain;
    await this.disposeEngine();
    this.setStatus({ state: 'empty' });
  }

  /** Runs a job after the ones before it; resolves when it has finished or failed. */
  private enqueue(signal: AbortSignal | undefined, job: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const controller = new AbortController();
    const forward = () => controller.abort();
    if (signal?.aborted) controller.abort();
    signal?.addEventListener('abort', forward);
    this.running.add(controller);
    clearTimeout(this.idleTimer);
    const task = this.chain.then(() => job(controller.signal));
    this.chain = task.catch(() => undefined);
    return task.finally(() => {
      signal?.removeEventListener('abort', forward);
      this.running.delete(controller);
      this.armIdleTimer();
    });
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    if (this.running.size > 0) return;
    this.idleTimer = setTimeout(() => {
      // A conversion under way is work too (no job may be waiting on it).
      if (this.running.size > 0 || this.conversion) return this.armIdleTimer();
      void this.disposeEngine().then(() => {
        this.setStatus({ state: 'empty' });
        this.platform.onIdle();
      });
    }, this.idleCloseMs);
  }

  private async disposeEngine(): Promise<void> {
    const engine = this.engine;
    this.engine = null;
    this.engineKey = '';
    if (engine) await engine.dispose().catch(() => undefined);
  }

  private async runCorrection(job: EngineJob, signal: AbortSignal, emit: (update: CorrectionUpdate) => void): Promise<void> {
    try {
      if (signal.aborted) throw new AbortError();
      const template: TemplateId = isTemplateId(job.model.template) ? job.model.template : 'aligner-v1';
      let engine = await this.engineFor(job.model, emit, signal);
      if (signal.aborted) throw new AbortError();
      const correct = (current: AlignerEngine) => {
        emit({
          kind: 'correcting',
          device: current.device,
          remoteHost: job.model.engine === 'remote' ? new URL(job.model.endpoint).host : undefined,
        });
        this.setStatus({ ...this.current, state: 'busy' });
        return correctAnswer(current, job.question, job.answer, {
          template,
          aspects: job.model.aspects,
          contextLength: job.model.contextLength,
          maxNewTokens: job.maxNewTokens,
          signal,
          onUpdate: emit,
          notes: current.notice ? [current.notice] : [],
        });
      };
      try {
        await correct(engine);
      } catch (error) {
        // A lost or failing GPU must not end the correction: redo it on WASM and say so. If WASM
        // fails too, the GPU was not the cause: WebGPU stays allowed for the next job.
        if (engine.device !== 'webgpu' || error instanceof AbortError || signal.aborted) throw error;
        this.webgpuBroken = `WebGPU failed (${messageOf(error)}); using WASM instead.`;
        await this.disposeEngine();
        try {
          engine = await this.engineFor(job.model, emit, signal);
          await correct(engine);
        } catch (retryError) {
          // Cancelled during the retry: WebGPU did fail, so it stays set aside.
          if (retryError instanceof AbortError || signal.aborted) throw retryError;
          this.webgpuBroken = null;
          await this.disposeEngine();
          throw retryError;
        }
      }
      this.setStatus({ ...this.current, state: 'ready' });
    } catch (error) {
      const cancelled = error instanceof AbortError || signal.aborted;
      if (this.current.state === 'busy') this.setStatus({ ...this.current, state: 'ready' });
      emit({ kind: 'error', message: cancelled ? 'The correction was cancelled.' : messageOf(error) });
    }
  }

  /**
   * A checkpoint converted in the browser before its first use. The conversion runs on its own,
   * shared by every job that needs it: a job that is cancelled (its panel dismissed, its tab
   * closed) stops waiting, the conversion goes on, and the next job picks it up. Only unload()
   * stops it (what was written is then removed, and it starts over next time).
   */
  private async convertFirst(
    model: LocalModelConfig,
    convert: NonNullable<LocalModelConfig['convert']>,
    emit: (update: Extract<CorrectionUpdate, { kind: 'convert' }>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const ensureConverted = this.platform.ensureConverted;
    if (!ensureConverted) throw new Error(`The model ${convert.from} has to be converted first, and this engine cannot convert models.`);
    if (this.conversion?.repo !== model.repo) {
      // Another model's conversion (its jobs were cancelled, then another model was chosen) stops.
      this.conversion?.controller.abort();
      const controller = new AbortController();
      const listeners = new Set<(progress: ConvertProgress) => void>();
      // Only the conversion under way speaks for the engine's status.
      const current = () => this.conversion?.controller === controller;
      // Progress comes with every piece read: passed on a few times a second (and the last one).
      let lastSent = 0;
      const done = ensureConverted({
        host: model.host,
        repo: model.repo,
        convert,
        signal: controller.signal,
        onProgress: (progress) => {
          const now = Date.now();
          if (now - lastSent < 250 && progress.tensorsDone < progress.tensorsTotal) return;
          lastSent = now;
          if (current()) this.setStatus({ state: 'converting', model: convert.from, download: { loaded: progress.bytesRead, total: progress.bytesTotal } });
          for (const listener of listeners) listener(progress);
        },
      }).catch((error: unknown) => {
        const message = controller.signal.aborted ? 'The conversion was stopped; it starts over next time.' : `Could not convert ${convert.from}: ${messageOf(error)}`;
        if (current()) this.setStatus({ state: 'error', model: convert.from, message });
        throw new Error(message);
      });
      const conversion = { repo: model.repo, done, controller, listeners };
      this.conversion = conversion;
      void done.then(
        () => {
          if (this.conversion !== conversion) return;
          this.conversion = null;
          // Finished with no job waiting to load it: nothing is converting any more.
          if (listeners.size === 0) this.setStatus({ state: 'empty' });
        },
        () => this.conversion === conversion && (this.conversion = null),
      );
    }
    const conversion = this.conversion!;
    const listener = (progress: ConvertProgress) => emit({ kind: 'convert', ...progress });
    conversion.listeners.add(listener);
    try {
      await new Promise<void>((resolve, reject) => {
        const stopWaiting = () => reject(new AbortError());
        if (signal.aborted) return stopWaiting();
        signal.addEventListener('abort', stopWaiting, { once: true });
        conversion.done.then(resolve, reject).finally(() => signal.removeEventListener('abort', stopWaiting));
      });
    } finally {
      conversion.listeners.delete(listener);
    }
  }

  private async engineFor(
    model: EngineJob['model'],
    emit: (update: Extract<CorrectionUpdate, { kind: 'download' | 'convert' | 'loading' }>) => void,
    signal: AbortSignal,
  ): Promise<AlignerEngine> {
    if (model.engine === 'remote') {
      // The whole key, not a digest of it: a rotated key must reach the server at once.
      const key = JSON.stringify(['remote', model.endpoint, model.model, model.apiKey, model.timeoutMs]);
      if (this.engine && this.engineKey === key) return this.engine;
      await this.disposeEngine();
      this.engine = this.platform.createRemote(model);
      this.engineKey = key;
      this.setStatus({ state: 'ready', model: new URL(model.endpoint).host, device: 'remote' });
      return this.engine;
    }
    this.webgpu ??= this.platform.detectWebGpu();
    const gpu = await this.webgpu;
    let fallbackReason: string | undefined;
    let device: LocalDevice = 'wasm';
    if (!model.allowWebgpu) fallbackReason = 'WebGPU is turned off in the settings.';
    else if (this.webgpuBroken) fallbackReason = this.webgpuBroken;
    else if (!gpu.available) fallbackReason = gpu.reason ?? 'This browser offers no WebGPU adapter.';
    else device = 'webgpu';
    const dtype = device === 'wasm' ? model.dtypes.wasm : gpu.f16 ? model.dtypes.webgpu : model.dtypes.webgpuNoF16;
    const key = `local|${model.host}|${model.repo}|${device}|${dtype}`;
    if (this.engine && this.engineKey === key) return this.engine;

    await this.disposeEngine();
    if (model.convert) await this.convertFirst(model, model.convert, emit, signal);
    this.engineKey = key;
    emit({ kind: 'loading', device, fallbackReason });
    this.setStatus({ state: 'loading', model: model.repo, device });
    let wasDownloading = false;
    let lastProgressAt = 0;
    const loading = this.platform.loadLocal({
      repo: model.repo,
      host: model.host,
      device,
      dtype,
      onProgress: (progress) => {
        const downloading = progress.filesDone < progress.files && !(progress.total > 0 && progress.loaded >= progress.total);
        if (downloading) {
          // Every chunk reports: passed on a few times a second.
          const now = Date.now();
          if (now - lastProgressAt < 100) return;
          lastProgressAt = now;
          emit({ kind: 'download', ...progress });
          this.setStatus({ state: 'downloading', model: model.repo, device, download: { loaded: progress.loaded, total: progress.total } });
          wasDownloading = true;
        } else if (wasDownloading) {
          // Every byte is here; building the inference session can still take a while.
          wasDownloading = false;
          emit({ kind: 'loading', device, fallbackReason });
          this.setStatus({ state: 'loading', model: model.repo, device });
        }
      },
    });
    try {
      this.engine = await loading;
    } catch (error) {
      this.engineKey = '';
      this.setStatus({ state: 'error', model: model.repo, message: describeLoadError(model.repo, model.host, error) });
      throw new Error(describeLoadError(model.repo, model.host, error));
    }
    this.setStatus({ state: 'ready', model: model.repo, device });
    return this.engine;
  }
}

/** transformers.js's own messages for a missing model are misleading (PLATFORM.md): say what failed. */
export function describeLoadError(repo: string, host: string, error: unknown): string {
  const message = messageOf(error);
  if (message.startsWith('The model ')) return message;
  if (/404|not found|Could not locate file/i.test(message)) {
    return `The model ${repo} was not found on ${host} (${message}).`;
  }
  if (/Failed to fetch|NetworkError|ECONNREFUSED|fetch failed|aborted/i.test(message)) {
    return `Could not download the model ${repo} from ${host}: the server did not answer. Check your connection and press Retry.`;
  }
  if (/QuotaExceeded|quota/i.test(message)) {
    return `Not enough storage to keep the model ${repo}. Free some disk space or clear downloaded models in Realign's options.`;
  }
  if (/tokenizer_class/.test(message)) {
    return `The model ${repo} is missing tokenizer_config.json or tokenizer.json.`;
  }
  return `Could not load the model ${repo}: ${message}`;
}
