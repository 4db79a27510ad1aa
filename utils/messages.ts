/**
 * Every message that crosses a context boundary (content script ⇄ background ⇄ engine host ⇄
 * extension pages), defined once as a valibot schema. Types are inferred from the schemas, and
 * every receiver validates with them (utils/task-port.ts, utils/messaging.ts): a malformed
 * message is refused, never cast. Valibot rather than zod: its functions tree-shake, so the
 * content script (which runs on every chat page) carries only the few validators it uses.
 */
import * as v from 'valibot';

/** Longest question or answer text a message may carry (the answer limit proper is below). */
export const MAX_TEXT_CHARS = 400_000;

/**
 * The longest answer Realign corrects in the browser: beyond it, correcting part by part takes
 * minutes even on a GPU. The person is told to select a part; nothing is lost.
 */
export const MAX_ANSWER_CHARS = 60_000;

const text = (max = MAX_TEXT_CHARS) => v.pipe(v.string(), v.maxLength(max));
const count = v.pipe(v.number(), v.finite(), v.minValue(0));
const id = v.pipe(v.string(), v.minLength(1), v.maxLength(128));

/** Where a correction runs: WebGPU or WASM in a browser, onnxruntime-node (`cpu`, the CLI), or a server. */
export const DeviceSchema = v.picklist(['webgpu', 'wasm', 'cpu', 'remote']);
export type Device = v.InferOutput<typeof DeviceSchema>;

/** What a correction reports while it runs; the panel renders each one. */
export const CorrectionUpdateSchema = v.variant('kind', [
  v.object({ kind: v.literal('queued'), position: count }),
  /**
   * The model is not downloaded yet and the person has not agreed to it: ask, with the size (and,
   * for a checkpoint converted in the browser, what is kept afterwards).
   */
  v.object({ kind: v.literal('consent'), model: text(300), repo: text(300), host: text(2048), bytes: count, keptBytes: v.optional(count) }),
  v.object({ kind: v.literal('download'), loaded: count, total: count, files: count, filesDone: count }),
  /** Converting a checkpoint in the browser: read (downloaded) bytes, tensors, time left (ms; -1 unknown). */
  v.object({ kind: v.literal('convert'), bytesRead: count, bytesTotal: count, tensorsDone: count, tensorsTotal: count, etaMs: v.number() }),
  v.object({ kind: v.literal('loading'), device: DeviceSchema, fallbackReason: v.optional(text(2000)) }),
  v.object({ kind: v.literal('correcting'), device: DeviceSchema, remoteHost: v.optional(text(300)) }),
  /**
   * Streamed text as a delta: the text so far is `previous.slice(0, from) + append`. Usually
   * `from` is the previous length (an append); it is less when the engine takes back a tail
   * (a stop string that turned out to be one, trailing whitespace).
   */
  v.object({ kind: v.literal('text'), from: count, append: text(), part: count, parts: count }),
  /** `ms`: the whole correction; `decodeMs`: from the first generated text to the last (engine clock). */
  v.object({
    kind: v.literal('done'),
    text: text(),
    notes: v.pipe(v.array(text(2000)), v.maxLength(32)),
    tokens: count,
    ms: count,
    decodeMs: v.optional(count),
    /** Forward passes the model ran (fewer than tokens when drafts were accepted). */
    passes: v.optional(count),
  }),
  v.object({ kind: v.literal('error'), message: text(4000) }),
]);
export type CorrectionUpdate = v.InferOutput<typeof CorrectionUpdateSchema>;
export type ConsentRequest = Extract<CorrectionUpdate, { kind: 'consent' }>;

/** What a person reads when an answer is over MAX_ANSWER_CHARS (said by the tab and, to be sure, the background). */
export function tooLongMessage(chars: number): string {
  return `This answer is too long to correct here (${Math.round(chars / 1000)} KB; the limit is ${MAX_ANSWER_CHARS / 1000} KB). Select a part of it and press the Realign shortcut.`;
}

/**
 * A question longer than a message may carry keeps its beginning and its end (where the ask
 * usually is); the engine fits it to the model's context the same way.
 */
export function boundedQuestion(question: string, max = MAX_TEXT_CHARS / 2): string {
  if (question.length <= max) return question;
  const half = Math.floor((max - 5) / 2);
  return `${question.slice(0, half)}\n[…]\n${question.slice(-half)}`;
}

/** Whether an update ends its correction. */
export const isFinalUpdate = (update: { kind: string }): boolean => update.kind === 'done' || update.kind === 'error';

/** Applies a streamed text delta; null when it does not fit what was received (a lost update). */
export function applyTextDelta(previous: string, delta: { from: number; append: string }): string | null {
  if (delta.from > previous.length) return null;
  return previous.slice(0, delta.from) + delta.append;
}

/** The delta that turns `previous` into `next` (shared prefix kept). */
export function textDelta(previous: string, next: string): { from: number; append: string } {
  let from = 0;
  const limit = Math.min(previous.length, next.length);
  while (from < limit && previous.charCodeAt(from) === next.charCodeAt(from)) from += 1;
  return { from, append: next.slice(from) };
}

// ---------------------------------------------------------------------------------------------
// Content script → background: one port per correction (CORRECTION_CHANNEL in task-port.ts).

export const CorrectionRequestSchema = v.object({ site: text(128), question: text(), answer: text() });
export type CorrectionRequest = v.InferOutput<typeof CorrectionRequestSchema>;
/** The person agreed (a trusted click in the panel) to download the model a `consent` update named. */
export const CorrectionSignalSchema = v.object({ kind: v.literal('approve') });

// ---------------------------------------------------------------------------------------------
// Background → engine host (Chrome's offscreen document; Firefox runs it in-process).

export const LocalModelConfigSchema = v.object({
  engine: v.literal('local'),
  repo: text(300),
  /** Convert this hub checkpoint into `repo` first (kept in the browser), unless it is there already. */
  convert: v.optional(v.object({ from: text(300), tokenizerFrom: v.optional(text(300)), dtype: v.picklist(['q4']) })),
  template: text(64),
  /** The objectives to improve, for templates that name them (MetaAligner); empty: the trained ones. */
  aspects: v.optional(v.pipe(v.array(text(64)), v.maxLength(32))),
  /** dtype per device; the host picks by the device it gets. */
  dtypes: v.object({ webgpu: text(16), wasm: text(16), webgpuNoF16: text(16) }),
  contextLength: count,
  /** Where the hub lives: https://huggingface.co/ or a mirror with the same URL layout. */
  host: text(2048),
  /** Allow WebGPU (the person may force WASM). */
  allowWebgpu: v.boolean(),
});
export const RemoteModelConfigSchema = v.object({
  engine: v.literal('remote'),
  endpoint: text(2048),
  model: text(300),
  template: text(64),
  aspects: v.optional(v.pipe(v.array(text(64)), v.maxLength(32))),
  apiKey: text(4096),
  contextLength: count,
  timeoutMs: count,
});
export const EngineModelConfigSchema = v.variant('engine', [LocalModelConfigSchema, RemoteModelConfigSchema]);
export type EngineModelConfig = v.InferOutput<typeof EngineModelConfigSchema>;
export type LocalModelConfig = v.InferOutput<typeof LocalModelConfigSchema>;
export type RemoteModelConfig = v.InferOutput<typeof RemoteModelConfigSchema>;

/** What the engine needs for one correction: the text and the model settings (the offscreen
 * document cannot read extension storage, so settings travel with each job). */
export const EngineJobSchema = v.object({
  question: text(),
  answer: text(),
  model: EngineModelConfigSchema,
  maxNewTokens: count,
});
export type EngineJob = v.InferOutput<typeof EngineJobSchema>;

export const EngineStatusSchema = v.object({
  state: v.picklist(['empty', 'downloading', 'converting', 'loading', 'ready', 'busy', 'error']),
  /** Repo (local) or endpoint host (remote) of the loaded model. */
  model: v.optional(text(2048)),
  device: v.optional(DeviceSchema),
  /** Downloading: bytes; converting: checkpoint bytes read (`total` the checkpoint's size). */
  download: v.optional(v.object({ loaded: count, total: count })),
  message: v.optional(text(4000)),
});
export type EngineStatus = v.InferOutput<typeof EngineStatusSchema>;

/** The engine service's jobs (model/engine-service.ts), sent over ENGINE_CHANNEL. */
export const EngineRequestSchema = v.variant('kind', [
  v.object({ kind: v.literal('correct'), job: EngineJobSchema }),
  /** Download (if needed) and load a model without correcting anything (the Download button). */
  v.object({ kind: v.literal('load'), model: LocalModelConfigSchema }),
  v.object({ kind: v.literal('unload') }),
  v.object({ kind: v.literal('configure'), idleCloseMs: count }),
  /** A task that never ends: every status change of the engine, starting with the current one. */
  v.object({ kind: v.literal('watchStatus') }),
]);
export type EngineRequest = v.InferOutput<typeof EngineRequestSchema>;

export const EngineEventSchema = v.variant('kind', [
  ...CorrectionUpdateSchema.options,
  v.object({ kind: v.literal('status'), status: EngineStatusSchema }),
  /** A job without output (load, unload, configure) finished. */
  v.object({ kind: v.literal('ok') }),
]);
export type EngineEvent = v.InferOutput<typeof EngineEventSchema>;
export const isFinalEngineEvent = (event: EngineEvent): boolean => isFinalUpdate(event) || event.kind === 'ok';

// ---------------------------------------------------------------------------------------------
// What the content script tells the popup about its page, and what it is told about its site.

/** How a site's panels open: the Changes or Corrected view, or `original` (collapsed: the site's own answer above is the view). */
export const PanelViewSchema = v.picklist(['original', 'corrected', 'changes']);
export type PanelView = v.InferOutput<typeof PanelViewSchema>;
export const ModeSchema = v.picklist(['auto', 'on-demand']);
export type Mode = v.InferOutput<typeof ModeSchema>;

/** The only settings a content script gets: its own site's (it never reads extension storage). */
export const PageConfigSchema = v.object({ enabled: v.boolean(), mode: ModeSchema, view: PanelViewSchema });
export type PageConfig = v.InferOutput<typeof PageConfigSchema>;

export const AdapterHealthReportSchema = v.object({
  site: text(300),
  siteName: text(300),
  /**
   * ok: the site's adapter found the conversation; fallback: only a fallback selector matched;
   * shape: the adapter found nothing and answers are found from the page's structure; stale:
   * the structure shows answers the adapter misses; generic: a page no adapter knows.
   */
  health: v.picklist(['ok', 'fallback', 'no-conversation', 'shape', 'stale', 'generic']),
  panels: count,
  enabled: v.boolean(),
  mode: ModeSchema,
});
export type AdapterHealthReport = v.InferOutput<typeof AdapterHealthReportSchema>;
