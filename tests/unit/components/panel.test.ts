import { describe, expect, test } from 'vitest';
import { reduce, settledDiff, summarise, type PanelState } from '../../../components/Panel';
import type { CorrectionUpdate } from '../../../utils/messages';

const run = (updates: CorrectionUpdate[], start: PanelState = { phase: 'idle' }) => updates.reduce(reduce, start);

describe("the panel's reducer", () => {
  test('walks queued → download → loading → correcting → done, keeping the device', () => {
    const state = run([
      { kind: 'queued', position: 2 },
      { kind: 'download', loaded: 10, total: 100, files: 3, filesDone: 1 },
      { kind: 'loading', device: 'webgpu' },
      { kind: 'correcting', device: 'webgpu' },
      { kind: 'text', from: 0, append: 'The weather', part: 1, parts: 1 },
      { kind: 'text', from: 11, append: ' is good.', part: 1, parts: 1 },
      { kind: 'done', text: 'The weather is good.', notes: ['n'], tokens: 5, ms: 400 },
    ]);
    expect(state).toEqual({ phase: 'done', text: 'The weather is good.', notes: ['n'], device: 'webgpu', remoteHost: undefined, ms: 400 });
  });

  test('text deltas build the text; a tail taken back is taken back; a delta that does not fit is ignored', () => {
    const correcting = run([
      { kind: 'correcting', device: 'wasm' },
      { kind: 'text', from: 0, append: 'Hello USE', part: 1, parts: 2 },
      { kind: 'text', from: 5, append: ' world', part: 1, parts: 2 },
    ]);
    expect(correcting).toMatchObject({ phase: 'correcting', text: 'Hello world', part: 1, parts: 2 });
    expect(reduce(correcting, { kind: 'text', from: 99, append: '!', part: 1, parts: 2 })).toMatchObject({ text: 'Hello world' });
  });

  test('the remote host is kept for the "sent to" note; an error replaces everything', () => {
    const state = run([{ kind: 'correcting', device: 'remote', remoteHost: 'gpu:8000' }, { kind: 'text', from: 0, append: 'x', part: 1, parts: 1 }]);
    expect(state).toMatchObject({ remoteHost: 'gpu:8000' });
    expect(reduce(state, { kind: 'error', message: 'gone' })).toEqual({ phase: 'error', message: 'gone' });
  });
});

describe('what a finished correction amounts to', () => {
  test('a usable correction: its diff and number of changes', () => {
    const { verdict, changes } = summarise('The plan is bad today. My dog never sleeps.', 'Q', 'The plan is good today. My dog always sleeps.');
    expect(verdict.usable).toBe(true);
    expect(changes).toBe(2);
  });

  test('unusable output is never shown as a change: empty, the prompt echoed, a comment about the answer', () => {
    for (const [corrected, reason] of [
      ['   ', 'empty'],
      ['BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair', 'echo'],
      ['The answer is correct and needs no changes.', 'commentary'],
    ] as const) {
      const summary = summarise('Paris is the capital of France.', 'What is the capital of France?', corrected);
      expect(summary.verdict).toMatchObject({ usable: false, reason });
      expect(summary.changes).toBe(0);
      expect(summary.diff).toEqual([]);
    }
  });
});

describe('the live Changes view while text streams', () => {
  test('finished paragraphs are diffed; what the model has not reached is pending, not removed', () => {
    const original = 'The weather is bad today.\n\nIt is never fun.\n\nThe plan is bad.';
    const live = settledDiff(original, 'The weather is good today.\n\nIt is al');
    expect(live.diff.filter((part) => part.kind === 'added').map((part) => part.text.trim())).toEqual(['good']);
    expect(live.diff.filter((part) => part.kind === 'removed').map((part) => part.text.trim())).toEqual(['bad']);
    expect(live.pending).toContain('It is never fun.');
    expect(live.pending).toContain('The plan is bad.');
    // Nothing finished yet: all of the original is pending.
    expect(settledDiff(original, 'The weath')).toEqual({ diff: [], pending: original });
  });
});
