import { textDelta, type CorrectionUpdate, type Device } from '../utils/messages';
import { MAX_PARTS, planChunks } from './chunking';
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
  /**
   * The most characters the continuation may have: past it the engine stops and cuts there
   * (sets `charLimitReached`). Remote servers can send anything; local engines are bounded by
   * their tokens and may ignore it.
   */
  maxChars?: number;
}

export interface GenerateResult {
  text: string;
  tokens: number;
  /** Forward passes and draft tokens verified/accepted (engines with their own decode loop). */
  decode?: { passes: number; drafted: number; accepted: number };
  /** The engine stopped at GenerateOptions.maxChars: the text is cut there. */
  charLimitReached?: boolean;
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

/** The question may take at most this share of the context: the answer and its correction need the rest. */
export const QUESTION_CONTEXT_SHARE = 0.25;
/** Stands for the middle of a question too long for its share (its beginning and end are kept). */
export const QUESTION_CUT_MARKER = '\n[…]\n';
/** No tokenizer makes a token of more than this many characters in practice: a first cut by characters before counting. */
const MAX_CHARS_PER_TOKEN = 16;

/**
 * The most characters a part's correction may have. Aligners copy and edit; they rarely expand
 * (planning leaves room for 1.2 times the part's tokens), so a correction over three times its
 * part is a runaway model or a hostile server. The margin lets a
 * short answer ("No.") become a paragraph: 4,096 characters is a whole default budget of 1,024
 * new tokens. With answers capped at 60 KB and at most MAX_PARTS parts, a correction stays
 * within the message layer's 400,000 characters.
 */
export function correctionCharLimit(partChars: number): number {
  return 3 * partChars + 4096;
}

/** The question's beginning and end, `keep` characters in all, with the marker between (never splitting a surrogate pair). */
export function questionHeadAndTail(question: string, keep: number): string {
  if (keep >= question.length) return question;
  let head = Math.floor(Math.max(0, keep) / 2);
  let tail = Math.max(0, keep) - head;
  if (head > 0 && isHighSurrogate(question.charCodeAt(head - 1))) head -= 1;
  let tailStart = question.length - tail;
  if (tail > 0 && isLowSurrogate(question.charCodeAt(tailStart))) tailStart += 1;
  return question.slice(0, head) + QUESTION_CUT_MARKER + question.slice(tailStart);
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/**
 * Fits the question into `budget` tokens, keeping its beginning (often what is asked) and its
 * end (the last thing the person wrote, often the actual ask after pasted material) with a
 * marker between. At most three counts: a cut by characters, up to two cuts by the measured
 * density; then, if still over, a cut that holds under any byte-level tokenizer (at most 3 tokens
 * a UTF-16 unit), not counted again (the answer's budget is measured with the question as cut).
 */
async function fitQuestion(question: string, budget: number, count: (question: string) => Promise<number>): Promise<string> {
  let kept = questionHeadAndTail(question, budget * MAX_CHARS_PER_TOKEN);
  let tokens = await count(kept);
  for (let attempt = 0; tokens > budget && attempt < 2; attempt++) {
    const keptChars = kept === question ? question.length : kept.length - QUESTION_CUT_MARKER.length;
    kept = questionHeadAndTail(question, Math.floor(keptChars * (budget / tokens) * 0.9));
    tokens = await count(kept);
  }
  if (tokens > budget) kept = questionHeadAndTail(question, Math.floor(budget / 3) - QUESTION_CUT_MARKER.length);
  return kept;
}

/** "part 3", "parts 1–3, 7 and 9": part numbers for one merged note. */
function partList(parts: number[]): string {
  const ranges: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    let j = i;
    while (j + 1 < parts.length && parts[j + 1] === parts[j]! + 1) j++;
    if (j > i + 1) {
      ranges.push(`${parts[i]}–${parts[j]}`);
      i = j;
    } else {
      ranges.push(`${parts[i]}`);
    }
  }
  const joined = ranges.length > 1 ? `${ranges.slice(0, -1).join(', ')} and ${ranges.at(-1)}` : ranges[0]!;
  return `${parts.length > 1 ? 'parts' : 'part'} ${joined}`;
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
 *
 * Bounded for any input: the question is cut to QUESTION_CONTEXT_SHARE of the context, at most
 * MAX_PARTS parts are corrected (the rest is shown unchanged), planning makes a bounded number
 * of tokenizer calls (model/chunking.ts), each correction is capped in characters, text goes out
 * as deltas at most once per TEXT_UPDATE_INTERVAL_MS, and notes of one kind are merged into one.
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
  const notes: string[] = [...(options.notes ?? [])];

  // The question first: its share of the context, measured against the template alone.
  const templateTokens = await engine.countPromptTokens(buildPrompt(template, '', '', options.aspects));
  const questionBudget = Math.max(1, Math.floor(contextLength * QUESTION_CONTEXT_SHARE));
  const fittedQuestion = await fitQuestion(question, questionBudget, async (kept) => (await engine.countPromptTokens(buildPrompt(template, kept, '', options.aspects))) - templateTokens);
  if (fittedQuestion !== question) {
    notes.push(
      `The question is long (${question.length.toLocaleString('en-US')} characters): the model was given its beginning and its end (about ${questionBudget} tokens).`,
    );
  }

  // Each text is tokenised once (planning and generating ask for the same counts).
  const counted = new Map<string, number>();
  const promptTokensFor = async (text: string) => {
    let count = counted.get(text);
    if (count === undefined) {
      count = await engine.countPromptTokens(buildPrompt(template, fittedQuestion, text, options.aspects));
      counted.set(text, count);
    }
    return count;
  };
  // The template and question's cost, counted once: an answer's cost is the rest.
  const baseTokens = await promptTokensFor('');
  // A part fits when prompt + room for a correction a little longer than it (Aligners rewrite,
  // rarely expand) + 16 stays within the context: base + a + ceil(1.2 a) + 16 <= context.
  const room = contextLength - baseTokens - 16;
  const maxAnswerTokens = room > 0 ? Math.floor((5 * room) / 11) : 0;
  const chunks = await planChunks(answer, {
    countTokens: async (text) => (await promptTokensFor(text)) - baseTokens,
    maxTokens: maxAnswerTokens,
    maxParts: MAX_PARTS,
  });

  const tooLong: number[] = [];
  const tokenLimited: number[] = [];
  const charLimited: number[] = [];
  let largestBudget = 0;
  let passedOver: { part: number; chars: number } | undefined;
  const done: string[] = [];
  let tokens = 0;
  let passes: number | undefined;
  let lastTextAt = 0;
  // Text goes out as deltas against what was last sent (utils/messages.ts: applyTextDelta).
  let sent = '';
  /** Sends what is new, if anything; says whether it sent. */
  const sendText = (textSoFar: string, part: number): boolean => {
    if (textSoFar === sent) return false;
    const delta = textDelta(sent, textSoFar);
    sent = textSoFar;
    onUpdate?.({ kind: 'text', ...delta, part, parts: chunks.length });
    return true;
  };
  // Decoding time, measured where the tokens are made: from each part's first text to its end.
  let decodeMs = 0;
  for (const [index, chunk] of chunks.entries()) {
    if (signal?.aborted) throw new AbortError();
    const prefix = done.join('');
    let corrected: string;
    if (!chunk.fits) {
      corrected = chunk.text;
      if (chunk.reason === 'part-limit') passedOver = { part: index + 1, chars: chunk.text.length };
      else tooLong.push(index + 1);
    } else if (chunk.text.trim() === '') {
      corrected = chunk.text;
    } else {
      const prompt = buildPrompt(template, fittedQuestion, chunk.text, options.aspects);
      const promptTokens = await promptTokensFor(chunk.text);
      let partFirstText: number | undefined;
      const budget = Math.max(16, Math.min(options.maxNewTokens, contextLength - promptTokens));
      const result = await engine.generate(prompt, {
        maxNewTokens: budget,
        signal,
        stop,
        source: chunk.text,
        maxChars: correctionCharLimit(chunk.text.length),
        onText: (soFar) => {
          partFirstText ??= performance.now();
          // One update a frame at most: a fast model would otherwise spend its time messaging.
          // Only an update sent starts the wait: a first token that shows nothing (a space) must
          // not hold back the first words.
          const now = Date.now();
          if (now - lastTextAt < TEXT_UPDATE_INTERVAL_MS) return;
          if (sendText(prefix + cleanContinuation(soFar, stop), index + 1)) lastTextAt = now;
        },
      });
      tokens += result.tokens;
      if (result.decode) passes = (passes ?? 0) + result.decode.passes;
      if (partFirstText !== undefined) decodeMs += performance.now() - partFirstText;
      corrected = cleanContinuation(result.text, stop);
      if (result.charLimitReached) charLimited.push(index + 1);
      else if (result.tokens >= budget) {
        tokenLimited.push(index + 1);
        largestBudget = Math.max(largestBudget, budget);
      }
    }
    done.push(corrected + chunk.separator);
    sendText(done.join(''), index + 1);
  }
  // One note per kind, whatever the number of parts.
  const parts = chunks.length;
  if (tooLong.length > 0) {
    const many = tooLong.length > 1;
    notes.push(
      `${capitalise(partList(tooLong))} of ${parts} ${many ? 'are single paragraphs' : 'is a single paragraph'} too long for the model's context (${contextLength} tokens); ${many ? 'they are' : 'it is'} shown unchanged.`,
    );
  }
  if (tokenLimited.length > 0) {
    notes.push(
      parts === 1
        ? `The correction reached the limit of ${largestBudget} new tokens and may be cut short.`
        : `The correction of ${partList(tokenLimited)} reached the limit of new tokens (${largestBudget}) and may be cut short.`,
    );
  }
  if (charLimited.length > 0) {
    notes.push(
      `The correction${parts === 1 ? '' : ` of ${partList(charLimited)}`} ran far longer than the answer (over 3 times plus 4,096 characters) and was cut there.`,
    );
  }
  if (passedOver) {
    notes.push(
      `The answer is long: its first ${passedOver.part - 1} parts were corrected; the rest (${passedOver.chars.toLocaleString('en-US')} characters) is shown unchanged.`,
    );
  }
  const text = done.join('');
  onUpdate?.({ kind: 'done', text, notes, tokens, ms: Date.now() - started, decodeMs: Math.round(decodeMs * 10) / 10, ...(passes !== undefined ? { passes } : {}) });
  return { text, notes, tokens };
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
