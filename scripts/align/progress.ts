// Progress on stderr: a bar redrawn in place on a terminal, plain lines in a log (CI, a file).
// Messages (a failed record, a retry) always get lines of their own: on a terminal the bar is
// cleared first and redrawn under the message.

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressCounts {
  /** Records finished in this run (corrected, unchanged or failed). */
  settled: number;
  failed: number;
}

const CLEAR_LINE = '\r\x1b[2K';
/** A terminal bar is redrawn at most this often. */
const REDRAW_MS = 100;
/** In a log: a line at least this often while records finish… */
const LOG_EVERY_MS = 10_000;
/** …and at each tenth of the run. */
const LOG_STEPS = 10;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

export class Progress {
  private readonly tty: boolean;
  private readonly started: number;
  private counts: ProgressCounts = { settled: 0, failed: 0 };
  private barShown = false;
  private lastDraw = -Infinity;
  private lastLog: number;
  private lastStep = 0;

  /**
   * `total` is the records this run corrects; `resumed` those already in the output, shown in the
   * count but not in the rate.
   */
  constructor(
    private readonly stream: ProgressStream,
    private readonly total: number,
    private readonly resumed = 0,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tty = Boolean(stream.isTTY);
    this.started = now();
    this.lastLog = this.started;
  }

  /** A message on a line of its own. */
  line(text: string): void {
    if (this.barShown) this.stream.write(CLEAR_LINE);
    this.stream.write(`${text}\n`);
    this.barShown = false;
    if (this.tty) this.draw(true);
  }

  update(counts: ProgressCounts): void {
    this.counts = counts;
    if (this.tty) return this.draw(false);
    const now = this.now();
    const step = this.total === 0 ? LOG_STEPS : Math.floor((counts.settled / this.total) * LOG_STEPS);
    if (step > this.lastStep || now - this.lastLog >= LOG_EVERY_MS) {
      this.lastStep = step;
      this.lastLog = now;
      this.stream.write(`align: ${this.describe()}\n`);
    }
  }

  /** Removes the bar (before the summary). */
  finish(): void {
    if (this.barShown) this.stream.write(CLEAR_LINE);
    this.barShown = false;
  }

  /** Records per second in this run. */
  rate(): number {
    const seconds = (this.now() - this.started) / 1000;
    return seconds > 0 ? this.counts.settled / seconds : 0;
  }

  describe(): string {
    const done = this.resumed + this.counts.settled;
    const all = this.resumed + this.total;
    const percent = all === 0 ? 100 : Math.floor((done / all) * 100);
    const rate = this.rate();
    const remaining = this.total - this.counts.settled;
    const eta = remaining === 0 ? 'done' : rate > 0 ? `ETA ${formatDuration(remaining / rate)}` : 'ETA ?';
    const parts = [`${done}/${all} records (${percent}%)`, `${rate.toFixed(rate >= 10 ? 0 : 1)} records/s`, eta];
    if (this.counts.failed > 0) parts.push(`${this.counts.failed} failed`);
    return parts.join(' · ');
  }

  private draw(force: boolean): void {
    const now = this.now();
    if (!force && now - this.lastDraw < REDRAW_MS && this.counts.settled < this.total) return;
    this.lastDraw = now;
    // A pseudo-terminal may report 0 columns: assume the usual 80 then.
    const columns = Math.max(20, this.stream.columns || 80);
    const text = this.describe();
    const all = this.resumed + this.total;
    const fraction = all === 0 ? 1 : (this.resumed + this.counts.settled) / all;
    const width = Math.max(0, Math.min(30, columns - text.length - 4));
    const filled = Math.round(fraction * width);
    const bar = width > 0 ? `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ` : '';
    // Never wider than the terminal: a wrapped line cannot be redrawn in place.
    this.stream.write(`${CLEAR_LINE}${`${bar}${text}`.slice(0, columns - 1)}`);
    this.barShown = true;
  }
}
