/**
 * Copy-aware drafting: an Aligner mostly copies the answer it corrects, so the next tokens are
 * usually the source tokens that follow where its output currently is in the source. A small
 * tracker reads the generated tokens left to right and keeps a copy position: it advances while
 * the output copies, notes where an edit began when it stops, and re-synchronises when the output
 * comes back to the source (after a substitution, insertion or deletion nearby, or a jump such as
 * a moved sentence).
 *
 * `draftTokens` is pure: its result depends only on the contents of its arguments. To stay fast
 * while generation calls it once per forward pass, the tracker's states are memoised per source
 * (by identity, checked against a copy of its contents on every call) and reused for the longest
 * common prefix of `generated` with the previous call's: the same result as recomputing from
 * scratch, in O(new tokens) instead of O(all generated tokens).
 */

/** Deviations up to this long are guessed to be same-length substitutions; longer ones get no draft. */
const SUBSTITUTION_GUESS_LIMIT = 8;
/** How far past the expected position a one-token match may re-synchronise the copy position. */
const NEAR_AHEAD = 3;
/** Two matching tokens re-synchronise within this window ahead of the expected position. */
const WINDOW_AHEAD = 24;
/** Anywhere in the source, this many matching tokens re-synchronise (a jump, a moved sentence). */
const GLOBAL_MATCH = 3;
/** Match lengths are compared up to this many tokens back. */
const MATCH_CAP = 12;

export interface Draft {
  /** The proposed next tokens (at most maxDraft). */
  tokens: number[];
  /**
   * Tokens copied in a row just before this point (0 while the output deviates from the source).
   * Longer runs make longer drafts more likely to be accepted.
   */
  copyRun: number;
}

/**
 * The tokens proposed next, copied from the answer being corrected (`source`), given what has been
 * generated so far; [] when nothing aligns. Pure: no state between calls changes the result.
 */
export function draftTokens(source: ArrayLike<number>, generated: ArrayLike<number>, maxDraft: number): number[] {
  return proposeDraft(source, generated, maxDraft).tokens;
}

/** draftTokens with how confident the tracker is (the decode loop sizes drafts with it). */
export function proposeDraft(source: ArrayLike<number>, generated: ArrayLike<number>, maxDraft: number): Draft {
  const limit = Math.max(0, Math.floor(maxDraft));
  const index = indexFor(source);
  const end = index.track(generated);
  const { pos, offStart, run } = end;
  const n = index.tokens.length;
  let from: number;
  if (offStart < 0) {
    from = pos;
  } else {
    const deviation = generated.length - offStart;
    // A short deviation is most often a word swapped for another: copying resumes as far past
    // where it began as it has run. After a long one, where it resumes is anyone's guess: none.
    from = deviation <= SUBSTITUTION_GUESS_LIMIT ? pos + deviation : n;
  }
  if (limit === 0 || from >= n) return { tokens: [], copyRun: run };
  const stop = Math.min(n, from + limit);
  const tokens = new Array<number>(stop - from);
  for (let i = from; i < stop; i++) tokens[i - from] = index.tokens[i]!;
  return { tokens, copyRun: run };
}

interface TrackState {
  /** While copying: the source index expected next. While deviating: where the deviation began. */
  pos: number;
  /** Index in `generated` where the current deviation began; -1 while copying. */
  offStart: number;
  /** Tokens copied in a row. */
  run: number;
}

/** Positions packed under their token: key = token · 2^21 + position, sorted (one typed sort). */
const POSITION_BITS = 2 ** 21;

class SourceIndex {
  readonly tokens: Int32Array;
  /** Every position keyed by its token, ascending: a token's positions are one contiguous range. */
  private readonly keys: Float64Array;
  // The tracker's state after each prefix of the last `generated` seen: slot j = after j tokens.
  private seen = new Int32Array(64);
  private seenLength = 0;
  private statePos = new Int32Array(65);
  private stateOff = new Int32Array(65);
  private stateRun = new Int32Array(65);

  private readonly sourceLength: number;

  constructor(source: ArrayLike<number>) {
    this.sourceLength = source.length;
    // Beyond two million tokens (never an answer), the rest of the source is not drafted from.
    const n = Math.min(source.length, POSITION_BITS);
    this.tokens = new Int32Array(n);
    this.keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const token = source[i]!;
      this.tokens[i] = token;
      this.keys[i] = token * POSITION_BITS + i;
    }
    this.keys.sort();
    // The empty prefix: copying from the start of the source.
    this.statePos[0] = 0;
    this.stateOff[0] = -1;
    this.stateRun[0] = 0;
  }

  /** The first slot in `keys` at or above `key`. */
  private lowerBound(key: number): number {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.keys[middle]! < key) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  matches(source: ArrayLike<number>): boolean {
    const n = this.tokens.length;
    if (source.length !== this.sourceLength) return false;
    for (let i = 0; i < n; i++) if (source[i] !== this.tokens[i]) return false;
    return true;
  }

  /** The tracker's state after reading all of `generated` (resumed from the longest shared prefix). */
  track(generated: ArrayLike<number>): TrackState {
    const m = generated.length;
    let shared = 0;
    const limit = Math.min(m, this.seenLength);
    while (shared < limit && generated[shared] === this.seen[shared]) shared++;
    this.reserve(m);
    for (let j = shared; j < m; j++) {
      const token = generated[j]!;
      this.seen[j] = token;
      this.step(j, token);
    }
    this.seenLength = m;
    return { pos: this.statePos[m]!, offStart: this.stateOff[m]!, run: this.stateRun[m]! };
  }

  private reserve(m: number): void {
    if (this.seen.length >= m) return;
    let size = this.seen.length;
    while (size < m) size *= 2;
    const grow = (old: Int32Array, length: number) => {
      const next = new Int32Array(length);
      next.set(old);
      return next;
    };
    this.seen = grow(this.seen, size);
    this.statePos = grow(this.statePos, size + 1);
    this.stateOff = grow(this.stateOff, size + 1);
    this.stateRun = grow(this.stateRun, size + 1);
  }

  /** Reads generated[j] = token: writes the state after j + 1 tokens. */
  private step(j: number, token: number): void {
    const pos = this.statePos[j]!;
    let offStart = this.stateOff[j]!;
    if (offStart < 0) {
      if (pos < this.tokens.length && this.tokens[pos] === token) {
        this.set(j + 1, pos + 1, -1, this.stateRun[j]! + 1);
        return;
      }
      // The output leaves the source here; `pos` is where the deviation began.
      offStart = j;
    }
    const resumeAt = this.resync(j, pos, j - offStart);
    if (resumeAt >= 0) {
      this.set(j + 1, resumeAt + 1, -1, 1);
    } else {
      this.set(j + 1, pos, offStart, 0);
    }
  }

  private set(slot: number, pos: number, offStart: number, run: number): void {
    this.statePos[slot] = pos;
    this.stateOff[slot] = offStart;
    this.stateRun[slot] = run;
  }

  /**
   * Where in the source generated[j] resumes copying, or -1. `anchor` is where the deviation
   * began, `deviated` how many tokens it has produced before this one. Near the expected place a
   * single matching token is enough; further ahead two; anywhere in the source, three. Among
   * candidates, the longest match wins, then the one nearest where copying was expected to resume.
   */
  private resync(j: number, anchor: number, deviated: number): number {
    const token = this.seen[j]!;
    const base = token * POSITION_BITS;
    const first = this.lowerBound(base);
    const last = this.lowerBound(base + POSITION_BITS);
    const expected = anchor + Math.min(deviated, SUBSTITUTION_GUESS_LIMIT);
    let best = -1;
    let bestLength = 0;
    let bestDistance = Infinity;
    for (let slot = first; slot < last; slot++) {
      const q = this.keys[slot]! - base;
      const length = this.matchLength(j, q);
      let needed: number;
      if (q >= anchor && q <= expected + NEAR_AHEAD) needed = 1;
      else if (q >= anchor && q <= expected + WINDOW_AHEAD) needed = 2;
      else needed = GLOBAL_MATCH;
      if (length < needed) continue;
      const distance = Math.abs(q - expected);
      if (length > bestLength || (length === bestLength && distance < bestDistance)) {
        best = q;
        bestLength = length;
        bestDistance = distance;
      }
    }
    return best;
  }

  /** How many tokens generated[..j] and source[..q] share, backwards from j and q (capped). */
  private matchLength(j: number, q: number): number {
    let length = 0;
    while (length < MATCH_CAP && length <= j && length <= q && this.seen[j - length] === this.tokens[q - length]) length++;
    return length;
  }
}

// One index per source array, kept while the array lives; the last one also serves an equal
// source passed as a new array (a caller that re-tokenises or copies per call).
const bySource = new WeakMap<object, SourceIndex>();
let lastIndex: SourceIndex | undefined;

function indexFor(source: ArrayLike<number>): SourceIndex {
  const key = source as object;
  let index = bySource.get(key);
  if (index && index.matches(source)) return index;
  index = lastIndex && lastIndex.matches(source) ? lastIndex : new SourceIndex(source);
  bySource.set(key, index);
  lastIndex = index;
  return index;
}
