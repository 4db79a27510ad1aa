/**
 * Server-sent events as OpenAI-compatible servers stream them: `data: {...}` lines separated by
 * blank lines, ending with `data: [DONE]`. Bytes arrive in arbitrary chunks, so the parser keeps
 * what it has not yet seen the end of.
 *
 * Each character is scanned once: a chunk is searched for line ends from where the last search
 * stopped, and an unfinished line is kept as pieces that are joined once, when its end arrives.
 * (Rescanning a growing buffer on every chunk made one 8 MB line cost seconds.) Lines end with
 * `\n` or `\r\n`; a lone `\r` is not a line end here.
 */

/** The largest event accepted, in characters: a token's JSON is a few hundred; this leaves room for servers that put usage, timings or the prompt in their last event. */
export const MAX_SSE_EVENT_CHARS = 1 << 20;

export class SseEventTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The server sent an event of more than ${limit.toLocaleString('en-US')} characters; an OpenAI-compatible stream sends one small event per token.`);
    this.name = 'SseEventTooLargeError';
  }
}

export class SseParser {
  private readonly decoder = new TextDecoder();
  /** The unfinished line, as the pieces it arrived in. */
  private linePieces: string[] = [];
  private lineChars = 0;
  /** The `data:` values of the event being read. */
  private dataLines: string[] = [];
  private dataChars = 0;

  constructor(private readonly maxEventChars = MAX_SSE_EVENT_CHARS) {}

  /** Feeds a chunk; returns the data payloads of every event it completed. Throws SseEventTooLargeError past the size cap. */
  push(chunk: Uint8Array | string): string[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const events: string[] = [];
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end === -1) {
        if (start < text.length) {
          this.linePieces.push(text.slice(start));
          this.lineChars += text.length - start;
          this.checkSize();
        }
        return events;
      }
      this.lineChars += end - start;
      this.checkSize();
      const piece = text.slice(start, end);
      const line = this.linePieces.length === 0 ? piece : this.linePieces.join('') + piece;
      this.linePieces = [];
      this.lineChars = 0;
      this.takeLine(line, events);
      start = end + 1;
    }
  }

  /** The last event when the stream ends without a trailing blank line. */
  flush(): string[] {
    const events = this.push(this.decoder.decode());
    if (this.linePieces.length > 0) {
      const line = this.linePieces.join('');
      this.linePieces = [];
      this.lineChars = 0;
      this.takeLine(line, events);
    }
    this.takeLine('', events);
    return events;
  }

  private takeLine(rawLine: string, events: string[]): void {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '') {
      if (this.dataLines.length > 0) events.push(this.dataLines.join('\n'));
      this.dataLines = [];
      this.dataChars = 0;
      return;
    }
    // Comments (`:`), `event:`, `id:` and `retry:` carry nothing an OpenAI-compatible stream needs.
    if (!line.startsWith('data:')) return;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    this.dataLines.push(value);
    this.dataChars += value.length + 1;
    this.checkSize();
  }

  private checkSize(): void {
    if (this.lineChars + this.dataChars > this.maxEventChars) throw new SseEventTooLargeError(this.maxEventChars);
  }
}
