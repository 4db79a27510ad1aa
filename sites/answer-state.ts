/**
 * The life of one answer on a chat page, as named states and pure transitions (the watcher is the
 * thin DOM driver around them):
 *
 *   old ──────────(settles: its text becomes the baseline, not news)──────────► reported
 *    │ (seen growing / streaming)                                                 ▲   │
 *    ▼                                                                            │   │ (touched by a
 *   streaming ──(signal off)──► settling ──(quiet for quietMs, text not empty)────┘   │  mutation)
 *                                  ▲                                                  │
 *                                  └──────────────────────────────────────────────────┘
 *   any state ──(its element left the page)──► superseded (final)
 *
 * `reported` is reached once per distinct text: a report is made only when the settled text
 * differs from the last one reported (a regenerated or edited answer), never for an old answer's
 * baseline.
 */

export type AnswerState = 'old' | 'streaming' | 'settling' | 'reported' | 'superseded';

export interface TrackedAnswer {
  state: AnswerState;
  /** Last text read; undefined until read. */
  text?: string;
  /** Text last reported, or an old answer's baseline. */
  reported?: string;
  /** When the text last changed (the latest mutation known to precede the change). */
  changedAt: number;
  /** A mutation touched it since its text was last read. */
  dirty: boolean;
}

/** A newly seen answer: `old` when it is an answer already on the page, else `settling`. */
export function trackAnswer(seen: { old: boolean; changedAt: number }): TrackedAnswer {
  return { state: seen.old ? 'old' : 'settling', changedAt: seen.changedAt, dirty: true };
}

/** A mutation touched the answer: its text must be read again; a reported answer settles again. */
export function touchAnswer(answer: TrackedAnswer): TrackedAnswer {
  if (answer.state === 'superseded') return answer;
  return { ...answer, dirty: true, state: answer.state === 'reported' ? 'settling' : answer.state };
}

/** Its element left the page (removed, or replaced by a regenerated answer). Final. */
export function supersedeAnswer(answer: TrackedAnswer): TrackedAnswer {
  return { ...answer, state: 'superseded' };
}

/** Whether a scan must read the answer's text now (never while the site says it streams). */
export function needsText(answer: TrackedAnswer, streaming: boolean): boolean {
  if (answer.state === 'reported' || answer.state === 'superseded' || streaming) return false;
  return answer.dirty || answer.text === undefined;
}

export interface ScanInput {
  now: number;
  /** The site's streaming signal for this answer. */
  streaming: boolean;
  /** Time of the latest mutation on the page (a change happened no later than that). */
  lastMutationAt: number;
  quietMs: number;
  /** The answer's text, read because `needsText` said so; undefined when not read. */
  text?: string;
}

export interface ScanStep {
  next: TrackedAnswer;
  /** Text to report as a finished answer (once per distinct text). */
  report?: string;
  /** When the watcher should look at this answer again. */
  recheckAt?: number;
}

/** One scan's transition for one answer. Pure. */
export function scanAnswer(answer: TrackedAnswer, input: ScanInput): ScanStep {
  if (answer.state === 'reported' || answer.state === 'superseded') return { next: answer };
  if (input.streaming) {
    // Not read while streaming: the text is only wanted once the site says it is done.
    return { next: { ...answer, state: 'streaming', dirty: true, changedAt: input.now }, recheckAt: input.now + input.quietMs };
  }
  const next: TrackedAnswer = { ...answer, state: answer.state === 'streaming' ? 'settling' : answer.state };
  if (input.text !== undefined) {
    next.dirty = false;
    if (input.text !== answer.text) {
      // The change happened at the latest mutation, at the latest: the quiet period counts from there.
      next.changedAt = Math.max(answer.changedAt, input.lastMutationAt);
      // Seen growing before it settled: a live answer, not an old one being rendered.
      if (answer.text !== undefined && next.state === 'old') next.state = 'settling';
      next.text = input.text;
    }
  }
  if (next.text === undefined || next.text === '') return { next, recheckAt: input.now + input.quietMs };
  if (input.now - next.changedAt < input.quietMs) return { next, recheckAt: next.changedAt + input.quietMs };
  const wasOld = next.state === 'old';
  next.state = 'reported';
  if (wasOld || next.text === answer.reported) {
    next.reported = next.text;
    return { next };
  }
  next.reported = next.text;
  return { next, report: next.text };
}
