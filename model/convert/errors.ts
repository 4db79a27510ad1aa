/** What went wrong, as a code the extension can branch on and a message a person understands. */
export type ConversionErrorCode =
  | 'missing-file' // config.json or the weights are not there
  | 'bad-input' // a file is not what its name says (truncated, corrupt, inconsistent)
  | 'unknown-architecture' // a model type the converter has no table entry for
  | 'unsupported' // a known architecture with a feature the converter does not handle
  | 'unsafe-pickle' // a .bin whose pickle does more than rebuild tensors
  | 'tokenizer-missing' // no tokenizer.json and no fallback chosen
  | 'vocab-mismatch' // tokenizer and embedding disagree
  | 'network' // the hub or mirror could not be read (retried first)
  | 'access-denied' // the hub refused: a private, gated or nonexistent repo (never retried)
  | 'storage' // the output could not be written (disk or browser storage full)
  | 'aborted'; // cancelled through the AbortSignal

export class ConversionError extends Error {
  constructor(
    readonly code: ConversionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ConversionError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ConversionError('aborted', 'The conversion was cancelled.');
}

export function isAbortError(error: unknown): boolean {
  return (
    (error instanceof ConversionError && error.code === 'aborted') ||
    (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'))
  );
}
