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

/**
 * Groups consecutive paragraphs greedily into chunks that `fits` accepts. A paragraph that does
 * not fit on its own becomes a chunk with `fits: false`.
 */
export async function planChunks(
  answer: string,
  fits: (text: string) => boolean | Promise<boolean>,
): Promise<AnswerChunk[]> {
  if (await fits(answer)) return [{ text: answer, separator: '', fits: true }];
  const chunks: AnswerChunk[] = [];
  let group: AnswerBlock[] = [];
  const flush = () => {
    if (group.length === 0) return;
    const last = group[group.length - 1]!;
    const text = joinBlocks(group.slice(0, -1)) + last.text;
    chunks.push({ text, separator: last.separator, fits: true });
    group = [];
  };
  for (const block of splitParagraphs(answer)) {
    const candidate = joinBlocks(group) + block.text;
    if (group.length > 0 && (await fits(candidate))) {
      group.push(block);
      continue;
    }
    flush();
    if (await fits(block.text)) group.push(block);
    else chunks.push({ text: block.text, separator: block.separator, fits: false });
  }
  flush();
  return chunks;
}
