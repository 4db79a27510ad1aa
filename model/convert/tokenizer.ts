import { ConversionError } from './errors';
import type { CheckpointFiles } from './sources';

/** Base repos whose tokenizer.json other checkpoints share, by architecture and vocabulary size. */
const KNOWN_TOKENIZER_SOURCES: Array<{ modelType: string; vocab: number; repo: string; note: string }> = [
  { modelType: 'llama', vocab: 32000, repo: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0', note: 'the Llama-2 vocabulary (TinyLlama, MetaAligner, Llama-2 fine-tunes)' },
];

export interface TokenizerFiles {
  'tokenizer.json': string;
  'tokenizer_config.json': string;
}

export interface ResolvedTokenizer {
  files: TokenizerFiles;
  /** Tokens the tokenizer knows (largest id + 1). */
  size: number;
  /** Where tokenizer.json came from. */
  source: string;
  notes: string[];
}

interface TokenizerJson {
  model?: { vocab?: Record<string, number> | Array<[string, number]> };
  added_tokens?: Array<{ id: number; content: string; special?: boolean; [key: string]: unknown }>;
}

function parse<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ConversionError('bad-input', `${what} is not valid JSON.`);
  }
}

/** Every token id → its text, from a tokenizer.json (BPE/WordPiece vocab objects, Unigram arrays). */
function tokenTable(tokenizer: TokenizerJson): Map<number, string> {
  const table = new Map<number, string>();
  const vocab = tokenizer.model?.vocab;
  if (Array.isArray(vocab)) vocab.forEach(([piece], id) => table.set(id, piece));
  else if (vocab) for (const [piece, id] of Object.entries(vocab)) table.set(id, piece);
  for (const token of tokenizer.added_tokens ?? []) table.set(token.id, token.content);
  return table;
}

function sizeOf(table: Map<number, string>): number {
  let max = -1;
  for (const id of table.keys()) max = Math.max(max, id);
  return max + 1;
}

/** Tokens a repo adds on top of its base vocabulary (tokenizer_config.json, added_tokens.json). */
async function addedTokensOf(files: CheckpointFiles, tokenizerConfig: string | null, signal?: AbortSignal): Promise<Map<number, string>> {
  const added = new Map<number, string>();
  if (tokenizerConfig) {
    const config = parse<{ added_tokens_decoder?: Record<string, { content?: string }> }>(tokenizerConfig, 'tokenizer_config.json');
    for (const [id, token] of Object.entries(config.added_tokens_decoder ?? {})) {
      if (typeof token?.content === 'string') added.set(Number(id), token.content);
    }
  }
  const addedJson = await files.readText('added_tokens.json', signal);
  if (addedJson) for (const [content, id] of Object.entries(parse<Record<string, number>>(addedJson, 'added_tokens.json'))) added.set(id, content);
  return added;
}

/**
 * The tokenizer files transformers.js needs (tokenizer.json and tokenizer_config.json), checked
 * against the model's embedding: the repo's own tokenizer.json when it has one; otherwise the
 * one from `fallback`, a repo the person chose with the identical vocabulary — the model repo's
 * own added tokens (a pad token appended by training, as the official Aligner's 32,001st row)
 * are carried over, and the sizes must then agree exactly. Never a silent mismatch.
 */
export async function resolveTokenizer(options: {
  model: CheckpointFiles;
  fallback?: CheckpointFiles;
  modelType: string;
  embeddingRows: number;
  config: Record<string, unknown>;
  signal?: AbortSignal;
}): Promise<ResolvedTokenizer> {
  const { model, fallback, embeddingRows, signal } = options;
  const notes: string[] = [];
  const ownTokenizer = await model.readText('tokenizer.json', signal);
  const ownConfig = await model.readText('tokenizer_config.json', signal);

  let tokenizerText: string;
  let tokenizerConfig: string | null = ownConfig;
  let source = model.description;
  if (ownTokenizer !== null) {
    tokenizerText = ownTokenizer;
  } else if (!fallback) {
    throw new ConversionError('tokenizer-missing', missingTokenizerMessage(options));
  } else {
    const fallbackText = await fallback.readText('tokenizer.json', signal);
    if (fallbackText === null) throw new ConversionError('tokenizer-missing', `The tokenizer source ${fallback.description} has no tokenizer.json either.`);
    source = fallback.description;
    const tokenizer = parse<TokenizerJson>(fallbackText, `tokenizer.json of ${fallback.description}`);
    const table = tokenTable(tokenizer);
    // Carry over the model repo's added tokens; the same id must mean the same token.
    for (const [id, content] of await addedTokensOf(model, ownConfig, signal)) {
      const existing = table.get(id);
      if (existing === undefined) {
        tokenizer.added_tokens = [
          ...(tokenizer.added_tokens ?? []),
          { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
        ];
        table.set(id, content);
        notes.push(`Added the model's own token ${JSON.stringify(content)} (id ${id}) to the tokenizer from ${fallback.description}.`);
      } else if (existing !== content) {
        throw new ConversionError(
          'vocab-mismatch',
          `The tokenizer of ${fallback.description} has ${JSON.stringify(existing)} at id ${id}, where ${model.description} has ${JSON.stringify(content)}: not the same vocabulary.`,
        );
      }
    }
    const size = sizeOf(table);
    if (size !== embeddingRows) {
      throw new ConversionError(
        'vocab-mismatch',
        `The tokenizer of ${fallback.description} has ${size} tokens but ${model.description}'s embedding has ${embeddingRows} rows: not the same vocabulary. Choose a tokenizer source with exactly ${embeddingRows} tokens.`,
      );
    }
    tokenizerText = JSON.stringify(tokenizer);
    tokenizerConfig ??= await fallback.readText('tokenizer_config.json', signal);
    notes.push(`tokenizer.json comes from ${fallback.description} (same ${size}-token vocabulary).`);
  }

  const size = sizeOf(tokenTable(parse<TokenizerJson>(tokenizerText, `tokenizer.json of ${source}`)));
  if (size === 0) throw new ConversionError('bad-input', `The tokenizer.json of ${source} has no vocabulary.`);
  if (size > embeddingRows) {
    throw new ConversionError(
      'vocab-mismatch',
      `The tokenizer of ${source} has ${size} tokens but the model's embedding has only ${embeddingRows} rows: token ids past ${embeddingRows - 1} would have no embedding.`,
    );
  }
  if (size < embeddingRows) notes.push(`The embedding has ${embeddingRows - size} rows past the tokenizer's ${size} tokens (padding); they are kept.`);

  if (tokenizerConfig === null) {
    // transformers.js leaves the tokenizer null without this file (PLATFORM.md).
    tokenizerConfig = JSON.stringify({ tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false }, null, 2);
    notes.push('No tokenizer_config.json was found; a minimal one was written.');
  }
  return { files: { 'tokenizer.json': tokenizerText, 'tokenizer_config.json': tokenizerConfig }, size, source, notes };
}

function missingTokenizerMessage(options: { model: CheckpointFiles; modelType: string; embeddingRows: number; config: Record<string, unknown> }): string {
  const suggestions: string[] = [];
  const base = options.config._name_or_path;
  if (typeof base === 'string' && /^[\w.-]+\/[\w.-]+$/.test(base) && !options.model.description.startsWith(`${base} `)) {
    suggestions.push(`${base} (the model it was trained from, per its config.json)`);
  }
  for (const known of KNOWN_TOKENIZER_SOURCES) {
    if (known.modelType === options.modelType && (known.vocab === options.embeddingRows || known.vocab + 1 === options.embeddingRows)) {
      suggestions.push(`${known.repo} (${known.note})`);
    }
  }
  return (
    `${options.model.description} has no tokenizer.json, which transformers.js needs (a SentencePiece tokenizer.model alone is not enough). ` +
    `Choose a repository with the identical vocabulary (${options.embeddingRows} embedding rows) as the tokenizer source — --tokenizer-from <repo or folder> on the command line, tokenizerFrom in code` +
    (suggestions.length > 0 ? `, e.g. ${suggestions.join(' or ')}` : '') +
    '. The vocabularies are checked against each other before anything is written.'
  );
}
