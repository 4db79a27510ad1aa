import type { CorrectionUpdate, Device, EngineJob, EngineStatus } from '../utils/protocol';
import { AbortError, correctAnswer, type AlignerEngine } from './engine';
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
  createRemote(model: Extract<EngineJob['model'], { engine: 'remote' }>): AlignerEngine;
  /** Called after `idleCloseMs` without work: free the model (and close the document). */
  onIdle(): void;
  onStatus(status: EngineStatus): void;
}

/**
 * Keeps at most one model loaded and runs one correction at a time. Knows nothing about
 * messaging: the entrypoints feed it jobs and forward its updates.
 */
export class EngineHost {
  private engine: AlignerEngine | null = null;
  private engineKey = '';
  private loading: Promise<AlignerEngine> | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly running = new Map<string, AbortController>();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private idleCloseMs = 5 * 60_000;
  private status: EngineStatus = { state: 'empty' };
  private webgpu: Promise<WebGpuSupport> | null = null;
  /** WebGPU failed once in this host (device lost, unsupported op): stay on WASM. */
  private webgpuBroken: string | null = null;

  constructor(private readonly platform: HostPlatform) {}

  configure(idleCloseMs: number): void {
    this.idleCloseMs = Math.max(10_000, idleCloseMs);
    this.armIdleTimer();
  }

  getStatus(): EngineStatus {
    return this.status;
  }

  private setStatus(status: EngineStatus): void {
    this.status = status;
    this.platform.onStatus(status);
  }

  /** Runs a job after the ones before it; resolves when it has finished or failed. */
  run(id: string, job: EngineJob, onUpdate: (update: CorrectionUpdate) => void): Promise<void> {
    const controller = new AbortController();
    this.running.set(id, controller);
    clearTimeout(this.idleTimer);
    const task = this.chain.then(() => this.execute(job, controller.signal, onUpdate));
    this.chain = task.catch(() => undefined);
    return task.finally(() => {
      this.running.delete(id);
      this.armIdleTimer();
    });
  }

  cancel(id: string): void {
    this.running.get(id)?.abort();
  }

  async unload(): Promise<void> {
    for (const controller of this.running.values()) controller.abort();
    await this.chain;
    await this.disposeEngine();
    this.setStatus({ state: 'empty' });
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    if (this.running.size > 0) return;
    this.idleTimer = setTimeout(() => {
      if (this.running.size > 0) return;
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

  private async execute(job: EngineJob, signal: AbortSignal, onUpdate: (update: CorrectionUpdate) => void) {
    try {
      if (signal.aborted) throw new AbortError();
      const template: TemplateId = isTemplateId(job.model.template) ? job.model.template : 'aligner-v1';
      let engine = await this.engineFor(job, onUpdate);
      if (signal.aborted) throw new AbortError();
      const correct = (current: AlignerEngine) => {
        onUpdate({
          kind: 'correcting',
          device: current.device,
          remoteHost: job.model.engine === 'remote' ? new URL(job.model.endpoint).host : undefined,
        });
        this.setStatus({ ...this.status, state: 'busy' });
        return correctAnswer(current, job.question, job.answer, {
          template,
          contextLength: job.model.contextLength,
          maxNewTokens: job.maxNewTokens,
          signal,
          onUpdate,
          notes: current.notice ? [current.notice] : [],
        });
      };
      try {
        await correct(engine);
      } catch (error) {
        // A lost or failing GPU must not end the correction: redo it on WASM and say so.
        if (engine.device !== 'webgpu' || error instanceof AbortError || signal.aborted) throw error;
        this.webgpuBroken = `WebGPU failed (${messageOf(error)}); using WASM instead.`;
        await this.disposeEngine();
        engine = await this.engineFor(job, onUpdate);
        await correct(engine);
      }
      this.setStatus({ ...this.status, state: 'ready' });
    } catch (error) {
      const cancelled = error instanceof AbortError || signal.aborted;
      if (this.status.state === 'busy') this.setStatus({ ...this.status, state: 'ready' });
      onUpdate({ kind: 'error', message: cancelled ? 'The correction was cancelled.' : messageOf(error) });
    }
  }

  private async engineFor(job: EngineJob, onUpdate: (update: CorrectionUpdate) => void): Promise<AlignerEngine> {
    const model = job.model;
    if (model.engine === 'remote') {
      const key = `remote|${model.endpoint}|${model.model}|${model.apiKey.length}`;
      if (this.engine && this.engineKey === key) return this.engine;
      await this.disposeEngine();
      this.engine = this.platform.createRemote(model);
      this.engineKey = key;
      this.setStatus({ state: 'ready', model: model.endpoint, device: 'remote' });
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
    if (this.loading && this.engineKey === key) return this.loading;

    await this.disposeEngine();
    this.engineKey = key;
    onUpdate({ kind: 'loading', device, fallbackReason });
    this.setStatus({ state: 'loading', model: model.repo, device });
    let wasDownloading = false;
    this.loading = this.platform.loadLocal({
      repo: model.repo,
      host: model.host,
      device,
      dtype,
      onProgress: (progress) => {
        const downloading = progress.filesDone < progress.files && !(progress.total > 0 && progress.loaded >= progress.total);
        if (downloading) {
          onUpdate({ kind: 'download', ...progress });
          this.setStatus({ state: 'downloading', model: model.repo, device, download: progress });
          wasDownloading = true;
        } else if (wasDownloading) {
          // Every byte is here; building the inference session can still take a while.
          wasDownloading = false;
          onUpdate({ kind: 'loading', device, fallbackReason });
          this.setStatus({ state: 'loading', model: model.repo, device });
        }
      },
    });
    try {
      this.engine = await this.loading;
    } catch (error) {
      this.engineKey = '';
      this.setStatus({ state: 'error', model: model.repo, message: messageOf(error) });
      throw new Error(describeLoadError(model.repo, model.host, error));
    } finally {
      this.loading = null;
    }
    this.setStatus({ state: 'ready', model: model.repo, device });
    return this.engine;
  }
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
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
