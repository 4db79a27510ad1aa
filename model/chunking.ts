/**
 * Long answers: the Aligner was trained on prompt + answer + correction within 2048 tokens, so
 * an answer that does not fit is corrected in parts, split at paragraph boundaries (never inside
 * a fenced code block), and joined again with the original separators.
 */

export interface AnswerBlock {
  text: string;
  /** The whitespace that followed this block in the original (empty for the last one). */
  separator: string;
}

export interface AnswerChunk extends AnswerBlock {
  /** False for a single paragraph that is still too long: it is passed through unchanged. */
  fits: boolean;
}

const FENCE = /^\s*(```|~~~)/;

/** Splits at blank lines outside fenced code. Joining text+separator gives the input exactly. */
export function splitParagraphs(answer: string): AnswerBlock[] {
  const blocks: AnswerBlock[] = [];
  const lines = answer.split(/(?<=\n)/); // keep the newline on each line
  let current = '';
  let pendingBlank = '';
  let inFence = false;
  for (const line of lines) {
    const isBlank = line.trim() === '';
    if (!inFence && isBlank) {
      if (current) pendingBlank += line;
      else current += line; // leading blank lines stay with the first block
      continue;
    }
    if (pendingBlank) {
      // A blank run ends a block: the newline that closed the block's last line belongs to the separator.
      const trailingNewline = current.endsWith('\n') ? '\n' : '';
      blocks.push({ text: current.slice(0, current.length - trailingNewline.length), separator: trailingNewline + pendingBlank });
      current = '';
      pendingBlank = '';
    }
    if (FENCE.test(line)) inFence = !inFence;
    current += line;
  }
  if (current || pendingBlank || blocks.length === 0) blocks.push({ text: current + pendingBlank, separator: '' });
  return blocks;
}

export function joinBlocks(blocks: AnswerBlock[]): string {
  return blocks.map((block) => block.text + block.separator).join('');
}

/** At most this many parts are planned; what is left of a longer answer passes through unchanged as one last part. */
export const MAX_PARTS = 32;

export interface PlanOptions {
  /** Tokens the text takes as the answer in the prompt (one tokenizer call per text asked about). */
  countTokens: (text: string) => number | Promise<number>;
  /** The most tokens one part may take. */
  maxTokens: number;
  /** Parts beyond this many pass through unchanged as one chunk (reason `part-limit`). Default MAX_PARTS. */
  maxParts?: number;
}

export interface PlannedChunk extends AnswerChunk {
  /** Why a chunk is passed through: one paragraph over the limit, or past the part limit. */
  reason?: 'too-long' | 'part-limit';
}

/**
 * Groups consecutive paragraphs into chunks of at most `maxTokens`, with a bounded number of
 * tokenizer calls (never one per paragraph):
 *
 * 1. The whole answer is counted once; if it fits it is the only chunk.
 * 2. Paragraphs are packed greedily by an estimate: each one's share of the whole count by its
 *    characters. No paragraph is tokenised on its own.
 * 3. Each packed group is verified with one count. A group over the limit is packed again with
 *    its own measured density (it splits into at least two, since its estimate is now its real
 *    count), and its pieces verified in turn; a single paragraph over the limit is passed through
 *    (`fits: false`).
 *
 * Every count either ends a chunk or splits a group into smaller ones (a group estimated well
 * rarely splits more than once). Planning stops once `maxParts` chunks are planned or
 * 2 × maxParts + 8 counts are made, whichever comes first: the rest of the answer becomes one
 * pass-through chunk. So a plan costs at most 2 × maxParts + 8 tokenizer calls, each on at most
 * the answer's length, whatever the number of paragraphs. Joining text + separator of all
 * chunks gives the answer exactly.
 */
export async function planChunks(answer: string, options: PlanOptions): Promise<PlannedChunk[]> {
  const { countTokens, maxTokens } = options;
  const maxParts = Math.max(1, options.maxParts ?? MAX_PARTS);
  const total = await countTokens(answer);
  if (total <= maxTokens) return [{ text: answer, separator: '', fits: true }];
  const blocks = splitParagraphs(answer);
  // Groups are half-open ranges of block indices, verified in answer order.
  const pending: Array<[number, number]> = pack(blocks, 0, blocks.length, total / Math.max(1, answer.length), maxTokens).reverse();
  const chunks: PlannedChunk[] = [];
  let counts = 1;
  const maxCounts = 2 * maxParts + 8;
  while (pending.length > 0) {
    const [from, to] = pending.pop()!;
    if (chunks.length >= maxParts || counts >= maxCounts) {
      // Past the part limit: everything left passes through as one chunk.
      chunks.push({ ...joinRange(blocks, from, blocks.length), fits: false, reason: 'part-limit' });
      break;
    }
    const chunk = joinRange(blocks, from, to);
    if (chunk.text.trim() === '') {
      chunks.push({ ...chunk, fits: true });
      continue;
    }
    const tokens = await countTokens(chunk.text);
    counts += 1;
    if (tokens <= maxTokens) chunks.push({ ...chunk, fits: true });
    else if (to - from === 1) chunks.push({ ...chunk, fits: false, reason: 'too-long' });
    else pending.push(...pack(blocks, from, to, tokens / Math.max(1, chunk.text.length), maxTokens).reverse());
  }
  return chunks;
}

/**
 * Packs blocks [from, to) greedily into groups whose estimated cost (characters × density) is
 * within `maxTokens`; a block estimated over the limit is a group of its own. A range whose
 * estimate is over the limit always yields at least two groups.
 */
function pack(blocks: AnswerBlock[], from: number, to: number, density: number, maxTokens: number): Array<[number, number]> {
  const groups: Array<[number, number]> = [];
  let start = from;
  let chars = 0;
  for (let index = from; index < to; index++) {
    const block = blocks[index]!;
    // The separator before this block joins the group too; the last block's does not.
    const previousSeparator = index > start ? blocks[index - 1]!.separator.length : 0;
    const added = previousSeparator + block.text.length;
    if (index > start && (chars + added) * density > maxTokens) {
      groups.push([start, index]);
      start = index;
      chars = block.text.length;
    } else {
      chars += added;
    }
  }
  groups.push([start, to]);
  return groups;
}

/** Blocks [from, to) as one chunk: inner separators kept, the last one's separator outside. */
function joinRange(blocks: AnswerBlock[], from: number, to: number): AnswerBlock {
  let text = '';
  for (let index = from; index < to - 1; index++) text += blocks[index]!.text + blocks[index]!.separator;
  const last = blocks[to - 1]!;
  return { text: text + last.text, separator: last.separator };
}
