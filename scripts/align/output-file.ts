// The output file is always a complete, valid file in the input's format: it is rewritten whole
// into a temporary file beside it, flushed to disk and renamed over the old one, so a kill at any
// moment leaves either the previous version or the new one, never half of one.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { serializeFile, serializeRecord, type AlignRecord, type RecordFormat } from './records';

/**
 * Rewriting a whole file after every record costs time that grows with the file. The file is
 * rewritten after a record is done unless the last rewrite took more than a tenth of the time
 * since it: rewriting then costs at most ~10 % of the run. In practice that is after every record
 * for files of a few MB (an AlpacaEval run is ~1.5 MB); for very large files, every few seconds.
 * A kill loses at most the records finished since the last rewrite; `--resume` redoes those.
 */
const MAX_WRITE_SHARE = 0.1;

export class OutputFile {
  /** Serialized once per record: a rewrite only joins strings. */
  private readonly serialized = new Map<number, string>();
  private dirty = false;
  private lastWriteEnd = 0;
  private lastWriteMs = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  readonly tempPath: string;

  constructor(
    readonly path: string,
    readonly format: RecordFormat,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tempPath = join(dirname(path), `.${basename(path)}.partial`);
  }

  get size(): number {
    return this.serialized.size;
  }

  /** A record that is already in the file (kept by --resume): no rewrite needed for it. */
  keep(index: number, record: AlignRecord): void {
    this.serialized.set(index, serializeRecord(this.format, record));
  }

  /** A newly finished record: written now, or as soon as the cost rule allows. */
  add(index: number, record: AlignRecord): void {
    this.serialized.set(index, serializeRecord(this.format, record));
    this.dirty = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = this.lastWriteMs / MAX_WRITE_SHARE - (this.now() - this.lastWriteEnd);
    if (wait <= 0) return this.flush();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  /** Writes everything done so far (synchronously: it also runs from signal handlers). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    const started = this.now();
    const ordered = [...this.serialized.entries()].sort((a, b) => a[0] - b[0]).map(([, text]) => text);
    writeAtomically(this.path, this.tempPath, serializeFile(this.format, ordered));
    this.dirty = false;
    this.lastWriteEnd = this.now();
    this.lastWriteMs = this.lastWriteEnd - started;
  }

  /** Writes the file even when nothing was added (a fresh run starts from an empty, valid file). */
  writeNow(): void {
    this.dirty = true;
    this.flush();
  }
}

export function writeAtomically(path: string, tempPath: string, content: string): void {
  const fd = openSync(tempPath, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tempPath, path);
  } catch (error) {
    rmSync(tempPath, { force: true });
    throw error;
  }
}
