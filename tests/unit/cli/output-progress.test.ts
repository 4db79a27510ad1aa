import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { OutputFile } from '../../../scripts/align/output-file';
import { formatDuration, Progress } from '../../../scripts/align/progress';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'realign-out-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe('OutputFile', () => {
  // A clock that never moves: every rewrite costs nothing, so each record is written at once.
  test('after each record the file is a complete JSON array of the records done, in input order, and no temporary file is left', () => {
    const path = join(dir, 'out.json');
    const file = new OutputFile(path, 'json-array', () => 0);
    file.writeNow();
    expect(readFileSync(path, 'utf8')).toBe('[]\n');
    file.add(2, { n: 2 });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual([{ n: 2 }]);
    file.add(0, { n: 0 });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual([{ n: 0 }, { n: 2 }]);
    file.add(1, { n: 1 });
    expect(readFileSync(path, 'utf8')).toBe(`${JSON.stringify([{ n: 0 }, { n: 1 }, { n: 2 }], null, 2)}\n`);
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  test('records kept by --resume are written with the new ones, in order; JSON Lines one a line', () => {
    const path = join(dir, 'out.jsonl');
    writeFileSync(path, '{"n":0}\n{"n":3}\n');
    const file = new OutputFile(path, 'jsonl', () => 0);
    file.keep(0, { n: 0 });
    file.keep(3, { n: 3 });
    file.add(1, { n: 1 });
    expect(readFileSync(path, 'utf8')).toBe('{"n":0}\n{"n":1}\n{"n":3}\n');
    expect(file.size).toBe(3);
  });

  test('when rewriting is slow, records are written together later, keeping rewrites to about a tenth of the time', () => {
    vi.useFakeTimers();
    // A clock that moves 25 ms at each reading during a rewrite: each rewrite "takes" 25 ms.
    let clock = 0;
    let writing = false;
    const now = () => (writing ? (clock += 25) : clock);
    const path = join(dir, 'out.json');
    const file = new OutputFile(path, 'json-array', now);
    const realFlush = file.flush.bind(file);
    file.flush = () => {
      writing = true;
      realFlush();
      writing = false;
    };
    const written = () => JSON.parse(readFileSync(path, 'utf8')) as unknown[];
    file.add(0, { n: 0 }); // written at once: there was no rewrite before
    expect(written()).toHaveLength(1);
    clock += 100;
    // 100 ms after a 25 ms rewrite: the next one waits until 250 ms have passed since it.
    file.add(1, { n: 1 });
    file.add(2, { n: 2 });
    expect(written()).toHaveLength(1);
    vi.advanceTimersByTime(149);
    expect(written()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(written()).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    // flush() writes what is pending at once (the end of a run, Ctrl-C).
    clock += 1;
    file.add(3, { n: 3 });
    expect(written()).toHaveLength(3);
    file.flush();
    expect(written()).toHaveLength(4);
  });

  test('a write that fails leaves the previous file as it was', () => {
    const path = join(dir, 'out.json');
    const file = new OutputFile(path, 'json-array', () => 0);
    file.add(0, { n: 0 });
    const before = readFileSync(path, 'utf8');
    // A folder where the temporary file should go: the open fails.
    const blocked = new OutputFile(path, 'json-array', () => 0);
    mkdirSync(blocked.tempPath);
    expect(() => blocked.add(1, { n: 1 })).toThrow();
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(existsSync(path)).toBe(true);
  });
});

/** What a terminal shows: `\r` returns to the line's start, ESC[2K clears it, `\n` starts a new line. */
function screen(output: string): string[] {
  const lines: string[] = [''];
  let column = 0;
  for (let index = 0; index < output.length; index++) {
    if (output.startsWith('\x1b[2K', index)) {
      lines[lines.length - 1] = '';
      index += 3;
    } else if (output[index] === '\r') column = 0;
    else if (output[index] === '\n') {
      lines.push('');
      column = 0;
    } else {
      const line = lines[lines.length - 1]!;
      lines[lines.length - 1] = line.slice(0, column) + output[index] + line.slice(column + 1);
      column += 1;
    }
  }
  return lines;
}

describe('Progress', () => {
  const stream = (isTTY: boolean) => {
    let text = '';
    return { isTTY, columns: 100, write: (chunk: string) => (text += chunk), get text() { return text; } };
  };

  test('on a terminal: one bar redrawn in place, with count, rate and ETA; messages get lines of their own above it', () => {
    let clock = 0;
    const out = stream(true);
    const progress = new Progress(out, 10, 0, () => clock);
    clock = 1000;
    progress.update({ settled: 2, failed: 0 });
    expect(screen(out.text)).toEqual([expect.stringMatching(/^\[█{6}░{24}\] 2\/10 records \(20%\) · 2\.0 records\/s · ETA 4s$/)]);
    clock = 2000;
    progress.update({ settled: 3, failed: 1 });
    progress.line('align: record 2 failed: 127.0.0.1:8000 answered 500');
    clock = 3000;
    progress.update({ settled: 4, failed: 1 });
    const shown = screen(out.text);
    expect(shown).toEqual(['align: record 2 failed: 127.0.0.1:8000 answered 500', expect.stringMatching(/4\/10 records \(40%\) · 1\.3 records\/s · ETA 5s · 1 failed$/)]);
    progress.finish();
    expect(screen(out.text)).toEqual(['align: record 2 failed: 127.0.0.1:8000 answered 500', '']);
  });

  test('on a terminal the bar never wraps', () => {
    const out = { isTTY: true, columns: 30, text: '', write(chunk: string) { this.text += chunk; } };
    const progress = new Progress(out, 1000, 0, () => 5);
    progress.update({ settled: 1, failed: 0 });
    expect(screen(out.text).every((line) => line.length < 30)).toBe(true);
  });

  test('in a log: whole lines at each tenth and every 10 s, never a carriage return; resumed records count but not in the rate', () => {
    let clock = 0;
    const out = stream(false);
    const progress = new Progress(out, 100, 50, () => clock);
    for (let settled = 1; settled <= 9; settled++) {
      clock += 100;
      progress.update({ settled, failed: 0 });
    }
    expect(out.text).toBe('');
    clock += 100;
    progress.update({ settled: 10, failed: 0 });
    expect(out.text).toBe('align: 60/150 records (40%) · 10 records/s · ETA 9s\n');
    clock += 10_000;
    progress.update({ settled: 11, failed: 0 });
    expect(out.text.split('\n')).toHaveLength(3);
    progress.line('align: record 7 failed: x');
    expect(out.text).not.toContain('\r');
    expect(out.text.endsWith('align: record 7 failed: x\n')).toBe(true);
  });

  test('durations read like a person writes them', () => {
    expect(formatDuration(0.4)).toBe('0s');
    expect(formatDuration(75)).toBe('1m 15s');
    expect(formatDuration(3 * 3600 + 4 * 60 + 9)).toBe('3h 04m');
    expect(formatDuration(Infinity)).toBe('?');
  });
});
