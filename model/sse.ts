/**
 * Server-sent events as OpenAI-compatible servers stream them: `data: {...}` lines separated by
 * blank lines, ending with `data: [DONE]`. Bytes arrive in arbitrary chunks, so the parser keeps
 * what it has not yet seen the end of.
 */
export class SseParser {
  private buffer = '';
  private readonly decoder = new TextDecoder();

  /** Feeds a chunk; returns the data payloads of every event it completed. */
  push(chunk: Uint8Array | string): string[] {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const events: string[] = [];
    for (;;) {
      const match = /\r?\n\r?\n/.exec(this.buffer);
      if (!match) break;
      const raw = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const data = dataOf(raw);
      if (data !== null) events.push(data);
    }
    return events;
  }

  /** The last event when the stream ends without a trailing blank line. */
  flush(): string[] {
    const rest = this.buffer + this.decoder.decode();
    this.buffer = '';
    const data = dataOf(rest);
    return data === null ? [] : [data];
  }
}

function dataOf(rawEvent: string): string | null {
  const lines = rawEvent.split(/\r?\n/).filter((line) => line.startsWith('data:'));
  if (lines.length === 0) return null;
  return lines.map((line) => line.slice(5).replace(/^ /, '')).join('\n');
}
