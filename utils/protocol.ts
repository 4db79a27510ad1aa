/**
 * The typed messages that cross a context boundary (content script ⇄ background ⇄ engine host).
 * Every receiver validates shape with the guards below: a message from anywhere else, or a
 * malformed one, is answered with an error or ignored, never trusted.
 */

/** Where a correction runs: WebGPU or WASM in a browser, onnxruntime-node (`cpu`, the CLI), or a server. */
export type Device = 'webgpu' | 'wasm' | 'cpu' | 'remote';

/** What a correction reports while it runs; the panel renders each one. */
export type CorrectionUpdate =
  | { kind: 'queued'; position: number }
  /** The model is not downloaded yet and the person has not agreed to it: ask, with the size. */
  | { kind: 'consent'; model: string; repo: string; host: string; bytes: number }
  | { kind: 'download'; loaded: number; total: number; files: number; filesDone: number }
  | { kind: 'loading'; device: Device; fallbackReason?: string }
  | { kind: 'correcting'; device: Device; remoteHost?: string }
  | { kind: 'text'; text: string; part: number; parts: number }
  /** `ms`: the whole correction; `decodeMs`: from the first generated text to the last (engine clock). */
  | { kind: 'done'; text: string; notes: string[]; tokens: number; ms: number; decodeMs?: number }
  | { kind: 'error'; message: string };

/** Port names: one port per correction from a tab, one from the engine host. */
export const CORRECTION_PORT = 'realign/correct';
export const ENGINE_HOST_PORT = 'realign/engine-host';

/** Content script → background, on a CORRECTION_PORT. */
export type CorrectionClientMessage =
  | { type: 'start'; site: string; question: string; answer: string }
  /** The person agreed to download the model the `consent` update named. */
  | { type: 'approve' }
  | { type: 'cancel' };

export const MAX_TEXT_CHARS = 400_000;

/**
 * The longest answer Realign corrects in the browser: beyond it, correcting part by part takes
 * minutes even on a GPU. The person is told to select a part; nothing is lost.
 */
export const MAX_ANSWER_CHARS = 60_000;

function isShortString(value: unknown, max = MAX_TEXT_CHARS): value is string {
  return typeof value === 'string' && value.length <= max;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseCorrectionClientMessage(value: unknown): CorrectionClientMessage | null {
  if (!isRecord(value)) return null;
  if (value.type === 'cancel') return { type: 'cancel' };
  if (value.type === 'approve') return { type: 'approve' };
  if (
    value.type === 'start' &&
    isShortString(value.site, 64) &&
    isShortString(value.question) &&
    isShortString(value.answer)
  ) {
    return { type: 'start', site: value.site, question: value.question, answer: value.answer };
  }
  return null;
}

/** What the engine needs for one correction: the text and the model settings (the offscreen
 * document cannot read extension storage, so settings travel with each job). */
export interface EngineJob {
  question: string;
  answer: string;
  model: EngineModelConfig;
  maxNewTokens: number;
}

export type EngineModelConfig =
  | {
      engine: 'local';
      repo: string;
      template: string;
      /** dtype per device; the host picks by the device it gets. */
      dtypes: { webgpu: string; wasm: string; webgpuNoF16: string };
      contextLength: number;
      /** Where the hub lives: https://huggingface.co/ or a mirror with the same URL layout. */
      host: string;
      /** Allow WebGPU (the user may force WASM). */
      allowWebgpu: boolean;
    }
  | {
      engine: 'remote';
      endpoint: string;
      model: string;
      template: string;
      apiKey: string;
      contextLength: number;
      timeoutMs: number;
    };

export interface EngineStatus {
  state: 'empty' | 'downloading' | 'loading' | 'ready' | 'busy' | 'error';
  /** Repo (local) or endpoint (remote) of the loaded model. */
  model?: string;
  device?: Device;
  download?: { loaded: number; total: number };
  message?: string;
}

/** Background → engine host. */
export type EngineHostRequest =
  | { type: 'correct'; id: string; job: EngineJob }
  | { type: 'cancel'; id: string }
  | { type: 'unload' }
  | { type: 'status' }
  | { type: 'configure'; idleCloseMs: number };

/** Engine host → background. */
export type EngineHostMessage =
  | { type: 'update'; id: string; update: CorrectionUpdate }
  | { type: 'status'; status: EngineStatus };

export function parseEngineHostRequest(value: unknown): EngineHostRequest | null {
  if (!isRecord(value) || typeof value.type !== 'string') return null;
  switch (value.type) {
    case 'correct': {
      const job = value.job;
      if (typeof value.id !== 'string' || !isRecord(job)) return null;
      if (!isShortString(job.question) || !isShortString(job.answer) || typeof job.maxNewTokens !== 'number')
        return null;
      if (!isRecord(job.model) || (job.model.engine !== 'local' && job.model.engine !== 'remote')) return null;
      return value as EngineHostRequest;
    }
    case 'cancel':
      return typeof value.id === 'string' ? { type: 'cancel', id: value.id } : null;
    case 'unload':
    case 'status':
      return { type: value.type };
    case 'configure':
      return typeof value.idleCloseMs === 'number' ? { type: 'configure', idleCloseMs: value.idleCloseMs } : null;
    default:
      return null;
  }
}

export function parseEngineHostMessage(value: unknown): EngineHostMessage | null {
  if (!isRecord(value)) return null;
  if (value.type === 'update' && typeof value.id === 'string' && isRecord(value.update)) {
    return value as EngineHostMessage;
  }
  if (value.type === 'status' && isRecord(value.status)) return value as EngineHostMessage;
  return null;
}
