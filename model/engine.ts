import { textDelta, type CorrectionUpdate, type Device } from '../utils/messages';
import { planChunks } from './chunking';
import { chatMessages, renderPrompt, TEMPLATES, type ChatMessage, type TemplateId } from './templates';

/** A prompt as the engine receives it: raw text for Aligner templates, messages for `chat`. */
export type Prompt = { kind: 'text'; text: string } | { kind: 'chat'; messages: ChatMessage[] };

export interface GenerateOptions {
  maxNewTokens: number;
  signal?: AbortSignal;
  /** Called with the whole continuation so far, each time it grows. */
  onText?: (textSoFar: string) => void;
  stop?: string[];
  /** The answer being corrected: local engines draft from it (speculative decoding). */
  source?: string;
}

export interface GenerateResult {
  text: string;
  tokens: number;
  /** Forward passes and draft tokens verified/accepted (engines with their own decode loop). */
  decode?: { passes: number; drafted: number; accepted: number };
}

/**
 * What every engine (transformers.js in the browser or Node, an OpenAI-compatible server) does:
 * one prompt in, the greedy continuation out, streamed. Everything else (templates, chunking,
 * queue, panel) is shared.
 */
export interface AlignerEngine {
  readonly device: Device;
  /** Something the person should know about this engine (said with each correction). */
  readonly notice?: string;
  /** Tokens the prompt would take, with the template applied. */
  countPromptTokens(prompt: Prompt): Promise<number>;
  generate(prompt: Prompt, options: GenerateOptions): Promise<GenerateResult>;
  dispose(): Promise<void>;
}

export function buildPrompt(template: TemplateId, question: string, answer: string, aspects?: readonly string[]): Prompt {
  if (template === 'chat') return { kind: 'chat', messages: chatMessages(question, answer) };
  return { kind: 'text', text: renderPrompt(template, question, answer, aspects) };
}

/** Streamed text reaches the panel at most this often (the last text of each part always does). */
export const TEXT_UPDATE_INTERVAL_MS = 16;

export { messageOf } from '../utils/errors';

export class AbortError extends Error {
  constructor() {
    super('The correction was cancelled.');
    this.name = 'AbortError';
  }
}

export interface CorrectOptions {
  template: TemplateId;
  /** The objectives to improve, for templates that name them (MetaAligner); default: the trained ones. */
  aspects?: readonly string[];
  contextLength: number;
  maxNewTokens: number;
  signal?: AbortSignal;
  onUpdate?: (update: CorrectionUpdate) => void;
  /** Said with the result (e.g. the model could not be kept in the browser's storage). */
  notes?: string[];
}

/**
 * Cuts what an Aligner must not return: text after a stop string (a model that goes on to
 * imagine the next USER turn) and the whitespace its template leaves before the answer.
 */
export function cleanContinuation(text: string, stop: string[]): string {
  let end = text.length;
  for (const marker of stop) {
    const at = text.indexOf(marker);
    if (at !== -1 && at < end) end = at;
  }
  return text.slice(0, end).trim();
}

/**
 * Corrects one answer: splits it when prompt + answer + room for the correction would overflow
 * the context, streams each part's correction as it is generated, and joins the parts with the
 * original separators.
 */
export async function correctAnswer(
  engine: AlignerEngine,
  question: string,
  answer: string,
  options: CorrectOptions,
): Promise<{ text: string; notes: string[]; tokens: number }> {
  const { template, contextLength, signal, onUpdate } = options;
  const stop = TEMPLATES[template].stop;
  const started = Date.now();
  // Each text is tokenised once (planning and generating ask for the same counts).
  const counted = new Map<string, number>();
  const promptTokensFor = async (text: string) => {
    let count = counted.get(text);
    if (count === undefined) {
      count = await engine.countPromptTokens(buildPrompt(template, question, text, options.aspects));
      counted.set(text, count);
    }
    return count;
  };
  // The template's own cost, counted once: an answer's cost is the rest.
  const baseTokens = await promptTokensFor('');
  const fits = async (text: string) => {
    const promptTokens = await promptTokensFor(text);
    // Leave room for a correction a little longer than the text (Aligners rewrite, rarely expand).
    return promptTokens + Math.ceil((promptTokens - baseTokens) * 1.2) + 16 <= contextLength;
  };
  const chunks = await planChunks(answer, fits);

  const notes: string[] = [...(options.notes ?? [])];
  const done: string[] = [];
  let tokens = 0;
  let passes: number | undefined;
  let lastTextAt = 0;
  // Text goes out as deltas against what was last sent (utils/messages.ts: applyTextDelta).
  let sent = '';
  const sendText = (textSoFar: string, part: number) => {
    if (textSoFar === sent) return;
    const delta = textDelta(sent, textSoFar);
    sent = textSoFar;
    onUpdate?.({ kind: 'text', ...delta, part, parts: chunks.length });
  };
  // Decoding time, measured where the tokens are made: from each part's first text to its end.
  let decodeMs = 0;
  for (const [index, chunk] of chunks.entries()) {
    if (signal?.aborted) throw new AbortError();
    const prefix = done.join('');
    let corrected: string;
    if (!chunk.fits) {
      corrected = chunk.text;
      notes.push(
        `Part ${index + 1} of ${chunks.length} is a single paragraph too long for the model's context (${contextLength} tokens); it is shown unchanged.`,
      );
    } else if (chunk.text.trim() === '') {
      corrected = chunk.text;
    } else {
      const prompt = buildPrompt(template, question, chunk.text, options.aspects);
      const promptTokens = await promptTokensFor(chunk.text);
      let partFirstText: number | undefined;
      const budget = Math.max(16, Math.min(options.maxNewTokens, contextLength - promptTokens));
      const result = await engine.generate(prompt, {
        maxNewTokens: budget,
        signal,
        stop,
        source: chunk.text,
        onText: (soFar) => {
          partFirstText ??= performance.now();
          // One update a frame at most: a fast model would otherwise spend its time messaging.
          const now = Date.now();
          if (now - lastTextAt < TEXT_UPDATE_INTERVAL_MS) return;
          lastTextAt = now;
          sendText(prefix + cleanContinuation(soFar, stop), index + 1);
        },
      });
      tokens += result.tokens;
      if (result.decode) passes = (passes ?? 0) + result.decode.passes;
      if (partFirstText !== undefined) decodeMs += performance.now() - partFirstText;
      corrected = cleanContinuation(result.text, stop);
      if (result.tokens >= budget) {
        notes.push(`The correction${chunks.length > 1 ? ` of part ${index + 1}` : ''} reached the limit of ${budget} new tokens and may be cut short.`);
      }
    }
    done.push(corrected + chunk.separator);
    sendText(done.join(''), index + 1);
  }
  const text = done.join('');
  onUpdate?.({ kind: 'done', text, notes, tokens, ms: Date.now() - started, decodeMs: Math.round(decodeMs * 10) / 10, ...(passes !== undefined ? { passes } : {}) });
  return { text, notes, tokens };
}
