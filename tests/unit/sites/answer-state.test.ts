import { describe, expect, it } from 'vitest';
import {
  needsText,
  scanAnswer,
  supersedeAnswer,
  touchAnswer,
  trackAnswer,
  type ScanInput,
  type TrackedAnswer,
} from '../../../sites/answer-state';

const QUIET = 1000;
const at = (now: number, extra: Partial<ScanInput> = {}): ScanInput => ({ now, streaming: false, lastMutationAt: now, quietMs: QUIET, ...extra });

describe('answer states: a new answer', () => {
  it('starts old (an answer already on the page) or settling (news), with its text still to read', () => {
    expect(trackAnswer({ old: true, changedAt: 5 })).toEqual({ state: 'old', changedAt: 5, dirty: true });
    expect(trackAnswer({ old: false, changedAt: 5 })).toEqual({ state: 'settling', changedAt: 5, dirty: true });
  });

  it('needs its text read unless it streams, is reported, or is gone', () => {
    const fresh = trackAnswer({ old: false, changedAt: 0 });
    expect(needsText(fresh, false)).toBe(true);
    expect(needsText(fresh, true)).toBe(false);
    expect(needsText({ ...fresh, dirty: false, text: 'x' }, false)).toBe(false);
    expect(needsText({ ...fresh, dirty: false }, false)).toBe(true); // never read yet
    expect(needsText({ ...fresh, state: 'reported', text: 'x', reported: 'x' }, false)).toBe(false);
    expect(needsText(supersedeAnswer(fresh), false)).toBe(false);
  });
});

describe('answer states: transitions of one scan', () => {
  it('settling → streaming while the site signals, without reading, looking again after the quiet period', () => {
    const step = scanAnswer(trackAnswer({ old: false, changedAt: 0 }), at(100, { streaming: true }));
    expect(step.next).toMatchObject({ state: 'streaming', dirty: true, changedAt: 100 });
    expect(step.report).toBeUndefined();
    expect(step.recheckAt).toBe(100 + QUIET);
  });

  it('old → streaming: an answer that streams is never old', () => {
    expect(scanAnswer(trackAnswer({ old: true, changedAt: 0 }), at(50, { streaming: true })).next.state).toBe('streaming');
  });

  it('streaming → settling when the signal goes off: the text is read, the quiet period counts from its change', () => {
    const streaming: TrackedAnswer = { state: 'streaming', changedAt: 900, dirty: true };
    const step = scanAnswer(streaming, at(1000, { text: 'Paris.', lastMutationAt: 950 }));
    expect(step.next).toMatchObject({ state: 'settling', text: 'Paris.', dirty: false, changedAt: 950 });
    expect(step.report).toBeUndefined();
    expect(step.recheckAt).toBe(950 + QUIET);
  });

  it('settling → reported after the quiet period, with one report of its text', () => {
    const settling: TrackedAnswer = { state: 'settling', text: 'Paris.', changedAt: 950, dirty: false };
    const step = scanAnswer(settling, at(950 + QUIET, { lastMutationAt: 950 }));
    expect(step.next).toMatchObject({ state: 'reported', reported: 'Paris.' });
    expect(step.report).toBe('Paris.');
    expect(step.recheckAt).toBeUndefined();
  });

  it('old → reported silently: its first settled text is the baseline, not news', () => {
    const step = scanAnswer(trackAnswer({ old: true, changedAt: -Infinity }), at(10, { text: 'Old answer.', lastMutationAt: -Infinity }));
    expect(step.next).toMatchObject({ state: 'reported', reported: 'Old answer.' });
    expect(step.report).toBeUndefined();
  });

  it('old → settling when seen growing before it settled (a live answer, not an old one)', () => {
    const old: TrackedAnswer = { state: 'old', text: 'Par', changedAt: 100, dirty: true };
    const step = scanAnswer(old, at(200, { text: 'Paris', lastMutationAt: 190 }));
    expect(step.next).toMatchObject({ state: 'settling', text: 'Paris', changedAt: 190 });
    expect(scanAnswer(step.next, at(190 + QUIET)).report).toBe('Paris');
  });

  it('an empty answer waits (no report) and is looked at again after the quiet period', () => {
    const step = scanAnswer(trackAnswer({ old: false, changedAt: -Infinity }), at(5000, { text: '' }));
    expect(step.next.state).toBe('settling');
    expect(step.report).toBeUndefined();
    expect(step.recheckAt).toBe(5000 + QUIET);
  });

  it('reported is left alone by scans until a mutation touches it', () => {
    const reported: TrackedAnswer = { state: 'reported', text: 'A', reported: 'A', changedAt: 0, dirty: false };
    expect(scanAnswer(reported, at(99_999, { streaming: true }))).toEqual({ next: reported });
  });

  it('reported → settling when touched; the same text settles again without a report (markup-only change)', () => {
    const reported: TrackedAnswer = { state: 'reported', text: 'A', reported: 'A', changedAt: 0, dirty: false };
    const touched = touchAnswer(reported);
    expect(touched).toMatchObject({ state: 'settling', dirty: true });
    const step = scanAnswer(touched, at(5000, { text: 'A', lastMutationAt: 4900 }));
    expect(step.next.state).toBe('reported');
    expect(step.report).toBeUndefined();
  });

  it('reported → settling → reported again with a report when its text changed (edited or regenerated in place)', () => {
    const reported: TrackedAnswer = { state: 'reported', text: 'A', reported: 'A', changedAt: 0, dirty: false };
    const settling = scanAnswer(touchAnswer(reported), at(5000, { text: 'B', lastMutationAt: 4900 }));
    expect(settling.next).toMatchObject({ state: 'settling', text: 'B', changedAt: 4900 });
    expect(settling.report).toBeUndefined();
    const done = scanAnswer(settling.next, at(4900 + QUIET));
    expect(done).toMatchObject({ report: 'B', next: { state: 'reported', reported: 'B' } });
  });

  it('a touch keeps an old answer old and a streaming answer streaming, only marking it to be read', () => {
    expect(touchAnswer(trackAnswer({ old: true, changedAt: 0 }))).toMatchObject({ state: 'old', dirty: true });
    expect(touchAnswer({ state: 'streaming', changedAt: 0, dirty: false })).toMatchObject({ state: 'streaming', dirty: true });
  });

  it('superseded is final: touches and scans change nothing', () => {
    const gone = supersedeAnswer({ state: 'settling', text: 'A', changedAt: 0, dirty: false });
    expect(gone.state).toBe('superseded');
    expect(touchAnswer(gone)).toBe(gone);
    expect(scanAnswer(gone, at(99_999, { text: 'B' }))).toEqual({ next: gone });
  });

  it('is pure: the state passed in is never changed', () => {
    const settling: TrackedAnswer = Object.freeze({ state: 'settling', text: 'A', changedAt: 0, dirty: false }) as TrackedAnswer;
    expect(() => scanAnswer(settling, at(QUIET))).not.toThrow();
    expect(() => touchAnswer(settling)).not.toThrow();
    expect(settling.state).toBe('settling');
  });
});
